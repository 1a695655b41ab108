//! Writing a trajectory evaluation: `metrics.json`, `metrics.md` (a markdown table) and
//! `histograms.png`.
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Histograms, SplitReport, TrajMetrics};

#[derive(Serialize)]
struct ReportFile<'a> {
    #[serde(flatten)]
    report: &'a SplitReport,
    histograms: &'a Histograms,
}

/// Writes `metrics.json` (the report and the histograms; NaN as `null`), `metrics.md` and
/// `histograms.png` (distance, radius and duration; real vs generated) into `dir`, creating it.
pub fn write_report(dir: &Path, report: &SplitReport, histograms: &Histograms) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&ReportFile { report, histograms })?;
    let path = dir.join("metrics.json");
    urbancast_io::write_atomic(&path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    let path = dir.join("metrics.md");
    urbancast_io::write_atomic(&path, markdown(report)).with_context(|| format!("cannot write {}", path.display()))?;
    super::plot::histograms_plot(&dir.join("histograms.png"), histograms)
}

fn num(v: f64, decimals: usize) -> String {
    if v.is_finite() { format!("{v:.decimals$}") } else { "–".into() }
}

type Row = (&'static str, fn(&TrajMetrics) -> String);

const ROWS: &[Row] = &[
    ("real trajectories", |m| m.n_real.to_string()),
    ("generated trajectories", |m| m.n_generated.to_string()),
    ("OD match rate (0.001°)", |m| num(m.od_match_rate, 4)),
    ("JSD trip distance", |m| num(m.jsd_distance, 4)),
    ("JSD radius of gyration", |m| num(m.jsd_radius, 4)),
    ("JSD step duration", |m| num(m.jsd_duration, 4)),
    ("OD pairs compared (200 m)", |m| m.pairs.to_string()),
    ("OD cells matched", |m| m.matched_od_cells.to_string()),
    ("Hausdorff (km)", |m| num(m.hausdorff_km, 4)),
    ("DTW (km)", |m| num(m.dtw_km, 4)),
    ("EDR (100 m)", |m| num(m.edr, 4)),
    ("Hausdorff / mean length (km/road)", |m| num(m.hausdorff_norm, 5)),
    ("DTW / mean length (km/road)", |m| num(m.dtw_norm, 5)),
    ("mean length (roads)", |m| num(m.mean_len, 2)),
    ("mean trip distance real / gen (km)", |m| format!("{} / {}", num(m.real_mean_distance_km, 3), num(m.generated_mean_distance_km, 3))),
    ("mean radius real / gen (km)", |m| format!("{} / {}", num(m.real_mean_radius_km, 3), num(m.generated_mean_radius_km, 3))),
    ("mean step real / gen (min)", |m| format!("{} / {}", num(m.real_mean_step_min, 3), num(m.generated_mean_step_min, 3))),
];

/// The report as a markdown table: one row per metric, columns all / train OD / test OD.
pub fn markdown(report: &SplitReport) -> String {
    let mut s = String::from("| metric | all | train OD | test OD |\n|---|---:|---:|---:|\n");
    for (label, f) in ROWS {
        s += &format!("| {label} | {} | {} | {} |\n", f(&report.all), f(&report.train_od), f(&report.test_od));
    }
    s
}
