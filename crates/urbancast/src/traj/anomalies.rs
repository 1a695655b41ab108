//! `urbancast traj anomalies`: anomaly detection with a trained LM-TAD teacher, LM-TAD's
//! protocol. Score = log-perplexity of a trajectory's cell tokens; threshold = mean + k·σ of
//! the scores of normal calibration trajectories (default `<teacher>/val.csv`); for every
//! outlier kind and (level, prob) setting, a share `--ratio` of the normal test trajectories
//! (default `<teacher>/test.csv`) gets a synthetic outlier appended (the originals stay, as in
//! LM-TAD), and precision / recall / F1 at the threshold, PR-AUC and ROC-AUC are reported.
//!
//! With `--score FILE` only those trajectories are scored against the threshold.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::json;
use urbancast_eval::anomaly::{AnomalyReport, anomaly_report, threshold_mean_std};
use urbancast_eval::plot_series::{SeriesPanel, series_plot};
use urbancast_roads::Trajectory;
use urbancast_roads::outliers::{LMTAD_SETTINGS, OutlierConfig, OutlierKind, OutlierSummary, inject_outliers};
use urbancast_traj::lmtad::{LmTad, Tokenizer, anomaly_scores};
use urbancast_transfer::device;

use super::common::{NetworkArg, read_checked, write_json};
use super::teacher::load_teacher;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Leaves the route for a longer side path and rejoins it.
    Detour,
    /// Leaves the route and reaches the destination by another route.
    RouteSwitch,
}

impl Kind {
    fn outlier_kind(self) -> OutlierKind {
        match self {
            Kind::Detour => OutlierKind::Detour,
            Kind::RouteSwitch => OutlierKind::RouteSwitch,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Detour => "detour",
            Kind::RouteSwitch => "route-switch",
        }
    }
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
    /// `cpu`, or `cuda` / `cuda:N` in a build with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Trajectories per forward pass.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
}

/// Mean, population σ, min, max.
#[derive(Debug, Clone, Serialize)]
struct Stats {
    file: String,
    n: usize,
    mean: f64,
    std: f64,
    min: f64,
    max: f64,
}

