//! urbancast-distill: LightST ("Efficient Traffic Prediction Through Spatio-Temporal
//! Distillation", Zhang et al., AAAI 2025) — an MTGNN teacher distilled into a graph-free MLP
//! student.
//!
//! * [`teacher`]: the MTGNN objective (masked MAE in original units);
//! * [`student`]: the student objective, alone or with distillation (prediction KD,
//!   spatial and temporal InfoNCE on hidden representations, adaptive per-node weights);
//! * [`losses`]: every loss term, written to be checked against direct computations;
//! * [`train`]: the shared training loop; [`eval`]: masked metrics per horizon, timing;
//! * [`pipeline`]: train / assess the three models of a comparison;
//! * [`data`]: the graph of a run; [`runs`]: the stages of `urbancast distill` on one output
//!   folder; [`report`]: results, tables and plots; [`experiment`]: the datasets of the
//!   published comparison; [`bench`]: training-step and inference timing.
pub mod batch;
pub mod bench;
pub mod config;
pub mod data;
pub mod eval;
pub mod experiment;
pub mod losses;
pub mod pipeline;
pub mod report;
pub mod runs;
pub mod student;
pub mod teacher;
pub mod train;
mod validate;

pub use config::{DistillConfig, LightstConfig, StudentSettings, TeacherModel, TeacherSettings};
pub use pipeline::{ModelResult, assess_student, assess_teacher, train_student, train_student_in, train_teacher, train_teacher_in};
pub use report::{RunRecord, summary_table};
pub use runs::run_all;
pub use train::{TrainConfig, TrainLog};
