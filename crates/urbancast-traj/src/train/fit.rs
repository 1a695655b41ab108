//! The training loop: AdamW, warm-up + cosine schedule per step, global gradient-norm
//! clipping, road/zone encoders run once per batch, validation after every epoch, the best
//! validation accuracy kept (and checkpointed).
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_nn::clip::clip_global_norm;
use urbancast_roads::RoadNetwork;

use super::eval::{EvalStats, evaluate_batches};
use super::{EpochLog, TrainConfig, TrainLog};
use crate::bundle::{BundleMeta, NetworkFingerprint, save_bundle, save_weights};
use crate::kd::{KdConfig, TeacherTargets, kd_loss};
use crate::data::{BatchTensors, Batcher, GraphTensors, RoadContext, Sample, TimeNorm, TrajBatch};
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
    pub targets: &'a TeacherTargets,
    pub cfg: KdConfig,
}

/// Step-weighted sums of one epoch's training metrics.
#[derive(Default)]
struct Sums {
    loss: f64,
    ce: f64,
    time: f64,
    kd: f64,
    targets: usize,
    correct: usize,
    steps: usize,
}

/// Trains a generator of configuration `model_cfg` (sizes of 0 are taken from `ctx`) on the
/// `train` samples and returns the model of the best validation next-step accuracy (on the
/// inference device, i.e. without autodiff) with the log.
///
/// `device` may be plain or autodiff; training runs on its autodiff version, validation on
/// its plain version. Deterministic for `cfg.seed` on a given backend: the model is
/// initialised with [`HoserConfig::init_seeded`] and the batches come from a seeded
/// [`Batcher`]; nothing else is random. With `out_dir`, the bundle is written there
/// ([`save_bundle`], `meta.json` marked in progress) when the validation accuracy first
/// improves and the weights ([`save_weights`]) and `meta.json` at every later improvement.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    net: &RoadNetwork,
    ctx: &RoadContext,
    train: &[Sample],
    val: &[Sample],
    time_norm: &TimeNorm,
    model_cfg: &HoserConfig,
    cfg: &TrainConfig,
    device: &Device,
    out_dir: Option<&Path>,
    progress: bool,
) -> Result<(Hoser, TrainLog)> {
    fit_distilled(net, ctx, train, val, time_norm, model_cfg, cfg, device, out_dir, progress, None)
}

