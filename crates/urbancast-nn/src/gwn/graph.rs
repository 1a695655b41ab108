//! Supports (transition matrices) and the diffusion graph convolution of Graph WaveNet.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, softmax};

/// Row-normalised transition matrix `D^-1 A` of a non-negative adjacency `adj [N, N]` (gwnet's
/// `asym_adj`): every row is divided by its sum; all-zero rows stay zero.
pub fn transition_matrix(adj: &Tensor<2>) -> Tensor<2> {
    let deg = adj.clone().sum_dim(1); // [N, 1]
    let inv = deg.clone().recip().mask_fill(deg.equal_elem(0.0), 0.0);
    adj.clone() * inv
}

/// gwnet's default "doubletransition" supports: `[D_out^-1 A, D_in^-1 Aᵀ]`, i.e. the transition
/// matrices of `adj` and of its transpose (forward and backward diffusion).
pub fn double_transition(adj: &Tensor<2>) -> [Tensor<2>; 2] {
    [transition_matrix(adj), transition_matrix(&adj.clone().transpose())]
}

/// gwnet's `nconv` on the `[B, C, T, N]` layout: `y[b, c, t, w] = sum_v x[b, c, t, v] a[v, w]`
/// (`einsum('ncvl,vw->ncwl')`), i.e. one diffusion step along the rows of `a`.
pub(super) fn nconv(x: Tensor<4>, a: &Tensor<2>) -> Tensor<4> {
    let [b, c, t, n] = x.dims();
    x.reshape([b * c * t, n]).matmul(a.clone()).reshape([b, c, t, n])
}

/// `[x, A_1 x, ..., A_1^K x, A_2 x, ...]` (`x [B, C, T, N]`, `K = order`): the parts whose
/// channel concatenation is the input of gwnet's graph-convolution 1x1 layer (the layer is
/// applied part by part, see `ops::conv_parts`).
pub(super) fn diffusion_parts(x: Tensor<4>, supports: &[Tensor<2>], order: usize) -> Vec<Tensor<4>> {
    let mut out = Vec::with_capacity(order * supports.len() + 1);
    out.push(x.clone());
    for a in supports {
        let mut h = x.clone();
        for _ in 0..order {
            h = nconv(h, a);
            out.push(h.clone());
        }
    }
    out
}

/// Node embeddings of the self-adaptive adjacency `softmax(relu(E1 E2))` (row-wise softmax),
/// initialised from a standard normal like gwnet's `nodevec1`/`nodevec2`.
#[derive(Module, Debug)]
pub struct AdaptiveAdj {
    /// Source embeddings `E1 [N, d]`.
    pub e1: Param<Tensor<2>>,
    /// Target embeddings `E2 [d, N]`.
    pub e2: Param<Tensor<2>>,
}

impl AdaptiveAdj {
    /// The adaptive adjacency `[N, N]`; rows sum to 1.
    pub fn adjacency(&self) -> Tensor<2> {
        softmax(relu(self.e1.val().matmul(self.e2.val())), 1)
    }
}
