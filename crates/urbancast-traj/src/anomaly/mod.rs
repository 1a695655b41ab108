//! Anomaly detection with a trained LM-TAD teacher, LM-TAD's protocol (`urbancast traj
//! anomalies`). Score = log-perplexity of a trajectory's cell tokens; threshold = mean + k·σ of
//! the scores of normal calibration trajectories ([`Detector::calibrate`]); for every outlier
//! kind and (level, prob) setting, a share `ratio` of the normal test trajectories gets a
//! synthetic outlier appended (the originals stay, as in LM-TAD), and precision / recall / F1
//! at the threshold, PR-AUC and ROC-AUC are reported ([`Detector::evaluate`]).
//!
//! [`Detector::score_only`] scores one file against the threshold instead. The [`report`]
//! module writes the results (`results.json`, `table.md`, `scores.csv`, `scores.png`).
pub mod report;

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_eval::anomaly::{AnomalyReport, anomaly_report, threshold_mean_std};
use urbancast_roads::outliers::{LMTAD_SETTINGS, OutlierConfig, OutlierKind, OutlierSummary, inject_outliers};
use urbancast_roads::{RoadNetwork, Trajectory};

use crate::io::read_checked;
use crate::lmtad::{LmTad, Tokenizer, anomaly_scores, load_teacher};

pub use report::{table_md, write_results, write_score_report};

/// The name of an outlier kind in reports: `detour` or `route-switch`.
pub fn kind_name(kind: OutlierKind) -> &'static str {
    match kind {
        OutlierKind::Detour => "detour",
        OutlierKind::RouteSwitch => "route-switch",
    }
}

/// What [`Detector::evaluate`] injects and measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalySettings {
    /// Outlier settings (level, prob) (LM-TAD: 3:0.1, 3:0.3, 5:0.1).
    pub settings: Vec<(u32, f64)>,
    /// Outlier kinds, each evaluated separately (consecutive repeats count once).
    pub kinds: Vec<OutlierKind>,
    /// Share of the normal trajectories that get an outlier, in (0, 1] (LM-TAD: 0.05).
    pub ratio: f64,
    /// Seed of the outlier injection.
    pub seed: u64,
}

impl Default for AnomalySettings {
    fn default() -> Self {
        AnomalySettings {
            settings: LMTAD_SETTINGS.to_vec(),
            kinds: vec![OutlierKind::Detour, OutlierKind::RouteSwitch],
            ratio: 0.05,
            seed: 0,
        }
    }
}

/// Count, mean, population σ, min and max of the scores of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreStats {
    /// The file scored.
    pub file: String,
    /// Number of scores.
    pub n: usize,
    /// Mean score.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest score.
    pub min: f64,
    /// Largest score.
    pub max: f64,
}

impl ScoreStats {
    /// The statistics of `scores`, read from `file`.
    pub fn of(file: &Path, scores: &[f64]) -> Self {
        let n = scores.len().max(1) as f64;
        let mean = scores.iter().sum::<f64>() / n;
        let std = (scores.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let (min, max) = scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        ScoreStats { file: file.display().to_string(), n: scores.len(), mean, std, min, max }
    }
}

/// Trajectories of one file with their scores.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The trajectories, in file order.
    pub trajs: Vec<Trajectory>,
    /// Their scores.
    pub scores: Vec<f64>,
    /// Statistics of the scores.
    pub stats: ScoreStats,
}

impl Scored {
    /// How many scores lie above `threshold`.
    pub fn above(&self, threshold: f64) -> usize {
        self.scores.iter().filter(|&&s| s > threshold).count()
    }
}

/// The threshold: mean + k·σ of the calibration scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Scores above it are anomalies.
    pub threshold: f64,
    /// The k of mean + k·σ.
    pub k: f64,
    /// Statistics of the calibration scores.
    pub stats: ScoreStats,
}

/// One (kind, setting) evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingRow {
    /// [`kind_name`] of the kind.
    pub kind: String,
    /// Outlier level.
    pub level: u32,
    /// Outlier probability.
    pub prob: f64,
    /// Trajectories scored (normals and outliers).
    pub n: usize,
    /// Outliers among them.
    pub outliers: usize,
    /// `None` when no outlier could be made (the metrics are undefined).
    pub report: Option<AnomalyReport>,
    /// What the injection did.
    pub summary: OutlierSummary,
}

