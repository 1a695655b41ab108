//! Trajectory encoder: road–zone fusion, temporal encoding and causal transformer blocks with
//! HOSER's relative spatio-temporal keys/values (`models/trajectory_encoder.py`).
//!
//! HOSER adds `r_ij = Linear(2, d_head)([dist_ij, dt_ij])` (one linear shared by all heads) to
//! the keys and to the values: `score_ij = q_i · (k_j + r^K_ij) / √d_head`,
//! `out_i = Σ_j a_ij (v_j + r^V_ij)`. Because `r` is affine in the two features, this is
//! computed without materialising `[B, T, T, d_head]`: with `r^K_ij = f0_ij w0 + f1_ij w1 + b`,
//! `q_i · r^K_ij = f0_ij (q_i·w0) + f1_ij (q_i·w1) + q_i·b`, and
//! `Σ_j a_ij r^V_ij = (Σ_j a_ij f0_ij) w0' + (Σ_j a_ij f1_ij) w1' + b'` (softmax rows sum to 1).

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, sigmoid, softmax};
use burn::tensor::{Bool, Device, Int, Tensor};

use super::{HoserConfig, RoadEmb, TokenInputs, lin};

/// Mean Earth radius (km), as `urbancast_roads::geo`.
const EARTH_RADIUS_KM: f32 = 6371.009;
/// Additive attention mask of disallowed keys.
const MASKED: f32 = -1.0e9;

/// Pairwise haversine distances (km) between `a [B, Tq, 2]` and `b [B, Tk, 2]` (`[lon, lat]`
/// degrees) → `[B, Tq, Tk]`.
pub fn haversine_km_pairs(a: Tensor<3>, b: Tensor<3>) -> Tensor<3> {
    let rad = std::f32::consts::PI / 180.0;
    let lon_a = a.clone().narrow(2, 0, 1); // [B, Tq, 1]
    let lat_a = a.narrow(2, 1, 1);
    let lon_b = b.clone().narrow(2, 0, 1).swap_dims(1, 2); // [B, 1, Tk]
    let lat_b = b.narrow(2, 1, 1).swap_dims(1, 2);
    let half_dlat = (lat_b.clone() - lat_a.clone()).mul_scalar(rad / 2.0).sin();
    let half_dlon = (lon_b - lon_a).mul_scalar(rad / 2.0).sin();
    let cos_ab = lat_a.mul_scalar(rad).cos() * lat_b.mul_scalar(rad).cos();
    let h = half_dlat.clone() * half_dlat + cos_ab * half_dlon.clone() * half_dlon;
    h.clamp(0.0, 1.0).sqrt().asin().mul_scalar(2.0 * EARTH_RADIUS_KM)
}

/// HOSER's relative features between queries and keys: `f0 = min(dist_km, dist_clip) /
/// dist_clip`, `f1 = min(|Δsecs| / 60, dt_clip_min) / dt_clip_min`, each `[B, Tq, Tk]`.
/// (HOSER: `min(d, 1000 m) / 1000 m` and `min(|Δt|, 5 min) / 5 min`.)
pub fn relative_features(
    lonlat_q: Tensor<3>,
    secs_q: Tensor<2>,
    lonlat_k: Tensor<3>,
    secs_k: Tensor<2>,
    dist_clip_km: f32,
    dt_clip_min: f32,
) -> (Tensor<3>, Tensor<3>) {
    let f0 = haversine_km_pairs(lonlat_q, lonlat_k).clamp_max(dist_clip_km).div_scalar(dist_clip_km);
    let dt = secs_q.unsqueeze_dim::<3>(2) - secs_k.unsqueeze_dim::<3>(1);
    let f1 = dt.abs().div_scalar(60.0).clamp_max(dt_clip_min).div_scalar(dt_clip_min);
    (f0, f1)
}

/// Causal self-attention with relative keys/values; keys/values may be extended by a cache.
#[derive(Module, Debug)]
pub struct Attention {
    c_attn: Linear,
    c_proj: Linear,
    rel_k: Linear,
    rel_v: Linear,
    #[module(skip)]
    heads: usize,
}

impl Attention {
    fn new(d: usize, heads: usize, device: &Device) -> Self {
        let dh = d / heads;
        Self {
            c_attn: LinearConfig::new(d, 3 * d).init(device),
            c_proj: LinearConfig::new(d, d).init(device),
            rel_k: LinearConfig::new(2, dh).init(device),
            rel_v: LinearConfig::new(2, dh).init(device),
            heads,
        }
    }

