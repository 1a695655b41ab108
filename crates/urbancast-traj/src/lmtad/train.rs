//! Training LM-TAD (nanoGPT's recipe): AdamW (β = 0.9, 0.95, weight decay 0.1), peak learning
//! rate 3e-4 with linear warm-up and cosine decay to 3e-5, global gradient-norm clip 1.0,
//! next-token cross entropy ignoring PAD targets, seeded shuffling, the weights of the best
//! validation loss kept.
//!
//! Departures from nanoGPT: burn's AdamW decays *every* parameter (nanoGPT exempts the
//! 1-d ones — here only the LayerNorm scales); epochs over length-bucketed shuffled batches of
//! trajectories ([`crate::data::Batcher`], as the generator's training) instead of
//! random crops of a token stream; training sequences longer than `block_size + 1` tokens are
//! truncated to their first `block_size + 1` tokens (counted in [`LmTadTrainLog::truncated`]).
use std::time::Instant;

use anyhow::{Result, bail, ensure};
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_nn::clip::clip_global_norm;

use super::{LmTad, LmTadConfig, check_sequence, token_nll, token_tensor};
use crate::data::Batcher;

/// Optimiser, schedule and loop settings. Missing fields in a serialised config take their
/// defaults; unknown fields are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LmTadTrainConfig {
    /// Passes over the training sequences (default 10).
    pub epochs: usize,
    /// Sequences per batch (default 32).
    pub batch: usize,
    /// Peak learning rate (default 3e-4).
    pub lr: f64,
    /// Learning rate at the end of the cosine decay (default 3e-5).
    pub min_lr: f64,
    /// Warm-up length as a fraction of all steps (default 0.1), unless `warmup_steps` is set.
    pub warmup_frac: f64,
    /// Warm-up length in optimizer steps (overrides `warmup_frac`).
    pub warmup_steps: Option<usize>,
    /// AdamW decoupled weight decay (default 0.1).
    pub weight_decay: f32,
    /// AdamW β₁ (default 0.9).
    pub beta1: f32,
    /// AdamW β₂ (default 0.95, nanoGPT).
    pub beta2: f32,
    /// Global gradient-norm clip (default 1.0; 0 = off).
    pub clip_norm: f32,
    /// Seeds the initialisation, dropout and the batch order (default 0).
    pub seed: u64,
    /// At most this many batches per epoch (the first of each epoch's shuffled batches);
    /// `None` = all. The schedule counts the capped steps.
    pub max_batches_per_epoch: Option<usize>,
}

impl Default for LmTadTrainConfig {
    fn default() -> Self {
        LmTadTrainConfig {
            epochs: 10,
            batch: 32,
            lr: 3e-4,
            min_lr: 3e-5,
            warmup_frac: 0.1,
            warmup_steps: None,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.95,
            clip_norm: 1.0,
            seed: 0,
            max_batches_per_epoch: None,
        }
    }
}

impl LmTadTrainConfig {
    /// Warm-up steps out of `total`.
    pub fn warmup(&self, total: usize) -> usize {
        self.warmup_steps.unwrap_or_else(|| (self.warmup_frac.clamp(0.0, 1.0) * total as f64).round() as usize)
    }

    /// Learning rate of optimizer step `step` (0-based) out of `total`: `lr · (step + 1) /
    /// (warmup + 1)` during warm-up (nanoGPT), then cosine from `lr` down to `min_lr`, reached
    /// at the last step (`step = total − 1`) and kept after it.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let warmup = self.warmup(total);
        if step < warmup {
            return self.lr * (step + 1) as f64 / (warmup + 1) as f64;
        }
        let span = total.saturating_sub(1).saturating_sub(warmup).max(1) as f64;
        let ratio = ((step - warmup) as f64 / span).min(1.0);
        self.min_lr + 0.5 * (1.0 + (std::f64::consts::PI * ratio).cos()) * (self.lr - self.min_lr)
    }
}

/// One epoch of [`fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmTadEpochLog {
    /// 1-based.
    pub epoch: usize,
    /// Mean training cross entropy per predicted token (with dropout).
    pub train_loss: f64,
    /// Mean validation cross entropy per predicted token (no dropout).
    pub val_loss: f64,
    /// Learning rate of the epoch's last step.
    pub lr_end: f64,
    /// Optimizer steps so far (all epochs).
    pub steps: usize,
    /// Seconds of the epoch (training and validation).
    pub seconds: f64,
}

/// What [`fit`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LmTadTrainLog {
    pub epochs: Vec<LmTadEpochLog>,
    /// Training loss of every optimizer step, in order.
    pub step_losses: Vec<f32>,
    /// 1-based epoch of the returned model.
    pub best_epoch: usize,
    pub best_val_loss: f64,
    /// Optimizer steps run.
    pub steps: usize,
    /// Steps the schedule was laid out for.
    pub planned_steps: usize,
    /// Training and validation sequences truncated to `block_size + 1` tokens.
    pub truncated: usize,
    pub seconds: f64,
}

/// Checks and truncates sequences; returns them with the number truncated.
fn prepare(what: &str, seqs: &[Vec<u32>], cfg: &LmTadConfig) -> Result<(Vec<Vec<u32>>, usize)> {
    let max = cfg.block_size + 1;
    let mut cut = 0;
    let mut out = Vec::with_capacity(seqs.len());
    for (i, s) in seqs.iter().enumerate() {
        check_sequence(i, s, cfg).map_err(|e| anyhow::anyhow!("{what} {e}"))?;
        ensure!(s.len() >= 2, "{what} sequence {i} has {} token(s); at least 2 are needed", s.len());
        cut += usize::from(s.len() > max);
        out.push(s[..s.len().min(max)].to_vec());
    }
    Ok((out, cut))
}

