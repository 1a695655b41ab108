//! Graph parts of MTGNN: the graph-learning layer (learned sparse adjacency) and mix-hop
//! propagation (`mixprop`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

/// `(A + I)` row-normalised (`D^-1 (A + I)`, as in MTGNN's `mixprop`); `a` is `[N, N]` with
/// non-negative weights.
pub fn normalize_with_self_loops(a: Tensor<2>) -> Tensor<2> {
    let n = a.dims()[0];
    let a = a.clone() + Tensor::<2>::eye(n, &a.device());
    let d = a.clone().sum_dim(1); // [N, 1]
    a / d
}

/// One propagation step over the node axis: `y[b, c, v, t] = sum_w a[v, w] x[b, c, w, t]`.
fn propagate(x: Tensor<4>, a_norm: &Tensor<2>) -> Tensor<4> {
    let [b, c, n, t] = x.dims();
    let flat = x.permute([2, 0, 1, 3]).reshape([n, b * c * t]);
    a_norm.clone().matmul(flat).reshape([n, b, c, t]).permute([1, 2, 0, 3])
}

/// Mix-hop propagation of MTGNN: `h_0 = x`, `h_k = alpha x + (1 - alpha) Ã h_{k-1}` over the
/// node axis of `x [B, C, N, T]` with `a_norm = Ã [N, N]` (see [`normalize_with_self_loops`]).
/// Returns `[h_0, ..., h_depth]` (`depth + 1` tensors shaped like `x`).
pub fn mix_hop(x: Tensor<4>, a_norm: Tensor<2>, depth: usize, alpha: f32) -> Vec<Tensor<4>> {
    let mut out = Vec::with_capacity(depth + 1);
    let mut h = x.clone();
    out.push(x.clone());
    for _ in 0..depth {
        h = x.clone().mul_scalar(alpha) + propagate(h, &a_norm).mul_scalar(1.0 - alpha);
        out.push(h.clone());
    }
    out
}

/// MTGNN `mixprop`: mix-hop propagation followed by a 1x1 convolution over the concatenated
/// hops (`(depth + 1) * c_in -> c_out`).
#[derive(Module, Debug)]
pub struct MixProp {
    pub(super) mlp: Conv2d,
    #[module(skip)]
    pub(super) depth: usize,
    #[module(skip)]
    alpha: f32,
}

impl MixProp {
    /// New layer `c_in -> c_out` with `depth` hops and retain ratio `alpha`.
    pub fn new(c_in: usize, c_out: usize, depth: usize, alpha: f32, device: &Device) -> Self {
        let mlp = Conv2dConfig::new([(depth + 1) * c_in, c_out], [1, 1]).init(device);
        Self { mlp, depth, alpha }
    }

    /// `x [B, c_in, N, T]`, `a_norm [N, N]` (already normalised) -> `[B, c_out, N, T]`.
    pub fn forward(&self, x: Tensor<4>, a_norm: Tensor<2>) -> Tensor<4> {
        self.mlp.forward(Tensor::cat(mix_hop(x, a_norm, self.depth, self.alpha), 1))
    }
}

/// MTGNN graph-learning layer: two node-embedding tables (trained parameters) give
/// `A = relu(tanh(alpha (M1 M2ᵀ - M2 M1ᵀ)))`, sparsified to the top-k entries per row.
#[derive(Module, Debug)]
pub struct GraphLearner {
    emb1: Embedding,
    emb2: Embedding,
    lin1: Linear,
    lin2: Linear,
    #[module(skip)]
    alpha: f32,
    #[module(skip)]
    k: usize,
}

impl GraphLearner {
    /// `n` nodes, embeddings of width `dim`, keep `k` entries per row (clamped to `n`).
    pub fn new(n: usize, dim: usize, k: usize, alpha: f32, device: &Device) -> Self {
        Self {
            emb1: EmbeddingConfig::new(n, dim).init(device),
            emb2: EmbeddingConfig::new(n, dim).init(device),
            lin1: LinearConfig::new(dim, dim).init(device),
            lin2: LinearConfig::new(dim, dim).init(device),
            alpha,
            k: k.min(n),
        }
    }

    /// The learned adjacency `[N, N]` (non-negative, at most `k` non-zeros per row).
    pub fn adjacency(&self) -> Tensor<2> {
        let a = self.alpha;
        let nv1 = self.lin1.forward(self.emb1.weight.val()).mul_scalar(a).tanh();
        let nv2 = self.lin2.forward(self.emb2.weight.val()).mul_scalar(a).tanh();
        let m = nv1.clone().matmul(nv2.clone().transpose()) - nv2.matmul(nv1.transpose());
        let adj = relu(m.mul_scalar(a).tanh());
        let mask = topk_mask(&adj, self.k);
        adj * mask
    }
}

/// 0/1 mask keeping the `k` largest entries of each row (ties: lower column index first),
/// computed on a detached host copy so gradients flow through the kept entries only.
fn topk_mask(a: &Tensor<2>, k: usize) -> Tensor<2> {
    let [n, m] = a.dims();
    let vals: Vec<f32> = a.clone().detach().into_data().iter::<f32>().collect();
    let mut mask = vec![0.0f32; n * m];
    let mut idx: Vec<usize> = Vec::with_capacity(m);
    for (row, vrow) in vals.chunks(m.max(1)).enumerate().take(n) {
        idx.clear();
        idx.extend(0..m);
        // stable sort: equal values keep ascending column order
        idx.sort_by(|&i, &j| vrow[j].total_cmp(&vrow[i]));
        for &j in idx.iter().take(k) {
            mask[row * m + j] = 1.0;
        }
    }
    Tensor::from_data(TensorData::new(mask, [n, m]), &a.device())
}
