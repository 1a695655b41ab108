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
use std::path::Path;

use anyhow::{Context, Result, ensure};
use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_train::{BatchLoss, Direction, LrSchedule, Objective, OptimConfig, OptimKind, RunDir, TrainSpec, Validation};

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

    /// The schedule for `total` steps: linear warm-up, then cosine from `lr` down to `min_lr`
    /// at the last step ([`urbancast_train::LrSchedule::WarmupCosine`]).
    pub fn schedule(&self, total: usize) -> LrSchedule {
        LrSchedule::WarmupCosine { warmup: self.warmup(total) as f64, min_lr: self.min_lr }
    }

    /// Learning rate of optimizer step `step` (1-based, the engine's convention) out of
    /// `total`.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        self.schedule(total).lr_at(self.lr, step, total, 0)
    }

    /// The engine's settings for `planned` steps: AdamW (β, decay, ε = 1e-8), warm-up +
    /// cosine, clip, no early stopping.
    pub fn spec(&self, planned: usize, progress: bool) -> TrainSpec {
        TrainSpec {
            label: "LM-TAD".into(),
            lr: self.lr,
            optim: OptimConfig { kind: OptimKind::AdamW, beta1: self.beta1, beta2: self.beta2, eps: 1e-8, weight_decay: self.weight_decay },
            schedule: self.schedule(planned),
            clip_norm: self.clip_norm,
            max_epochs: self.epochs,
            max_batches_per_epoch: self.max_batches_per_epoch,
            patience: None,
            min_steps: 0,
            seed: self.seed,
            progress,
        }
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
    /// Every epoch run, in order.
    pub epochs: Vec<LmTadEpochLog>,
    /// Training loss of every optimizer step, in order.
    pub step_losses: Vec<f32>,
    /// 1-based epoch of the returned model.
    pub best_epoch: usize,
    /// Validation loss of the best epoch (the lowest).
    pub best_val_loss: f64,
    /// Optimizer steps run.
    pub steps: usize,
    /// Steps the schedule was laid out for.
    pub planned_steps: usize,
    /// Training and validation sequences truncated to `block_size + 1` tokens.
    pub truncated: usize,
    /// Wall-clock seconds of the run (this process only, when resumed).
    pub seconds: f64,
}

impl LmTadTrainLog {
    /// The per-epoch table the program prints (best epoch marked `*`).
    pub fn table(&self) -> String {
        let mut t = format!("{:>5} {:>10} {:>10} {:>9} {:>6} {:>7}\n", "epoch", "train loss", "val loss", "lr end", "steps", "secs");
        for e in &self.epochs {
            let best = if e.epoch == self.best_epoch { " *" } else { "" };
            t.push_str(&format!(
                "{:>5} {:>10.4} {:>10.4} {:>9.2e} {:>6} {:>7.1}{best}\n",
                e.epoch, e.train_loss, e.val_loss, e.lr_end, e.steps, e.seconds
            ));
        }
        t
    }
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

/// LM-TAD's objective on the engine: next-token cross entropy over length-bucketed batches,
/// validation loss per token.
struct LmTadObjective<'a> {
    train: &'a [Vec<u32>],
    val: &'a [Vec<u32>],
    model_cfg: &'a LmTadConfig,
    batch: usize,
    batcher: Batcher,
    ad: Device,
    step_losses: Vec<f32>,
}

