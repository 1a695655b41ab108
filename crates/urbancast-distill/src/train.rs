//! The training loop shared by teacher and students: Adam with weight decay, step decay of the
//! learning rate, global gradient-norm clipping, validation MAE (original units, masked) after
//! every epoch, early stopping with the best model kept.
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, decay::WeightDecayConfig};
use burn::tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::GraphPrepared;
use urbancast_nn::clip::clip_global_norm;

use crate::batch::{Batch, Denorm};
use crate::eval::evaluate;

/// Optimiser and schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub lr: f64,
    pub weight_decay: f32,
    pub batch: usize,
    /// Global gradient-norm clip.
    pub clip_norm: f32,
    pub max_epochs: usize,
    /// Epochs without a better validation MAE before stopping.
    pub patience: usize,
    /// Step decay: the learning rate is multiplied by `lr_decay` every `lr_decay_every` epochs
    /// (0 = constant).
    pub lr_decay: f64,
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

/// What happened during training.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainLog {
    pub train_loss: Vec<f64>,
    /// Mean of each loss term per epoch (e.g. `task`, `kd`, `spatial`, `temporal`).
    pub loss_terms: Vec<Vec<(String, f64)>>,
    pub val_mae: Vec<f64>,
    pub best_epoch: usize,
    pub best_val_mae: f64,
    pub seconds: f64,
    /// Seconds of training (without validation) per epoch.
    pub epoch_seconds: Vec<f64>,
}

/// A model to train: its loss on one batch (with named terms for the log) and its prediction.
pub trait Objective {
    type Model: Module + Clone;
    /// Total loss and its named terms, on the training (autodiff) device.
    fn loss(&mut self, model: &Self::Model, batch: &Batch) -> anyhow::Result<(Tensor<1>, Vec<(&'static str, Tensor<1>)>)>;
    /// Normalised predictions `[B, H, N, C]` of a validation copy of the model.
    fn predict(&self, model: &Self::Model, batch: &Batch) -> anyhow::Result<Tensor<4>>;
}

fn progress(len: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>16} [{bar:30}] {pos}/{len} batches {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// Trains `model` on the training windows of `data` on `device` (an autodiff device) and
/// returns the model of the best validation epoch.
pub fn fit<O: Objective>(
    mut model: O::Model,
    obj: &mut O,
    data: &GraphPrepared,
    cfg: &TrainConfig,
    seed: u64,
    label: &str,
    device: &Device,
) -> anyhow::Result<(O::Model, TrainLog)> {
    anyhow::ensure!(cfg.batch > 0, "{label}: batch size must be at least 1");
    anyhow::ensure!(cfg.lr > 0.0 && cfg.lr.is_finite(), "{label}: learning rate must be > 0, got {}", cfg.lr);
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed ^ 0xD157_111E);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay)))
        .init();
    let mut log = TrainLog { best_val_mae: f64::INFINITY, ..Default::default() };
    let mut best = model.clone();
    let mut bad = 0;
    let mut starts: Vec<usize> = data.train.clone().collect();
    anyhow::ensure!(!starts.is_empty(), "{label}: no training windows in `{}`", data.name);
    let n_batches = starts.len().div_ceil(cfg.batch);
    let bar = progress((cfg.max_epochs * n_batches) as u64, label);
    let denorm = Denorm::new(data);
    for epoch in 0..cfg.max_epochs {
        let epoch_start = Instant::now();
        let lr = cfg.lr_at(epoch);
        starts.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        let mut terms: Vec<(String, f64)> = vec![];
        for chunk in starts.chunks(cfg.batch) {
            let batch = Batch::new(data, chunk, device);
            let (loss, parts) = obj.loss(&model, &batch)?;
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            clip_global_norm(&model, &mut grads, cfg.clip_norm);
            model = optim.step(lr, model, grads);
            let value = loss.into_scalar::<f32>() as f64;
            if !value.is_finite() {
                anyhow::bail!("{label}: the training loss became {value} in epoch {} (learning rate {lr} too high?)", epoch + 1);
            }
            loss_sum += value;
            for (k, (name, t)) in parts.into_iter().enumerate() {
                let v = t.into_scalar::<f32>() as f64;
                match terms.get_mut(k) {
                    Some(slot) => slot.1 += v,
                    None => terms.push((name.to_string(), v)),
                }
            }
            bar.inc(1);
        }
        let train_loss = loss_sum / n_batches as f64;
        terms.iter_mut().for_each(|t| t.1 /= n_batches as f64);
        let train_secs = epoch_start.elapsed().as_secs_f64();
        let valid = model.valid();
        let report = evaluate(|b| obj.predict(&valid, b), data, data.val.clone(), cfg.batch.max(64), &denorm, device)?;
        let val_mae = report.average.mae;
        if bar.is_hidden() {
            eprintln!(
                "{label}: epoch {} loss {train_loss:.4} val MAE {val_mae:.4} ({train_secs:.1} s train, {:.1} s total)",
                epoch + 1,
                epoch_start.elapsed().as_secs_f64()
            );
        }
        bar.set_message(format!("epoch {} loss {train_loss:.4} val MAE {val_mae:.4}", epoch + 1));
        log.train_loss.push(train_loss);
        log.loss_terms.push(terms);
        log.val_mae.push(val_mae);
        log.epoch_seconds.push(train_secs);
        if val_mae < log.best_val_mae {
            log.best_val_mae = val_mae;
            log.best_epoch = epoch + 1;
            best = model.clone();
            bad = 0;
        } else {
            bad += 1;
            if bad >= cfg.patience {
                break;
            }
        }
    }
    bar.finish_and_clear();
    log.seconds = start.elapsed().as_secs_f64();
    Ok((best, log))
}