    /// `x [B, Tq, D]` (the newest `Tq` positions), `past` keys/values `[B, H, Tp, dh]`,
    /// relative features `f0, f1 [B, Tq, Tp + Tq]`, additive mask `[B, 1, Tq, Tp + Tq]`.
    /// Returns the output `[B, Tq, D]` and the keys/values of all `Tp + Tq` positions.
    pub fn forward(
        &self,
        x: Tensor<3>,
        past: Option<(Tensor<4>, Tensor<4>)>,
        f0: &Tensor<3>,
        f1: &Tensor<3>,
        mask: Option<&Tensor<4>>,
    ) -> (Tensor<3>, (Tensor<4>, Tensor<4>)) {
        let [b, tq, d] = x.dims();
        let (h, dh) = (self.heads, d / self.heads);
        let split = |t: Tensor<3>| t.reshape([b, tq, h, dh]).swap_dims(1, 2); // [B, H, Tq, dh]
        let qkv = lin(&self.c_attn, x);
        let q = split(qkv.clone().narrow(2, 0, d));
        let (mut k, mut v) = (split(qkv.clone().narrow(2, d, d)), split(qkv.narrow(2, 2 * d, d)));
        if let Some((pk, pv)) = past {
            k = Tensor::cat(vec![pk, k], 2);
            v = Tensor::cat(vec![pv, v], 2);
        }
        let tk = k.dims()[2];
        let (f0, f1) = (f0.clone().unsqueeze_dim::<4>(1), f1.clone().unsqueeze_dim::<4>(1)); // [B,1,Tq,Tk]

        // q · r^K: one [dh, 3] product gives q·w0, q·w1, q·b.
        let wk = self.rel_k.weight.val().transpose(); // [dh, 2]
        let bk = self.rel_k.bias.as_ref().expect("rel_k has a bias").val().unsqueeze_dim::<2>(1); // [dh, 1]
        let qr = q.clone().reshape([b * h * tq, dh]).matmul(Tensor::cat(vec![wk, bk], 1)).reshape([b, h, tq, 3]);
        let rel = qr.clone().narrow(3, 0, 1) * f0.clone() + qr.clone().narrow(3, 1, 1) * f1.clone() + qr.narrow(3, 2, 1);
        let mut scores = (q.matmul(k.clone().swap_dims(2, 3)) + rel).mul_scalar(1.0 / (dh as f32).sqrt());
        if let Some(m) = mask {
            scores = scores + m.clone();
        }
        let a = softmax(scores, 3); // [B, H, Tq, Tk]
        debug_assert_eq!(a.dims()[3], tk);

        let s0 = (a.clone() * f0).sum_dim(3);
        let s1 = (a.clone() * f1).sum_dim(3);
        let rv = lin(&self.rel_v, Tensor::cat(vec![s0, s1], 3)); // [B, H, Tq, dh], bias once
        let out = (a.matmul(v.clone()) + rv).swap_dims(1, 2).reshape([b, tq, d]);
        (lin(&self.c_proj, out), (k, v))
    }
}

/// Pre-LN transformer block (GELU FFN).
#[derive(Module, Debug)]
pub struct Block {
    ln_1: LayerNorm,
    attn: Attention,
    ln_2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl Block {
    fn new(d: usize, heads: usize, ffn_mult: usize, device: &Device) -> Self {
        Self {
            ln_1: LayerNormConfig::new(d).init(device),
            attn: Attention::new(d, heads, device),
            ln_2: LayerNormConfig::new(d).init(device),
            fc1: LinearConfig::new(d, ffn_mult * d).init(device),
            fc2: LinearConfig::new(ffn_mult * d, d).init(device),
        }
    }

    /// See [`Attention::forward`].
    pub fn forward(
        &self,
        x: Tensor<3>,
        past: Option<(Tensor<4>, Tensor<4>)>,
        f0: &Tensor<3>,
        f1: &Tensor<3>,
        mask: Option<&Tensor<4>>,
    ) -> (Tensor<3>, (Tensor<4>, Tensor<4>)) {
        let (a, kv) = self.attn.forward(self.ln_1.forward(x.clone()), past, f0, f1, mask);
        let x = x + a;
        let y = lin(&self.fc2, gelu(lin(&self.fc1, self.ln_2.forward(x.clone()))));
        (x + y, kv)
    }
}

/// Fusion gate, temporal encoder and transformer blocks.
#[derive(Module, Debug)]
pub struct TrajEncoder {
    fusion1: Linear,
    fusion2: Linear,
    time_emb: Linear,
    pub(crate) blocks: Vec<Block>,
    #[module(skip)]
    pub(crate) dist_clip_km: f32,
    #[module(skip)]
    pub(crate) dt_clip_min: f32,
}

impl TrajEncoder {
    /// A randomly initialised encoder of `cfg`'s sizes (`cfg.traj_layers` blocks of
    /// `cfg.traj_heads` heads, `2 · hidden` wide) on `device`.
    pub fn new(cfg: &HoserConfig, device: &Device) -> Self {
        let (hid, d) = (cfg.hidden(), cfg.model_dim());
        Self {
            fusion1: LinearConfig::new(2 * hid, cfg.fusion_hidden).init(device),
            fusion2: LinearConfig::new(cfg.fusion_hidden, 1).init(device),
            time_emb: LinearConfig::new(1, hid).init(device),
            blocks: (0..cfg.traj_layers).map(|_| Block::new(d, cfg.traj_heads, cfg.ffn_mult, device)).collect(),
            dist_clip_km: cfg.dist_clip_km,
            dt_clip_min: cfg.dt_clip_min,
        }
    }

