//! urbancast-distill: LightST ("Efficient Traffic Prediction Through Spatio-Temporal
//! Distillation", Zhang et al., AAAI 2025) — an MTGNN teacher distilled into a graph-free MLP
//! student.
//!
//! * [`teacher`]: the MTGNN objective (masked MAE in original units);
//! * [`student`]: the student objective, alone or with distillation (prediction KD,
//!   spatial and temporal InfoNCE on hidden representations, adaptive per-node weights);
//! * [`losses`]: every loss term, written to be checked against direct computations;
//! * [`train`]: the shared training loop; [`eval`]: masked metrics per horizon, timing;
//! * [`pipeline`]: train / assess the three models of a comparison.
pub mod batch;
pub mod config;
pub mod eval;
pub mod losses;
pub mod pipeline;
pub mod student;
pub mod teacher;
pub mod train;
mod validate;

pub use config::{DistillConfig, LightstConfig, StudentSettings, TeacherSettings};
pub use pipeline::{ModelResult, assess_student, assess_teacher, train_student, train_teacher};
pub use train::{TrainConfig, TrainLog};
