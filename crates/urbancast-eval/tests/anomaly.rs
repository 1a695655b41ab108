//! Anomaly-detection metrics against hand-computed values (and scikit-learn's documented
//! examples), ties, 0/0 cases and input errors.
use urbancast_eval::anomaly::{anomaly_report, pr_auc, precision_recall_f1, roc_auc, threshold_mean_std};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

/// scikit-learn's docstring example: y_true = [0, 0, 1, 1], scores = [0.1, 0.4, 0.35, 0.8].
const SCORES: [f64; 4] = [0.1, 0.4, 0.35, 0.8];
const LABELS: [bool; 4] = [false, false, true, true];

#[test]
fn threshold_is_mean_plus_k_population_sigma() {
    // mean 2.5; population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
    let t = threshold_mean_std(&[1.0, 2.0, 3.0, 4.0], 3.0).unwrap();
    close(t, 2.5 + 3.0 * 1.25f64.sqrt());
    close(threshold_mean_std(&[1.0, 2.0, 3.0, 4.0], 0.0).unwrap(), 2.5);
    close(threshold_mean_std(&[7.0], 3.0).unwrap(), 7.0);
    assert!(threshold_mean_std(&[], 3.0).unwrap_err().to_string().contains("no normal scores"));
    assert!(threshold_mean_std(&[1.0, f64::NAN], 3.0).unwrap_err().to_string().contains("position 1"));
    assert!(threshold_mean_std(&[1.0, f64::INFINITY], 3.0).is_err());
    assert!(threshold_mean_std(&[1.0], f64::NAN).is_err());
}

#[test]
fn precision_recall_f1_by_hand() {
    // > 0.36: {0.4 (normal), 0.8 (anomaly)} -> tp 1, fp 1, fn 1 (0.35), tn 1 (0.1).
    let r = precision_recall_f1(&SCORES, &LABELS, 0.36).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_, r.tn), (1, 1, 1, 1));
    close(r.precision, 0.5);
    close(r.recall, 0.5);
    close(r.f1, 0.5);
    // Strictly greater: 0.35 at threshold 0.35 is predicted normal.
    let r = precision_recall_f1(&SCORES, &LABELS, 0.35).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_, r.tn), (1, 1, 1, 1));
    // > 0.2: tp 2, fp 1 -> P = 2/3, R = 1, F1 = 2·(2/3)/(5/3) = 0.8.
    let r = precision_recall_f1(&SCORES, &LABELS, 0.2).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_, r.tn), (2, 1, 0, 1));
    close(r.precision, 2.0 / 3.0);
    close(r.recall, 1.0);
    close(r.f1, 0.8);
    // Nothing predicted anomalous: precision 0/0 -> 0, F1 0.
    let r = precision_recall_f1(&SCORES, &LABELS, 1.0).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_, r.tn), (0, 0, 2, 2));
    assert_eq!((r.precision, r.recall, r.f1), (0.0, 0.0, 0.0));
    // No anomaly at all: recall 0/0 -> 0 (allowed here).
    let r = precision_recall_f1(&SCORES, &[false; 4], 0.2).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_, r.tn), (0, 3, 0, 1));
    assert_eq!((r.precision, r.recall, r.f1), (0.0, 0.0, 0.0));
    // Infinite scores are fine for ranking/thresholding.
    let r = precision_recall_f1(&[f64::INFINITY, f64::NEG_INFINITY], &[true, false], 0.0).unwrap();
    assert_eq!((r.tp, r.fp, r.fn_, r.tn), (1, 0, 0, 1));
}