    /// HOSER's fusion `road + σ(MLP[road ‖ zone]) · zone` (scalar gate per row), `[M, hidden]`.
    pub fn fuse(&self, road: Tensor<2>, zone: Tensor<2>) -> Tensor<2> {
        let g = self.fusion2.forward(gelu(self.fusion1.forward(Tensor::cat(vec![road.clone(), zone.clone()], 1))));
        road + sigmoid(g) * zone
    }

    /// Temporal encoding `cos(Linear(1, hidden)(±minute / 1440))`, negative on weekends:
    /// `minute, weekend [B, T]` → `[B, T, hidden]`.
    pub fn temporal(&self, minute: Tensor<2>, weekend: Tensor<2>) -> Tensor<3> {
        let sign = weekend.mul_scalar(-2.0).add_scalar(1.0);
        let t = (minute.div_scalar(1440.0) * sign).unsqueeze_dim::<3>(2);
        lin(&self.time_emb, t).cos()
    }

    /// Token features `[B, T, 2·hidden]` = fused road ‖ temporal.
    pub fn tokens(&self, emb: &RoadEmb, roads: Tensor<2, Int>, minute: Tensor<2>, weekend: Tensor<2>) -> Tensor<3> {
        let [b, t] = roads.dims();
        let hid = emb.spatial.dims()[1];
        let sp = emb.spatial.clone().select(0, roads.reshape([b * t])).reshape([b, t, hid]);
        Tensor::cat(vec![sp, self.temporal(minute, weekend)], 2)
    }

    /// Additive mask `[B, 1, L, L]`: −1e9 for keys in the future or at invalid positions.
    pub fn full_mask(valid: &Tensor<2, Bool>) -> Tensor<4> {
        let [b, l] = valid.dims();
        let future = Tensor::<2, Bool>::tril_mask([l, l], 0, &valid.device()).unsqueeze_dims::<4>(&[0, 1]);
        let pad = valid.clone().bool_not().unsqueeze_dims::<4>(&[1, 2]);
        let masked = future.expand([b, 1, l, l]).bool_or(pad.expand([b, 1, l, l]));
        masked.float().mul_scalar(MASKED)
    }

    /// Full (teacher-forcing) encoding `[B, L, 2·hidden]`.
    pub fn forward(&self, emb: &RoadEmb, t: &TokenInputs) -> Tensor<3> {
        let mut x = self.tokens(emb, t.roads.clone(), t.minute.clone(), t.weekend.clone());
        let (f0, f1) =
            relative_features(t.lonlat.clone(), t.secs.clone(), t.lonlat.clone(), t.secs.clone(), self.dist_clip_km, self.dt_clip_min);
        let mask = Self::full_mask(t.valid);
        for block in &self.blocks {
            x = block.forward(x, None, &f0, &f1, Some(&mask)).0;
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// The decomposed relative attention equals HOSER's explicit form with
    /// `[B, T, T, d_head]` relative key/value tensors.
    #[test]
    fn relative_attention_matches_explicit_form() {
        let d = Device::flex();
        let (b, t, dm, h) = (2, 5, 12, 2);
        let dh = dm / h;
        let att = Attention::new(dm, h, &d);
        let x = Tensor::<3>::random([b, t, dm], Distribution::Normal(0.0, 1.0), &d);
        let f0 = Tensor::<3>::random([b, t, t], Distribution::Uniform(0.0, 1.0), &d);
        let f1 = Tensor::<3>::random([b, t, t], Distribution::Uniform(0.0, 1.0), &d);
        let valid = Tensor::<2, Bool>::from_data([[true; 5], [true, true, true, false, false]], &d);
        let mask = TrajEncoder::full_mask(&valid);
        let (got, _) = att.forward(x.clone(), None, &f0, &f1, Some(&mask));

        let split = |z: Tensor<3>| z.reshape([b, t, h, dh]).swap_dims(1, 2);
        let qkv = att.c_attn.forward(x);
        let (q, k, v) = (split(qkv.clone().narrow(2, 0, dm)), split(qkv.clone().narrow(2, dm, dm)), split(qkv.narrow(2, 2 * dm, dm)));
        let feats = Tensor::cat(vec![f0.unsqueeze_dim::<4>(3), f1.unsqueeze_dim::<4>(3)], 3); // [B,T,T,2]
        let rk = att.rel_k.forward(feats.clone()); // [B, T, T, dh]
        let rv = att.rel_v.forward(feats);
        let attn1 = q.clone().matmul(k.swap_dims(2, 3));
        let attn2 = q.swap_dims(1, 2).matmul(rk.swap_dims(2, 3)).swap_dims(1, 2);
        let a = softmax((attn1 + attn2).div_scalar((dh as f32).sqrt()) + mask, 3);
        let w = a.clone().matmul(v) + a.swap_dims(1, 2).matmul(rv).swap_dims(1, 2);
        let want = att.c_proj.forward(w.swap_dims(1, 2).reshape([b, t, dm]));
        let diff = (got - want).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "max difference {diff}");
    }
}