/// One scored trajectory of one (kind, setting) (a line of `scores.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    /// Index of the [`SettingRow`].
    pub row: usize,
    /// Trajectory id (`#k` when it has none).
    pub traj_id: String,
    /// Index of the normal trajectory it comes from.
    pub source: usize,
    /// Whether it is a synthetic outlier.
    pub outlier: bool,
    /// Its score.
    pub score: f64,
}

/// Everything [`Detector::evaluate`] computes (`results.json`, with `items` in `scores.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnomalyResults {
    /// The teacher folder.
    pub teacher: String,
    /// The network's name.
    pub network: String,
    /// The k of the threshold.
    pub k: f64,
    /// The threshold.
    pub threshold: f64,
    /// Statistics of the calibration scores.
    pub calibration: ScoreStats,
    /// Statistics of the normal test scores.
    pub normal: ScoreStats,
    /// Share of the normal trajectories that got an outlier.
    pub ratio: f64,
    /// Seed of the injection.
    pub seed: u64,
    /// Whether the originals of the outliers stay in the scored set (always, as in LM-TAD).
    pub keep_originals: bool,
    /// One row per (kind, setting).
    pub rows: Vec<SettingRow>,
    /// Every scored trajectory of every row.
    #[serde(skip)]
    pub items: Vec<ScoredItem>,
}

/// The summary of [`Detector::score_only`] (`summary.json`; `items` in `scores.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreReport {
    /// The teacher folder.
    pub teacher: String,
    /// The file scored.
    pub file: String,
    /// Trajectories scored.
    pub n: usize,
    /// How many score above the threshold.
    pub above_threshold: usize,
    /// The threshold.
    pub threshold: f64,
    /// The k of the threshold.
    pub k: f64,
    /// Statistics of the calibration scores.
    pub calibration: ScoreStats,
    /// Statistics of the scores of the file.
    pub scores: ScoreStats,
    /// (trajectory id, roads, score) of every trajectory, in file order.
    #[serde(skip)]
    pub items: Vec<(String, usize, f64)>,
}

/// A trained LM-TAD teacher that scores trajectories of one network.
pub struct Detector {
    /// The teacher folder.
    pub dir: std::path::PathBuf,
    /// The model.
    pub model: LmTad,
    /// Road → token map of the network.
    pub tok: Tokenizer,
    /// Trajectories per forward pass.
    pub batch: usize,
}

fn traj_id(t: &Trajectory, k: usize) -> String {
    t.id.as_deref().map_or_else(|| format!("#{k}"), str::to_string)
}

impl Detector {
    /// Loads the teacher folder `dir` (checked against `net`) on `device`.
    pub fn load(dir: &Path, net: &RoadNetwork, device: &Device, batch: usize) -> Result<Self> {
        if batch == 0 {
            bail!("the batch must be at least 1");
        }
        let (model, tok, _meta) = load_teacher(dir, net, device)?;
        Ok(Detector { dir: dir.to_path_buf(), model, tok, batch })
    }

    /// Reads `path` (checked against `net`) and scores every trajectory.
    pub fn score_file(&self, net: &RoadNetwork, path: &Path) -> Result<Scored> {
        let trajs = read_checked(net, path)?;
        let seqs = self.tok.encode_all(net, &trajs).with_context(|| path.display().to_string())?;
        let scores = anomaly_scores(&self.model, &seqs, self.batch).with_context(|| format!("scoring {}", path.display()))?;
        let stats = ScoreStats::of(path, &scores);
        Ok(Scored { trajs, scores, stats })
    }

    /// The threshold mean + k·σ of the scores of the normal trajectories in `path`.
    pub fn calibrate(&self, net: &RoadNetwork, path: &Path, k: f64) -> Result<Calibration> {
        if !(k.is_finite() && k >= 0.0) {
            bail!("k {k}: the threshold is mean + k·σ of the calibration scores; k must be a finite number ≥ 0");
        }
        let cal = self.score_file(net, path)?;
        let threshold = threshold_mean_std(&cal.scores, k).with_context(|| format!("threshold from {}", path.display()))?;
        Ok(Calibration { threshold, k, stats: cal.stats })
    }

