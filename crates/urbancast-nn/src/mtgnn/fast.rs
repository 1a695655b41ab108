//! Fast forward pass of [`Mtgnn`]: every convolution as a matrix product on a node-first,
//! channels-last layout `[N, B, T, C]`.
//!
//! The parameters are the ones of the reference modules (Conv2d weights, layer-norm params);
//! they are reshaped into matrices on every forward, so gradients reach the stored parameters.
//! What is computed equals [`Mtgnn::forward_reference`] up to float rounding:
//! * a `1x1` convolution is `h [.., C] · Wᵀ + b`;
//! * the 8 inception branches of a layer (filter and gate, kernels 2/3/6/7) are one 7-tap
//!   product `unfold(h) [N·B·T', 7·C] · W [7·C, 2·conv]` (a branch with kernel `k` uses the last
//!   `k` taps, zero weight elsewhere);
//! * a `(1, T)` skip convolution is `h [N·B, T·C] · W [T·C, skip]`;
//! * mix-hop propagation is linear in `x`: hop `k` over `Ã` is `P_k x` with
//!   `P_1 = αI + (1-α)Ã`, `P_k = αI + (1-α)Ã P_{k-1}`; the `P_k` of all graphs are stacked
//!   side by side once per forward; a layer's graph part is then
//!   `[P_1 .. P_GK] [N, G·K·N] · stack_gk(x W_gk) [G·K·N, B·T·res]` (the MLP of hop `k` applied
//!   before propagation); hop 0 (`x` itself) of all graphs (and the no-graph residual conv)
//!   share one weight sum.

use burn::nn::conv::Conv2d;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};

use super::graph::{MixProp, normalize_with_self_loops};
use super::layers::{DilatedInception, INCEPTION_KERNELS, NodeLayerNorm};
use super::tconv_op;
use super::{Mtgnn, MtgnnLayer, MtgnnOut};

/// `1x1` conv weight `[O, I, 1, 1]` -> `[I, O]` (a transposed view), and its bias.
fn pointwise(conv: &Conv2d) -> (Tensor<2>, Option<Tensor<1>>) {
    let [o, i, _, _] = conv.weight.dims();
    let w = conv.weight.val().reshape([o, i]).transpose();
    (w, conv.bias.as_ref().map(|b| b.val()))
}

/// `(1, k)` conv weight `[O, I, 1, k]` -> tap-major `[k, I, O]`.
fn taps(conv: &Conv2d) -> Tensor<3> {
    let [o, i, _, k] = conv.weight.dims();
    conv.weight.val().reshape([o, i, k]).permute([2, 1, 0])
}

/// `(1, T)` conv over the whole time axis as a matrix `[T·I, O]` (rows `t·I + i`), and bias.
fn full_time(conv: &Conv2d) -> (Tensor<2>, Option<Tensor<1>>) {
    let [o, i, _, k] = conv.weight.dims();
    let w = taps(conv).reshape([k * i, o]);
    (w, conv.bias.as_ref().map(|b| b.val()))
}

/// `x [R, I] · w [I, O] + b`.
fn affine(x: Tensor<2>, w: Tensor<2>, b: Option<Tensor<1>>) -> Tensor<2> {
    let y = x.matmul(w);
    match b {
        Some(b) => y + b.unsqueeze::<2>(),
        None => y,
    }
}

impl DilatedInception {
    /// Dilation of the branches (all share it).
    fn dilation(&self) -> usize {
        self.convs.first().map_or(1, |c| c.dilation[1])
    }

    /// The branches as one 7-tap weight `[7, c_in, c_out]` (zero where a branch is shorter)
    /// and the concatenated bias `[c_out]`.
    fn fused(&self) -> (Tensor<3>, Tensor<1>) {
        let kmax = INCEPTION_KERNELS[INCEPTION_KERNELS.len() - 1];
        let mut ws = Vec::with_capacity(self.convs.len());
        let mut bs = Vec::with_capacity(self.convs.len());
        for conv in &self.convs {
            let w = taps(conv); // [k, I, O/4]
            let [k, i, o] = w.dims();
            let w = if k < kmax { Tensor::cat(vec![Tensor::zeros([kmax - k, i, o], &w.device()), w], 0) } else { w };
            ws.push(w);
            bs.push(match &conv.bias {
                Some(b) => b.val(),
                None => Tensor::zeros([o], &conv.weight.device()),
            });
        }
        (Tensor::cat(ws, 2), Tensor::cat(bs, 0))
    }
}

impl MixProp {
    /// Hop weights `[c_in, c_out]` (`depth + 1` of them, hop 0 first) of the 1x1 MLP, and bias.
    fn hop_weights(&self) -> (Vec<Tensor<2>>, Option<Tensor<1>>) {
        let (w, b) = pointwise(&self.mlp); // [(depth + 1) c_in, c_out]
        let [rows, _] = w.dims();
        let c_in = rows / (self.depth + 1);
        let ws = (0..=self.depth).map(|k| w.clone().narrow(0, k * c_in, c_in)).collect();
        (ws, b)
    }
}

