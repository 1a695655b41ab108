//! `urbancast bench traj-kd`: what cross-task distillation costs. Builds the frozen LM-TAD
//! teacher's candidate distributions once (timed), then times optimizer steps of the vanilla
//! generator and of the distilled one on the same batches (same seed), alternating which goes
//! first, and reports the per-step and per-epoch overhead (`urbancast_traj::bench::kd`).
use std::path::PathBuf;

use anyhow::{Result, ensure};
use urbancast_eval::write_json;
use urbancast_traj::bench::kd::{KdBenchConfig, KdBenchEvent, bench_kd, synthetic_trips};
use urbancast_traj::io::read_checked_all;

use crate::traj::common::NetworkArg;

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

pub fn run(a: Args) -> Result<()> {
    ensure!(a.steps > 0 && a.repeats > 0 && a.batch > 0, "--steps, --repeats and --batch must be at least 1");
    let net = a.net.load()?;
    let trajs = if a.train.is_empty() { synthetic_trips(&net, a.trips, a.seed)? } else { read_checked_all(&net, &a.train)? };
    let cfg = KdBenchConfig {
        zones: a.zones,
        steps: a.steps,
        repeats: a.repeats,
        batch: a.batch,
        window: a.window,
        last_only: a.last_only,
        seed: a.seed,
    };
    let b = bench_kd(&net, &trajs, a.teacher.as_deref(), &cfg, |e| match e {
        KdBenchEvent::Targets { samples, stats: st, window } => {
            // A closed stdout surfaces at the final report; progress lines are best effort.
            let _ = outln!(
                "`{}`: {samples} training samples; teacher targets: {} steps over {} distinct windows (w {window}) in {:.2} s",
                net.name,
                st.steps,
                st.windows,
                st.seconds
            );
        }
        KdBenchEvent::Run { repeat, distilled, seconds_per_step } => {
            let _ =
                outln!("run {repeat}: {:<9} {:8.1} ms per step", if distilled { "distilled" } else { "vanilla" }, seconds_per_step * 1e3);
        }
    })?;
    let pct = |r: f64| (r - 1.0) * 100.0;
    outln!(
        "vanilla {:.1} ms/step, distilled {:.1} ms/step (medians of {}): step overhead {:+.1} %; \
         with the targets built once, {} batches per epoch: 1 epoch {:+.1} %, 10 epochs {:+.1} %, 25 epochs {:+.1} %",
        b.vanilla_median_s * 1e3,
        b.distilled_median_s * 1e3,
        a.repeats,
        pct(b.step_ratio),
        b.batches_per_epoch,
        pct(b.epoch_ratio_of(1.0)),
        pct(b.epoch_ratio_of(10.0)),
        pct(b.epoch_ratio_of(25.0))
    )?;
    if let Some(p) = &a.json {
        write_json(p, &b)?;
        outln!("figures written to {}", p.display())?;
    }
    Ok(())
}
