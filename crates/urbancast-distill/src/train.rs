//! Training teacher and students on the shared engine: Adam with weight decay, step decay of
//! the learning rate, global gradient-norm clipping, validation MAE (original units, masked)
//! after every epoch, early stopping with the best model kept.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::GraphPrepared;
use urbancast_train::{BatchLoss, Direction, LrSchedule, Objective, OptimConfig, RunDir, TrainSpec, Validation, epoch_seed};

use crate::batch::{Batch, Denorm};
use crate::eval::evaluate;

/// Optimiser and schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Initial Adam learning rate (> 0).
    pub lr: f64,
    /// L2 weight decay of Adam, added to the gradients (≥ 0; 0 = none).
    pub weight_decay: f32,
    /// Windows per training batch (≥ 1).
    pub batch: usize,
    /// Global gradient-norm clip.
    pub clip_norm: f32,
    /// Most epochs to train (≥ 1).
    pub max_epochs: usize,
    /// Epochs without a better validation MAE before stopping.
    pub patience: usize,
    /// Step decay: the learning rate is multiplied by `lr_decay` every `lr_decay_every` epochs
    /// (0 = constant).
    pub lr_decay: f64,
    /// Epochs between two learning-rate decays (0 = constant learning rate).
    pub lr_decay_every: usize,
}

impl Default for TrainConfig {
    /// LightST's teacher settings: Adam lr 3e-3, weight decay 1e-4, batch 32, clip 5,
    /// patience 15, lr x 0.5 every 20 epochs, at most 100 epochs.
    fn default() -> Self {
        TrainConfig {
            lr: 3e-3,
            weight_decay: 1e-4,
            batch: 32,
            clip_norm: 5.0,
            max_epochs: 100,
            patience: 15,
            lr_decay: 0.5,
            lr_decay_every: 20,
        }
    }
}

impl TrainConfig {
    /// Learning rate of (0-based) epoch `epoch`.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        match self.lr_decay_every {
            0 => self.lr,
            k => self.lr * self.lr_decay.powi((epoch / k) as i32),
        }
    }
}

impl TrainConfig {
    /// The engine's settings for a run labelled `label` with `seed`: Adam with coupled weight
    /// decay (ε = 1e-8), step decay per epoch, global clip, early stopping.
    pub fn spec(&self, label: &str, seed: u64) -> TrainSpec {
        TrainSpec {
            label: label.to_string(),
            lr: self.lr,
            optim: OptimConfig::adam(self.weight_decay),
            schedule: LrSchedule::Step { gamma: self.lr_decay, every: self.lr_decay_every },
            clip_norm: self.clip_norm,
            max_epochs: self.max_epochs,
            max_batches_per_epoch: None,
            patience: Some(self.patience),
            min_steps: 0,
            seed: seed ^ 0xD157_111E,
            progress: true,
        }
    }
}

/// What happened during training.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainLog {
    /// Mean training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Mean of each loss term per epoch (e.g. `task`, `kd`, `spatial`, `temporal`).
    pub loss_terms: Vec<Vec<(String, f64)>>,
    /// Validation MAE (original units) per epoch.
    pub val_mae: Vec<f64>,
    /// 1-based epoch of the kept model.
    pub best_epoch: usize,
    /// Its validation MAE.
    pub best_val_mae: f64,
    /// Seconds of the run.
    pub seconds: f64,
    /// Seconds of training (without validation) per epoch.
    pub epoch_seconds: Vec<f64>,
}

impl From<&urbancast_train::TrainLog> for TrainLog {
    fn from(l: &urbancast_train::TrainLog) -> Self {
        TrainLog {
            train_loss: l.losses(),
            loss_terms: l.epochs.iter().map(|e| e.terms.iter().map(|(k, v)| (k.clone(), *v)).collect()).collect(),
            val_mae: l.val_scores(),
            best_epoch: l.best_epoch,
            best_val_mae: l.best_score,
            seconds: l.seconds,
            epoch_seconds: l.epoch_seconds(),
        }
    }
}

/// A LightST model's loss on one batch (with named terms for the log) and its prediction.
pub trait GraphLoss {
    /// The trained module.
    type Model: Module;
    /// Total loss and its named terms, on the training (autodiff) device.
    fn loss(&mut self, model: &Self::Model, batch: &Batch) -> anyhow::Result<(Tensor<1>, Vec<(&'static str, Tensor<1>)>)>;
    /// Normalised predictions `[B, H, N, C]` of a validation copy of the model.
    fn predict(&self, model: &Self::Model, batch: &Batch) -> anyhow::Result<Tensor<4>>;
}

/// A [`GraphLoss`] over the windows of a prepared graph, as an engine objective: shuffled
/// training windows per epoch, validation MAE (original units, masked).
struct Windows<'a, O> {
    inner: &'a mut O,
    data: &'a GraphPrepared,
    batch: usize,
    denorm: Denorm,
    device: Device,
}

impl<O: GraphLoss> Objective for Windows<'_, O> {
    type Model = O::Model;
    type Batch = Vec<usize>;

    fn batches(&mut self, epoch: usize, seed: u64) -> anyhow::Result<Vec<Vec<usize>>> {
        let mut starts: Vec<usize> = self.data.train.clone().collect();
        starts.shuffle(&mut StdRng::seed_from_u64(epoch_seed(seed, epoch)));
        Ok(starts.chunks(self.batch).map(<[usize]>::to_vec).collect())
    }

    fn loss(&mut self, model: &O::Model, starts: &Vec<usize>) -> anyhow::Result<BatchLoss> {
        let batch = Batch::new(self.data, starts, &self.device);
        let (total, terms) = self.inner.loss(model, &batch)?;
        Ok(BatchLoss { total, terms, weight: 1.0, counters: vec![] })
    }

    fn validate(&mut self, model: &O::Model) -> anyhow::Result<Validation> {
        let inner = &*self.inner;
        let report =
            evaluate(|b| inner.predict(model, b), self.data, self.data.val.clone(), self.batch.max(64), &self.denorm, &self.device)?;
        Ok(Validation::score(report.average.mae))
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }
}

/// Trains `model` on the training windows of `data` on `device` (an autodiff device) on the
/// shared engine and returns the model of the best validation epoch. `run` keeps the log and
/// checkpoints (and resumes).
pub fn fit<O: GraphLoss>(
    model: O::Model,
    obj: &mut O,
    data: &GraphPrepared,
    cfg: &TrainConfig,
    run: (u64, &str, Option<&RunDir>),
    device: &Device,
) -> anyhow::Result<(O::Model, TrainLog)> {
    let (seed, label, dir) = run;
    anyhow::ensure!(cfg.batch > 0, "{label}: batch must be at least 1 (got 0)");
    anyhow::ensure!(!data.train.is_empty(), "{label}: no training windows in `{}`", data.name);
    let mut w = Windows { inner: obj, data, batch: cfg.batch, denorm: Denorm::new(data), device: device.clone() };
    let fitted = urbancast_train::fit(model, &mut w, &cfg.spec(label, seed), dir)?;
    Ok((fitted.best, TrainLog::from(&fitted.log)))
}
