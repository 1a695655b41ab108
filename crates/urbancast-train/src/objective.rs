//! What a method defines: its batches, the loss of a batch (a total plus named terms), a
//! validation score with its direction, and hooks the engine calls between steps and epochs.
use std::path::Path;

use anyhow::Result;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Whether a lower or a higher validation score is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is better (losses, errors).
    Lower,
    /// Higher is better (accuracies).
    Higher,
}

impl Direction {
    /// Whether `new` improves on `best`.
    pub fn improves(self, new: f64, best: f64) -> bool {
        match self {
            Direction::Lower => new < best,
            Direction::Higher => new > best,
        }
    }

    /// The worst possible score (what any first score improves on).
    pub fn worst(self) -> f64 {
        match self {
            Direction::Lower => f64::INFINITY,
            Direction::Higher => f64::NEG_INFINITY,
        }
    }
}

/// The loss of one batch.
pub struct BatchLoss {
    /// The scalar the optimiser minimises (autodiff tensor of one element).
    pub total: Tensor<1>,
    /// Named terms logged separately (their own values, before any weight in `total`).
    pub terms: Vec<(&'static str, Tensor<1>)>,
    /// Weight of this batch in the epoch means of the loss and terms (e.g. the number of
    /// predicted tokens); 1 for a plain mean over batches.
    pub weight: f64,
    /// Extra training counters, summed over the epoch as `(numerator, denominator)` and logged
    /// as their ratio (e.g. next-step accuracy: correct, counted).
    pub counters: Vec<(&'static str, f64, f64)>,
}

impl BatchLoss {
    /// A loss with no separate terms, weight 1.
    pub fn plain(total: Tensor<1>) -> BatchLoss {
        BatchLoss { total, terms: vec![], weight: 1.0, counters: vec![] }
    }
}

/// The result of validating a model.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// The selection score (see [`Objective::direction`]).
    pub score: f64,
    /// Further values to log (e.g. `val_ce`).
    pub metrics: Vec<(&'static str, f64)>,
}

impl Validation {
    /// A score without further values.
    pub fn score(score: f64) -> Validation {
        Validation { score, metrics: vec![] }
    }
}

/// A method's training objective. The engine ([`crate::fit`]) owns the optimiser, schedule,
/// clipping, selection, progress, the log and checkpoints; the objective owns the data.
pub trait Objective {
    /// The trained module (on an autodiff device).
    type Model: Module;
    /// One batch (usually indices into the objective's data; tensors are built in `loss`).
    type Batch;

    /// The batches of 0-based epoch `epoch`, in order. Must depend only on `epoch` and
    /// `seed` (the run's seed) so that a resumed run sees the same batches.
    fn batches(&mut self, epoch: usize, seed: u64) -> Result<Vec<Self::Batch>>;

    /// The loss of one batch.
    fn loss(&mut self, model: &Self::Model, batch: &Self::Batch) -> Result<BatchLoss>;

    /// Validates `model` (an inference copy: [`Module::valid`] of the trained one).
    fn validate(&mut self, model: &Self::Model) -> Result<Validation>;

    /// Whether lower or higher validation scores are better.
    fn direction(&self) -> Direction;

    /// Called after every optimiser step with the number of steps taken this epoch.
    fn after_batch(&mut self, _steps_this_epoch: usize) -> Result<()> {
        Ok(())
    }

    /// Called at the end of every epoch, before validation.
    fn after_epoch(&mut self, _epoch: usize) -> Result<()> {
        Ok(())
    }

    /// Called when the epoch just validated is the best so far, with the inference copy of
    /// the model and the 1-based epoch.
    fn on_best(&mut self, _model: &Self::Model, _epoch: usize) -> Result<()> {
        Ok(())
    }

    /// For objectives whose step is not the backward pass of one loss (TSJT combines a source
    /// and a target gradient): the gradients computed during the last [`Objective::loss`],
    /// which the engine then clips and applies instead of backpropagating
    /// [`BatchLoss::total`] (whose value is still logged and checked). `None`, the default,
    /// for every other objective.
    fn take_gradients(&mut self) -> Option<GradientsParams> {
        None
    }

    /// Diagnostics measured on the first batch of every epoch, before its optimiser step, and
    /// logged as the epoch's `probe` values (e.g. the gradient norm of each loss term on the
    /// feature extractor, see the grid objectives). None by default; it must not draw random
    /// numbers, so that it leaves training unchanged.
    fn probe(&mut self, _model: &Self::Model, _batch: &Self::Batch) -> Result<Vec<(String, f64)>> {
        Ok(vec![])
    }

    /// Writes whatever state the objective carries between epochs (beyond the model) into
    /// `dir`, for [`Objective::load_state`] on resume. Stateless objectives write nothing.
    fn save_state(&self, _dir: &Path) -> Result<()> {
        Ok(())
    }

    /// Restores the state written by [`Objective::save_state`].
    fn load_state(&mut self, _dir: &Path) -> Result<()> {
        Ok(())
    }
}