/// [`fit`] with an optional distillation term: the loss becomes `CE + time + λ·KL` where KL
/// is [`kd_loss`] between the teacher's cached distribution (`kd.targets`, built for `train`
/// in the same order) and the student's candidate logits at every distilled step.
#[allow(clippy::too_many_arguments)]
pub fn fit_distilled(
    net: &RoadNetwork,
    ctx: &RoadContext,
    train: &[Sample],
    val: &[Sample],
    time_norm: &TimeNorm,
    model_cfg: &HoserConfig,
    cfg: &TrainConfig,
    device: &Device,
    out_dir: Option<&Path>,
    progress: bool,
    kd: Option<&Distill<'_>>,
) -> Result<(Hoser, TrainLog)> {
    if let Some(kd) = kd {
        kd.cfg.validate()?;
        ensure!(
            kd.targets.len() == train.len(),
            "teacher targets cover {} samples but there are {} training samples",
            kd.targets.len(),
            train.len()
        );
    }
    ensure!(cfg.epochs > 0, "at least one epoch is needed");
    ensure!(cfg.batch > 0, "batch size must be at least 1");
    ensure!(cfg.lr > 0.0 && cfg.lr.is_finite(), "learning rate must be positive, got {}", cfg.lr);
    ensure!(!train.is_empty(), "no training samples");
    ensure!(!val.is_empty(), "no validation samples (the best model is chosen on them): use a validation fraction above 0");
    if let Some(s) = train.iter().chain(val).find(|s| s.len() < 2) {
        bail!("sample {} has {} road(s); every sample needs at least two", s.id.as_deref().unwrap_or("<no id>"), s.len());
    }
    let start = Instant::now();
    let mcfg = sized_config(model_cfg, ctx)?;
    let (ad, inf) = (device.clone().autodiff(), device.clone().without_autodiff());
    let mut model = mcfg.init_seeded(&ad, cfg.seed);
    let (graph_ad, graph_inf) = (GraphTensors::new(ctx, &ad), GraphTensors::new(ctx, &inf));
    let mut optim = AdamWConfig::new().with_weight_decay(cfg.weight_decay).with_epsilon(1e-8).init();
    let batcher = Batcher::from_samples(train, cfg.batch, cfg.seed);
    let per_epoch = cfg.batches_per_epoch(batcher.num_batches());
    let planned = cfg.epochs * per_epoch;
    let val_batches = match cfg.val_batches {
        None => Batcher::from_samples(val, cfg.batch, 0).sequential(),
        Some(m) => {
            let mut b = Batcher::from_samples(val, cfg.batch, cfg.seed ^ VAL_SALT).epoch(0);
            b.truncate(m.max(1));
            b
        }
    };
    let mut log = TrainLog { best_val_acc: f64::NEG_INFINITY, planned_steps: planned, ..Default::default() };
    let mut best: Option<Hoser> = None;
    let (mut step, mut bad) = (0usize, 0usize);
    let pb = crate::progress::bar(planned as u64, "training", "steps", progress);
    for epoch in 1..=cfg.epochs {
        let t0 = Instant::now();
        let mut s = Sums::default();
        let mut lr = 0.0;
        for idx in batcher.epoch(epoch as u64 - 1).iter().take(per_epoch) {
            step += 1;
            lr = cfg.lr_at(step, planned);
            let refs: Vec<&Sample> = idx.iter().map(|&i| &train[i]).collect();
            let tb = TrajBatch::build(net, ctx, &refs, time_norm);
            let bt = BatchTensors::new(&tb, &ad);
            let emb = model.encode_graph(GraphInputs::from(&graph_ad));
            let out = model.forward(&emb, &(&bt).into(), &(&bt).into());
            let parts = model.loss(&out, &bt.target, &bt.dt_secs, &bt.valid, time_norm);
            let (correct, counted) = model.next_step_accuracy(&out, &bt.target, &bt.valid);
            let mut total_t = parts.total.clone();
            let mut kd_value = 0.0;
            if let Some(kd) = kd {
                let (q, w) = kd.targets.batch(&tb, idx)?;
                let (m, k) = (tb.b * tb.l, tb.k);
                let q = Tensor::<2>::from_data(TensorData::new(q, [m, k]), &ad);
                let w = Tensor::<1>::from_data(TensorData::new(w, [m]), &ad);
                let logits = out.logits.clone().reshape([m, k]);
                let mask = bt.cand_mask.clone().reshape([m, k]);
                let kl = kd_loss(logits, mask, q, kd.cfg.tau, kd.cfg.scale_tau_sq, Some(w))?;
                kd_value = kl.clone().into_scalar::<f32>() as f64;
                total_t = total_t + kl.mul_scalar(kd.cfg.lambda);
            }
            let mut grads = GradientsParams::from_grads(total_t.clone().backward(), &model);
            if cfg.clip_norm > 0.0 && cfg.clip_norm.is_finite() {
                clip_global_norm(&model, &mut grads, cfg.clip_norm);
            }
            model = optim.step(lr, model, grads);
            let total = total_t.into_scalar::<f32>() as f64;
            if !total.is_finite() {
                bail!("the training loss became {total} at step {step} (epoch {epoch}, learning rate {lr:.3e})");
            }
            let w = counted as f64;
            s.loss += total * w;
            s.ce += parts.ce.into_scalar::<f32>() as f64 * w;
            s.time += parts.time.into_scalar::<f32>() as f64 * w;
            s.kd += kd_value * w;
            s.targets += counted;
            s.correct += correct;
            s.steps += tb.num_valid();
            pb.inc(1);
        }
        let train_seconds = t0.elapsed().as_secs_f64();
        pb.set_message(format!("epoch {epoch}: validating"));
        let v: EvalStats = evaluate_batches(&model, net, ctx, &graph_inf, val, &val_batches, time_norm)?;
        let per = |x: f64, n: usize| if n == 0 { f64::NAN } else { x / n as f64 };
        let e = EpochLog {
            epoch,
            train_loss: per(s.loss, s.targets),
            train_ce: per(s.ce, s.targets),
            train_time_loss: per(s.time, s.targets),
            train_kd: kd.map(|_| per(s.kd, s.targets)),
            train_acc: per(s.correct as f64, s.steps),
            val_acc: v.acc,
            val_ce: v.ce,
            val_time_mape: v.time_mape.is_finite().then_some(v.time_mape),
            lr_end: lr,
            steps: step,
            train_seconds,
            seconds: t0.elapsed().as_secs_f64(),
        };
        let kd_part = e.train_kd.map(|x| format!(", kd {x:.4}")).unwrap_or_default();
        let line = format!(
            "epoch {epoch}/{}: loss {:.4} (ce {:.4}, time {:.4}{kd_part}) acc {:.4} | val acc {:.4} ce {:.4} | lr {:.2e} | {:.1} s",
            cfg.epochs, e.train_loss, e.train_ce, e.train_time_loss, e.train_acc, e.val_acc, e.val_ce, e.lr_end, e.seconds
        );
        if progress {
            crate::progress::note(&pb, line);
        }
        pb.set_message(format!("epoch {epoch}: val acc {:.4}", e.val_acc));
        let improved = e.val_acc > log.best_val_acc || best.is_none();
        log.epochs.push(e);
        if improved {
            log.best_val_acc = v.acc;
            log.best_epoch = epoch;
            let m = model.valid();
            if let Some(dir) = out_dir {
                checkpoint(dir, &m, net, ctx, time_norm, cfg, &log, best.is_none())?;
            }
            best = Some(m);
            bad = 0;
        } else {
            bad += 1;
            if cfg.patience.is_some_and(|p| bad >= p) {
                log.stopped_early = true;
                break;
            }
        }
    }
    pb.finish_and_clear();
    log.steps = step;
    log.seconds = start.elapsed().as_secs_f64();
    let model = best.unwrap_or_else(|| model.valid());
    Ok((model, log))
}

/// Writes the best model so far: the whole bundle the first time, then weights and meta.
#[allow(clippy::too_many_arguments)]
fn checkpoint(
    dir: &Path,
    model: &Hoser,
    net: &RoadNetwork,
    ctx: &RoadContext,
    time_norm: &TimeNorm,
    cfg: &TrainConfig,
    log: &TrainLog,
    first: bool,
) -> Result<()> {
    let meta = BundleMeta {
        network: NetworkFingerprint::of(net),
        time_norm: *time_norm,
        training: serde_json::json!({
            "status": "in progress",
            "train_config": cfg,
            "best_epoch": log.best_epoch,
            "best_val_acc": log.best_val_acc,
        }),
    };
    if first {
        return save_bundle(dir, model, ctx, &meta);
    }
    save_weights(dir, model)?;
    let p = dir.join("meta.json");
    std::fs::write(&p, serde_json::to_string_pretty(&meta)?).with_context(|| format!("writing {}", p.display()))
}
