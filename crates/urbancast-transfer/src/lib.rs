//! urbancast-transfer: cross-city transfer for urban flow prediction.
//!
//! Methods: `target-only`, `fine-tune`, `zero-shot` (ST-net backbone) and `ha` (historical
//! average), evaluated under the CrossTReS / STBaT protocol by one [`runner`].
pub mod batch;
pub mod checkpoint;
pub use urbancast_nn::clip;
pub mod device;
pub mod ha;
pub mod method;
pub mod predict;
pub mod runner;
pub mod stbat;

pub mod train;
mod validate;

pub use method::Method;
pub use runner::{Experiment, RunOutput, Settings};
pub use train::TrainConfig;
