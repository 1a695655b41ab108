//! Rows, summaries (mean ± std over seeds, per horizon step and averaged) and files of the
//! graph runner.
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use urbancast_eval::horizon::HorizonReport;
use urbancast_eval::{mean_std, write_json, write_text};

/// One (method, N days, seed) on the target's test windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphRow {
    /// Method name.
    pub method: String,
    /// Sources it learned from.
    pub sources: Vec<String>,
    /// Target city.
    pub target: String,
    /// Days of target training data.
    pub days: usize,
    /// Seed.
    pub seed: u64,
    /// TSJT's gradient rule where one ran (`global`, `per-tensor`, `elementwise`).
    pub rule: Option<String>,
    /// MAE, RMSE, MAPE per horizon step (1-based) and averaged, raw units.
    pub test: HorizonReport,
    /// Target training windows.
    pub train_windows: usize,
    /// Target test windows.
    pub test_windows: usize,
    /// Seconds (pre-training included).
    pub seconds: f64,
}

/// Mean and std over seeds of one (method, N).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphSummary {
    /// Method.
    pub method: String,
    /// Target.
    pub target: String,
    /// Days.
    pub days: usize,
    /// Seeds.
    pub seeds: usize,
    /// (mean, std) of the averaged MAE, RMSE, MAPE.
    pub mae: (f64, f64),
    /// See `mae`.
    pub rmse: (f64, f64),
    /// See `mae`.
    pub mape: (f64, f64),
    /// (step, mean MAE, mean RMSE, mean MAPE) per horizon step.
    pub horizons: Vec<(usize, f64, f64, f64)>,
    /// Mean seconds per run.
    pub seconds: f64,
}

/// Groups rows by (days, method) in first-seen order and averages over seeds.
pub fn summarize(rows: &[GraphRow]) -> Vec<GraphSummary> {
    let mut order: Vec<(usize, String)> = vec![];
    let mut groups: BTreeMap<(usize, String), Vec<&GraphRow>> = BTreeMap::new();
    for r in rows {
        let key = (r.days, r.method.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(r);
    }
    order.sort_by_key(|(d, _)| std::cmp::Reverse(*d));
    order
        .into_iter()
        .map(|key| {
            let g = &groups[&key];
            let col = |f: &dyn Fn(&GraphRow) -> f64| mean_std(&g.iter().map(|r| f(r)).collect::<Vec<_>>());
            let steps = g[0].test.horizons.iter().map(|(k, _)| *k).collect::<Vec<_>>();
            let horizons = steps
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    let at = |f: &dyn Fn(&urbancast_eval::horizon::ErrStats) -> f64| {
                        mean_std(&g.iter().map(|r| f(&r.test.horizons[i].1)).collect::<Vec<_>>()).0
                    };
                    (k, at(&|e| e.mae), at(&|e| e.rmse), at(&|e| e.mape))
                })
                .collect();
            GraphSummary {
                method: key.1.clone(),
                target: g[0].target.clone(),
                days: key.0,
                seeds: g.len(),
                mae: col(&|r| r.test.average.mae),
                rmse: col(&|r| r.test.average.rmse),
                mape: col(&|r| r.test.average.mape),
                horizons,
                seconds: col(&|r| r.seconds).0,
            }
        })
        .collect()
}

/// A text table: method, N, seeds, averaged MAE / RMSE / MAPE (mean ± std), RMSE at each step.
pub fn summary_table(rows: &[GraphSummary]) -> String {
    let pm = |(m, s): (f64, f64)| format!("{m:.3} ± {s:.3}");
    let mut out = String::new();
    if let Some(first) = rows.first() {
        let steps: Vec<String> = first.horizons.iter().map(|(k, ..)| format!("RMSE@{k}")).collect();
        out.push_str(&format!(
            "{:<14} {:>4} {:>5} {:>17} {:>17} {:>17} {}\n",
            "method",
            "days",
            "seeds",
            "MAE",
            "RMSE",
            "MAPE%",
            steps.iter().map(|s| format!("{s:>8}")).collect::<String>()
        ));
    }
    for r in rows {
        let steps: String = r.horizons.iter().map(|(_, _, rmse, _)| format!("{rmse:>8.3}")).collect();
        out.push_str(&format!(
            "{:<14} {:>4} {:>5} {:>17} {:>17} {:>17} {steps}\n",
            r.method,
            r.days,
            r.seeds,
            pm(r.mae),
            pm(r.rmse),
            pm(r.mape)
        ));
    }
    out
}

/// Writes `results.json` (every row), `summary.json`, `summary.csv` and `summary.txt` into
/// `dir`; returns the summary.
pub fn write_graph_report(dir: &Path, rows: &[GraphRow]) -> Result<Vec<GraphSummary>> {
    let summary = summarize(rows);
    write_json(&dir.join("results.json"), &rows)?;
    write_json(&dir.join("summary.json"), &summary)?;
    let mut csv = String::from("method,target,days,seeds,mae,mae_std,rmse,rmse_std,mape,mape_std,seconds");
    if let Some(f) = summary.first() {
        for (k, ..) in &f.horizons {
            csv.push_str(&format!(",mae@{k},rmse@{k},mape@{k}"));
        }
    }
    csv.push('\n');
    for s in &summary {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{:.1}",
            s.method, s.target, s.days, s.seeds, s.mae.0, s.mae.1, s.rmse.0, s.rmse.1, s.mape.0, s.mape.1, s.seconds
        ));
        for (_, a, b, c) in &s.horizons {
            csv.push_str(&format!(",{a},{b},{c}"));
        }
        csv.push('\n');
    }
    write_text(&dir.join("summary.csv"), &csv)?;
    write_text(&dir.join("summary.txt"), &summary_table(&summary))?;
    Ok(summary)
}