fn stats(file: &Path, s: &[f64]) -> Stats {
    let n = s.len().max(1) as f64;
    let mean = s.iter().sum::<f64>() / n;
    let std = (s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let (min, max) = s.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    Stats { file: file.display().to_string(), n: s.len(), mean, std, min, max }
}

/// One (kind, setting) evaluation.
#[derive(Debug, Clone, Serialize)]
struct Row {
    kind: &'static str,
    level: u32,
    prob: f64,
    n: usize,
    outliers: usize,
    /// `None` when no outlier could be made (the metrics are undefined).
    report: Option<AnomalyReport>,
    summary: OutlierSummary,
}

fn score_file(
    model: &LmTad,
    tok: &Tokenizer,
    net: &urbancast_roads::RoadNetwork,
    path: &Path,
    batch: usize,
) -> Result<(Vec<Trajectory>, Vec<f64>)> {
    let trajs = read_checked(net, path)?;
    let seqs = tok.encode_all(net, &trajs).with_context(|| path.display().to_string())?;
    let scores = anomaly_scores(model, &seqs, batch).with_context(|| format!("scoring {}", path.display()))?;
    Ok((trajs, scores))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn id_of(t: &Trajectory, k: usize) -> String {
    csv_field(t.id.as_deref().map_or_else(|| format!("#{k}"), str::to_string).as_str())
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
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
    let settings: Vec<(u32, f64)> = if a.settings.is_empty() { LMTAD_SETTINGS.to_vec() } else { a.settings.clone() };
    let mut kinds = a.kinds.clone();
    kinds.dedup();
    let net = a.net.load()?;
    let dev = device::by_name(&a.device)?;
    let (model, tok, _meta) = load_teacher(&a.teacher, &net, &dev)?;

    let cal_path = a.calibrate.clone().unwrap_or_else(|| a.teacher.join("val.csv"));
    let (_, cal) = score_file(&model, &tok, &net, &cal_path, a.batch).context("calibration trajectories (--calibrate)")?;
    let threshold = threshold_mean_std(&cal, a.k).with_context(|| format!("threshold from {}", cal_path.display()))?;
    let cal_stats = stats(&cal_path, &cal);
    println!(
        "threshold {threshold:.4} = mean {:.4} + {} · σ {:.4} of {} calibration scores ({})",
        cal_stats.mean,
        a.k,
        cal_stats.std,
        cal.len(),
        cal_path.display()
    );

    if let Some(p) = &a.score {
        let (trajs, scores) = score_file(&model, &tok, &net, p, a.batch).context("--score")?;
        std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
        let mut csv = String::from("traj_id,roads,score,above_threshold\n");
        for (k, (t, s)) in trajs.iter().zip(&scores).enumerate() {
            writeln!(csv, "{},{},{s},{}", id_of(t, k), t.roads.len(), u8::from(*s > threshold))?;
        }
        write_text(&a.out.join("scores.csv"), &csv)?;
        let above = scores.iter().filter(|&&s| s > threshold).count();
        let summary = json!({
            "teacher": a.teacher.display().to_string(), "file": p.display().to_string(), "n": scores.len(),
            "above_threshold": above, "threshold": threshold, "k": a.k, "calibration": cal_stats, "scores": stats(p, &scores),
        });
        write_json(&a.out.join("summary.json"), &summary)?;
        println!("{above} of {} trajectories of {} score above the threshold", scores.len(), p.display());
        println!("wrote {0}/scores.csv, summary.json", a.out.display());
        return Ok(());
    }

    let normal_path = a.normal.clone().unwrap_or_else(|| a.teacher.join("test.csv"));
    let (normals, normal_scores) = score_file(&model, &tok, &net, &normal_path, a.batch).context("normal trajectories (--normal)")?;
    let normal_stats = stats(&normal_path, &normal_scores);
    println!(
        "{} normal trajectories ({}): mean score {:.4}, σ {:.4}; {} above the threshold",
        normals.len(),
        normal_path.display(),
        normal_stats.mean,
        normal_stats.std,
        normal_scores.iter().filter(|&&s| s > threshold).count()
    );

    let mut rows = Vec::new();
    let mut csv = String::from("kind,level,prob,traj_id,source,outlier,score,above_threshold\n");
    let mut hist: Option<(String, Vec<f64>, Vec<f64>)> = None;
    for &kind in &kinds {
        for &(level, prob) in &settings {
            let cfg = OutlierConfig {
                ratio: a.ratio,
                level,
                prob,
                kinds: vec![kind.outlier_kind()],
                keep_originals: true,
                seed: a.seed,
                ..OutlierConfig::default()
            };
            let set =
                inject_outliers(&net, &normals, &cfg).with_context(|| format!("{} outliers at level {level}, prob {prob}", kind.name()))?;
            // Normal items are the inputs unchanged: reuse their scores; score only the outliers.
            let made: Vec<&Trajectory> = set.items.iter().filter(|it| it.outlier).map(|it| &it.traj).collect();
            let seqs = made.iter().map(|t| tok.encode_trajectory(&net, t)).collect::<Result<Vec<_>>>()?;
            let mut out_scores = if seqs.is_empty() { Vec::new() } else { anomaly_scores(&model, &seqs, a.batch)? }.into_iter();
            let (mut scores, mut labels) = (Vec::with_capacity(set.items.len()), Vec::with_capacity(set.items.len()));
            for (k, it) in set.items.iter().enumerate() {
                let s = if it.outlier { out_scores.next().context("one score per outlier")? } else { normal_scores[it.source] };
                writeln!(
                    csv,
                    "{},{level},{prob},{},{},{},{s},{}",
                    kind.name(),
                    id_of(&it.traj, k),
                    it.source,
                    u8::from(it.outlier),
                    u8::from(s > threshold)
                )?;
                scores.push(s);
                labels.push(it.outlier);
            }
            let outliers = set.summary.outliers;
            let report = if outliers == 0 {
                eprintln!(
                    "warning: no {} outlier could be made at level {level}, prob {prob} (of {} selected): no metrics for this row",
                    kind.name(),
                    set.summary.selected
                );
                None
            } else {
                Some(anomaly_report(&scores, &labels, threshold)?)
            };
            if hist.is_none() && outliers > 0 {
                let part = |want: bool| scores.iter().zip(&labels).filter(|(_, y)| **y == want).map(|(s, _)| *s).collect();
                hist = Some((format!("{}, level {level}, prob {prob}", kind.name()), part(false), part(true)));
            }
            rows.push(Row { kind: kind.name(), level, prob, n: scores.len(), outliers, report, summary: set.summary });
        }
    }

    let table = table_md(&rows, threshold, a.k);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let results = json!({
        "teacher": a.teacher.display().to_string(),
        "network": net.name,
        "k": a.k,
        "threshold": threshold,
        "calibration": cal_stats,
        "normal": normal_stats,
        "ratio": a.ratio,
        "seed": a.seed,
        "keep_originals": true,
        "rows": rows,
    });
    write_json(&a.out.join("results.json"), &results)?;
    write_text(&a.out.join("table.md"), &table)?;
    write_text(&a.out.join("scores.csv"), &csv)?;
    let png = a.out.join("scores.png");
    match &hist {
        Some((name, normal, outlier)) => {
            if let Err(e) = histogram(&png, name, normal, outlier, threshold) {
                eprintln!("warning: no score histogram: {e:#}");
            }
        }
        None => eprintln!("warning: no outliers in any setting: no score histogram"),
    }
    print!("{table}");
    println!("wrote {0}/results.json, table.md, scores.csv{1}", a.out.display(), if hist.is_some() { ", scores.png" } else { "" });
    Ok(())
}

fn table_md(rows: &[Row], threshold: f64, k: f64) -> String {
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
