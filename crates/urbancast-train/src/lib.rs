//! urbancast-train: the one training engine of urbancast.
//!
//! A model defines `forward`; a method defines an [`Objective`] (its batches, the loss of a
//! batch as a total plus named terms, a validation score with its direction, and hooks after a
//! batch, after an epoch and on a new best); [`fit`] owns everything else:
//! - the optimiser ([`OptimConfig`]: Adam with coupled or AdamW with decoupled weight decay,
//!   β₁, β₂ and ε explicit, ε = 1e-8 by default as PyTorch) and the learning-rate schedule
//!   ([`LrSchedule`]: constant, step decay per epoch, linear warm-up + cosine per step, with the
//!   step-counting convention documented there);
//! - global gradient-norm clipping ([`clip_global_norm`]) and a non-finite-loss error that
//!   names the phase, epoch and step ([`Stepper`]);
//! - selection: the best-validation model kept, patience, and `min_steps` before early
//!   stopping may trigger;
//! - progress: one bar style for the program ([`progress`]), one line per epoch when stderr is
//!   not a terminal;
//! - the run folder ([`RunDir`]): `train-log.jsonl` appended after every epoch, checkpoints
//!   (model, optimiser state, schedule position, selection state, best model, log and the
//!   objective's own state) every N epochs and at the end, and `resume`.
//!
//! Reproducibility: each epoch's batch order comes from [`Objective::batches`] with the run's
//! seed, and the backend's random stream (dropout) is reseeded at the start of every epoch
//! from the seed and the epoch ([`epoch_seed`]); so the state at an epoch boundary is fully
//! described by the checkpoint, and a resumed run ends with exactly the numbers of an
//! uninterrupted one.
pub mod checkpoint;
pub mod clip;
mod engine;
pub mod fsio;
pub mod log;
mod objective;
pub mod optim;
pub mod outdir;
pub mod progress;

pub use clip::{clip_global_norm, grad_norm};
pub use engine::{Fitted, RunDir, StepInfo, Stepper, TrainSpec, epoch_seed, fit};
pub use log::{EpochRecord, TrainLog};
pub use objective::{BatchLoss, Direction, Objective, Validation};
pub use optim::{LrSchedule, OptimConfig, OptimKind};
