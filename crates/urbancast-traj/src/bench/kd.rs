//! What cross-task distillation costs: builds the frozen LM-TAD teacher's candidate
//! distributions once (timed), then times optimizer steps of the vanilla generator and of the
//! distilled one on the same batches (same seed), alternating which goes first.
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail, ensure};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_roads::demand::{DemandConfig, synthesize_trips};
use urbancast_roads::{RoadNetwork, Trajectory};

use crate::kd::{KdConfig, TargetStats, TeacherTargets};
use crate::lmtad::{CellGrid, LmTadConfig, load_teacher};
use crate::model::HoserConfig;
use crate::train::{Distill, RunOpts, TrainConfig, fit, fit_distilled, prepare_training, sized_config};

/// Settings of [`bench_kd`].
#[derive(Debug, Clone)]
pub struct KdBenchConfig {
    /// Zones of the generator.
    pub zones: usize,
    /// Timed optimizer steps per run.
    pub steps: usize,
    /// Runs of each kind (vanilla, distilled).
    pub repeats: usize,
    /// Trajectories per batch.
    pub batch: usize,
    /// Teacher window w (the Porto preset's λ, τ otherwise; they do not change the cost).
    pub window: usize,
    /// Distil only each trajectory's last step.
    pub last_only: bool,
    /// Seed of the split, zones, models and batches.
    pub seed: u64,
}

/// What [`bench_kd`] reports while it runs.
pub enum KdBenchEvent<'a> {
    /// The teacher targets were built.
    Targets {
        /// Training samples.
        samples: usize,
        /// What the build did and cost.
        stats: &'a TargetStats,
        /// Teacher window w.
        window: usize,
    },
    /// One timed run finished.
    Run {
        /// Repetition, from 1.
        repeat: usize,
        /// Whether it was the distilled kind.
        distilled: bool,
        /// Seconds per optimizer step.
        seconds_per_step: f64,
    },
}

/// What [`bench_kd`] measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KdBench {
    /// The network's name.
    pub network: String,
    /// Training samples.
    pub training_samples: usize,
    /// Trajectories per batch.
    pub batch: usize,
    /// Timed steps per run.
    pub steps_per_run: usize,
    /// Runs of each kind.
    pub repeats: usize,
    /// The distillation settings.
    pub kd: KdConfig,
    /// The teacher targets' build.
    pub targets: TargetStats,
    /// Seconds per step of every vanilla run.
    pub vanilla_s_per_step: Vec<f64>,
    /// Seconds per step of every distilled run.
    pub distilled_s_per_step: Vec<f64>,
    /// Median of `vanilla_s_per_step`.
    pub vanilla_median_s: f64,
    /// Median of `distilled_s_per_step`.
    pub distilled_median_s: f64,
    /// Distilled / vanilla per step.
    pub step_ratio: f64,
    /// Batches in one epoch of the training split.
    pub batches_per_epoch: usize,
    /// Distilled / vanilla time of 1, 10 and 25 epochs, the targets built once.
    pub epoch_ratio: BTreeMap<String, f64>,
}

impl KdBench {
    /// Distilled / vanilla time of `epochs` epochs, the targets built once.
    pub fn epoch_ratio_of(&self, epochs: f64) -> f64 {
        let (v, d, n) = (self.vanilla_median_s, self.distilled_median_s, self.batches_per_epoch as f64);
        (d * n * epochs + self.targets.seconds) / (v * n * epochs)
    }
}

/// `trips` synthetic trips on `net` (at most 50 zones, one per 20 roads) from `seed`.
pub fn synthetic_trips(net: &RoadNetwork, trips: usize, seed: u64) -> Result<Vec<Trajectory>> {
    ensure!(trips >= 20, "--trips must be at least 20");
    let cfg = DemandConfig { trips, seed, zones: 50.min(net.len() / 20).max(1), ..Default::default() };
    Ok(synthesize_trips(net, &cfg, None)?)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

/// Times vanilla against distilled training on `trajs` (90 / 10 split) with the teacher folder
/// `teacher` (checked against `net`) or, without it, a random-init teacher of the default size
/// on the network's grid (the same cost as a trained one). Everything runs on the CPU.
pub fn bench_kd(
    net: &RoadNetwork,
    trajs: &[Trajectory],
    teacher: Option<&Path>,
    c: &KdBenchConfig,
    mut on: impl FnMut(KdBenchEvent<'_>),
) -> Result<KdBench> {
    ensure!(c.steps > 0 && c.repeats > 0 && c.batch > 0, "--steps, --repeats and --batch must be at least 1");
    let prep = prepare_training(net, trajs, c.zones, c.seed, 0.1, 0.0)?;
    let cpu = Device::flex();
    let (teacher, grid) = match teacher {
        Some(dir) => {
            let (t, tok, _) = load_teacher(dir, net, &cpu)?;
            (t, tok.grid)
        }
        None => {
            let grid = CellGrid::from_network(net)?;
            (LmTadConfig::for_grid(&grid).init_seeded(&cpu, c.seed)?, grid)
        }
    };
    let kcfg = KdConfig { window: c.window, all_positions: !c.last_only, ..KdConfig::porto() };
    let targets = TeacherTargets::build(net, &teacher, &grid, &prep.train, &kcfg, true)?;
    on(KdBenchEvent::Targets { samples: prep.train.len(), stats: &targets.stats, window: kcfg.window });
    let model_cfg = sized_config(&HoserConfig::default(), &prep.ctx)?;
    let distill = Distill { targets: &targets, cfg: kcfg.clone() };
    let per_epoch = prep.train.len().div_ceil(c.batch);
    if per_epoch < c.steps {
        bail!("only {per_epoch} batches of {} in the training split: lower --steps or add trips", c.batch);
    }
    let tc = |steps: usize| TrainConfig {
        epochs: 1,
        batch: c.batch,
        seed: c.seed,
        max_batches_per_epoch: Some(steps),
        val_batches: Some(1),
        ..Default::default()
    };
    let time_run = |kd: bool, steps: usize| -> Result<f64> {
        let (_, log) = if kd {
            fit_distilled(prep.data(net), &model_cfg, &tc(steps), &cpu, RunOpts::default(), Some(&distill))?
        } else {
            fit(prep.data(net), &model_cfg, &tc(steps), &cpu, RunOpts::default())?
        };
        Ok(log.epochs[0].train_seconds / steps as f64)
    };
    time_run(true, 2.min(c.steps))?; // warm-up: allocator, caches
    let (mut van, mut dis) = (Vec::new(), Vec::new());
    for r in 0..c.repeats {
        for kd in if r % 2 == 0 { [false, true] } else { [true, false] } {
            let s = time_run(kd, c.steps)?;
            on(KdBenchEvent::Run { repeat: r + 1, distilled: kd, seconds_per_step: s });
            if kd { dis.push(s) } else { van.push(s) }
        }
    }
    let (v, d) = (median(&mut van), median(&mut dis));
    let mut b = KdBench {
        network: net.name.clone(),
        training_samples: prep.train.len(),
        batch: c.batch,
        steps_per_run: c.steps,
        repeats: c.repeats,
        kd: kcfg,
        targets: targets.stats.clone(),
        vanilla_s_per_step: van,
        distilled_s_per_step: dis,
        vanilla_median_s: v,
        distilled_median_s: d,
        step_ratio: d / v,
        batches_per_epoch: per_epoch,
        epoch_ratio: BTreeMap::new(),
    };
    b.epoch_ratio = [1.0, 10.0, 25.0].into_iter().map(|e| (format!("{e}"), b.epoch_ratio_of(e))).collect();
    Ok(b)
}
