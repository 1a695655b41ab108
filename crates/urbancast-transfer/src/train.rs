//! Training the ST-net on the shared engine ([`urbancast_train::fit`]) as CrossTReS does: Adam
//! (coupled weight decay 5e-5, ε = 1e-8), batch 32, global gradient-norm clip 2, squared error
//! summed over active regions and averaged over the batch, validation RMSE (original units)
//! after every epoch, the best model kept; early stopping only where a patience is set.
use anyhow::Result;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use urbancast_nn::StNet;
use urbancast_train::{BatchLoss, Direction, LrSchedule, Objective, OptimConfig, OptimKind, RunDir, TrainSpec, Validation, epoch_seed};

use crate::batch::{Task, masked_mse};
use crate::predict::{predict, truth};

/// Optimiser and schedule (defaults from the foundation protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Adam learning rate (default 1e-3).
    pub lr: f64,
    /// Coupled (L2) weight decay (default 5e-5).
    pub weight_decay: f32,
    /// Adam β₁ (default 0.9).
    pub beta1: f32,
    /// Adam β₂ (default 0.999).
    pub beta2: f32,
    /// Adam ε (default 1e-8, PyTorch's).
    pub eps: f32,
    /// Samples per batch (default 32).
    pub batch: usize,
    /// Global gradient-norm clip (default 2).
    pub clip_norm: f32,
    /// Epochs at most.
    pub max_epochs: usize,
    /// Epochs without a better validation RMSE before stopping; 0 = no early stopping (every
    /// epoch runs and the best one is kept).
    pub patience: usize,
    /// Optimiser steps before early stopping may trigger (default 0).
    pub min_steps: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            lr: 1e-3,
            weight_decay: 5e-5,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            batch: 32,
            clip_norm: 2.0,
            max_epochs: 50,
            patience: 5,
            min_steps: 0,
        }
    }
}

impl TrainConfig {
    /// The engine's settings for a run labelled `label` with `seed`.
    pub fn spec(&self, label: &str, seed: u64) -> TrainSpec {
        TrainSpec {
            label: label.to_string(),
            lr: self.lr,
            optim: OptimConfig {
                kind: OptimKind::Adam,
                beta1: self.beta1,
                beta2: self.beta2,
                eps: self.eps,
                weight_decay: self.weight_decay,
            },
            schedule: LrSchedule::Constant,
            clip_norm: self.clip_norm,
            max_epochs: self.max_epochs,
            max_batches_per_epoch: None,
            patience: (self.patience > 0).then_some(self.patience),
            min_steps: self.min_steps,
            seed: seed ^ 0x5EED_7A1B,
            progress: true,
        }
    }
}

/// What happened during training.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainLog {
    /// Mean training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Validation RMSE (original units) per epoch.
    pub val_rmse: Vec<f64>,
    /// 1-based epoch of the kept model.
    pub best_epoch: usize,
    /// Its validation RMSE.
    pub best_val_rmse: f64,
    /// Seconds of the run.
    pub seconds: f64,
    /// Seconds of training (without validation) per epoch.
    #[serde(default)]
    pub epoch_seconds: Vec<f64>,
    /// Mean global gradient norm (before clipping) per epoch.
    #[serde(default)]
    pub grad_norm: Vec<f64>,
    /// Share of clipped steps per epoch.
    #[serde(default)]
    pub clipped: Vec<f64>,
}

impl From<&urbancast_train::TrainLog> for TrainLog {
    fn from(l: &urbancast_train::TrainLog) -> Self {
        TrainLog {
            train_loss: l.losses(),
            val_rmse: l.val_scores(),
            best_epoch: l.best_epoch,
            best_val_rmse: l.best_score,
            seconds: l.seconds,
            epoch_seconds: l.epoch_seconds(),
            grad_norm: l.epochs.iter().map(|e| e.grad_norm).collect(),
            clipped: l.epochs.iter().map(|e| e.clipped).collect(),
        }
    }
}

/// Training samples of one city: the task and the target steps to learn.
pub struct Split<'t, 'a> {
    /// The city on the training device.
    pub task: &'t Task<'a>,
    /// Target steps of the samples.
    pub steps: &'t [usize],
}

/// Mean over tasks of the channel-averaged RMSE over active regions, original units.
pub fn validation_rmse(model: &StNet, val: &[Split], lags: usize, batch: usize) -> Result<f64> {
    let mut total = 0.0;
    for v in val {
        let pred = predict(model, v.task, v.steps, lags, batch)?;
        let truth = truth(v.task, v.steps);
        let names: Vec<String> = v.task.prep.city.channels.iter().map(|c| c.name().to_string()).collect();
        total += urbancast_eval::score(pred.view(), truth.view(), &v.task.prep.city.mask, &names).mean.rmse;
    }
    Ok(total / val.len().max(1) as f64)
}

