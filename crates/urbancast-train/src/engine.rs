//! The training loop of every method ([`fit`]) and the single optimiser step it is built on
//! ([`Stepper`]).
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, CheckpointState};
use crate::clip::clip_global_norm;
use crate::log::{EpochRecord, LOG_FILE, TrainLog, append_jsonl, rewrite_jsonl};
use crate::objective::{BatchLoss, Objective};
use crate::optim::{LrSchedule, OptimConfig};

/// How a run trains: optimiser, schedule, clipping, length, selection, seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    /// Name of the run (progress prefix, error messages).
    pub label: String,
    /// Peak learning rate.
    pub lr: f64,
    /// Optimiser.
    pub optim: OptimConfig,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Global gradient-norm clip; 0 or infinite = off.
    pub clip_norm: f32,
    /// Epochs at most.
    pub max_epochs: usize,
    /// At most this many batches per epoch (the first of each epoch's batches); None = all.
    pub max_batches_per_epoch: Option<usize>,
    /// Stop after this many epochs without a better validation score; None = never.
    pub patience: Option<usize>,
    /// Early stopping may end the run only once this many optimiser steps have been taken.
    pub min_steps: usize,
    /// Seeds the batch order and the backend's random draws (dropout) of each epoch.
    pub seed: u64,
    /// Show a progress bar / per-epoch lines.
    pub progress: bool,
}

impl TrainSpec {
    /// Rejects settings under which a run cannot train.
    pub fn validate(&self) -> Result<()> {
        let l = &self.label;
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            bail!("{l}: the learning rate must be positive (got {})", self.lr);
        }
        if self.max_epochs == 0 {
            bail!("{l}: at least one epoch is needed (got 0)");
        }
        if self.max_batches_per_epoch == Some(0) {
            bail!("{l}: at least one batch per epoch is needed (got 0)");
        }
        if self.patience == Some(0) {
            bail!("{l}: patience must be at least 1 (got 0)");
        }
        if self.clip_norm < 0.0 || self.clip_norm.is_nan() {
            bail!("{l}: the gradient clip must be >= 0 (got {})", self.clip_norm);
        }
        self.optim.validate(l)?;
        self.schedule.validate(l, self.lr)
    }
}

/// Where a run keeps its log and checkpoints.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The run folder (created if absent).
    pub dir: PathBuf,
    /// Checkpoint every this many epochs (0 = only at the end); the last epoch and an early
    /// stop always write one.
    pub checkpoint_every: usize,
    /// Continue from the folder's checkpoint if there is one (a finished run returns its best
    /// model without training).
    pub resume: bool,
}

impl RunDir {
    /// A run folder checkpointed every epoch.
    pub fn new(dir: impl Into<PathBuf>, resume: bool) -> RunDir {
        RunDir { dir: dir.into(), checkpoint_every: 1, resume }
    }
}

/// What [`fit`] returns.
pub struct Fitted<M> {
    /// The model of the best validation epoch (on the training device, with autodiff).
    pub best: M,
    /// The log.
    pub log: TrainLog,
}

/// One optimiser step with global gradient-norm clipping: the engine's step, also used where
/// a method runs an inner optimisation (STBaT's RIAM) and by tests of tiny models.
pub struct Stepper {
    optim: ModuleOptimizer,
    clip_norm: f32,
}

/// What a [`Stepper::step`] did.
#[derive(Debug, Clone, Copy)]
pub struct StepInfo {
    /// The loss before the step.
    pub loss: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    /// Whether the gradient was clipped.
    pub clipped: bool,
}

impl Stepper {
    /// A fresh optimiser of `cfg` with clip `clip_norm` (0 = off).
    pub fn new(cfg: &OptimConfig, clip_norm: f32) -> Stepper {
        Stepper { optim: cfg.init(), clip_norm }
    }

