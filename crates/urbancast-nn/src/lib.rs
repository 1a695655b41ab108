//! Neural-network building blocks of urbancast: the ST-net backbone (CrossTReS `STNet_nobn`),
//! a fused LSTM autodiff op for the burn-flex CPU backend, burnpack checkpoints and benchmarks.
//!
//! Main entry points: [`StNetConfig`], [`StNet`], [`Space`], [`save_stnet`]/[`load_stnet`],
//! [`bench_stnet`].
//!
//! # Speed (burn-flex CPU backend)
//!
//! The hot parts run as custom burn ops with hand-written forward and backward passes on raw
//! f32 slices (registered with burn-autodiff's `Backward` machinery, so they compose with the
//! rest of the graph, and Adam etc. work unchanged):
//! - the whole LSTM recurrence ([`fused_lstm`]): one GEMM for all input projections, one
//!   per step for the recurrence, AVX2-vectorised gate activations, no `narrow`;
//! - the grid convolutions ([`Conv3x3`]): channels-last, input ReLU fused, Winograd
//!   F(2x2, 3x3) for forward, input gradient and weight gradient of the 64->64 layers.
//!
//! On other backends (e.g. CUDA) the same modules fall back to plain burn ops
//! ([`reference_lstm`], [`reference_conv3x3`]), which the tests use as gradient references.
//! Environment switches for A/B measurements: `URBANCAST_REFERENCE_LSTM`,
//! `URBANCAST_REFERENCE_CONV`, `URBANCAST_NO_WINOGRAD`, `URBANCAST_REFERENCE_GWN`. Call [`tune_allocator`] once at
//! program start for training (avoids page-fault storms on the large activation buffers) and
//! [`flush_denormals`] (subnormal Adam moments otherwise slow long trainings several-fold).

pub use burn;

pub mod alloc_tune;
pub mod bench;
pub mod bench_gwn;
pub mod checkpoint;
pub mod conv_kernel;
mod conv_op;
pub mod denormals;
pub mod device;
mod error;
pub mod fastmath;
mod gemm_util;
pub mod gwn;
pub mod lstm;
pub mod lstm_kernel;
mod lstm_op;
pub mod mtgnn;
pub mod npm;
pub mod seeded;
pub mod spatial;
pub mod stmlp;
pub mod stnet;
mod winograd;

pub use alloc_tune::tune_allocator;
pub use bench::{BenchOpts, BenchReport, ChannelBench, ProfileReport, Stats, bench_stnet, profile_stnet};
pub use bench_gwn::{GwnBenchOpts, GwnBenchReport, bench_gwn};
pub use checkpoint::{load_stnet, load_weights, read_config, save_module, save_stnet};
pub use denormals::{denormals_flushed, flush_denormals};
pub use error::{NnError, Result};
pub use gwn::{Gwn, GwnConfig};
pub use lstm::{FusedLstm, FusedLstmConfig, fused_lstm, reference_lstm};
pub use mtgnn::{Mtgnn, MtgnnConfig, MtgnnOut, load_mtgnn, save_mtgnn};
pub use npm::{Npm, NpmConfig, NpmOut};
pub use seeded::{materialize, seeded, try_seeded};
pub use spatial::{Conv3x3, normalized_adjacency, reference_conv3x3};
pub use stmlp::{StMlp, StMlpConfig, StMlpOut, load_stmlp, save_stmlp};
pub use stnet::{Output, Space, Spatial, SpatialKind, StNet, StNetConfig, StOut};
