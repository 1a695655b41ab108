//! Training the HOSER-style generator: data preparation ([`prepare_training`]), the training
//! loop ([`fit`]), evaluation ([`evaluate`]) and the learning-rate schedule
//! ([`TrainConfig::lr_at`]).
//!
//! HOSER facts this follows (matercomus/HOSER `train.py`, `config/*.yaml`):
//! * AdamW over all parameters, `learning_rate 0.001`, `weight_decay 0.1`, gradients clipped
//!   to a global L2 norm of `max_norm 1.0` (`clip_grad_norm_`); PyTorch's AdamW `eps = 1e-8`
//!   (burn's default is 1e-5, so it is set explicitly);
//! * schedule per optimizer step: with `total = max_epoch · batches_per_epoch` and
//!   `warmup = total · warmup_ratio` (a float, `warmup_ratio 0.1`), the step counter `it` is
//!   incremented *before* the rate is computed (first step `it = 1`, last `it = total`):
//!   `lr · it / warmup` while `it < warmup`, then `lr · ½(1 + cos(π (it − warmup) /
//!   (total − warmup)))` — so the first step already has a non-zero rate and the last step
//!   has rate 0;
//! * the road-network encoders run once per training batch (`setup_road_network_features()`
//!   inside the batch loop), with gradients;
//! * loss = next-step cross entropy + time MAPE in `ln(1 + Δt)` space (see
//!   [`crate::model::loss`]);
//! * validation after every epoch: next-step accuracy (arg-max candidate == true next road,
//!   over *all* real steps) and the time MAPE; the model of the best validation accuracy is
//!   kept (`np.argmax`: the first best epoch); HOSER has no early stopping (here optional:
//!   [`TrainConfig::patience`]).
//!
//! Departures: HOSER trains for `max_epoch 25` (here [`TrainConfig::epochs`], default 10),
//! with batch size 64–256 depending on the config version (here 64); epochs can be capped at
//! [`TrainConfig::max_batches_per_epoch`] batches (the schedule then counts the capped steps);
//! batches are length-bucketed ([`crate::data::Batcher`]) rather than uniformly shuffled.
mod eval;
mod fit;
mod prepare;

use serde::{Deserialize, Serialize};

pub use eval::{EvalStats, evaluate, evaluate_batches};
pub use fit::{Distill, RunOpts, TrainData, fit, fit_distilled, sized_config};
pub use prepare::{Prepared, prepare_training, split_indices, zones_for};

/// Optimiser, schedule and loop settings. Missing fields in a serialised config take their
/// defaults; unknown fields are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training samples (default 10).
    pub epochs: usize,
    /// Trajectories per batch (default 64).
    pub batch: usize,
    /// Peak learning rate (default 1e-3, HOSER).
    pub lr: f64,
    /// AdamW decoupled weight decay (default 0.1, HOSER).
    pub weight_decay: f32,
    /// Fraction of all optimizer steps spent in linear warm-up (default 0.1, HOSER).
    pub warmup_frac: f64,
    /// Global gradient-norm clip (default 1.0, HOSER).
    pub clip_norm: f32,
    /// Seeds the model initialisation and the batch order (default 0).
    pub seed: u64,
    /// At most this many batches per epoch (the first of each epoch's shuffled batches);
    /// `None` = all.
    pub max_batches_per_epoch: Option<usize>,
    /// Validate on at most this many batches (a fixed, seeded subset); `None` = all.
    pub val_batches: Option<usize>,
    /// Stop after this many epochs without a better validation accuracy; `None` = never.
    pub patience: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch: 64,
            lr: 1e-3,
            weight_decay: 0.1,
            warmup_frac: 0.1,
            clip_norm: 1.0,
            seed: 0,
            max_batches_per_epoch: None,
            val_batches: None,
            patience: None,
        }
    }
}

