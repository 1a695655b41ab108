//! Training the ST-net: Adam, global gradient-norm clipping, masked MSE, early stopping on
//! validation RMSE (original units) with the best model kept.
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, decay::WeightDecayConfig};
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use urbancast_nn::StNet;

use crate::batch::{Task, masked_mse};
use crate::clip::clip_global_norm;
use crate::predict::{predict, truth};

/// Optimiser and schedule (defaults from the foundation protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub lr: f64,
    pub weight_decay: f32,
    pub batch: usize,
    pub clip_norm: f32,
    pub max_epochs: usize,
    pub patience: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { lr: 1e-3, weight_decay: 5e-5, batch: 32, clip_norm: 2.0, max_epochs: 50, patience: 5 }
    }
}

/// What happened during training.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainLog {
    pub train_loss: Vec<f64>,
    pub val_rmse: Vec<f64>,
    pub best_epoch: usize,
    pub best_val_rmse: f64,
    pub seconds: f64,
    /// Seconds of training (without validation) per epoch.
    #[serde(default)]
    pub epoch_seconds: Vec<f64>,
}

/// Training samples of one city: the task and the target steps to learn.
pub struct Split<'t, 'a> {
    pub task: &'t Task<'a>,
    pub steps: &'t [usize],
}

/// Mean over tasks of the channel-averaged RMSE over active regions, original units.
pub fn validation_rmse(model: &StNet, val: &[Split], lags: usize, batch: usize) -> anyhow::Result<f64> {
    let mut total = 0.0;
    for v in val {
        let pred = predict(model, v.task, v.steps, lags, batch)?;
        let truth = truth(v.task, v.steps);
        let names: Vec<String> = v.task.prep.city.channels.iter().map(|c| c.name().to_string()).collect();
        total += urbancast_eval::score(pred.view(), truth.view(), &v.task.prep.city.mask, &names).mean.rmse;
    }
    Ok(total / val.len().max(1) as f64)
}

/// What a training loop optimises: the model, its loss on one batch, and hooks between
/// batches and epochs (STBaT alternates with its RIAM there). Validation always uses the
/// ST-net inside the model.
pub trait Objective {
    type Model: Module + Clone;
    /// Loss of one batch of city `city` (index into the training splits).
    fn loss(&mut self, model: &Self::Model, city: usize, task: &Task, x: Tensor<4>, y: Tensor<3>) -> anyhow::Result<Tensor<1>>;
    /// The ST-net inside the model, for validation.
    fn net<'m>(&self, model: &'m Self::Model) -> &'m StNet;
    /// Called after every optimiser step with the number of steps taken this epoch.
    fn after_batch(&mut self, _steps_this_epoch: usize) -> anyhow::Result<()> {
        Ok(())
    }
    /// Called at the end of every epoch, before validation.
    fn after_epoch(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Called when the epoch just validated is the best so far.
    fn on_best(&mut self) {}
}

/// The plain objective: masked MSE over active regions.
pub struct PlainMse;

impl Objective for PlainMse {
    type Model = StNet;
    fn loss(&mut self, model: &StNet, _city: usize, task: &Task, x: Tensor<4>, y: Tensor<3>) -> anyhow::Result<Tensor<1>> {
        let out = model.forward(x, &task.space)?;
        Ok(masked_mse(out.pred, y, task))
    }
    fn net<'m>(&self, model: &'m StNet) -> &'m StNet {
        model
    }
}

/// Trains `model` (on an autodiff device) on `train`, validating on `val` after every epoch.
/// Returns the model of the best validation epoch. `label` names the phase in the progress bar.
pub fn train(
    model: StNet,
    train: &[Split],
    val: &[Split],
    lags: usize,
    cfg: &TrainConfig,
    seed: u64,
    label: &str,
) -> anyhow::Result<(StNet, TrainLog)> {
    fit(model, &mut PlainMse, train, val, lags, cfg, seed, label)
}

/// The training loop of every method: Adam with weight decay, batches of one city each
/// shuffled across cities, global gradient-norm clipping, validation RMSE (original units)
/// after every epoch, early stopping with the best model kept.
#[allow(clippy::too_many_arguments)]
pub fn fit<O: Objective>(
    mut model: O::Model,
    obj: &mut O,
    train: &[Split],
    val: &[Split],
    lags: usize,
    cfg: &TrainConfig,
    seed: u64,
    label: &str,
) -> anyhow::Result<(O::Model, TrainLog)> {
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED_7A1B);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay)))
        .init();
    let mut log = TrainLog { best_val_rmse: f64::INFINITY, ..Default::default() };
    let mut best = model.clone();
    let mut bad = 0;
    let n_batches: usize = train.iter().map(|s| s.steps.len().div_ceil(cfg.batch)).sum();
    let bar = ProgressBar::new((cfg.max_epochs * n_batches) as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} batches {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    for epoch in 0..cfg.max_epochs {
        let epoch_start = Instant::now();
        // Batches of one city each (grids differ in size), shuffled across cities.
        let mut batches: Vec<(usize, Vec<usize>)> = vec![];
        for (k, s) in train.iter().enumerate() {
            let mut steps = s.steps.to_vec();
            steps.shuffle(&mut rng);
            batches.extend(steps.chunks(cfg.batch).map(|c| (k, c.to_vec())));
        }
        batches.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for (i, (k, steps)) in batches.iter().enumerate() {
            let task = train[*k].task;
            let (x, y) = task.batch(steps, lags);
            let loss = obj.loss(&model, *k, task, x, y)?;
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            clip_global_norm(&model, &mut grads, cfg.clip_norm);
            model = optim.step(cfg.lr, model, grads);
            let value = loss.into_scalar::<f32>() as f64;
            if !value.is_finite() {
                anyhow::bail!("{label}: the training loss became {value} in epoch {} (learning rate {} too high?)", epoch + 1, cfg.lr);
            }
            loss_sum += value;
            obj.after_batch(i + 1)?;
            bar.inc(1);
        }
        obj.after_epoch()?;
        let train_loss = loss_sum / batches.len().max(1) as f64;
        let train_secs = epoch_start.elapsed().as_secs_f64();
        let val_rmse = validation_rmse(&obj.net(&model).valid(), val, lags, cfg.batch.max(32))?;
        if bar.is_hidden() {
            // No terminal to draw on (a log file, CI): one line per epoch instead.
            eprintln!(
                "{label}: epoch {} loss {train_loss:.5} val RMSE {val_rmse:.3} ({train_secs:.1} s train, {:.1} s total)",
                epoch + 1,
                epoch_start.elapsed().as_secs_f64()
            );
        }
        log.train_loss.push(train_loss);
        log.val_rmse.push(val_rmse);
        log.epoch_seconds.push(train_secs);
        bar.set_message(format!("epoch {} loss {train_loss:.5} val RMSE {val_rmse:.3}", epoch + 1));
        if val_rmse < log.best_val_rmse {
            log.best_val_rmse = val_rmse;
            log.best_epoch = epoch + 1;
            best = model.clone();
            obj.on_best();
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