    /// Backpropagates `loss`, clips, and steps `model` with rate `lr`. A non-finite loss is an
    /// error (naming `what`) and leaves no step taken.
    pub fn step<M: Module>(&mut self, model: M, loss: Tensor<1>, lr: f64, what: &dyn Fn() -> String) -> Result<(M, StepInfo)> {
        let value = loss.clone().into_scalar::<f32>() as f64;
        check_loss(value, lr, what)?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.apply(model, grads, value, lr, what)
    }

    /// Clips and applies gradients computed elsewhere (an objective's own combination, see
    /// [`crate::Objective::take_gradients`]); `loss` is the value logged for the step and must
    /// be finite, as in [`Stepper::step`].
    pub fn apply<M: Module>(
        &mut self,
        model: M,
        mut grads: GradientsParams,
        loss: f64,
        lr: f64,
        what: &dyn Fn() -> String,
    ) -> Result<(M, StepInfo)> {
        check_loss(loss, lr, what)?;
        let value = loss;
        let clip = if self.clip_norm > 0.0 && self.clip_norm.is_finite() { self.clip_norm } else { f32::INFINITY };
        let norm = clip_global_norm(&model, &mut grads, clip) as f64;
        let model = self.optim.step(lr, model, grads);
        Ok((model, StepInfo { loss: value, grad_norm: norm, clipped: norm.is_finite() && norm > clip as f64 }))
    }

    /// The optimiser (for checkpoints).
    pub fn optimizer(&self) -> &ModuleOptimizer {
        &self.optim
    }

    /// Replaces the optimiser's state (resume).
    pub fn set_optimizer(&mut self, optim: ModuleOptimizer) {
        self.optim = optim;
    }
}

/// A non-finite loss is an error naming the step, and no step is taken.
fn check_loss(value: f64, lr: f64, what: &dyn Fn() -> String) -> Result<()> {
    if !value.is_finite() {
        bail!("{}: the training loss became {value} (learning rate {lr:.3e}; too high?)", what());
    }
    Ok(())
}

