//! Optimisers and learning-rate schedules, every hyper-parameter explicit.
//!
//! Defaults follow PyTorch, not burn: Adam's and AdamW's ε is 1e-8 (burn's `AdamConfig`
//! defaults to 1e-5).
use anyhow::{Result, bail};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer};
use serde::{Deserialize, Serialize};

/// Which optimiser, and how weight decay enters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimKind {
    /// Adam with *coupled* (L2) weight decay: `g ← g + wd·θ` before the moments (PyTorch `Adam`).
    Adam,
    /// AdamW with *decoupled* weight decay: `θ ← θ − lr·wd·θ` (PyTorch `AdamW`).
    AdamW,
}

/// Optimiser settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Adam (coupled decay) or AdamW (decoupled decay).
    pub kind: OptimKind,
    /// β₁ (default 0.9).
    pub beta1: f32,
    /// β₂ (default 0.999).
    pub beta2: f32,
    /// ε (default 1e-8, PyTorch's; burn's own default is 1e-5).
    pub eps: f32,
    /// Weight decay (coupled for Adam, decoupled for AdamW); 0 = none.
    pub weight_decay: f32,
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig { kind: OptimKind::Adam, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

impl OptimConfig {
    /// Adam with coupled weight decay `wd` and the other values at their defaults.
    pub fn adam(wd: f32) -> Self {
        OptimConfig { kind: OptimKind::Adam, weight_decay: wd, ..Self::default() }
    }

    /// AdamW with decoupled weight decay `wd` and the other values at their defaults.
    pub fn adamw(wd: f32) -> Self {
        OptimConfig { kind: OptimKind::AdamW, weight_decay: wd, ..Self::default() }
    }

    /// Rejects values outside their ranges; `key` prefixes the names in the message.
    pub fn validate(&self, key: &str) -> Result<()> {
        for (name, v) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&v) {
                bail!("{key}.{name} must lie in [0, 1) (got {v})");
            }
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            bail!("{key}.eps must be positive (got {})", self.eps);
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            bail!("{key}.weight_decay must be >= 0 (got {})", self.weight_decay);
        }
        Ok(())
    }

    /// A fresh optimiser (no state yet).
    pub fn init(&self) -> ModuleOptimizer {
        match self.kind {
            OptimKind::Adam => {
                let wd = (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay));
                AdamConfig::new().with_beta_1(self.beta1).with_beta_2(self.beta2).with_epsilon(self.eps).with_weight_decay(wd).init()
            }
            OptimKind::AdamW => AdamWConfig::new()
                .with_beta_1(self.beta1)
                .with_beta_2(self.beta2)
                .with_epsilon(self.eps)
                .with_weight_decay(self.weight_decay)
                .init(),
        }
    }
}

/// The learning rate as a function of training progress.
///
/// Step-counting convention: `t` is the 1-based number of the optimiser step about to be
/// taken (the first step has `t = 1`, the last of a run of `T` planned steps `t = T`); `epoch`
/// is the 0-based epoch the step belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LrSchedule {
    /// `lr` at every step.
    Constant,
    /// `lr · gamma^⌊epoch / every⌋` (per epoch; `every = 0` means constant).
    Step {
        /// Multiplier applied every `every` epochs.
        gamma: f64,
        /// Epochs between decays.
        every: usize,
    },
    /// Linear warm-up, then cosine decay: `lr · t / W` while `t < W`, then
    /// `min_lr + ½(lr − min_lr)(1 + cos(π · min(1, (t − W) / (T − W))))`, so the rate reaches
    /// `min_lr` at the last planned step. `W = warmup` may be fractional (HOSER computes it as
    /// `T · warmup_ratio`); `W = 0` starts at the peak.
    WarmupCosine {
        /// Warm-up length in optimiser steps.
        warmup: f64,
        /// Rate at the end of the decay.
        min_lr: f64,
    },
}

impl LrSchedule {
    /// Learning rate of step `t` (1-based) of `total` planned steps, in epoch `epoch` (0-based),
    /// for a peak rate `lr`.
    pub fn lr_at(&self, lr: f64, t: usize, total: usize, epoch: usize) -> f64 {
        match *self {
            LrSchedule::Constant => lr,
            LrSchedule::Step { every: 0, .. } => lr,
            LrSchedule::Step { gamma, every } => lr * gamma.powi((epoch / every) as i32),
            LrSchedule::WarmupCosine { warmup, min_lr } => {
                let (t, total) = (t as f64, total as f64);
                if t < warmup {
                    return lr * t / warmup;
                }
                if total <= warmup {
                    return lr;
                }
                let ratio = ((t - warmup) / (total - warmup)).clamp(0.0, 1.0);
                min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f64::consts::PI * ratio).cos())
            }
        }
    }

    /// Rejects values outside their ranges for a peak rate `lr`; `key` names the setting.
    pub fn validate(&self, key: &str, lr: f64) -> Result<()> {
        match *self {
            LrSchedule::Constant => {}
            LrSchedule::Step { gamma, .. } => {
                if !(gamma > 0.0 && gamma.is_finite()) {
                    bail!("{key}: the step-decay factor must be positive (got {gamma})");
                }
            }
            LrSchedule::WarmupCosine { warmup, min_lr } => {
                if !(warmup >= 0.0 && warmup.is_finite()) {
                    bail!("{key}: warm-up steps must be >= 0 (got {warmup})");
                }
                if !(min_lr >= 0.0 && min_lr <= lr) {
                    bail!("{key}: min_lr must lie in [0, lr = {lr}] (got {min_lr})");
                }
            }
        }
        Ok(())
    }
}
