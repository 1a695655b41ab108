//! The generator's objective on the shared engine: AdamW, warm-up + cosine schedule per step,
//! global gradient-norm clipping, road/zone encoders run once per batch, validation after
//! every epoch, the best validation accuracy kept (and written to the model folder).
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_roads::RoadNetwork;
use urbancast_train::{BatchLoss, Direction, Objective, OptimConfig, RunDir, TrainSpec, Validation};

use super::eval::{EvalStats, evaluate_batches};
use super::{EpochLog, TrainConfig, TrainLog};
use crate::bundle::{BundleMeta, NetworkFingerprint, save_bundle, save_weights};
use crate::data::{BatchTensors, Batcher, GraphTensors, RoadContext, Sample, TimeNorm, TrajBatch};
use crate::kd::{KdConfig, TeacherTargets, kd_loss};
use crate::model::{GraphInputs, Hoser, HoserConfig};

/// Salt of the seed of the fixed validation subset ([`TrainConfig::val_batches`]).
const VAL_SALT: u64 = 0x5EED_0F0A_11DA_7E00;

/// `cfg` with the sizes of `ctx` filled in where they are 0; a non-zero size that differs
/// from the context's is an error.
pub fn sized_config(cfg: &HoserConfig, ctx: &RoadContext) -> Result<HoserConfig> {
    let mut c = cfg.clone();
    for (name, field, want) in [
        ("num_roads", &mut c.num_roads, ctx.num_roads),
        ("num_classes", &mut c.num_classes, ctx.num_classes),
        ("num_zones", &mut c.num_zones, ctx.num_zones),
    ] {
        if *field == 0 {
            *field = want;
        } else if *field != want {
            bail!("model configuration has {name} = {field} but the road context has {want}");
        }
    }
    Ok(c)
}

/// Cross-task distillation during [`fit_distilled`]: the frozen teacher's cached candidate
/// distributions for the training samples (same order) and the settings.
pub struct Distill<'a> {
    /// Cached teacher distributions, one per training sample.
    pub targets: &'a TeacherTargets,
    /// λ, τ, window and variants.
    pub cfg: KdConfig,
}

/// What the generator is trained on: the network, its context, the samples and the time
/// normalisation (one bundle instead of loose arguments).
#[derive(Clone, Copy)]
pub struct TrainData<'a> {
    /// The road network.
    pub net: &'a RoadNetwork,
    /// Road features, zones and candidates.
    pub ctx: &'a RoadContext,
    /// Training samples.
    pub train: &'a [Sample],
    /// Validation samples (the best model is chosen on them).
    pub val: &'a [Sample],
    /// Travel-time normalisation.
    pub time_norm: &'a TimeNorm,
}

/// Where and how a run reports: the run folder (log, checkpoints, resume), the model folder
/// written at every improvement, and the progress bar.
#[derive(Clone, Copy, Default)]
pub struct RunOpts<'a> {
    /// Engine run folder (`train-log.jsonl`, `checkpoint/`).
    pub run: Option<&'a RunDir>,
    /// Model folder: the bundle is written here when validation first improves, then the
    /// weights and `meta.json` at every later improvement.
    pub out_dir: Option<&'a Path>,
    /// Show progress.
    pub progress: bool,
}

/// The generator's objective on the engine.
struct HoserObjective<'a> {
    d: TrainData<'a>,
    cfg: &'a TrainConfig,
    kd: Option<&'a Distill<'a>>,
    ad: Device,
    graph_ad: GraphTensors,
    graph_inf: GraphTensors,
    batcher: Batcher,
    val_batches: Vec<Vec<usize>>,
    out_dir: Option<&'a Path>,
    bundle_written: bool,
    last_val: f64,
    best_epoch: usize,
}

