//! Results of LightST runs: JSON, a markdown table (mean ± std over seeds) and the
//! predicted-vs-true series plot.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::GraphPrepared;
use urbancast_eval::plot_series::{SeriesPanel, series_plot};
use urbancast_eval::report::{write_json, write_text};
use urbancast_nn::StMlp;

use crate::pipeline::{ModelResult, series_for_plot};

/// The models of one run (one dataset, one seed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The dataset's name.
    pub dataset: String,
    /// The seed of the run.
    pub seed: u64,
    /// One result per model (teacher, student, distilled).
    pub results: Vec<ModelResult>,
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

fn cell(v: &[f64], digits: usize) -> String {
    let (m, s) = mean_std(v);
    if v.len() > 1 { format!("{m:.digits$}±{s:.digits$}") } else { format!("{m:.digits$}") }
}

/// Markdown table: one row per (dataset, model) with MAE / RMSE / MAPE at each reported
/// horizon and averaged, parameters, inference ms (batch of 64, one sample) and the speed-up
/// over the teacher (batch of 64), as mean ± sample std over the seeds.
pub fn summary_table(records: &[RunRecord]) -> String {
    let mut groups: BTreeMap<(String, usize), (String, Vec<&ModelResult>)> = BTreeMap::new();
    let order = |m: &str| match m {
        "teacher" => 0,
        "student" => 1,
        _ => 2,
    };
    let mut teacher_ms: BTreeMap<(String, u64), f64> = BTreeMap::new();
    for r in records {
        for m in &r.results {
            groups.entry((r.dataset.clone(), order(&m.model))).or_insert_with(|| (m.model.clone(), vec![])).1.push(m);
            if m.model == "teacher" {
                teacher_ms.insert((r.dataset.clone(), r.seed), m.time.batch64_ms);
            }
        }
    }
    let horizons: Vec<usize> =
        records.first().and_then(|r| r.results.first()).map(|m| m.test.horizons.iter().map(|h| h.0).collect()).unwrap_or_default();
    let mut head = "| dataset | model | seeds |".to_string();
    let mut rule = "|---|---|---|".to_string();
    for h in horizons.iter().map(|h| format!("@{h}")).chain(["avg".to_string()]) {
        let _ = write!(head, " MAE {h} | RMSE {h} | MAPE% {h} |");
        rule.push_str("---|---|---|");
    }
    head.push_str(" params | ms/64 | ms/1 | speed-up |");
    rule.push_str("---|---|---|---|");
    let mut out = format!("{head}\n{rule}\n");
    for ((dataset, _), (model, rs)) in &groups {
        let _ = write!(out, "| {dataset} | {model} | {} |", rs.len());
        for k in 0..=horizons.len() {
            let stat = |m: &ModelResult| if k < horizons.len() { m.test.horizons[k].1 } else { m.test.average };
            let pick = |f: fn(&urbancast_eval::horizon::ErrStats) -> f64| rs.iter().map(|m| f(&stat(m))).collect::<Vec<_>>();
            let _ = write!(out, " {} | {} | {} |", cell(&pick(|e| e.mae), 3), cell(&pick(|e| e.rmse), 3), cell(&pick(|e| e.mape), 2));
        }
        let params = rs.first().map_or(0, |m| m.params);
        let ms64: Vec<f64> = rs.iter().map(|m| m.time.batch64_ms).collect();
        let ms1: Vec<f64> = rs.iter().map(|m| m.time.single_ms).collect();
        let speed: Vec<f64> = records
            .iter()
            .filter(|r| &r.dataset == dataset)
            .filter_map(|r| {
                let t = teacher_ms.get(&(r.dataset.clone(), r.seed))?;
                let m = r.results.iter().find(|m| &m.model == model)?;
                Some(t / m.time.batch64_ms)
            })
            .collect();
        let speed = if speed.is_empty() { "-".to_string() } else { format!("{}x", cell(&speed, 1)) };
        let _ = writeln!(out, " {params} | {} | {} | {speed} |", cell(&ms64, 2), cell(&ms1, 3));
    }
    out
}

/// Nodes with the largest variance of the first target channel over the test windows.
fn busiest_nodes(data: &GraphPrepared, k: usize) -> Vec<usize> {
    let (start, end) = (data.test.start + data.input_len, (data.test.end + data.input_len).min(data.raw.dim().0));
    let mut var: Vec<(usize, f64)> = (0..data.num_nodes())
        .map(|n| {
            let v: Vec<f64> = (start..end).map(|t| data.raw[[t, n, 0]] as f64).collect();
            (n, mean_std(&v).1)
        })
        .collect();
    var.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    var.into_iter().take(k).map(|v| v.0).collect()
}

/// Writes `results.json`, `table.md` and `series.png` (predictions of the three busiest
/// nodes) for one run into `dir`; returns the table.
pub fn write_run(
    dir: &Path,
    record: &RunRecord,
    teacher: Option<&crate::teacher::Teacher>,
    students: &[(&str, StMlp)],
    data: &GraphPrepared,
    device: &Device,
) -> Result<String> {
    write_json(&dir.join("results.json"), record)?;
    let table = summary_table(std::slice::from_ref(record));
    write_text(&dir.join("table.md"), &table)?;
    let nodes = busiest_nodes(data, 3);
    let len = (2 * data.steps_per_day).min(data.test.len());
    let refs: Vec<(&str, &StMlp)> = students.iter().map(|(n, s)| (*n, s)).collect();
    let series = series_for_plot(teacher, &refs, data, &nodes, len, device)?;
    let panels: Vec<SeriesPanel> = nodes
        .iter()
        .enumerate()
        .map(|(k, &node)| SeriesPanel {
            title: format!("node {node}"),
            truth: series.first().map(|s| s.1[k].truth.clone()).unwrap_or_default(),
            preds: series.iter().map(|(name, s)| (name.clone(), s[k].pred.clone())).collect(),
        })
        .collect();
    series_plot(
        &dir.join("series.png"),
        &format!("{}: 3-step-ahead predictions on the test period, seed {}", data.name, record.seed),
        &panels,
        &format!("test step ({} min)", data.interval_min),
        "value",
    )?;
    Ok(table)
}

/// Writes `records.json` and `table.md` ([`summary_table`]) of several runs into `dir`;
/// returns the table.
pub fn write_records(dir: &Path, records: &[RunRecord]) -> Result<String> {
    write_json(&dir.join("records.json"), &records)?;
    let table = summary_table(records);
    write_text(&dir.join("table.md"), &table)?;
    Ok(table)
}