impl NodeLayerNorm {
    /// `x [N, B, T, C]` normalised over `(N, T, C)` of each sample with affine params.
    fn forward_nbtc(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, b, t, c] = x.dims();
        let cnt = (n * t * c) as f64;
        let flat = x.reshape([n, b, t * c]);
        let mean = flat.clone().sum_dim(2).sum_dim(0).div_scalar(cnt); // [1, B, 1]
        let d = flat - mean;
        let var = d.clone().square().sum_dim(2).sum_dim(0).div_scalar(cnt);
        let y = (d / var.add_scalar(1e-5).sqrt()).reshape([n, b, t, c]);
        // params [C, N, T] -> [N, 1, T, C]
        let w = self.weight.val().permute([1, 2, 0]).unsqueeze_dim::<4>(1);
        let bias = self.bias.val().permute([1, 2, 0]).unsqueeze_dim::<4>(1);
        y * w + bias
    }
}

/// `h [N, B, T, C]` -> `[N·B·T', taps·C]` with `T' = T - (taps-1)·d`, row `(n, b, t')`
/// holding `h[n, b, t' + j·d, :]` for `j = 0..taps` (tap-major); one product with a 0/1
/// selection matrix `S [T'·taps, T]` (fallback of [`tconv_op::try_tconv`]).
fn unfold_time(h: Tensor<4>, taps: usize, d: usize) -> Tensor<2> {
    let [n, b, t, c] = h.dims();
    let t_out = t - (taps - 1) * d;
    let mut s = vec![0.0f32; t_out * taps * t];
    for tt in 0..t_out {
        for j in 0..taps {
            s[(tt * taps + j) * t + tt + j * d] = 1.0;
        }
    }
    let s = Tensor::<2>::from_data(TensorData::new(s, [t_out * taps, t]), &h.device());
    s.unsqueeze::<3>().matmul(h.reshape([n * b, t, c])).reshape([n * b * t_out, taps * c])
}

/// `(1, taps)` convolution with dilation `d` of `h [N, B, T, C]` by a tap-major weight
/// `w [taps·C, O]` -> `[N·B·T', O]`.
fn temporal_conv(h: Tensor<4>, w: Tensor<2>, bias: Tensor<1>, taps: usize, d: usize) -> Tensor<2> {
    let [n, b, t, c] = h.dims();
    let t_out = t - (taps - 1) * d;
    let o = w.dims()[1];
    if d == 1 {
        let x = h.clone().reshape([n * b, t, c]);
        if let Some(y) = tconv_op::try_tconv(&x, &w, &bias, taps) {
            return y.reshape([n * b * t_out, o]);
        }
    }
    affine(unfold_time(h, taps, d), w, Some(bias))
}

/// Hop operators side by side, `[N, G·K·N]` (graph-major, then hop `1..=K`).
fn hop_operators(graphs: &[Tensor<2>], depth: usize, alpha: f32) -> Tensor<2> {
    let mut ps = Vec::with_capacity(graphs.len() * depth);
    for a in graphs {
        let n = a.dims()[0];
        let eye_a = Tensor::<2>::eye(n, &a.device()).mul_scalar(alpha);
        let a = a.clone().mul_scalar(1.0 - alpha);
        let mut p = eye_a.clone() + a.clone();
        ps.push(p.clone());
        for _ in 1..depth {
            p = eye_a.clone() + a.clone().matmul(p);
            ps.push(p.clone());
        }
    }
    Tensor::cat(ps, 1)
}

/// Per-forward constants of the graph part shared by all layers.
struct GraphOps {
    /// Hop operators side by side `[N, G·K·N]` (`None` when no graph is used or `K = 0`).
    hops: Option<Tensor<2>>,
}

impl MtgnnLayer {
    fn mixprops(&self) -> Vec<&MixProp> {
        [&self.gconv1, &self.gconv2, &self.gconv3].into_iter().flatten().collect()
    }

