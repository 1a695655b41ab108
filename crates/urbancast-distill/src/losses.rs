//! Losses of LightST: the masked task loss and the three distillation terms.
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

const EPS: f32 = 1e-8;

/// Masked mean absolute error: `Σ |p - y| m / max(Σ m, 1)`. Entries with `m = 0` (missing truth)
/// contribute nothing, neither to the sum nor to the count. (LightST's public masked MAE
/// computes a mask and then ignores it; this one uses it.)
pub fn masked_mae(pred: Tensor<4>, truth: Tensor<4>, mask: Tensor<4>) -> Tensor<1> {
    let count = mask.clone().sum().clamp_min(1.0);
    ((pred - truth).abs() * mask).sum() / count
}

/// Rows of `x` scaled to unit L2 norm along the last axis (zero rows stay zero).
pub fn l2_normalise(x: Tensor<3>) -> Tensor<3> {
    let norm = x.clone().square().sum_dim(2).sqrt().clamp_min(EPS);
    x / norm
}

/// How the student's predictions are matched to the teacher's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "form")]
pub enum KdForm {
    /// `T² · KL(softmax(ŷ_T / T) ‖ softmax(ŷ_S / T))` with the softmax over **nodes**, for every
    /// sample, horizon step and channel (LightST's "KL divergence" term).
    Kl {
        /// Softmax temperature `T` (> 0); the term is scaled by `T²`.
        temperature: f32,
    },
    /// Mean squared difference of the normalised predictions.
    Mse,
}

/// Prediction distillation between student and teacher predictions `[B, H, N, C]` (normalised
/// units; the teacher's is a constant). `weights` `[B, N]` (mean 1 per sample) scale each node's
/// term; `None` = all 1.
///
/// The KL form is written per node as the generalised KL `p log(p/q) − p + q` (p teacher, q
/// student). Summed over the nodes with equal weights this is exactly `KL(p ‖ q)` (the `−p + q`
/// parts cancel because both sum to 1), but every term is ≥ 0, so a weighted sum is still a
/// divergence. Weighting the plain terms `p log(p/q)` is not: they can be negative, and the
/// student then lowers the loss by moving softmax mass onto heavily weighted nodes — a bias
/// (the first LightST runs of this project had KD terms below zero and a worse student).
pub fn prediction_kd(student: Tensor<4>, teacher: Tensor<4>, weights: Option<Tensor<2>>, form: KdForm) -> Tensor<1> {
    let [b, _, n, _] = student.dims();
    let w = weights.map(|w| w.reshape([b, 1, n, 1]));
    match form {
        KdForm::Kl { temperature } => {
            let t = temperature;
            let log_ps = log_softmax(student.div_scalar(t), 2);
            let log_pt = log_softmax(teacher.clone().div_scalar(t), 2);
            let pt = softmax(teacher.div_scalar(t), 2);
            let ps = log_ps.clone().exp();
            let mut kl = pt.clone() * (log_pt - log_ps) - pt + ps;
            if let Some(w) = w {
                kl = kl * w;
            }
            kl.sum_dim(2).mean().mul_scalar(t * t)
        }
        KdForm::Mse => {
            let mut d = (student - teacher).square();
            if let Some(w) = w {
                d = d * w;
            }
            d.mean()
        }
    }
}

/// InfoNCE with similarity-weighted positives, for every group `g` independently.
///
/// `anchor` (student) and `target` (teacher, a constant) are `[G, M, D]`: `M` items per group
/// (nodes of one sample for the spatial term; samples of one node for the temporal term). With
/// unit-normalised rows `s_i`, `t_j`:
///
/// `p_ij = exp(s_i·t_j / τ) / Σ_k exp(s_i·t_k / τ)`,
/// `c_ij = cos(t_i, t_j)`, positives `P(i) = {i} ∪ {j : c_ij ≥ ρ}` with weights
/// `w_ij = c_ij / Σ_{k∈P(i)} c_ik` (`c_ii` counted as 1),
/// `ℓ_i = -Σ_{j∈P(i)} w_ij log p_ij`.
///
/// The loss is the mean of `ℓ_i` over groups and items, weighted by `item_weights` `[G, M]`
/// when given.
pub fn weighted_info_nce(anchor: Tensor<3>, target: Tensor<3>, tau: f32, threshold: f32, item_weights: Option<Tensor<2>>) -> Tensor<1> {
    let [g, m, _] = anchor.dims();
    let device = anchor.device();
    let s = l2_normalise(anchor);
    let t = l2_normalise(target);
    let logp = log_softmax(s.matmul(t.clone().swap_dims(1, 2)).div_scalar(tau), 2);
    let c = t.clone().matmul(t.swap_dims(1, 2));
    let eye: Tensor<3> = Tensor::<2>::eye(m, &device).unsqueeze_dim(0);
    let keep = c.clone().greater_equal_elem(threshold).float();
    let pos = (c * keep).clamp_min(0.0) * (eye.clone().neg() + 1.0) + eye;
    let w = pos.clone() / pos.sum_dim(2);
    let per_item = (w * logp).sum_dim(2).reshape([g, m]).neg();
    match item_weights {
        Some(iw) => (per_item * iw.clone()).sum() / iw.sum().clamp_min(EPS),
        None => per_item.mean(),
    }
}

