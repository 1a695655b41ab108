//! `urbancast traj eval`: HOSER's metrics suite, real vs generated trajectories.
use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use urbancast_eval::traj_metrics::{EvalConfig, evaluate_split_by, histograms, report::markdown, write_report};
use urbancast_roads::io::read_hoser_csv;
use urbancast_traj::od::read_od_pairs;

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
    /// The requests behind the generated trajectories, row i for generated trajectory i: the
    /// `<out>.real.csv` that `traj generate --sample` writes (HOSER CSV) or the `--od` CSV
    /// (origin_id,destination_id,start_time). Generated trajectories are then split into
    /// train/test OD by the OD they were asked for, not by where they ended.
    #[arg(long)]
    pub intended: Option<PathBuf>,
    /// Output folder: metrics.json, metrics.md, histograms.png.
    #[arg(long, default_value = "runs/traj-eval")]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let real = read_hoser_csv(&a.real).with_context(|| format!("reading real trajectories {}", a.real.display()))?;
    let generated = read_hoser_csv(&a.generated).with_context(|| format!("reading generated trajectories {}", a.generated.display()))?;
    let train_ods: HashSet<(u64, u64)> = match &a.train {
        Some(p) => read_hoser_csv(p)
            .with_context(|| format!("reading training trajectories {}", p.display()))?
            .iter()
            .map(|t| (t.origin(), t.destination()))
            .collect(),
        None => HashSet::new(),
    };
    let intended = match &a.intended {
        Some(p) => {
            let ods = read_od_pairs(p)?;
            if ods.len() != generated.len() {
                bail!(
                    "{}: {} requests for {} generated trajectories in {} (row i must be the request behind generated trajectory i)",
                    p.display(),
                    ods.len(),
                    generated.len(),
                    a.generated.display()
                );
            }
            Some(ods)
        }
        None => None,
    };
    let report =
        evaluate_split_by(&net, &real, &generated, intended.as_deref(), |o, d| train_ods.contains(&(o, d)), EvalConfig::default())?;
    let hist = histograms(&net, &real, &generated)?;
    write_report(&a.out, &report, &hist)?;
    outln!("{}", markdown(&report))?;
    outln!("wrote {}/metrics.json, metrics.md, histograms.png", a.out.display())?;
    Ok(())
}
