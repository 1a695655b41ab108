//! urbancast-transfer: cross-city transfer for urban flow prediction.
//!
//! Methods: `target-only`, `fine-tune`, `zero-shot` (ST-net backbone) and `ha` (historical
//! average), evaluated under the CrossTReS / STBaT protocol by one [`runner`]; [`cities`]
//! loads and aligns the cities, [`report`] writes results and maps, [`protocols`] holds the
//! leave-one-out protocol, [`bench`] times pre-training and [`predict`] runs a checkpoint.
pub mod batch;
pub mod bench;
pub mod checkpoint;
pub mod cities;
pub mod graph;
pub use urbancast_train::clip;
pub mod ha;
pub mod method;
pub mod plan;
pub mod predict;
pub mod protocols;
pub mod report;
pub mod runner;
pub mod stbat;

pub mod train;
pub mod tsjt;
mod validate;

pub use method::Method;
pub use plan::Plan;
pub use runner::{Experiment, RunOutput, RunPlan, Settings};
pub use train::TrainConfig;