/// Sums of one epoch.
#[derive(Default)]
struct Sums {
    weight: f64,
    loss: f64,
    terms: Vec<(&'static str, f64)>,
    counters: Vec<(&'static str, f64, f64)>,
    grad: f64,
    grad_max: f64,
    clipped: usize,
    steps: usize,
}

impl Sums {
    fn add(&mut self, bl: &BatchLoss, info: &StepInfo, terms: Vec<(&'static str, f64)>) {
        let w = bl.weight;
        self.weight += w;
        self.loss += info.loss * w;
        for (k, (name, v)) in terms.into_iter().enumerate() {
            match self.terms.get_mut(k) {
                Some(slot) => slot.1 += v * w,
                None => self.terms.push((name, v * w)),
            }
        }
        for (k, &(name, num, den)) in bl.counters.iter().enumerate() {
            match self.counters.get_mut(k) {
                Some(slot) => {
                    slot.1 += num;
                    slot.2 += den;
                }
                None => self.counters.push((name, num, den)),
            }
        }
        self.grad += info.grad_norm;
        self.grad_max = self.grad_max.max(info.grad_norm);
        self.clipped += usize::from(info.clipped);
        self.steps += 1;
    }
}

/// Mixes a seed with an epoch (SplitMix64 finaliser), for per-epoch random streams.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Trains `model` (on an autodiff device) with `obj` under `spec`: every epoch runs the
/// objective's batches through [`Stepper`] with the scheduled rate, then validates an
/// inference copy; the best model is kept; patience (after `min_steps`) may stop the run.
/// With `run`, every epoch is appended to `RUN/train-log.jsonl` and checkpoints are written
/// (see [`RunDir`]); `run.resume` continues from the last one, giving exactly the numbers of
/// an uninterrupted run with the same seed. Subnormal floats are flushed to zero on the
/// calling thread and rayon's pool first ([`urbancast_nn::flush_denormals`]): decayed Adam
/// moments otherwise slow long runs several-fold on x86.
pub fn fit<O: Objective>(model: O::Model, obj: &mut O, spec: &TrainSpec, run: Option<&RunDir>) -> Result<Fitted<O::Model>> {
    spec.validate()?;
    urbancast_nn::flush_denormals();
    let start = Instant::now();
    let label = spec.label.as_str();
    // Through text and back, as the checkpoint's copy is read, so the two compare equal.
    let settings: serde_json::Value = serde_json::from_str(&serde_json::to_string(spec)?)?;
    let mut stepper = Stepper::new(&spec.optim, spec.clip_norm);
    let mut model = model;
    let mut best: Option<O::Model> = None;
    let (mut first_epoch, mut step, mut bad) = (0usize, 0usize, 0usize);
    let mut log: Option<TrainLog> = None;
    if let Some(r) = run {
        std::fs::create_dir_all(&r.dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", r.dir.display()))?;
        let ckpt = if r.resume { checkpoint::find(&r.dir) } else { None };
        if let Some(dir) = ckpt {
            let state = checkpoint::read_state(&dir)?;
            if state.settings != settings {
                bail!(
                    "{label}: the checkpoint in {} was written with other training settings; rerun without --resume (and with --overwrite) to start over",
                    dir.display()
                );
            }
            checkpoint::load_module(&mut model, &dir.join("model.bpk"))?;
            if dir.join("best.bpk").is_file() {
                let mut b = model.clone();
                checkpoint::load_module(&mut b, &dir.join("best.bpk"))?;
                best = Some(b);
            }
            stepper.set_optimizer(checkpoint::load_optim(&dir, spec.optim.init())?);
            obj.load_state(&dir.join("objective"))?;
            rewrite_jsonl(&r.dir.join(LOG_FILE), &state.log.epochs)?;
            if state.finished {
                let mut l = state.log;
                l.resumed_after = Some(state.epochs_done);
                return Ok(Fitted { best: best.unwrap_or(model), log: l });
            }
            first_epoch = state.epochs_done;
            step = state.step;
            bad = state.bad;
            let mut l = state.log;
            l.resumed_after = Some(state.epochs_done);
            log = Some(l);
        } else {
            // A fresh run: the log starts empty.
            rewrite_jsonl(&r.dir.join(LOG_FILE), &[])?;
        }
    }
    let device = model.devices().into_iter().next();
    let mut batches = obj.batches(first_epoch, spec.seed)?;
    if batches.is_empty() {
        bail!("{label}: there is no training batch");
    }
    let per_epoch = spec.max_batches_per_epoch.map_or(batches.len(), |m| m.min(batches.len()));
    let planned = spec.max_epochs * per_epoch;
    let mut log = log.unwrap_or_else(|| TrainLog::new(label, obj.direction(), planned));
    let pb = crate::progress::bar(planned as u64, label, "steps", spec.progress);
    pb.set_position(step as u64);
    let dir = obj.direction();
    for epoch in first_epoch..spec.max_epochs {
        let t0 = Instant::now();
        if epoch > first_epoch {
            batches = obj.batches(epoch, spec.seed)?;
        }
        if let Some(d) = &device {
            urbancast_nn::seeded::reseed(d, epoch_seed(spec.seed, epoch) ^ 0xD409_0A7E);
        }
        let mut sums = Sums::default();
        let mut lr = spec.lr;
        let mut probe = vec![];
        for (i, batch) in batches.iter().take(per_epoch).enumerate() {
            if i == 0 {
                probe = obj.probe(&model, batch)?;
            }
            lr = spec.schedule.lr_at(spec.lr, step + 1, planned, epoch);
            let bl = obj.loss(&model, batch)?;
            let terms: Vec<(&'static str, f64)> = bl.terms.iter().map(|(n, t)| (*n, t.clone().into_scalar::<f32>() as f64)).collect();
            let what = || format!("{label}: epoch {}, step {}", epoch + 1, step + 1);
            let (m, info) = match obj.take_gradients() {
                Some(grads) => {
                    let value = bl.total.clone().into_scalar::<f32>() as f64;
                    stepper.apply(model, grads, value, lr, &what)?
                }
                None => stepper.step(model, bl.total.clone(), lr, &what)?,
            };
            model = m;
            step += 1;
            sums.add(&bl, &info, terms);
            obj.after_batch(i + 1)?;
            pb.inc(1);
        }
        obj.after_epoch(epoch)?;
        let train_seconds = t0.elapsed().as_secs_f64();
        pb.set_message(format!("epoch {}: validating", epoch + 1));
        let valid = model.valid();
        let v = obj.validate(&valid)?;
        let improved = best.is_none() || dir.improves(v.score, log.best_score);
        if improved {
            log.best_score = v.score;
            log.best_epoch = epoch + 1;
            best = Some(model.clone());
            bad = 0;
            obj.on_best(&valid, epoch + 1)?;
        } else {
            bad += 1;
        }
        let per = |x: f64, n: f64| if n > 0.0 { x / n } else { f64::NAN };
        let rec = EpochRecord {
            epoch: epoch + 1,
            step,
            loss: per(sums.loss, sums.weight),
            terms: sums.terms.iter().map(|&(n, v)| (n.to_string(), per(v, sums.weight))).collect(),
            counters: sums.counters.iter().map(|&(n, a, b)| (n.to_string(), per(a, b))).collect(),
            val_score: v.score,
            val: v.metrics.iter().map(|&(n, x)| (n.to_string(), x)).collect(),
            lr,
            grad_norm: per(sums.grad, sums.steps as f64),
            grad_norm_max: sums.grad_max,
            clipped: per(sums.clipped as f64, sums.steps as f64),
            probe: probe.into_iter().collect(),
            best: improved,
            train_seconds,
            seconds: t0.elapsed().as_secs_f64(),
        };
        let stop = spec.patience.is_some_and(|p| bad >= p) && step >= spec.min_steps;
        let last = stop || epoch + 1 == spec.max_epochs;
        crate::progress::note(&pb, &epoch_line(label, spec.max_epochs, &rec), !spec.progress);
        pb.set_message(format!("epoch {}: val {:.4}", epoch + 1, v.score));
        log.epochs.push(rec);
        log.steps = step;
        log.stopped_early = stop && epoch + 1 < spec.max_epochs;
        if let Some(r) = run {
            if let Some(rec) = log.epochs.last() {
                append_jsonl(&r.dir.join(LOG_FILE), rec)?;
            }
            if last || (r.checkpoint_every > 0 && (epoch + 1) % r.checkpoint_every == 0) {
                let state = CheckpointState {
                    version: checkpoint::VERSION,
                    epochs_done: epoch + 1,
                    step,
                    bad,
                    settings: settings.clone(),
                    finished: last,
                    log: log.clone(),
                };
                checkpoint::save(&r.dir, &state, &model, best.as_ref(), stepper.optimizer(), |d| obj.save_state(d))?;
            }
        }
        if stop {
            break;
        }
    }
    pb.finish_and_clear();
    log.seconds = start.elapsed().as_secs_f64();
    Ok(Fitted { best: best.unwrap_or(model), log })
}

/// The per-epoch line: loss and terms, counters, validation, rate, gradient norm, time.
fn epoch_line(label: &str, max_epochs: usize, e: &EpochRecord) -> String {
    let mut s = format!("{label}: epoch {}/{max_epochs} loss {:.5}", e.epoch, e.loss);
    let parts: Vec<String> = e.terms.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
    if !parts.is_empty() {
        s.push_str(&format!(" ({})", parts.join(", ")));
    }
    for (k, v) in &e.counters {
        s.push_str(&format!(" {k} {v:.4}"));
    }
    s.push_str(&format!(" | val {:.4}", e.val_score));
    for (k, v) in &e.val {
        s.push_str(&format!(" {k} {v:.4}"));
    }
    s.push_str(&format!(" | lr {:.2e} | grad {:.3} ({:.0}% clipped) | {:.1} s", e.lr, e.grad_norm, 100.0 * e.clipped, e.seconds));
    if e.best {
        s.push_str(" *");
    }
    s
}