#[test]
fn average_precision_by_hand() {
    // Decreasing thresholds: 0.8 (P 1, R 1/2), 0.4 (P 1/2, R 1/2), 0.35 (P 2/3, R 1), 0.1.
    // AP = 1/2 · 1 + 0 + 1/2 · 2/3 + 0 = 5/6.
    close(pr_auc(&SCORES, &LABELS).unwrap(), 5.0 / 6.0);
    // Perfect ranking.
    close(pr_auc(&[0.9, 0.8, 0.1], &[true, true, false]).unwrap(), 1.0);
    // Worst ranking: the anomaly last of 4 -> AP = 1 · 1/4.
    close(pr_auc(&[0.9, 0.8, 0.7, 0.1], &[false, false, false, true]).unwrap(), 0.25);
    // Ties enter together: {0.5: one anomaly, one normal} then {0.2: same} -> P = 1/2 at both
    // thresholds, AP = 1/2 · 1/2 + 1/2 · 1/2 = 1/2 (not 1/2 · 1 + 1/2 · 2/3 as an arbitrary
    // order inside the ties could give).
    close(pr_auc(&[0.5, 0.5, 0.2, 0.2], &[true, false, true, false]).unwrap(), 0.5);
    close(pr_auc(&[0.5, 0.5, 0.2, 0.2], &[false, true, false, true]).unwrap(), 0.5);
    // 0.9 normal, then a tie of two anomalies at 0.5: P = 2/3 at R = 1 -> AP = 2/3.
    close(pr_auc(&[0.9, 0.5, 0.5, 0.1], &[false, true, true, false]).unwrap(), 2.0 / 3.0);
    // Input order does not matter.
    close(pr_auc(&[0.8, 0.35, 0.4, 0.1], &[true, true, false, false]).unwrap(), 5.0 / 6.0);
}

#[test]
fn roc_auc_by_hand() {
    // Anomalies {0.35, 0.8} vs normals {0.1, 0.4}: 3 of 4 pairs ordered -> 0.75.
    close(roc_auc(&SCORES, &LABELS).unwrap(), 0.75);
    close(roc_auc(&[0.9, 0.1], &[true, false]).unwrap(), 1.0);
    close(roc_auc(&[0.1, 0.9], &[true, false]).unwrap(), 0.0);
    // A tie counts one half.
    close(roc_auc(&[0.5, 0.5], &[true, false]).unwrap(), 0.5);
    // Anomalies {0.5, 0.3} vs normals {0.5, 0.1}: pairs 0.5/0.5 = 1/2, 0.5/0.1 = 1,
    // 0.3/0.5 = 0, 0.3/0.1 = 1 -> 2.5 / 4.
    close(roc_auc(&[0.5, 0.3, 0.5, 0.1], &[true, true, false, false]).unwrap(), 0.625);
}

#[test]
fn report_and_serde() {
    let r = anomaly_report(&SCORES, &LABELS, 0.36).unwrap();
    assert_eq!((r.n, r.anomalies), (4, 2));
    close(r.pr_auc, 5.0 / 6.0);
    close(r.roc_auc.unwrap(), 0.75);
    assert_eq!(r.at_threshold.tp, 1);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"fn\":1"), "{json}");
    let back: urbancast_eval::anomaly::AnomalyReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    // Only anomalies: no ROC-AUC, AP = 1.
    let r = anomaly_report(&[0.3, 0.2], &[true, true], 0.0).unwrap();
    assert_eq!(r.roc_auc, None);
    close(r.pr_auc, 1.0);
}

#[test]
fn bad_input_is_a_clear_error() {
    let msg = |e: anyhow::Error| e.to_string();
    assert!(msg(pr_auc(&[], &[]).unwrap_err()).contains("no scores"));
    assert!(msg(pr_auc(&[0.1, 0.2], &[true]).unwrap_err()).contains("2 scores but 1 labels"));
    assert!(msg(pr_auc(&[0.1, f64::NAN], &[true, false]).unwrap_err()).contains("position 1 is NaN"));
    assert!(msg(pr_auc(&[0.1, 0.2], &[false, false]).unwrap_err()).contains("no anomaly"));
    assert!(msg(roc_auc(&[0.1, 0.2], &[true, true]).unwrap_err()).contains("no normal item"));
    assert!(msg(roc_auc(&[0.1, 0.2], &[false, false]).unwrap_err()).contains("no anomaly"));
    assert!(msg(precision_recall_f1(&[0.1], &[true], f64::NAN).unwrap_err()).contains("threshold is NaN"));
    assert!(precision_recall_f1(&[], &[], 0.0).is_err());
    assert!(anomaly_report(&[0.1, 0.2], &[false, false], 0.0).is_err());
}
