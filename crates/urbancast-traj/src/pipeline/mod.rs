//! The pipelines behind `urbancast traj teacher`, `traj train`, `traj distill` and `traj
//! generate`, as library calls: split the trajectories, fit, write the model folder with its meta data,
//! the training log and curves, and the data splits.
//!
//! * [`teacher`]: the LM-TAD teacher ([`prepare_teacher`], [`train_teacher`]);
//! * [`generator`]: the HOSER-style generator, optionally distilled from a teacher
//!   ([`teacher_targets`], [`train_generator`]);
//! * [`plots`]: the training curves both write;
//! * [`generate`]: routes from a trained generator for OD requests (`traj generate`).
//!
//! The teacher and the generator split the same files, fractions and seed the same way
//! ([`crate::train::split_indices`]), so a teacher's `test.csv` holds no generator training
//! trajectory.
pub mod generate;
pub mod generator;
pub mod matching;
pub mod plots;
pub mod teacher;

pub use generator::{GeneratorData, GeneratorOutcome, teacher_targets, train_generator};
pub use teacher::{TeacherData, prepare_teacher, train_teacher};

/// What a training run records about its inputs in its meta data.
#[derive(Debug, Clone, Default)]
pub struct RunInputs {
    /// The trajectory files, in order.
    pub files: Vec<String>,
    /// Share held out for validation.
    pub val_frac: f64,
    /// Share held out for testing.
    pub test_frac: f64,
    /// The device name the run used (`cpu`, `cuda:0`, …).
    pub device: String,
    /// Continue the training from its checkpoint in `OUT/train/` (see [`urbancast_train::RunDir`]).
    pub resume: bool,
}