    /// `x [N, B, T, res]` -> (`[N, B, T', res]`, skip `[N·B, skip]`).
    fn forward_fast(&self, x: Tensor<4>, g: &GraphOps, m: &Mtgnn) -> (Tensor<4>, Tensor<2>) {
        let [n, b, t, _] = x.dims();
        // filter + gate: one 7-tap product
        let (wf, bf) = self.filter.fused();
        let (wg, bg) = self.gate.fused();
        let w = Tensor::cat(vec![wf, wg], 2);
        let [kk, ci, co2] = w.dims();
        let conv = co2 / 2;
        let d = self.filter.dilation();
        let t_out = t - (kk - 1) * d;
        let fg = temporal_conv(x.clone(), w.reshape([kk * ci, co2]), Tensor::cat(vec![bf, bg], 0), kk, d);
        let filter = fg.clone().narrow(1, 0, conv).tanh();
        let gate = sigmoid(fg.narrow(1, conv, conv));
        let h = m.dropout.forward(filter * gate); // [N·B·T', conv]
        let (ws, bs) = full_time(&self.skip);
        let s = affine(h.clone().reshape([n * b, t_out * conv]), ws, bs);

        // graph convolutions: hop 0 terms share one weight sum
        let mps = self.mixprops();
        let mut w0: Option<Tensor<2>> = None;
        let mut b0: Option<Tensor<1>> = None;
        let mut hop_ws: Vec<Tensor<2>> = Vec::new(); // graph-major, hops 1..=K
        let add2 = |acc: Option<Tensor<2>>, w: Tensor<2>| Some(acc.map_or(w.clone(), |a| a + w));
        let add1 = |acc: Option<Tensor<1>>, w: Tensor<1>| Some(acc.map_or(w.clone(), |a| a + w));
        for mp in &mps {
            let (mut ws, b) = mp.hop_weights();
            let rest = ws.split_off(1);
            w0 = add2(w0, ws.remove(0));
            if let Some(b) = b {
                b0 = add1(b0, b);
            }
            hop_ws.extend(rest);
        }
        if let Some(r) = &self.residual {
            let (w, b) = pointwise(r);
            w0 = add2(w0, w);
            if let Some(b) = b {
                b0 = add1(b0, b);
            }
        }
        let w0 = w0.expect("at least one branch");
        let res = w0.dims()[1];
        let mut y = affine(h.clone(), w0, b0); // [N·B·T', res]
        if let (Some(p), false) = (&g.hops, hop_ws.is_empty()) {
            // Σ_gk P_gk (h W_gk) = [P_1 .. P_GK] · stack_gk(h W_gk)
            let gk = hop_ws.len();
            let rows = n * b * t_out;
            let wk = Tensor::stack::<3>(hop_ws, 0); // [G·K, conv, res]
            let z = h.unsqueeze::<3>().matmul(wk); // [G·K, N·B·T', res]
            let z = z.reshape([gk * n, rows / n * res]);
            y = y + p.clone().matmul(z).reshape([rows, res]);
        }
        let y = y.reshape([n, b, t_out, res]) + x.narrow(2, t - t_out, t_out);
        (self.norm.forward_nbtc(y), s)
    }
}

impl Mtgnn {
    pub(super) fn forward_fast(&self, x: Tensor<4>, adj: Tensor<2>) -> MtgnnOut {
        let c = &self.config;
        let [b, t, n, f] = x.dims();
        let device: Device = x.device();
        let mut x = x.permute([2, 0, 1, 3]); // [N, B, T, F]
        let rf = c.receptive_field();
        if t < rf {
            let pad = Tensor::zeros([n, b, rf - t, f], &device);
            x = Tensor::cat(vec![pad, x], 2);
        }
        let t0 = x.dims()[2];
        // graphs in the order gconv1 (Ã), gconv2 (normalised Aᵀ), gconv3 (given)
        let mut graphs = Vec::with_capacity(3);
        if let Some(gl) = &self.graph {
            let a = gl.adjacency();
            graphs.push(normalize_with_self_loops(a.clone()));
            graphs.push(normalize_with_self_loops(a.transpose()));
        }
        if c.use_given_adj {
            graphs.push(normalize_with_self_loops(adj));
        }
        let ops = GraphOps { hops: (!graphs.is_empty() && c.gcn_depth > 0).then(|| hop_operators(&graphs, c.gcn_depth, c.prop_alpha)) };

        let (w, bias) = full_time(&self.skip0);
        let xin = self.dropout.forward(x.clone()).reshape([n * b, t0 * f]);
        let mut skip = affine(xin, w, bias); // [N·B, skip]
        let (w, bias) = pointwise(&self.start_conv);
        let res = w.dims()[1];
        let mut h = affine(x.reshape([n * b * t0, f]), w, bias).reshape([n, b, t0, res]);
        for layer in &self.layers {
            let (y, s) = layer.forward_fast(h, &ops, self);
            h = y;
            skip = skip + s;
        }
        let [_, _, tf, _] = h.dims();
        let (w, bias) = full_time(&self.skip_e);
        skip = skip + affine(h.reshape([n * b, tf * res]), w, bias);
        let (w, bias) = pointwise(&self.end_conv_1);
        let z = relu(affine(relu(skip), w, bias)); // [N·B, end]
        let hidden = z.clone().reshape([n, b, c.end_channels]).swap_dims(0, 1);
        let (w, bias) = pointwise(&self.end_conv_2);
        let pred = affine(z, w, bias).reshape([n, b, c.horizon, c.out_channels]).permute([1, 2, 0, 3]);
        MtgnnOut { pred, hidden }
    }
}