impl Objective for HoserObjective<'_> {
    type Model = Hoser;
    type Batch = Vec<usize>;

    fn batches(&mut self, epoch: usize, _seed: u64) -> Result<Vec<Vec<usize>>> {
        // The batcher is seeded with the run's seed; each epoch's order is a function of it.
        Ok(self.batcher.epoch(epoch as u64))
    }

    fn loss(&mut self, model: &Hoser, idx: &Vec<usize>) -> Result<BatchLoss> {
        let d = self.d;
        let refs: Vec<&Sample> = idx.iter().map(|&i| &d.train[i]).collect();
        let tb = TrajBatch::build(d.net, d.ctx, &refs, d.time_norm);
        let bt = BatchTensors::new(&tb, &self.ad);
        let emb = model.encode_graph(GraphInputs::from(&self.graph_ad));
        let out = model.forward(&emb, &(&bt).into(), &(&bt).into());
        let parts = model.loss(&out, &bt.target, &bt.dt_secs, &bt.valid, d.time_norm);
        let (correct, counted) = model.next_step_accuracy(&out, &bt.target, &bt.valid);
        let mut total = parts.total.clone();
        let mut terms = vec![("ce", parts.ce), ("time", parts.time)];
        if let Some(kd) = self.kd {
            let (q, w) = kd.targets.batch(&tb, idx)?;
            let (m, k) = (tb.b * tb.l, tb.k);
            let q = Tensor::<2>::from_data(TensorData::new(q, [m, k]), &self.ad);
            let w = Tensor::<1>::from_data(TensorData::new(w, [m]), &self.ad);
            let logits = out.logits.clone().reshape([m, k]);
            let mask = bt.cand_mask.clone().reshape([m, k]);
            let kl = kd_loss(logits, mask, q, kd.cfg.tau, kd.cfg.scale_tau_sq, Some(w))?;
            total = total + kl.clone().mul_scalar(kd.cfg.lambda);
            terms.push(("kd", kl));
        }
        Ok(BatchLoss { total, terms, weight: counted as f64, counters: vec![("train_acc", correct as f64, tb.num_valid() as f64)] })
    }

    fn validate(&mut self, model: &Hoser) -> Result<Validation> {
        let d = self.d;
        let v: EvalStats = evaluate_batches(model, d.net, d.ctx, &self.graph_inf, d.val, &self.val_batches, d.time_norm)?;
        self.last_val = v.acc;
        Ok(Validation { score: v.acc, metrics: vec![("val_ce", v.ce), ("val_time_mape", v.time_mape)] })
    }

    fn direction(&self) -> Direction {
        Direction::Higher
    }

    fn on_best(&mut self, model: &Hoser, epoch: usize) -> Result<()> {
        self.best_epoch = epoch;
        if let Some(dir) = self.out_dir {
            checkpoint(dir, model, self.d, self.cfg, (epoch, self.last_val), !self.bundle_written)?;
            self.bundle_written = true;
        }
        Ok(())
    }

    fn save_state(&self, dir: &Path) -> Result<()> {
        urbancast_train::fsio::write_json_atomic(
            &dir.join("hoser.json"),
            &serde_json::json!({ "bundle_written": self.bundle_written, "best_epoch": self.best_epoch }),
        )
    }

    fn load_state(&mut self, dir: &Path) -> Result<()> {
        let p = dir.join("hoser.json");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?)?;
        self.bundle_written = v["bundle_written"].as_bool().unwrap_or(false);
        self.best_epoch = v["best_epoch"].as_u64().unwrap_or(0) as usize;
        Ok(())
    }
}

impl TrainConfig {
    /// The engine's settings for `planned` optimiser steps: AdamW (ε = 1e-8), HOSER's warm-up +
    /// cosine per step, global clip, optional patience.
    pub fn spec(&self, planned: usize, progress: bool) -> TrainSpec {
        TrainSpec {
            label: "training".into(),
            lr: self.lr,
            optim: OptimConfig::adamw(self.weight_decay),
            schedule: self.schedule(planned),
            clip_norm: self.clip_norm,
            max_epochs: self.epochs,
            max_batches_per_epoch: self.max_batches_per_epoch,
            patience: self.patience,
            min_steps: 0,
            seed: self.seed,
            progress,
        }
    }
}

/// The engine log as the generator's [`TrainLog`].
fn to_log(l: &urbancast_train::TrainLog, distilled: bool) -> TrainLog {
    let epochs = l
        .epochs
        .iter()
        .map(|e| {
            let term = |k: &str| e.terms.get(k).copied().unwrap_or(f64::NAN);
            let mape = e.val.get("val_time_mape").copied().unwrap_or(f64::NAN);
            EpochLog {
                epoch: e.epoch,
                train_loss: e.loss,
                train_ce: term("ce"),
                train_time_loss: term("time"),
                train_kd: distilled.then(|| term("kd")),
                train_acc: e.counters.get("train_acc").copied().unwrap_or(f64::NAN),
                val_acc: e.val_score,
                val_ce: e.val.get("val_ce").copied().unwrap_or(f64::NAN),
                val_time_mape: mape.is_finite().then_some(mape),
                lr_end: e.lr,
                steps: e.step,
                train_seconds: e.train_seconds,
                seconds: e.seconds,
            }
        })
        .collect();
    TrainLog {
        epochs,
        best_epoch: l.best_epoch,
        best_val_acc: l.best_score,
        steps: l.steps,
        planned_steps: l.planned_steps,
        stopped_early: l.stopped_early,
        seconds: l.seconds,
    }
}

