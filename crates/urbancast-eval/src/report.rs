//! Result rows, their aggregation over seeds, and writers (table, JSON, CSV).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::metrics::{ChannelScores, mean_std};

/// One evaluated (method, sources, target, days, seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// Name of the forecasting / transfer method.
    pub method: String,
    /// Names of the source cities the method learned from (empty for target-only methods).
    pub sources: Vec<String>,
    /// Name of the target city evaluated on.
    pub target: String,
    /// Days of target training data (0 = zero-shot).
    pub days: usize,
    /// Random seed of this run.
    pub seed: u64,
    /// Test-set scores in original units, per channel and averaged.
    pub scores: ChannelScores,
    /// Number of target training samples used.
    pub train_samples: usize,
    /// Number of target test samples scored.
    pub test_samples: usize,
    /// Wall-clock seconds spent on this row (training included).
    pub seconds: f64,
    /// Anything a reader should know (e.g. the short-series split fallback).
    pub note: Option<String>,
}

/// Mean ± std over seeds of one (method, target, days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Name of the method.
    pub method: String,
    /// Name of the target city.
    pub target: String,
    /// Days of target training data (0 = zero-shot).
    pub days: usize,
    /// Number of rows (seeds) averaged.
    pub seeds: usize,
    /// Channel-mean RMSE over seeds: (mean, sample std).
    pub rmse: (f64, f64),
    /// Channel-mean MAE over seeds: (mean, sample std).
    pub mae: (f64, f64),
    /// Channel-mean MAPE in percent over seeds: (mean, sample std).
    pub mape: (f64, f64),
    /// Per channel: (name, rmse mean, mae mean).
    pub per_channel: Vec<(String, f64, f64)>,
}

/// Groups rows by (target, days, method) in first-seen order and averages over seeds.
pub fn summarize(rows: &[ResultRow]) -> Vec<SummaryRow> {
    let mut order: Vec<(String, usize, String)> = vec![];
    let mut groups: BTreeMap<(String, usize, String), Vec<&ResultRow>> = BTreeMap::new();
    for r in rows {
        let k = (r.target.clone(), r.days, r.method.clone());
        if !groups.contains_key(&k) {
            order.push(k.clone());
        }
        groups.entry(k).or_default().push(r);
    }
    order
        .into_iter()
        .map(|k| {
            let g = &groups[&k];
            let col = |f: &dyn Fn(&ResultRow) -> f64| mean_std(&g.iter().map(|r| f(r)).collect::<Vec<_>>());
            let nch = g[0].scores.per_channel.len();
            let per_channel = (0..nch)
                .map(|c| {
                    let rm = mean_std(&g.iter().map(|r| r.scores.per_channel[c].rmse).collect::<Vec<_>>()).0;
                    let ma = mean_std(&g.iter().map(|r| r.scores.per_channel[c].mae).collect::<Vec<_>>()).0;
                    (g[0].scores.channels[c].clone(), rm, ma)
                })
                .collect();
            SummaryRow {
                method: k.2.clone(),
                target: k.0.clone(),
                days: k.1,
                seeds: g.len(),
                rmse: col(&|r| r.scores.mean.rmse),
                mae: col(&|r| r.scores.mean.mae),
                mape: col(&|r| r.scores.mean.mape),
                per_channel,
            }
        })
        .collect()
}

fn pm(v: (f64, f64)) -> String {
    format!("{:.3} ± {:.3}", v.0, v.1)
}

/// A plain-text table of the summary, one line per (target, days, method).
pub fn table(summary: &[SummaryRow]) -> String {
    let mut out = String::new();
    let chans: Vec<String> = summary.first().map(|s| s.per_channel.iter().map(|c| c.0.clone()).collect()).unwrap_or_default();
    let tw = summary.iter().map(|s| s.target.chars().count()).chain([14]).max().unwrap_or(14);
    let mw = summary.iter().map(|s| s.method.chars().count()).chain([12]).max().unwrap_or(12);
    let mut header =
        format!("{:<tw$} {:>4} {:<mw$} {:>5} {:>17} {:>17} {:>17}", "target", "days", "method", "seeds", "RMSE", "MAE", "MAPE%");
    for c in &chans {
        let _ = write!(header, " {:>12} {:>12}", format!("RMSE:{c}"), format!("MAE:{c}"));
    }
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "{}", "-".repeat(header.chars().count()));
    for s in summary {
        let _ = write!(
            out,
            "{:<tw$} {:>4} {:<mw$} {:>5} {:>17} {:>17} {:>17}",
            s.target,
            s.days,
            s.method,
            s.seeds,
            pm(s.rmse),
            pm(s.mae),
            pm(s.mape)
        );
        for c in &s.per_channel {
            let _ = write!(out, " {:>12.3} {:>12.3}", c.1, c.2);
        }
        let _ = writeln!(out);
    }
    out
}

/// Writes `value` as pretty-printed JSON to `path`, creating the parent folder if needed.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    write_text(path, &serde_json::to_string_pretty(value)?)
}

/// Writes `text` to `path`, creating the parent folder if needed.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    urbancast_io::write_atomic(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes `results.json` (all rows), `results.csv` (one line per row) and `summary.json`/`summary.csv`.
pub fn write_results(dir: &Path, rows: &[ResultRow]) -> Result<Vec<SummaryRow>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let summary = summarize(rows);
    let write = |name: &str, text: String| -> Result<()> {
        let p = dir.join(name);
        urbancast_io::write_atomic(&p, text).with_context(|| format!("cannot write {}", p.display()))
    };
    write("results.json", serde_json::to_string_pretty(rows)?)?;
    write("summary.json", serde_json::to_string_pretty(&summary)?)?;

    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record([
        "method",
        "sources",
        "target",
        "days",
        "seed",
        "channel",
        "rmse",
        "mae",
        "mape",
        "train_samples",
        "test_samples",
        "seconds",
    ])?;
    for r in rows {
        let mut emit = |ch: &str, s: &crate::metrics::Scores| -> Result<()> {
            w.write_record([
                r.method.clone(),
                r.sources.join("+"),
                r.target.clone(),
                r.days.to_string(),
                r.seed.to_string(),
                ch.to_string(),
                format!("{:.6}", s.rmse),
                format!("{:.6}", s.mae),
                format!("{:.6}", s.mape),
                r.train_samples.to_string(),
                r.test_samples.to_string(),
                format!("{:.2}", r.seconds),
            ])?;
            Ok(())
        };
        for (c, s) in r.scores.channels.iter().zip(&r.scores.per_channel) {
            emit(c, s)?;
        }
        emit("mean", &r.scores.mean)?;
    }
    write("results.csv", String::from_utf8(w.into_inner()?)?)?;

    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(["target", "days", "method", "seeds", "rmse_mean", "rmse_std", "mae_mean", "mae_std", "mape_mean", "mape_std"])?;
    for s in &summary {
        w.write_record([
            s.target.clone(),
            s.days.to_string(),
            s.method.clone(),
            s.seeds.to_string(),
            format!("{:.6}", s.rmse.0),
            format!("{:.6}", s.rmse.1),
            format!("{:.6}", s.mae.0),
            format!("{:.6}", s.mae.1),
            format!("{:.6}", s.mape.0),
            format!("{:.6}", s.mape.1),
        ])?;
    }
    write("summary.csv", String::from_utf8(w.into_inner()?)?)?;
    Ok(summary)
}
