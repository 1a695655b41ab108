//! Training the HOSER-style generator on trajectories, optionally distilled from an LM-TAD
//! teacher: fit, test, write the model bundle (`model.bpk`, `context.json`, `meta.json`),
//! `train-log.json`, `training.png` and the data splits.
use std::path::Path;

use anyhow::Result;
use burn::tensor::Device;
use serde_json::json;
use urbancast_eval::report::write_json;
use urbancast_roads::{RoadNetwork, Trajectory};

use super::RunInputs;
use super::plots::plot_generator_log;
use crate::bundle::{BundleMeta, NetworkFingerprint, save_bundle};
use crate::data::GraphTensors;
use crate::io::write_splits;
use crate::kd::{KdConfig, TeacherTargets};
use crate::lmtad::load_teacher;
use crate::model::{Hoser, HoserConfig};
use crate::train::{Distill, EvalStats, Prepared, RunOpts, TrainConfig, TrainLog, evaluate, fit_distilled};

/// Distillation inputs of [`train_generator`].
#[derive(Debug, Clone, Copy)]
pub struct KdInputs<'a> {
    /// The teacher folder (for the records).
    pub teacher_dir: &'a Path,
    /// The teacher's targets for the training samples ([`teacher_targets`]).
    pub targets: &'a TeacherTargets,
    /// λ, τ, window and variant.
    pub cfg: &'a KdConfig,
}

/// What [`train_generator`] trains on.
#[derive(Debug, Clone, Copy)]
pub struct GeneratorData<'a> {
    /// The road network of the trajectories.
    pub net: &'a RoadNetwork,
    /// Every input trajectory, in input order (the split indices of `prep` point into it).
    pub all: &'a [Trajectory],
    /// `all` prepared for training ([`crate::train::prepare_training`]).
    pub prep: &'a Prepared,
    /// The number of zones asked for (`prep.zones.k` may be fewer, see
    /// [`crate::train::zones_for`]); recorded in the meta data.
    pub zones_requested: usize,
}

/// What [`train_generator`] returns.
#[derive(Debug)]
pub struct GeneratorOutcome {
    /// The model of the best validation accuracy.
    pub model: Hoser,
    /// Every epoch.
    pub log: TrainLog,
    /// Metrics on the test split; `None` when it is empty.
    pub test: Option<EvalStats>,
}

/// Loads the teacher folder `dir` (checked against `net`, on the CPU) and builds its
/// candidate distributions for the training samples of `prep` with `cfg`.
pub fn teacher_targets(dir: &Path, net: &RoadNetwork, prep: &Prepared, cfg: &KdConfig) -> Result<TeacherTargets> {
    let (teacher, tok, _) = load_teacher(dir, net, &Device::flex())?;
    TeacherTargets::build(net, &teacher, &tok.grid, &prep.train, cfg, true)
}

/// Writes the splits of `data.prep` (made from `data.all`) into `out`, fits the generator of
/// `model_cfg` with `tc` on `device` (distilled when `kd` is given; checkpoints in `out`),
/// evaluates the best model on the test split and writes the bundle with its meta data (the
/// facts of `inputs`, `data.zones_requested`, split sizes, configurations, results),
/// `train-log.json` and `training.png` (a warning on stderr when the plot fails).
pub fn train_generator(
    data: GeneratorData<'_>,
    model_cfg: &HoserConfig,
    tc: &TrainConfig,
    device: &Device,
    out: &Path,
    inputs: &RunInputs,
    kd: Option<KdInputs<'_>>,
) -> Result<GeneratorOutcome> {
    let GeneratorData { net, all, prep, zones_requested } = data;
    write_splits(out, all, &prep.train_ix, &prep.val_ix, &prep.test_ix)?;
    let distill = kd.map(|k| Distill { targets: k.targets, cfg: k.cfg.clone() });
    let run = urbancast_train::RunDir::new(out.join("train"), inputs.resume);
    let opts = RunOpts { run: Some(&run), out_dir: Some(out), progress: true };
    let (best, log) = fit_distilled(prep.data(net), model_cfg, tc, device, opts, distill.as_ref())?;
    let test = if prep.test.is_empty() {
        None
    } else {
        let graph = GraphTensors::new(&prep.ctx, &device.clone().without_autodiff());
        Some(evaluate(&best, net, &prep.ctx, &graph, &prep.test, &prep.time_norm, tc.batch)?)
    };
    let training = json!({
        "train_files": inputs.files,
        "trajectories": all.len(),
        "val_frac": inputs.val_frac,
        "test_frac": inputs.test_frac,
        "zones_requested": zones_requested,
        "zones": prep.zones.k,
        "split": {
            "train": {"trajectories": prep.train_ix.len(), "samples": prep.train.len()},
            "val": {"trajectories": prep.val_ix.len(), "samples": prep.val.len()},
            "test": {"trajectories": prep.test_ix.len(), "samples": prep.test.len()},
        },
        "prepare_report": prep.report,
        "train_config": tc,
        "model_config": model_cfg,
        "parameters": best.num_params(),
        "device": inputs.device,
        "best_epoch": log.best_epoch,
        "best_val_acc": log.best_val_acc,
        "test": test,
        "steps": log.steps,
        "seconds": log.seconds,
        "distillation": kd.map(|k| json!({"teacher": k.teacher_dir, "config": k.cfg, "targets": k.targets.stats})),
    });
    let meta = BundleMeta { network: NetworkFingerprint::of(net), time_norm: prep.time_norm, training };
    save_bundle(out, &best, &prep.ctx, &meta)?;
    write_json(&out.join("train-log.json"), &log)?;
    if let Err(e) = plot_generator_log(&out.join("training.png"), &log) {
        eprintln!("warning: no training curves: {e:#}");
    }
    Ok(GeneratorOutcome { model: best, log, test })
}