/// Trains a generator of configuration `model_cfg` (sizes of 0 are taken from the context) on
/// `data` and returns the model of the best validation next-step accuracy (on the inference
/// device, i.e. without autodiff) with the log.
///
/// `device` may be plain or autodiff; training runs on its autodiff version, validation on
/// its plain version. Deterministic for `cfg.seed` on a given backend: the model is
/// initialised with [`HoserConfig::init_seeded`] and the batches come from a seeded
/// [`Batcher`]. See [`RunOpts`] for the folders written.
pub fn fit(data: TrainData, model_cfg: &HoserConfig, cfg: &TrainConfig, device: &Device, opts: RunOpts) -> Result<(Hoser, TrainLog)> {
    fit_distilled(data, model_cfg, cfg, device, opts, None)
}

/// [`fit`] with an optional distillation term: the loss becomes `CE + time + λ·KL` where KL
/// is [`kd_loss`] between the teacher's cached distribution (`kd.targets`, built for the
/// training samples in the same order) and the student's candidate logits at every distilled
/// step.
pub fn fit_distilled(
    data: TrainData,
    model_cfg: &HoserConfig,
    cfg: &TrainConfig,
    device: &Device,
    opts: RunOpts,
    kd: Option<&Distill<'_>>,
) -> Result<(Hoser, TrainLog)> {
    let (train, val) = (data.train, data.val);
    if let Some(kd) = kd {
        kd.cfg.validate()?;
        ensure!(
            kd.targets.len() == train.len(),
            "teacher targets cover {} samples but there are {} training samples",
            kd.targets.len(),
            train.len()
        );
    }
    ensure!(cfg.batch > 0, "batch must be at least 1 (got 0)");
    ensure!(!train.is_empty(), "no training samples");
    ensure!(!val.is_empty(), "no validation samples (the best model is chosen on them): use a validation fraction above 0");
    if let Some(s) = train.iter().chain(val).find(|s| s.len() < 2) {
        bail!("sample {} has {} road(s); every sample needs at least two", s.id.as_deref().unwrap_or("<no id>"), s.len());
    }
    let mcfg = sized_config(model_cfg, data.ctx)?;
    let (ad, inf) = (device.clone().autodiff(), device.clone().without_autodiff());
    let model = mcfg.init_seeded(&ad, cfg.seed);
    let batcher = Batcher::from_samples(train, cfg.batch, cfg.seed);
    let planned = cfg.epochs * cfg.batches_per_epoch(batcher.num_batches());
    let val_batches = match cfg.val_batches {
        None => Batcher::from_samples(val, cfg.batch, 0).sequential(),
        Some(m) => {
            let mut b = Batcher::from_samples(val, cfg.batch, cfg.seed ^ VAL_SALT).epoch(0);
            b.truncate(m.max(1));
            b
        }
    };
    let mut obj = HoserObjective {
        d: data,
        cfg,
        kd,
        graph_ad: GraphTensors::new(data.ctx, &ad),
        graph_inf: GraphTensors::new(data.ctx, &inf),
        ad,
        batcher,
        val_batches,
        out_dir: opts.out_dir,
        bundle_written: false,
        last_val: f64::NAN,
        best_epoch: 0,
    };
    let fitted = urbancast_train::fit(model, &mut obj, &cfg.spec(planned, opts.progress), opts.run)?;
    Ok((fitted.best.valid(), to_log(&fitted.log, kd.is_some())))
}

/// Writes the best model so far: the whole bundle the first time, then weights and meta.
fn checkpoint(dir: &Path, model: &Hoser, d: TrainData, cfg: &TrainConfig, best: (usize, f64), first: bool) -> Result<()> {
    let meta = BundleMeta {
        network: NetworkFingerprint::of(d.net),
        time_norm: *d.time_norm,
        training: serde_json::json!({
            "status": "in progress",
            "train_config": cfg,
            "best_epoch": best.0,
            "best_val_acc": best.1,
        }),
    };
    if first {
        return save_bundle(dir, model, d.ctx, &meta);
    }
    save_weights(dir, model)?;
    let p = dir.join("meta.json");
    urbancast_train::fsio::write_json_atomic(&p, &meta).with_context(|| format!("writing {}", p.display()))
}
