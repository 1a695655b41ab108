//! `urbancast traj eval`: HOSER's metrics suite, real vs generated trajectories.
use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context, Result};
use urbancast_eval::traj_metrics::{evaluate_split, histograms, report::markdown, write_report};
use urbancast_roads::io::read_hoser_csv;

use super::common::NetworkArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Real trajectories (HOSER CSV: mm_id,user_id,traj_id,rid_list,time_list).
    #[arg(long)]
    pub real: PathBuf,
    /// Generated trajectories (HOSER CSV).
    #[arg(long)]
    pub generated: PathBuf,
    /// Training trajectories (HOSER CSV): their (origin, destination) road pairs define the
    /// train-OD split; without it every OD counts as a test OD.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Output folder: metrics.json, metrics.md, histograms.png.
    #[arg(long, default_value = "runs/traj-eval")]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let real = read_hoser_csv(&a.real).with_context(|| format!("reading real trajectories {}", a.real.display()))?;
    let generated =
        read_hoser_csv(&a.generated).with_context(|| format!("reading generated trajectories {}", a.generated.display()))?;
    let train_ods: HashSet<(u64, u64)> = match &a.train {
        Some(p) => read_hoser_csv(p)
            .with_context(|| format!("reading training trajectories {}", p.display()))?
            .iter()
            .map(|t| (t.origin(), t.destination()))
            .collect(),
        None => HashSet::new(),
    };
    let report = evaluate_split(&net, &real, &generated, &train_ods)?;
    let hist = histograms(&net, &real, &generated)?;
    write_report(&a.out, &report, &hist)?;
    println!("{}", markdown(&report));
    println!("wrote {}/metrics.json, metrics.md, histograms.png", a.out.display());
    Ok(())
}
