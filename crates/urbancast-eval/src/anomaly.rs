//! Anomaly-detection metrics for scored trajectories (LM-TAD style evaluation).
//!
//! Conventions (shared by every function here):
//! * a higher score means "more anomalous" (e.g. a language model's log-perplexity);
//! * `labels[i] == true` marks an anomaly (the positive class);
//! * a score strictly greater than the threshold is predicted anomalous;
//! * NaN scores are an error; `±∞` scores are accepted by the ranking metrics (they sort
//!   first/last) but not by [`threshold_mean_std`].
//!
//! LM-TAD picks the threshold as mean + 3σ of the scores of normal (training) trajectories,
//! then reports precision/recall/F1 at that threshold and PR-AUC (average precision), which
//! does not depend on a threshold.
use anyhow::{Result, bail, ensure};
use serde::{Deserialize, Serialize};

/// Threshold `mean + k · σ` of scores of normal data (LM-TAD: `k = 3`).
///
/// σ is the **population** standard deviation (divides by `n`, NumPy's `np.std` default and
/// PyTorch's `std(unbiased=False)`); with one score σ = 0. Errors on an empty slice, on
/// non-finite scores or a non-finite `k`.
pub fn threshold_mean_std(normal_scores: &[f64], k: f64) -> Result<f64> {
    ensure!(!normal_scores.is_empty(), "threshold_mean_std: no normal scores given");
    ensure!(k.is_finite(), "threshold_mean_std: k = {k} is not a finite number");
    if let Some(i) = normal_scores.iter().position(|s| !s.is_finite()) {
        bail!("threshold_mean_std: normal score at position {i} is {} (must be finite)", normal_scores[i]);
    }
    let n = normal_scores.len() as f64;
    let mean = normal_scores.iter().sum::<f64>() / n;
    let var = normal_scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
    Ok(mean + k * var.sqrt())
}

/// Confusion counts and the derived rates at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecallF1 {
    /// Scores strictly above this are predicted anomalous.
    pub threshold: f64,
    /// Anomalies predicted anomalous.
    pub tp: usize,
    /// Normal items predicted anomalous.
    pub fp: usize,
    /// Anomalies predicted normal (`fn` is a keyword).
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Normal items predicted normal.
    pub tn: usize,
    /// `tp / (tp + fp)`; 0 when nothing is predicted anomalous.
    pub precision: f64,
    /// `tp / (tp + fn)`; 0 when there is no anomaly.
    pub recall: f64,
    /// `2 · P · R / (P + R)`; 0 when `P + R = 0`.
    pub f1: f64,
}

/// Checks the common inputs: non-empty, same length, no NaN score.
fn check(what: &str, scores: &[f64], labels: &[bool]) -> Result<()> {
    ensure!(!scores.is_empty(), "{what}: no scores given");
    ensure!(scores.len() == labels.len(), "{what}: {} scores but {} labels (one label per score is needed)", scores.len(), labels.len());
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        bail!("{what}: score at position {i} is NaN");
    }
    Ok(())
}

/// Precision, recall and F1 of "score > threshold ⇒ anomaly" (0/0 cases are 0, as
/// scikit-learn's `zero_division=0`). A data set without anomalies is allowed here (recall
/// and F1 are then 0). Errors on empty input, length mismatch, NaN scores or a NaN threshold.
pub fn precision_recall_f1(scores: &[f64], labels: &[bool], threshold: f64) -> Result<PrecisionRecallF1> {
    check("precision_recall_f1", scores, labels)?;
    ensure!(!threshold.is_nan(), "precision_recall_f1: the threshold is NaN");
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for (&s, &y) in scores.iter().zip(labels) {
        match (s > threshold, y) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Ok(PrecisionRecallF1 { threshold, tp, fp, fn_, tn, precision, recall, f1 })
}

/// `(tp, fp)` counts after each group of equal scores, scores taken in decreasing order
/// (one entry per distinct score: ties form one threshold).
fn cumulative_counts(scores: &[f64], labels: &[bool]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0, 0);
    let mut out = Vec::new();
    for (pos, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // `==` (not total_cmp) so that -0.0 and 0.0 form one group.
        let last_of_group = order.get(pos + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_group {
            out.push((tp, fp));
        }
    }
    out
}

/// Average precision (PR-AUC) as scikit-learn's `average_precision_score`:
/// `AP = Σₙ (Rₙ − Rₙ₋₁) · Pₙ` over the distinct scores taken as thresholds in decreasing order
/// (step-wise, no interpolation; equal scores enter together). Errors on empty input, length
/// mismatch, NaN scores, or when there is no anomaly (AP is undefined).
pub fn pr_auc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    check("pr_auc", scores, labels)?;
    let pos = labels.iter().filter(|&&y| y).count();
    ensure!(pos > 0, "pr_auc: no anomaly among the {} labels (average precision is undefined)", labels.len());
    let mut ap = 0.0;
    let mut prev_tp = 0;
    for (tp, fp) in cumulative_counts(scores, labels) {
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (tp - prev_tp) as f64 / pos as f64 * precision;
        prev_tp = tp;
    }
    Ok(ap)
}

/// ROC-AUC: the probability that a random anomaly scores higher than a random normal item,
/// ties counting one half (the Mann–Whitney statistic; equals scikit-learn's `roc_auc_score`).
/// Errors on empty input, length mismatch, NaN scores, or when one class is missing.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    check("roc_auc", scores, labels)?;
    let pos = labels.iter().filter(|&&y| y).count();
    let neg = labels.len() - pos;
    ensure!(pos > 0, "roc_auc: no anomaly among the {} labels (ROC-AUC needs both classes)", labels.len());
    ensure!(neg > 0, "roc_auc: no normal item among the {} labels (ROC-AUC needs both classes)", labels.len());
    // Trapezoids between successive (fp, tp) points of the grouped ROC curve.
    let (mut area, mut prev) = (0.0, (0usize, 0usize));
    for (tp, fp) in cumulative_counts(scores, labels) {
        area += (fp - prev.1) as f64 * (tp + prev.0) as f64 / 2.0;
        prev = (tp, fp);
    }
    Ok(area / (pos as f64 * neg as f64))
}

/// Everything reported for one scored data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyReport {
    /// Number of scored items.
    pub n: usize,
    /// Number of anomalies (positive labels).
    pub anomalies: usize,
    /// Precision, recall and F1 at the given threshold.
    pub at_threshold: PrecisionRecallF1,
    /// Average precision ([`pr_auc`]).
    pub pr_auc: f64,
    /// [`roc_auc`]; `None` when the data set has no normal item.
    pub roc_auc: Option<f64>,
}

/// [`precision_recall_f1`] at `threshold`, [`pr_auc`] and [`roc_auc`] in one struct. Errors as
/// [`pr_auc`] (in particular when there is no anomaly).
pub fn anomaly_report(scores: &[f64], labels: &[bool], threshold: f64) -> Result<AnomalyReport> {
    let at_threshold = precision_recall_f1(scores, labels, threshold)?;
    let pr_auc = pr_auc(scores, labels)?;
    let anomalies = labels.iter().filter(|&&y| y).count();
    let roc_auc = if anomalies < labels.len() { Some(roc_auc(scores, labels)?) } else { None };
    Ok(AnomalyReport { n: scores.len(), anomalies, at_threshold, pr_auc, roc_auc })
}