impl Objective for LmTadObjective<'_> {
    type Model = LmTad;
    type Batch = Vec<usize>;

    fn batches(&mut self, epoch: usize, _seed: u64) -> Result<Vec<Vec<usize>>> {
        Ok(self.batcher.epoch(epoch as u64))
    }

    fn loss(&mut self, model: &LmTad, idx: &Vec<usize>) -> Result<BatchLoss> {
        let rows: Vec<Vec<u32>> = idx.iter().map(|&i| self.train[i].clone()).collect();
        let tokens = token_tensor(&rows, self.model_cfg, self.model_cfg.block_size + 1, &self.ad)?;
        let (loss, n) = model.loss(tokens)?;
        self.step_losses.push(loss.clone().into_scalar::<f32>());
        Ok(BatchLoss { total: loss, terms: vec![], weight: n as f64, counters: vec![] })
    }

    fn validate(&mut self, model: &LmTad) -> Result<Validation> {
        Ok(Validation::score(mean_loss(model, self.val, self.batch)?))
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }

    fn save_state(&self, dir: &Path) -> Result<()> {
        urbancast_train::fsio::write_json_atomic(&dir.join("lmtad.json"), &self.step_losses)
    }

    fn load_state(&mut self, dir: &Path) -> Result<()> {
        let p = dir.join("lmtad.json");
        let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        self.step_losses = serde_json::from_str(&text).with_context(|| format!("{}: not an LM-TAD state", p.display()))?;
        Ok(())
    }
}

/// Trains a model of configuration `model_cfg` (vocabulary set, e.g. from
/// [`LmTadConfig::for_grid`]) on `train` token sequences (`SOT … EOT`, see
/// [`super::Tokenizer`]) and returns the weights of the best validation loss (on the plain
/// device) with the log. `device` may be plain or autodiff. Deterministic for `cfg.seed` on a
/// given backend. `run` keeps the engine's log and checkpoints (and resumes).
pub fn fit(
    train: &[Vec<u32>],
    val: &[Vec<u32>],
    model_cfg: &LmTadConfig,
    cfg: &LmTadTrainConfig,
    device: &Device,
    progress: bool,
) -> Result<(LmTad, LmTadTrainLog)> {
    fit_in(train, val, model_cfg, cfg, device, progress, None)
}

/// [`fit`] with a run folder.
pub fn fit_in(
    train: &[Vec<u32>],
    val: &[Vec<u32>],
    model_cfg: &LmTadConfig,
    cfg: &LmTadTrainConfig,
    device: &Device,
    progress: bool,
    run: Option<&RunDir>,
) -> Result<(LmTad, LmTadTrainLog)> {
    model_cfg.validate()?;
    ensure!(cfg.batch > 0, "batch must be at least 1 (got 0)");
    ensure!(cfg.min_lr >= 0.0 && cfg.min_lr <= cfg.lr, "min_lr {} must lie in [0, lr = {}]", cfg.min_lr, cfg.lr);
    ensure!(!train.is_empty(), "no training sequences");
    ensure!(!val.is_empty(), "no validation sequences (the best model is chosen on them)");
    let (train, cut_t) = prepare("training", train, model_cfg)?;
    let (val, cut_v) = prepare("validation", val, model_cfg)?;
    let ad = device.clone().inner().autodiff();
    let model = model_cfg.init_seeded(&ad, cfg.seed)?;
    // Length-bucketed batches (as the generator's training): far less padding than uniformly
    // shuffled batches of trips whose lengths vary by a factor of ten.
    let batcher = Batcher::new(train.iter().map(Vec::len).collect(), cfg.batch, cfg.seed ^ 0x1A7A_D5EE_D000_0000);
    let n_batches = batcher.num_batches();
    let per_epoch = cfg.max_batches_per_epoch.map_or(n_batches, |m| m.clamp(1, n_batches));
    let planned = cfg.epochs * per_epoch;
    let mut obj = LmTadObjective { train: &train, val: &val, model_cfg, batch: cfg.batch, batcher, ad, step_losses: vec![] };
    let fitted = urbancast_train::fit(model, &mut obj, &cfg.spec(planned, progress), run)?;
    let l = &fitted.log;
    let epochs = l
        .epochs
        .iter()
        .map(|e| LmTadEpochLog {
            epoch: e.epoch,
            train_loss: e.loss,
            val_loss: e.val_score,
            lr_end: e.lr,
            steps: e.step,
            seconds: e.seconds,
        })
        .collect();
    let log = LmTadTrainLog {
        epochs,
        step_losses: obj.step_losses,
        best_epoch: l.best_epoch,
        best_val_loss: l.best_score,
        steps: l.steps,
        planned_steps: l.planned_steps,
        truncated: cut_t + cut_v,
        seconds: l.seconds,
    };
    Ok((fitted.best.valid(), log))
}
