//! Neural-network building blocks of urbancast: the ST-net backbone (CrossTReS `STNet_nobn`),
//! a fused LSTM autodiff op for the burn-flex CPU backend, burnpack checkpoints and benchmarks.
//!
//! Main entry points: [`StNetConfig`], [`StNet`], [`Space`], [`save_stnet`]/[`load_stnet`],
//! [`bench_stnet`].

pub use burn;

pub mod bench;
pub mod checkpoint;
mod error;
pub mod fastmath;
pub mod lstm;
pub mod lstm_kernel;
mod lstm_op;
pub mod spatial;
pub mod stnet;

pub use bench::{BenchOpts, BenchReport, ChannelBench, ProfileReport, Stats, bench_stnet, profile_stnet};
pub use checkpoint::{load_stnet, save_stnet};
pub use error::{NnError, Result};
pub use lstm::{FusedLstm, FusedLstmConfig, fused_lstm, reference_lstm};
pub use spatial::normalized_adjacency;
pub use stnet::{Space, SpatialKind, StNet, StNetConfig, StOut};
