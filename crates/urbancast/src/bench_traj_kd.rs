//! `urbancast bench traj-kd`: what cross-task distillation costs. Builds the frozen LM-TAD
//! teacher's candidate distributions once (timed), then times optimizer steps of the vanilla
//! generator and of the distilled one on the same batches (same seed), alternating which goes
//! first, and reports the per-step and per-epoch overhead.
use std::path::PathBuf;

use anyhow::{Result, bail, ensure};
use burn::tensor::Device;
use serde_json::json;
use urbancast_roads::demand::{DemandConfig, synthesize_trips};
use urbancast_traj::kd::{KdConfig, TeacherTargets};
use urbancast_traj::lmtad::{CellGrid, LmTadConfig};
use urbancast_traj::model::HoserConfig;
use urbancast_traj::train::{Distill, RunOpts, TrainConfig, fit, fit_distilled, prepare_training, sized_config};

use crate::traj::common::{NetworkArg, read_checked_all, write_json};
use crate::traj::teacher::load_teacher;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Trajectories (HOSER CSV, repeatable); without it, `--trips` synthetic trips.
    #[arg(long = "train")]
    pub train: Vec<PathBuf>,
    /// Synthetic trips when no `--train` is given.
    #[arg(long, default_value_t = 3000)]
    pub trips: usize,
    /// LM-TAD teacher folder (`urbancast traj teacher`); without it a random-init teacher of
    /// the default size on the network's grid (the same cost as a trained one).
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// Zones of the generator.
    #[arg(long, default_value_t = 300)]
    pub zones: usize,
    /// Timed optimizer steps per run.
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Runs of each kind (vanilla, distilled), alternating which goes first.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Teacher window w (the Porto preset's λ, τ otherwise; they do not change the cost).
    #[arg(long, default_value_t = 4)]
    pub window: usize,
    /// Distil only each trajectory's last step (the public fork).
    #[arg(long)]
    pub last_only: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

pub fn run(a: Args) -> Result<()> {
    ensure!(a.steps > 0 && a.repeats > 0 && a.batch > 0, "--steps, --repeats and --batch must be at least 1");
    let net = a.net.load()?;
    let trajs = if a.train.is_empty() {
        ensure!(a.trips >= 20, "--trips must be at least 20");
        let cfg = DemandConfig { trips: a.trips, seed: a.seed, zones: 50.min(net.len() / 20).max(1), ..Default::default() };
        synthesize_trips(&net, &cfg, None)?
    } else {
        read_checked_all(&net, &a.train)?
    };
    let prep = prepare_training(&net, &trajs, a.zones, a.seed, 0.1, 0.0)?;
    let cpu = Device::flex();
    let (teacher, grid) = match &a.teacher {
        Some(dir) => {
            let (t, tok, _) = load_teacher(dir, &net, &cpu)?;
            (t, tok.grid)
        }
        None => {
            let grid = CellGrid::from_network(&net)?;
            (LmTadConfig::for_grid(&grid).init_seeded(&cpu, a.seed)?, grid)
        }
    };
    let kcfg = KdConfig { window: a.window, all_positions: !a.last_only, ..KdConfig::porto() };
    let targets = TeacherTargets::build(&net, &teacher, &grid, &prep.train, &kcfg, true)?;
    let st = targets.stats.clone();
    println!(
        "`{}`: {} training samples; teacher targets: {} steps over {} distinct windows (w {}) in {:.2} s",
        net.name,
        prep.train.len(),
        st.steps,
        st.windows,
        kcfg.window,
        st.seconds
    );
    let model_cfg = sized_config(&HoserConfig::default(), &prep.ctx)?;
    let distill = Distill { targets: &targets, cfg: kcfg.clone() };
    let per_epoch = prep.train.len().div_ceil(a.batch);
    if per_epoch < a.steps {
        bail!("only {per_epoch} batches of {} in the training split: lower --steps or add trips", a.batch);
    }
    let tc = |steps: usize| TrainConfig {
        epochs: 1,
        batch: a.batch,
        seed: a.seed,
        max_batches_per_epoch: Some(steps),
        val_batches: Some(1),
        ..Default::default()
    };
    let time_run = |kd: bool, steps: usize| -> Result<f64> {
        let d = kd.then_some(&distill);
        let (_, log) = if kd {
            fit_distilled(prep.data(&net), &model_cfg, &tc(steps), &cpu, RunOpts::default(), d)?
        } else {
            fit(prep.data(&net), &model_cfg, &tc(steps), &cpu, RunOpts::default())?
        };
        Ok(log.epochs[0].train_seconds / steps as f64)
    };
    time_run(true, 2.min(a.steps))?; // warm-up: allocator, caches
    let (mut van, mut dis) = (Vec::new(), Vec::new());
    for r in 0..a.repeats {
        for kd in if r % 2 == 0 { [false, true] } else { [true, false] } {
            let s = time_run(kd, a.steps)?;
            println!("run {}: {:<9} {:8.1} ms per step", r + 1, if kd { "distilled" } else { "vanilla" }, s * 1e3);
            if kd { dis.push(s) } else { van.push(s) }
        }
    }
    let (v, d) = (median(&mut van), median(&mut dis));
    let step_ratio = d / v;
    let epoch_ratio = |epochs: f64| (d * per_epoch as f64 * epochs + st.seconds) / (v * per_epoch as f64 * epochs);
    println!(
        "vanilla {:.1} ms/step, distilled {:.1} ms/step (medians of {}): step overhead {:+.1} %; \
         with the targets built once, {} batches per epoch: 1 epoch {:+.1} %, 10 epochs {:+.1} %, 25 epochs {:+.1} %",
        v * 1e3,
        d * 1e3,
        a.repeats,
        (step_ratio - 1.0) * 100.0,
        per_epoch,
        (epoch_ratio(1.0) - 1.0) * 100.0,
        (epoch_ratio(10.0) - 1.0) * 100.0,
        (epoch_ratio(25.0) - 1.0) * 100.0
    );
    if let Some(p) = &a.json {
        let j = json!({
            "network": net.name,
            "training_samples": prep.train.len(),
            "batch": a.batch,
            "steps_per_run": a.steps,
            "repeats": a.repeats,
            "kd": kcfg,
            "targets": st,
            "vanilla_s_per_step": van,
            "distilled_s_per_step": dis,
            "vanilla_median_s": v,
            "distilled_median_s": d,
            "step_ratio": step_ratio,
            "batches_per_epoch": per_epoch,
            "epoch_ratio": {"1": epoch_ratio(1.0), "10": epoch_ratio(10.0), "25": epoch_ratio(25.0)},
        });
        write_json(p, &j)?;
        println!("figures written to {}", p.display());
    }
    Ok(())
}
