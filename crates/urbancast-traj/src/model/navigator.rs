//! Navigator and time head (HOSER `models/navigator.py`):
//!
//! * `logits = vᵀ tanh(W_q [h ‖ zone(dest)] + W_k [road(c) ‖ P_d(dist) ‖ P_a(angle)])`
//!   (`W_q, W_k, v` without bias, `P_d, P_a: Linear(1, hidden)`);
//! * `time = L3(GELU([L1(h) ‖ L2(road(c))]))` — the normalised `ln(1 + Δt)` of moving to
//!   candidate `c`.
//!
//! Padded candidates get logit [`MASKED_LOGIT`] (softmax probability exactly 0 in f32 as long
//! as one candidate is real) and their index is replaced by 0 before the lookup.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::{HoserConfig, RoadEmb, lin};

/// Logit of padded candidates.
pub const MASKED_LOGIT: f32 = -1.0e9;

/// HOSER's navigator: additive attention of the trajectory state and destination zone over
/// the candidate next roads, plus the time head (see the module docs).
#[derive(Module, Debug)]
pub struct Navigator {
    dist_proj: Linear,
    angle_proj: Linear,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    time_1: Linear,
    time_2: Linear,
    time_3: Linear,
}

impl Navigator {
    /// A randomly initialised navigator of `cfg`'s sizes on `device`.
    pub fn new(cfg: &HoserConfig, device: &Device) -> Self {
        let (hid, d, nav, th) = (cfg.hidden(), cfg.model_dim(), cfg.nav_dim, cfg.time_hidden);
        let nobias = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        Self {
            dist_proj: LinearConfig::new(1, hid).init(device),
            angle_proj: LinearConfig::new(1, hid).init(device),
            q_proj: nobias(d + hid, nav),
            k_proj: nobias(3 * hid, nav),
            v_proj: nobias(nav, 1),
            time_1: LinearConfig::new(d, th).init(device),
            time_2: LinearConfig::new(hid, th).init(device),
            time_3: LinearConfig::new(2 * th, 1).init(device),
        }
    }

    /// Flat form: `h [M, D]` trajectory states, `dz [M, hidden]` destination-zone embeddings,
    /// `cand [M, K]`, `mask [M, K]`, `feat [M, K, 2]` → (`logits [M, K]`, `time [M, K]`).
    pub fn forward(
        &self,
        emb: &RoadEmb,
        h: Tensor<2>,
        dz: Tensor<2>,
        cand: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
        feat: Tensor<3>,
    ) -> (Tensor<2>, Tensor<2>) {
        let [m, k] = cand.dims();
        let hid = emb.road.dims()[1];
        let cand = cand.mask_fill(mask.clone().bool_not(), 0);
        let ce = emb.road.clone().select(0, cand.reshape([m * k])).reshape([m, k, hid]);
        let dist = lin(&self.dist_proj, feat.clone().narrow(2, 0, 1));
        let angle = lin(&self.angle_proj, feat.narrow(2, 1, 1));
        let key = lin(&self.k_proj, Tensor::cat(vec![ce.clone(), dist, angle], 2)); // [M, K, nav]
        let query = self.q_proj.forward(Tensor::cat(vec![h.clone(), dz], 1)).unsqueeze_dim::<3>(1);
        let logits = lin(&self.v_proj, (query + key).tanh()).reshape([m, k]);
        let logits = logits.mask_fill(mask.bool_not(), MASKED_LOGIT);

        let t1 = self.time_1.forward(h).unsqueeze_dim::<3>(1);
        let th = t1.dims()[2];
        let t2 = lin(&self.time_2, ce);
        let time = lin(&self.time_3, gelu(Tensor::cat(vec![t1.expand([m, k, th]), t2], 2))).reshape([m, k]);
        (logits, time)
    }
}