    /// Scores the trajectories of `path` against the threshold of `cal`.
    pub fn score_only(&self, net: &RoadNetwork, path: &Path, cal: &Calibration) -> Result<ScoreReport> {
        let s = self.score_file(net, path)?;
        let items = s.trajs.iter().zip(&s.scores).enumerate().map(|(k, (t, &sc))| (traj_id(t, k), t.roads.len(), sc)).collect();
        Ok(ScoreReport {
            teacher: self.dir.display().to_string(),
            file: path.display().to_string(),
            n: s.scores.len(),
            above_threshold: s.above(cal.threshold),
            threshold: cal.threshold,
            k: cal.k,
            calibration: cal.stats.clone(),
            scores: s.stats,
            items,
        })
    }

    /// For every kind and setting of `settings`, injects outliers into the `normal`
    /// trajectories, scores them (the normal ones keep their scores) and measures detection at
    /// the threshold of `cal`. A setting where no outlier could be made gets no metrics (and a
    /// warning on stderr).
    pub fn evaluate(&self, net: &RoadNetwork, normal: &Scored, cal: &Calibration, settings: &AnomalySettings) -> Result<AnomalyResults> {
        if !(settings.ratio > 0.0 && settings.ratio <= 1.0) {
            bail!("ratio {}: the share of trajectories turned into outliers must lie in (0, 1]", settings.ratio);
        }
        let mut kinds = settings.kinds.clone();
        kinds.dedup();
        let (mut rows, mut items) = (Vec::new(), Vec::new());
        for &kind in &kinds {
            for &(level, prob) in &settings.settings {
                let cfg = OutlierConfig {
                    ratio: settings.ratio,
                    level,
                    prob,
                    kinds: vec![kind],
                    keep_originals: true,
                    seed: settings.seed,
                    ..OutlierConfig::default()
                };
                let name = kind_name(kind);
                let set =
                    inject_outliers(net, &normal.trajs, &cfg).with_context(|| format!("{name} outliers at level {level}, prob {prob}"))?;
                // Normal items are the inputs unchanged: reuse their scores; score only the outliers.
                let made: Vec<&Trajectory> = set.items.iter().filter(|it| it.outlier).map(|it| &it.traj).collect();
                let seqs = made.iter().map(|t| self.tok.encode_trajectory(net, t)).collect::<Result<Vec<_>>>()?;
                let mut out_scores = if seqs.is_empty() { Vec::new() } else { anomaly_scores(&self.model, &seqs, self.batch)? }.into_iter();
                let (mut scores, mut labels) = (Vec::with_capacity(set.items.len()), Vec::with_capacity(set.items.len()));
                for (k, it) in set.items.iter().enumerate() {
                    let s = if it.outlier { out_scores.next().context("one score per outlier")? } else { normal.scores[it.source] };
                    items.push(ScoredItem {
                        row: rows.len(),
                        traj_id: traj_id(&it.traj, k),
                        source: it.source,
                        outlier: it.outlier,
                        score: s,
                    });
                    scores.push(s);
                    labels.push(it.outlier);
                }
                let outliers = set.summary.outliers;
                let report = if outliers == 0 {
                    eprintln!(
                        "warning: no {name} outlier could be made at level {level}, prob {prob} (of {} selected): no metrics for this row",
                        set.summary.selected
                    );
                    None
                } else {
                    Some(anomaly_report(&scores, &labels, cal.threshold)?)
                };
                rows.push(SettingRow { kind: name.to_string(), level, prob, n: scores.len(), outliers, report, summary: set.summary });
            }
        }
        Ok(AnomalyResults {
            teacher: self.dir.display().to_string(),
            network: net.name.clone(),
            k: cal.k,
            threshold: cal.threshold,
            calibration: cal.stats.clone(),
            normal: normal.stats.clone(),
            ratio: settings.ratio,
            seed: settings.seed,
            keep_originals: true,
            rows,
            items,
        })
    }
}
