//! Training objective (HOSER `train.py`):
//!
//! * `ce`: mean over counted steps of `−log softmax(logits)[target]` (padded candidates have
//!   logit −1e9, i.e. probability 0);
//! * `time`: HOSER's MAPE *in log space*: with `ŷ = time[target] · std + mean` (predicted
//!   `ln(1 + Δt)`) and `y = ln(1 + Δt)` of the true next step,
//!   `mean |ŷ − y| / max(y, 1)` over counted steps;
//! * `total = ce + time_weight · time` (HOSER: weight 1).
//!
//! A step is counted when `valid` is true and `target ≥ 0` (−1 = ignored).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int, Tensor};

use super::{Hoser, NavOut};
pub use crate::data::TimeNorm;

/// Loss terms (scalars `[1]`).
#[derive(Clone, Debug)]
pub struct LossParts {
    /// `ce + time_weight · time`, the training objective.
    pub total: Tensor<1>,
    /// Mean next-road cross entropy over the counted steps.
    pub ce: Tensor<1>,
    /// Mean time APE in `ln(1 + Δt)` space over the counted steps.
    pub time: Tensor<1>,
}

/// `valid & target ≥ 0` as 0/1 floats `[B, L]`, and the clamped target `[B, L, 1]`.
fn counted(target: &Tensor<2, Int>, valid: &Tensor<2, Bool>) -> (Tensor<2>, Tensor<3, Int>) {
    let m = valid.clone().bool_and(target.clone().greater_equal_elem(0)).float();
    (m, target.clone().clamp_min(0).unsqueeze_dim::<3>(2))
}

impl Hoser {
    /// Loss of [`Hoser::forward`]'s output: `target [B, L]` candidate slot of the true next road
    /// (−1 = none), `dt_secs [B, L]` seconds to the next position, `valid [B, L]`.
    pub fn loss(&self, out: &NavOut, target: &Tensor<2, Int>, dt_secs: &Tensor<2>, valid: &Tensor<2, Bool>, norm: &TimeNorm) -> LossParts {
        let [b, l, _] = out.logits.dims();
        let (m, tgt) = counted(target, valid);
        let count = m.clone().sum().clamp_min(1.0);
        let nll = log_softmax(out.logits.clone(), 2).gather(2, tgt.clone()).reshape([b, l]).neg();
        let ce = (nll * m.clone()).sum() / count.clone();

        let pred = out.time.clone().gather(2, tgt).reshape([b, l]).mul_scalar(norm.std as f32).add_scalar(norm.mean as f32);
        let y = dt_secs.clone().clamp_min(0.0).log1p();
        let ape = (pred - y.clone()).abs() / y.clamp_min(1.0);
        let time = (ape * m).sum() / count;
        let total = ce.clone() + time.clone().mul_scalar(self.config().time_weight);
        LossParts { total, ce, time }
    }

    /// `(correct, counted)`: steps whose arg-max candidate is the target.
    pub fn next_step_accuracy(&self, out: &NavOut, target: &Tensor<2, Int>, valid: &Tensor<2, Bool>) -> (usize, usize) {
        let [b, l, _] = out.logits.dims();
        let (m, _) = counted(target, valid);
        let hit = out.logits.clone().argmax(2).reshape([b, l]).equal(target.clone()).float();
        let correct: f32 = (hit * m.clone()).sum().into_scalar();
        let total: f32 = m.sum().into_scalar();
        (correct.round() as usize, total.round() as usize)
    }
}
