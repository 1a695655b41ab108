//! `urbancast traj anomalies`: anomaly detection with a trained LM-TAD teacher, LM-TAD's
//! protocol (`urbancast_traj::anomaly`): threshold from calibration scores, synthetic outliers
//! injected into normal test trajectories, F1 / PR-AUC / ROC-AUC per kind and setting. With
//! `--score FILE` only those trajectories are scored against the threshold.
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use urbancast_roads::outliers::{LMTAD_SETTINGS, OutlierKind};
use urbancast_traj::anomaly::{AnomalySettings, Detector, table_md, write_results, write_score_report};

use super::common::NetworkArg;
use crate::args::DeviceArg;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Leaves the route for a longer side path and rejoins it.
    Detour,
    /// Leaves the route and reaches the destination by another route.
    RouteSwitch,
}

/// `LEVEL:PROB`, e.g. `3:0.1`.
fn parse_setting(s: &str) -> Result<(u32, f64), String> {
    let bad = || format!("`{s}` is not a setting LEVEL:PROB (LEVEL a whole number ≥ 1, PROB in (0, 1]), e.g. 3:0.1");
    let (l, p) = s.split_once(':').ok_or_else(bad)?;
    let level: u32 = l.trim().parse().map_err(|_| bad())?;
    let prob: f64 = p.trim().parse().map_err(|_| bad())?;
    if level == 0 || !(prob > 0.0 && prob <= 1.0) {
        return Err(bad());
    }
    Ok((level, prob))
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Teacher folder written by `urbancast traj teacher`.
    #[arg(long)]
    pub teacher: PathBuf,
    /// Normal test trajectories (HOSER CSV) [default: <teacher>/test.csv].
    #[arg(long, value_name = "FILE")]
    pub normal: Option<PathBuf>,
    /// Normal trajectories whose scores set the threshold [default: <teacher>/val.csv].
    #[arg(long, value_name = "FILE")]
    pub calibrate: Option<PathBuf>,
    /// Outlier settings LEVEL:PROB, comma-separated [default: LM-TAD's 3:0.1,3:0.3,5:0.1].
    #[arg(long, value_delimiter = ',', value_parser = parse_setting, value_name = "LEVEL:PROB")]
    pub settings: Vec<(u32, f64)>,
    /// Outlier kinds, each evaluated separately.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Kind::Detour, Kind::RouteSwitch])]
    pub kinds: Vec<Kind>,
    /// Share of the normal trajectories that get an outlier (LM-TAD: 0.05).
    #[arg(long, default_value_t = 0.05)]
    pub ratio: f64,
    /// Seed of the outlier injection.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threshold = mean + k·σ of the calibration scores.
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    pub k: f64,
    /// Only score these trajectories (HOSER CSV): writes <out>/scores.csv (score and whether
    /// it is above the threshold) and <out>/summary.json.
    #[arg(long, value_name = "FILE")]
    pub score: Option<PathBuf>,
    /// Output folder: results.json, table.md, scores.csv, scores.png.
    #[arg(long, default_value = "runs/anomalies")]
    pub out: PathBuf,
    #[command(flatten)]
    pub device: DeviceArg,
    /// Trajectories per forward pass.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
}

pub fn run(a: Args) -> Result<()> {
    if !(a.k.is_finite() && a.k >= 0.0) {
        bail!("--k {}: the threshold is mean + k·σ of the calibration scores; k must be a finite number ≥ 0", a.k);
    }
    if !(a.ratio > 0.0 && a.ratio <= 1.0) {
        bail!("--ratio {}: the share of trajectories turned into outliers must lie in (0, 1]", a.ratio);
    }
    if a.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let settings = AnomalySettings {
        settings: if a.settings.is_empty() { LMTAD_SETTINGS.to_vec() } else { a.settings.clone() },
        kinds: a.kinds.iter().map(|k| if *k == Kind::Detour { OutlierKind::Detour } else { OutlierKind::RouteSwitch }).collect(),
        ratio: a.ratio,
        seed: a.seed,
    };
    let net = a.net.load()?;
    let det = Detector::load(&a.teacher, &net, &a.device.get()?, a.batch)?;

    let cal_path = a.calibrate.clone().unwrap_or_else(|| a.teacher.join("val.csv"));
    let cal = det.calibrate(&net, &cal_path, a.k).context("calibration trajectories (--calibrate)")?;
    let s = &cal.stats;
    outln!(
        "threshold {:.4} = mean {:.4} + {} · σ {:.4} of {} calibration scores ({})",
        cal.threshold,
        s.mean,
        a.k,
        s.std,
        s.n,
        cal_path.display()
    )?;

    if let Some(p) = &a.score {
        let r = det.score_only(&net, p, &cal).context("--score")?;
        write_score_report(&a.out, &r)?;
        outln!("{} of {} trajectories of {} score above the threshold", r.above_threshold, r.n, p.display())?;
        outln!("wrote {0}/scores.csv, summary.json", a.out.display())?;
        return Ok(());
    }

    let normal_path = a.normal.clone().unwrap_or_else(|| a.teacher.join("test.csv"));
    let normal = det.score_file(&net, &normal_path).context("normal trajectories (--normal)")?;
    outln!(
        "{} normal trajectories ({}): mean score {:.4}, σ {:.4}; {} above the threshold",
        normal.trajs.len(),
        normal_path.display(),
        normal.stats.mean,
        normal.stats.std,
        normal.above(cal.threshold)
    )?;
    let results = det.evaluate(&net, &normal, &cal, &settings)?;
    let hist = write_results(&a.out, &results)?;
    print!("{}", table_md(&results.rows, results.threshold, results.k));
    outln!("wrote {0}/results.json, table.md, scores.csv{1}", a.out.display(), if hist { ", scores.png" } else { "" })?;
    Ok(())
}
