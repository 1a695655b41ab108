//! The spatio-temporal encoder of the NPM (`STEncoder` of `node_prompt.py`) on the
//! `[B, T, N, F]` layout.

use burn::module::Module;
use burn::nn::{Dropout, LayerNorm, Linear};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor, TensorData};

/// The standard transformer sinusoidal encoding of the positions `0..t` in `c` dimensions,
/// `[1, t, 1, c]`: `pe[p, 2k] = sin(p / 10000^(2k/c))`, `pe[p, 2k+1] = cos(p / 10000^(2k/c))`
/// (an odd last dimension gets the sine only).
pub(super) fn time_encoding(t: usize, c: usize, device: &Device) -> Tensor<4> {
    let mut pe = vec![0.0f32; t * c];
    for p in 0..t {
        for i in 0..c {
            let angle = p as f64 / 10000f64.powf((i - i % 2) as f64 / c as f64);
            pe[p * c + i] = if i % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    Tensor::from_data(TensorData::new(pe, [1, t, 1, c]), device)
}

/// `node_prompt.py`'s `nconv` on `[B, T, N, F]`: `y[.., m, :] = sum_n adj[n, m] x[.., n, :]`
/// (`einsum('bntd,bnm->bmtd')`, i.e. `adjᵀ X`, which is `adj X` for a symmetric `adj`).
fn node_mix(x: Tensor<4>, adj: &Tensor<2>) -> Tensor<4> {
    let [b, t, n, f] = x.dims();
    x.swap_dims(2, 3).reshape([b * t * f, n]).matmul(adj.clone()).reshape([b, t, f, n]).swap_dims(2, 3)
}

/// One-head scaled dot-product self-attention over time, with the query, key, value and
/// output projections of `nn.MultiheadAttention(D, 1)` (attention dropout 0, as its default).
#[derive(Module, Debug)]
pub struct TemporalAttention {
    pub(super) query: Linear,
    pub(super) key: Linear,
    pub(super) value: Linear,
    pub(super) output: Linear,
}

impl TemporalAttention {
    /// `x [B, T, N, D]` -> `[B, T, N, D]`: every node's `T` steps attend over its own `T` steps.
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, t, n, d] = x.dims();
        let s = x.swap_dims(1, 2).reshape([b * n, t, d]);
        let q = self.query.forward(s.clone());
        let k = self.key.forward(s.clone());
        let v = self.value.forward(s);
        let w = softmax(q.matmul(k.swap_dims(1, 2)).div_scalar((d as f64).sqrt()), 2); // [BN, T, T]
        self.output.forward(w.matmul(v)).reshape([b, n, t, d]).swap_dims(1, 2)
    }
}

/// `STEncoder`: time encoding, graph convolution, temporal attention, two residual LayerNorms.
#[derive(Module, Debug)]
pub struct StEncoder {
    /// Linear `C -> D` of the first graph convolution.
    pub(super) gcn1: Linear,
    pub(super) attention: TemporalAttention,
    /// Linear `C -> D` of the encoded input added to the attention output (`self.mlp`).
    pub(super) skip: Linear,
    pub(super) norm1: LayerNorm,
    /// Linear `D -> D` of the second graph convolution.
    pub(super) gcn2: Linear,
    pub(super) norm2: LayerNorm,
    pub(super) dropout: Dropout,
}

impl StEncoder {
    /// `gcn`: `relu(dropout(linear(adjᵀ x)))`.
    fn gcn(&self, linear: &Linear, x: Tensor<4>, adj: &Tensor<2>) -> Tensor<4> {
        relu(self.dropout.forward(linear.forward(node_mix(x, adj))))
    }

    /// `x [B, T, N, C]`, `adj [N, N]` -> `h [B, T, N, D]`.
    pub(super) fn forward(&self, x: Tensor<4>, adj: &Tensor<2>) -> Tensor<4> {
        let [_, t, _, c] = x.dims();
        let pe = time_encoding(t, c, &x.device());
        let x = x + pe;
        let x1 = self.gcn(&self.gcn1, x.clone(), adj);
        let x2 = self.attention.forward(x1);
        let x3 = self.norm1.forward(self.skip.forward(x) + x2);
        let x4 = self.gcn(&self.gcn2, x3.clone(), adj);
        self.norm2.forward(x3 + x4)
    }
}
