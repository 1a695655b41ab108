//! urbancast-traj: route generation on road networks — a HOSER-style generator ("Holistic
//! Semantic Representation for Navigational Trajectory Generation", Cao et al., AAAI 2025).
//!
//! * [`data`]: everything computed from the road network, zones and trajectories before any
//!   tensor math — road features, the road graph (roads sharing an endpoint) with edge
//!   features, the zone graph, candidate sets and their distance/angle features, training
//!   batches;
//! * [`model`]: the burn modules — road encoder (GATv2), zone encoder (GCN), gated fusion,
//!   temporal features, causal transformer with a relative spatio-temporal bias (full and
//!   incremental/cached decoding), navigator and time head;
//! * [`io`]: the road network by name and checked trajectory files;
//! * [`pipeline`]: the training pipelines of the teacher and the generator (folders on disk);
//! * [`anomaly`]: LM-TAD's anomaly-detection protocol with a trained teacher.
pub mod anomaly;
pub mod bench;
pub mod bundle;
pub mod data;
pub mod generate;
pub mod io;
pub mod kd;
pub mod lmtad;
pub mod model;
pub mod od;
pub mod pipeline;
mod progress;
pub mod scorer;
pub mod train;
mod validate;
