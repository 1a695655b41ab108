//! Temperature and the distillation loss `τ² · KL(q_τ ‖ p_τ)` over candidate next roads.
use anyhow::{Result, ensure};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Tensor};

use super::gather::normalise_or_uniform;

/// Logit given to padded candidates before the softmax (probability exactly 0 in f32 as long
/// as one candidate of the row is real).
pub const KD_MASKED_LOGIT: f32 = -1.0e9;

/// Floor under probabilities before a logarithm or a division (keeps `0 · ln 0` at 0).
const TINY: f32 = 1e-30;

fn check_tau(what: &str, tau: f64) -> Result<()> {
    ensure!(tau.is_finite() && tau > 0.0, "{what}: the temperature τ = {tau} must be a finite number > 0");
    Ok(())
}

/// Tempered teacher distribution `q_τ,k ∝ q_k^(1/τ)` over the real candidates of each row of
/// `q [M, K]` (renormalised; padded candidates 0; zero entries stay 0). Computed as
/// `(q / max_k q)^(1/τ)` so that a small τ cannot underflow the whole row. `τ = 1` gives `q`
/// renormalised; a large τ tends to uniform over the candidates with `q > 0`. A row with no
/// positive entry falls back to uniform over its real candidates (the gather rule).
pub fn temper(q: Tensor<2>, mask: Tensor<2, Bool>, tau: f64) -> Result<Tensor<2>> {
    check_tau("temper", tau)?;
    let [m, k] = q.dims();
    ensure!(mask.dims() == [m, k], "temper: mask is {:?} but q is [{m}, {k}]", mask.dims());
    let padded = mask.clone().bool_not();
    let q = q.mask_fill(padded.clone(), 0.0).clamp_min(0.0);
    let zero = q.clone().lower_equal_elem(0.0);
    let max = q.clone().max_dim(1).clamp_min(TINY); // [M, 1]
    let r = (q / max).powf_scalar((1.0 / tau) as f32).mask_fill(zero, 0.0).mask_fill(padded, 0.0);
    Ok(normalise_or_uniform(r, mask))
}

/// Distillation loss (a scalar `[1]`):
///
/// `L = s · Σᵢ wᵢ KL(q_τ,i ‖ p_τ,i) / Σᵢ wᵢ` with
/// * `p_τ = softmax(student_logits / τ)` over the real candidates (padded logits replaced by
///   [`KD_MASKED_LOGIT`]),
/// * `q_τ = temper(teacher_q, mask, τ)` (`teacher_q` already gathered and renormalised, e.g.
///   by [`super::gather_candidate_distribution`]; detached: gradients flow into the student
///   logits only),
/// * `KL(q ‖ p) = Σ_k q_k (ln q_k − ln p_k)`, terms with `q_k = 0` contributing exactly 0,
/// * `s = τ²` when `scale_tau_sq` (Hinton et al.; the thesis), else 1 (the public fork),
/// * `wᵢ = row_weight[i]` (e.g. 1 for valid steps, 0 for padding; default all 1, must be
///   ≥ 0), times 0 for rows without a real candidate. When `Σ wᵢ = 0` the loss is 0.
///
/// The gradient on padded candidates' logits is exactly 0. The teacher tensors, the mask and
/// the weights may live on the plain (non-autodiff) device: burn treats them as constants.
/// With `M = 0` rows the result is a constant 0. Errors on mismatched shapes or a temperature
/// that is not a finite number > 0.
pub fn kd_loss(
    student_logits: Tensor<2>,
    mask: Tensor<2, Bool>,
    teacher_q: Tensor<2>,
    tau: f64,
    scale_tau_sq: bool,
    row_weight: Option<Tensor<1>>,
) -> Result<Tensor<1>> {
    check_tau("kd_loss", tau)?;
    let [m, k] = student_logits.dims();
    ensure!(mask.dims() == [m, k], "kd_loss: mask is {:?} but the student logits are [{m}, {k}]", mask.dims());
    ensure!(teacher_q.dims() == [m, k], "kd_loss: teacher_q is {:?} but the student logits are [{m}, {k}]", teacher_q.dims());
    if let Some(w) = &row_weight {
        ensure!(w.dims() == [m], "kd_loss: row_weight is {:?} but there are {m} rows", w.dims());
    }
    if m == 0 {
        return Ok(Tensor::zeros([1], &student_logits.device()));
    }
    let padded = mask.clone().bool_not();
    let q = temper(teacher_q.detach(), mask.clone(), tau)?.detach();
    let log_p = log_softmax(student_logits.div_scalar(tau as f32).mask_fill(padded, KD_MASKED_LOGIT), 1);
    let zero_q = q.clone().lower_equal_elem(0.0);
    let terms = (q.clone() * (q.clamp_min(TINY).log() - log_p)).mask_fill(zero_q, 0.0);
    let kl = terms.sum_dim(1).reshape([m]); // [M]
    let has_real = mask.float().sum_dim(1).reshape([m]).greater_elem(0.0).float();
    let w = match row_weight {
        Some(w) => w.detach() * has_real,
        None => has_real,
    };
    let total_w = w.clone().sum(); // [1]
    let ok = total_w.clone().greater_elem(0.0).float();
    let loss = (kl * w).sum() / total_w.clamp_min(TINY) * ok;
    let s = if scale_tau_sq { (tau * tau) as f32 } else { 1.0 };
    Ok(loss.mul_scalar(s))
}