/// Which signal makes the per-node distillation weights adaptive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Adaptive {
    /// Every node weighs 1.
    Off,
    /// Down-weight nodes where the teacher's own error on the sample is high.
    Error,
    /// Down-weight nodes whose teacher representation is indistinguishable from their
    /// neighbours' (over-smoothed).
    Smooth,
    /// Both signals added.
    Both,
}

impl Adaptive {
    /// Parses `off` (or `none`), `error`, `smooth` or `both`.
    pub fn parse(s: &str) -> anyhow::Result<Adaptive> {
        Ok(match s {
            "off" | "none" => Adaptive::Off,
            "error" => Adaptive::Error,
            "smooth" => Adaptive::Smooth,
            "both" => Adaptive::Both,
            other => anyhow::bail!("unknown adaptive weighting `{other}`: use off, error, smooth or both"),
        })
    }
}

/// Per-sample, per-node distillation weights `[B, N]` (mean 1 over the nodes of each sample):
///
/// `w_bn = N · softmax_n( -(ê_bn + s_bn) / τ_a )` where
/// * `ê_bn = e_bn / mean_n e_bn`, `e_bn` = the teacher's masked MAE on node `n` of sample `b`
///   in normalised units (its reliability on this very sample) — used by `Error` and `Both`;
/// * `s_bn` = mean cosine similarity between the teacher's representation of `n` and those of
///   its graph neighbours (`adjacency > 0`, self excluded; 0 for isolated nodes): close to 1
///   where message passing has smoothed the node into its neighbourhood — used by `Smooth` and
///   `Both`.
///
/// All inputs are constants (no gradient): `teacher_pred`, `truth_norm`, `mask` `[B, H, N, C]`,
/// `teacher_hidden` `[B, N, D]`, `adjacency` `[N, N]`.
pub fn adaptive_weights(
    mode: Adaptive,
    tau: f32,
    teacher_pred: Tensor<4>,
    truth_norm: Tensor<4>,
    mask: Tensor<4>,
    teacher_hidden: Tensor<3>,
    adjacency: &[f32],
) -> Option<Tensor<2>> {
    let [b, _, n, _] = teacher_pred.dims();
    let device = teacher_pred.device();
    let mut score: Option<Tensor<2>> = None;
    if matches!(mode, Adaptive::Error | Adaptive::Both) {
        let abs = (teacher_pred - truth_norm).abs() * mask.clone();
        let per_node = |x: Tensor<4>| x.sum_dim(3).sum_dim(1).reshape([b, n]);
        let e = per_node(abs) / per_node(mask).clamp_min(1.0);
        let rel = e.clone() / e.mean_dim(1).clamp_min(EPS);
        score = Some(rel);
    }
    if matches!(mode, Adaptive::Smooth | Adaptive::Both) {
        let nb: Vec<f32> = adjacency.iter().enumerate().map(|(k, &a)| if a > 0.0 && k / n != k % n { 1.0 } else { 0.0 }).collect();
        let a = Tensor::<2>::from_data(TensorData::new(nb, [n, n]), &device);
        let deg = a.clone().sum_dim(1).clamp_min(1.0).reshape([1, n]);
        let h = l2_normalise(teacher_hidden);
        let cos = h.clone().matmul(h.swap_dims(1, 2));
        let s = (cos * a.unsqueeze_dim::<3>(0)).sum_dim(2).reshape([b, n]) / deg;
        score = Some(match score {
            Some(e) => e + s,
            None => s,
        });
    }
    score.map(|s| softmax(s.neg().div_scalar(tau), 1).mul_scalar(n as f32))
}