/// The data side of every grid objective: training and validation splits, batching and
/// validation.
pub struct GridData<'s, 't, 'a> {
    /// Training splits (one per city).
    pub train: &'s [Split<'t, 'a>],
    /// Validation splits.
    pub val: &'s [Split<'t, 'a>],
    /// Input steps.
    pub lags: usize,
    /// Samples per batch.
    pub batch: usize,
}

/// One batch: a city (index into the training splits) and its target steps.
pub type GridBatch = (usize, Vec<usize>);

impl<'s, 't, 'a> GridData<'s, 't, 'a> {
    /// Training and validation splits with `lags` input steps (batch size from the training
    /// settings).
    pub fn new(train: &'s [Split<'t, 'a>], val: &'s [Split<'t, 'a>], lags: usize) -> Self {
        GridData { train, val, lags, batch: 32 }
    }

    /// Batches of one city each (grids differ in size), shuffled within and across cities with
    /// a random stream of the epoch.
    pub fn batches(&self, epoch: usize, seed: u64) -> Vec<GridBatch> {
        let mut rng = StdRng::seed_from_u64(epoch_seed(seed, epoch));
        let mut batches: Vec<GridBatch> = vec![];
        for (k, s) in self.train.iter().enumerate() {
            let mut steps = s.steps.to_vec();
            steps.shuffle(&mut rng);
            batches.extend(steps.chunks(self.batch.max(1)).map(|c| (k, c.to_vec())));
        }
        batches.shuffle(&mut rng);
        batches
    }

    /// Inputs and targets of a batch, with its task.
    pub fn tensors(&self, b: &GridBatch) -> (&Task<'_>, Tensor<4>, Tensor<3>) {
        let task = self.train[b.0].task;
        let (x, y) = task.batch(&b.1, self.lags);
        (task, x, y)
    }

    /// Validation RMSE of an inference copy of the ST-net.
    pub fn validate(&self, net: &StNet) -> Result<Validation> {
        Ok(Validation::score(validation_rmse(net, self.val, self.lags, self.batch.max(32))?))
    }
}

/// The gradient norm of `term` (an autodiff loss of `net`'s forward pass) on the ST-net's
/// feature extractor (spatial block and LSTM; the head excluded): what a loss term asks of the
/// shared representation, logged per epoch through [`Objective::probe`].
pub fn extractor_grad_norm(net: &StNet, term: Tensor<1>) -> f64 {
    let grads = GradientsParams::from_grads(term.backward(), net);
    let a = urbancast_train::grad_norm(net.spatial(), &grads);
    let b = urbancast_train::grad_norm(net.lstm(), &grads);
    (a * a + b * b).sqrt()
}

/// The plain objective: masked squared error over active regions ([`masked_mse`]).
pub struct PlainMse<'s, 't, 'a> {
    /// Splits and batching.
    pub data: GridData<'s, 't, 'a>,
}

impl Objective for PlainMse<'_, '_, '_> {
    type Model = StNet;
    type Batch = GridBatch;

    fn batches(&mut self, epoch: usize, seed: u64) -> Result<Vec<GridBatch>> {
        Ok(self.data.batches(epoch, seed))
    }

    fn loss(&mut self, model: &StNet, b: &GridBatch) -> Result<BatchLoss> {
        let (task, x, y) = self.data.tensors(b);
        let out = model.forward(x, &task.space)?;
        Ok(BatchLoss::plain(masked_mse(out.pred, y, task)))
    }

    fn validate(&mut self, model: &StNet) -> Result<Validation> {
        self.data.validate(model)
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }

    /// The loss's gradient norm on the feature extractor (`grad_extractor_pred`).
    fn probe(&mut self, model: &StNet, b: &GridBatch) -> Result<Vec<(String, f64)>> {
        let (task, x, y) = self.data.tensors(b);
        let out = model.forward(x, &task.space)?;
        Ok(vec![("grad_extractor_pred".into(), extractor_grad_norm(model, masked_mse(out.pred, y, task)))])
    }
}

/// Trains `model` (on an autodiff device) on `data` (its batch size is set from `cfg`),
/// validating after every epoch. Returns the model of the best validation epoch. `label` names
/// the phase in the progress bar; `run` keeps its log and checkpoints (and resumes).
pub fn train(
    model: StNet,
    mut data: GridData,
    cfg: &TrainConfig,
    seed: u64,
    label: &str,
    run: Option<&RunDir>,
) -> Result<(StNet, TrainLog)> {
    data.batch = cfg.batch;
    let mut obj = PlainMse { data };
    let fitted = urbancast_train::fit(model, &mut obj, &cfg.spec(label, seed), run)?;
    Ok((fitted.best, TrainLog::from(&fitted.log)))
}