/// Mean next-token cross entropy per predicted token of `seqs` (no dropout, no autodiff).
pub fn mean_loss(model: &LmTad, seqs: &[Vec<u32>], batch: usize) -> Result<f64> {
    let nll = token_nll(model, seqs, batch)?;
    let n: usize = nll.iter().map(Vec::len).sum();
    Ok(nll.iter().flatten().map(|&x| x as f64).sum::<f64>() / n.max(1) as f64)
}

/// Trains a model of configuration `model_cfg` (vocabulary set, e.g. from
/// [`LmTadConfig::for_grid`]) on `train` token sequences (`SOT … EOT`, see
/// [`super::Tokenizer`]) and returns the weights of the best validation loss (on the plain
/// device) with the log. `device` may be plain or autodiff. Deterministic for `cfg.seed` on a
/// given backend.
pub fn fit(
    train: &[Vec<u32>],
    val: &[Vec<u32>],
    model_cfg: &LmTadConfig,
    cfg: &LmTadTrainConfig,
    device: &Device,
    progress: bool,
) -> Result<(LmTad, LmTadTrainLog)> {
    model_cfg.validate()?;
    ensure!(cfg.epochs > 0, "at least one epoch is needed");
    ensure!(cfg.batch > 0, "batch size must be at least 1");
    ensure!(cfg.lr > 0.0 && cfg.lr.is_finite(), "learning rate must be positive, got {}", cfg.lr);
    ensure!(cfg.min_lr >= 0.0 && cfg.min_lr <= cfg.lr, "min_lr {} must lie in [0, lr = {}]", cfg.min_lr, cfg.lr);
    ensure!(!train.is_empty(), "no training sequences");
    ensure!(!val.is_empty(), "no validation sequences (the best model is chosen on them)");
    let start = Instant::now();
    let (train, cut_t) = prepare("training", train, model_cfg)?;
    let (val, cut_v) = prepare("validation", val, model_cfg)?;
    let ad = device.clone().inner().autodiff();
    let mut model = model_cfg.init_seeded(&ad, cfg.seed)?;
    let mut optim = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay)
        .with_beta_1(cfg.beta1)
        .with_beta_2(cfg.beta2)
        .with_epsilon(1e-8)
        .init();
    // Length-bucketed batches (as the generator's training): far less padding than uniformly
    // shuffled batches of trips whose lengths vary by a factor of ten.
    let batcher = Batcher::new(train.iter().map(Vec::len).collect(), cfg.batch, cfg.seed ^ 0x1A7A_D5EE_D000_0000);
    let n_batches = batcher.num_batches();
    let per_epoch = cfg.max_batches_per_epoch.map_or(n_batches, |m| m.clamp(1, n_batches));
    let planned = cfg.epochs * per_epoch;
    let mut log = LmTadTrainLog { best_val_loss: f64::INFINITY, planned_steps: planned, truncated: cut_t + cut_v, ..Default::default() };
    let mut best: Option<LmTad> = None;
    let pb = crate::progress::bar(planned as u64, "LM-TAD", "steps", progress);
    let mut step = 0usize;
    for epoch in 1..=cfg.epochs {
        let t0 = Instant::now();
        let (mut sum, mut count, mut lr) = (0.0f64, 0usize, 0.0);
        for idx in batcher.epoch(epoch as u64 - 1).iter().take(per_epoch) {
            lr = cfg.lr_at(step, planned);
            step += 1;
            let rows: Vec<Vec<u32>> = idx.iter().map(|&i| train[i].clone()).collect();
            let tokens = token_tensor(&rows, model_cfg, model_cfg.block_size + 1, &ad)?;
            let (loss, n) = model.loss(tokens)?;
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            if cfg.clip_norm > 0.0 && cfg.clip_norm.is_finite() {
                clip_global_norm(&model, &mut grads, cfg.clip_norm);
            }
            model = optim.step(lr, model, grads);
            let value = loss.into_scalar::<f32>();
            if !value.is_finite() {
                bail!("the training loss became {value} at step {step} (epoch {epoch}, learning rate {lr:.3e})");
            }
            log.step_losses.push(value);
            sum += value as f64 * n as f64;
            count += n;
            pb.inc(1);
        }
        pb.set_message(format!("epoch {epoch}: validating"));
        let plain = model.valid();
        let val_loss = mean_loss(&plain, &val, cfg.batch)?;
        let e = LmTadEpochLog {
            epoch,
            train_loss: sum / count.max(1) as f64,
            val_loss,
            lr_end: lr,
            steps: step,
            seconds: t0.elapsed().as_secs_f64(),
        };
        if progress {
            crate::progress::note(&pb, format!(
                "epoch {epoch}/{}: loss {:.4} | val loss {:.4} | lr {:.2e} | {:.1} s",
                cfg.epochs, e.train_loss, e.val_loss, e.lr_end, e.seconds
            ));
        }
        pb.set_message(format!("epoch {epoch}: val loss {val_loss:.4}"));
        log.epochs.push(e);
        if val_loss < log.best_val_loss || best.is_none() {
            log.best_val_loss = val_loss;
            log.best_epoch = epoch;
            best = Some(plain);
        }
    }
    pb.finish_and_clear();
    log.steps = step;
    log.seconds = start.elapsed().as_secs_f64();
    Ok((best.unwrap_or_else(|| model.valid()), log))
}