impl TrainConfig {
    /// The learning-rate schedule for `total` optimiser steps: HOSER's linear warm-up over
    /// `warmup_frac · total` steps (a float), then cosine decay to 0 at the last step
    /// ([`urbancast_train::LrSchedule::WarmupCosine`]).
    pub fn schedule(&self, total: usize) -> urbancast_train::LrSchedule {
        urbancast_train::LrSchedule::WarmupCosine { warmup: total as f64 * self.warmup_frac.clamp(0.0, 1.0), min_lr: 0.0 }
    }

    /// Learning rate of optimizer step `step` (1-based, as HOSER's `iter_num`) out of `total`:
    /// linear warm-up over the first `warmup_frac · total` steps, then cosine decay to 0 at
    /// `step == total`. Steps beyond `total` get 0.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        self.schedule(total).lr_at(self.lr, step, total, 0)
    }

    /// Batches actually run per epoch when the training set has `n_batches` batches.
    pub fn batches_per_epoch(&self, n_batches: usize) -> usize {
        self.max_batches_per_epoch.map_or(n_batches, |m| m.min(n_batches))
    }
}

/// One epoch of [`fit`]. Accuracies count every real step (a step whose true next road was
/// capped away from the candidates is a miss), losses are means over the steps with a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based.
    pub epoch: usize,
    /// Mean total training loss: cross entropy + `time_weight` · time loss (+ λ · distillation
    /// term when distilling).
    pub train_loss: f64,
    /// Mean training next-road cross entropy.
    pub train_ce: f64,
    /// HOSER's time MAPE in `ln(1 + Δt)` space.
    pub train_time_loss: f64,
    /// Mean distillation term (before λ) when distilling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_kd: Option<f64>,
    /// Training next-step accuracy in `[0, 1]`.
    pub train_acc: f64,
    /// Validation next-step accuracy in `[0, 1]` (selects the best epoch).
    pub val_acc: f64,
    /// Mean validation next-road cross entropy.
    pub val_ce: f64,
    /// Validation time MAPE in `ln(1 + Δt)` space (as `train_time_loss`); `None` when it is
    /// not finite (no validation step with a target).
    pub val_time_mape: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr_end: f64,
    /// Optimizer steps so far (all epochs).
    pub steps: usize,
    /// Seconds of the epoch's optimizer steps (batch building included, validation not).
    pub train_seconds: f64,
    /// Seconds of the epoch (training, validation and checkpoint).
    pub seconds: f64,
}

/// What [`fit`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainLog {
    /// Every epoch run, in order.
    pub epochs: Vec<EpochLog>,
    /// 1-based epoch of the returned model (0 if no epoch ran).
    pub best_epoch: usize,
    /// Validation accuracy of the best epoch.
    pub best_val_acc: f64,
    /// Optimizer steps run.
    pub steps: usize,
    /// Steps the schedule was laid out for (`epochs · batches per epoch`).
    pub planned_steps: usize,
    /// Whether training stopped early ([`TrainConfig::patience`]).
    pub stopped_early: bool,
    /// Wall-clock seconds of the run (this process only, when resumed).
    pub seconds: f64,
}

impl TrainLog {
    /// The per-epoch table the program prints (best epoch marked `*`).
    pub fn table(&self) -> String {
        let mut t = format!(
            "{:>5} {:>9} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>9} | {:>9} {:>7}\n",
            "epoch", "loss", "ce", "time", "acc", "val acc", "val ce", "val MAPE", "lr end", "secs"
        );
        for e in &self.epochs {
            let best = if e.epoch == self.best_epoch { " *" } else { "" };
            let mape = e.val_time_mape.unwrap_or(f64::NAN);
            t.push_str(&format!(
                "{:>5} {:>9.4} {:>8.4} {:>8.4} {:>8.4} | {:>8.4} {:>8.4} {mape:>9.4} | {:>9.2e} {:>7.1}{best}\n",
                e.epoch, e.train_loss, e.train_ce, e.train_time_loss, e.train_acc, e.val_acc, e.val_ce, e.lr_end, e.seconds
            ));
        }
        t
    }
}
