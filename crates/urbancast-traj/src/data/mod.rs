//! The data side of the HOSER-style generator: plain Rust data computed from the road
//! network, zones and trajectories, and its conversion to burn tensors.
//!
//! * [`RoadContext`] (once per network): road features (class, z-scored log length and
//!   centroid lon/lat), the road graph (roads sharing an end point, edge features
//!   `[angle/π, reachable]`) and the dense GCN operator of the zone-transition graph;
//!   [`GraphTensors`] holds them as tensors. [`RoadStats`] (serde) lets a saved model
//!   rebuild the same context ([`RoadContext::with_stats`]).
//! * [`candidates`](fn@candidates) / [`candidate_features`] / [`CandidateFeatures`]: the next-road
//!   candidates of a step (successors, capped at [`MAX_CANDIDATES`] nearest to the
//!   destination) with their `[distance, angle]` navigation features; used for training
//!   batches and for generation alike.
//! * [`Sample`] / [`prepare`]: trajectories as road-index sequences, with a
//!   [`PrepareReport`] of what was dropped or split; [`TimeNorm`] normalises travel times.
//! * [`TrajBatch`] (flat padded arrays) and [`BatchTensors`] (the same as tensors);
//!   [`split()`] and [`Batcher`] (seeded, length-bucketed) choose the samples.
//!
//! The module docs of [`context`] and [`candidates`](mod@candidates) cite the HOSER code
//! each choice follows or departs from.
pub mod batch;
pub mod candidates;
pub mod context;
pub mod sample;
pub mod split;
pub mod tensors;

pub use batch::TrajBatch;
pub use candidates::{CandidateFeatures, MAX_CANDIDATES, candidate_features, candidates};
pub use context::{Norm, RoadContext, RoadStats, gcn_zone_adjacency, road_graph};
pub use sample::{BrokenPolicy, PrepareReport, Sample, TimeNorm, is_weekend, minute_of_day, prepare, prepare_with};
pub use split::{BUCKET_BATCHES, Batcher, split};
pub use tensors::{BatchTensors, GraphTensors};
