//! Writing the anomaly results: `results.json`, `table.md`, `scores.csv` and the score
//! histogram `scores.png` ([`write_results`]); `scores.csv` and `summary.json` of a score-only
//! run ([`write_score_report`]).
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use urbancast_eval::plot_series::{SeriesPanel, series_plot};
use urbancast_eval::report::{write_json, write_text};

use super::{AnomalyResults, ScoreReport, SettingRow};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Writes `out/scores.csv` (traj_id, roads, score, above_threshold) and `out/summary.json`.
pub fn write_score_report(out: &Path, r: &ScoreReport) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut csv = String::from("traj_id,roads,score,above_threshold\n");
    for (id, roads, s) in &r.items {
        writeln!(csv, "{},{roads},{s},{}", csv_field(id), u8::from(*s > r.threshold))?;
    }
    write_text(&out.join("scores.csv"), &csv)?;
    write_json(&out.join("summary.json"), r)
}

/// Writes `out/results.json`, `out/table.md`, `out/scores.csv` and, from the first row with
/// outliers, the histogram `out/scores.png` (warnings on stderr when there is none or it
/// fails). Returns whether there was a histogram to draw.
pub fn write_results(out: &Path, r: &AnomalyResults) -> Result<bool> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_json(&out.join("results.json"), r)?;
    write_text(&out.join("table.md"), &table_md(&r.rows, r.threshold, r.k))?;
    let mut csv = String::from("kind,level,prob,traj_id,source,outlier,score,above_threshold\n");
    for it in &r.items {
        let row = &r.rows[it.row];
        writeln!(
            csv,
            "{},{},{},{},{},{},{},{}",
            row.kind,
            row.level,
            row.prob,
            csv_field(&it.traj_id),
            it.source,
            u8::from(it.outlier),
            it.score,
            u8::from(it.score > r.threshold)
        )?;
    }
    write_text(&out.join("scores.csv"), &csv)?;
    let Some(first) = r.rows.iter().position(|row| row.outliers > 0) else {
        eprintln!("warning: no outliers in any setting: no score histogram");
        return Ok(false);
    };
    let part = |want: bool| r.items.iter().filter(|it| it.row == first && it.outlier == want).map(|it| it.score).collect::<Vec<_>>();
    let row = &r.rows[first];
    let name = format!("{}, level {}, prob {}", row.kind, row.level, row.prob);
    if let Err(e) = histogram(&out.join("scores.png"), &name, &part(false), &part(true), r.threshold) {
        eprintln!("warning: no score histogram: {e:#}");
    }
    Ok(true)
}

/// The markdown table of the rows: precision, recall, F1 at the threshold, PR-AUC, ROC-AUC.
pub fn table_md(rows: &[SettingRow], threshold: f64, k: f64) -> String {
    let mut s = format!("LM-TAD anomaly detection, threshold {threshold:.4} (mean + {k}σ of the calibration scores)\n\n");
    s.push_str("| kind | level | prob | n | outliers | precision | recall | F1 | PR-AUC | ROC-AUC |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let f = |x: Option<f64>| x.map_or_else(|| "–".to_string(), |v| format!("{v:.4}"));
    for r in rows {
        let p = r.report.as_ref();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.kind,
            r.level,
            r.prob,
            r.n,
            r.outliers,
            f(p.map(|p| p.at_threshold.precision)),
            f(p.map(|p| p.at_threshold.recall)),
            f(p.map(|p| p.at_threshold.f1)),
            f(p.map(|p| p.pr_auc)),
            f(p.and_then(|p| p.roc_auc))
        );
    }
    s
}

/// Share of each class's scores per bin (20 equal bins over all scores and the threshold).
fn histogram(path: &Path, setting: &str, normal: &[f64], outlier: &[f64], threshold: f64) -> Result<()> {
    const BINS: usize = 20;
    let all = normal.iter().chain(outlier);
    let lo = all.clone().copied().fold(f64::INFINITY, f64::min).min(threshold);
    let hi = all.copied().fold(f64::NEG_INFINITY, f64::max).max(threshold);
    let width = ((hi - lo) / BINS as f64).max(1e-9);
    let bin = |s: f64| (((s - lo) / width) as usize).min(BINS - 1);
    let shares = |v: &[f64]| {
        let mut h = vec![0f32; BINS];
        for &s in v {
            h[bin(s)] += 1.0 / v.len().max(1) as f32;
        }
        h
    };
    let panel = SeriesPanel {
        title: format!(
            "{setting}: share of trajectories per score bin (black: normal); threshold {threshold:.3} in bin {}",
            bin(threshold)
        ),
        truth: shares(normal),
        preds: vec![(format!("outliers ({})", outlier.len()), shares(outlier))],
    };
    series_plot(path, "urbancast traj anomalies: LM-TAD scores", &[panel], &format!("score bin (from {lo:.3}, width {width:.3})"), "share")
}
