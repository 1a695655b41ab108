//! TSJT's Node Prompting Module (Zhang et al., AAAI 2025, "Drawing Informative Gradients from
//! Sources: A One-stage Transfer Learning Framework for Cross-city Spatiotemporal
//! Forecasting"), following the public `node_prompt.py` (zhangyudongUSTC/TSJT-main) on the
//! `[B, T, N, C]` layout of [`crate::gwn`]:
//!
//! - encoder (`STEncoder`, width `D`): a sinusoidal time encoding is added to the input `X`
//!   itself (dimension `C`) before anything else; `x1 = relu(dropout(Linear_C→D(Âᵀ x)))`;
//!   `x2` = one-head self-attention of `x1`; `x3 = LayerNorm(Linear_C→D(x) + x2)` (`x` the
//!   time-encoded input); `x4 = relu(dropout(Linear_D→D(Âᵀ x3)))`; `h = LayerNorm(x3 + x4)`;
//! - prompts `P [B, T, N, D]` from a bank of `M` matrices `D x D` (see [`PromptBank`]);
//! - outputs ([`NpmOut`]): the backbone input `concat(X, P)` (the raw `X`, without the time
//!   encoding) and the prompt graph, the Gram matrix of the prompts over nodes.
//!
//! Choices where the public code is ambiguous or cannot serve several cities (all documented on
//! [`Npm`]): temporal attention instead of attention across `B·N`, LayerNorm over `D` instead of
//! `[N, T, D]`, attention over the bank by default ([`PromptBank::Sum`] keeps the code's sum),
//! the standard sinusoidal encoding, and a Gram matrix averaged over the batch.

mod config;
mod encoder;

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, softmax};

pub use config::{NpmConfig, PromptBank};

use crate::error::{NnError, Result};
use encoder::StEncoder;

/// Output of [`Npm::forward`].
#[derive(Clone, Debug)]
pub struct NpmOut {
    /// Prompt features `P [B, T, N, D]`.
    pub prompt: Tensor<4>,
    /// Backbone input `concat(X, P)` along the features, `[B, T, N, C + D]`.
    pub input: Tensor<4>,
    /// Prompt graph `[N, N]`: the unnormalised Gram matrix
    /// `G[n, m] = (1/B) sum_b sum_t <P[b, t, n, :], P[b, t, m, :]>` (symmetric, not a support
    /// as it is; see [`graph_support`]).
    pub graph: Tensor<2>,
}

/// `D^-1/2 (A + I) D^-1/2` of a dense adjacency `adj [N, N]`, with `D` the row sums of `A + I`
/// (rows of degree 0 become 0), computed by [`crate::spatial::normalized_adjacency`] on the
/// host. The result is a constant on `adj`'s device (no gradient flows back to `adj`).
///
/// # Panics
/// When `adj` is not square.
pub fn sym_norm_adjacency(adj: &Tensor<2>) -> Tensor<2> {
    let [n, m] = adj.dims();
    assert_eq!(n, m, "sym_norm_adjacency: adjacency is [{n}, {m}], not square");
    let a: Vec<f32> = adj.to_data().iter::<f32>().collect();
    let norm = crate::spatial::normalized_adjacency(&a, n);
    Tensor::from_data(burn::tensor::TensorData::new(norm, [n, n]), &adj.device())
}

/// A Graph WaveNet support from a prompt graph `graph [N, N]` ([`NpmOut::graph`]):
/// `D^-1 relu(G)`, non-negative with rows summing to 1.
///
/// Why not `softmax(G)`: the Gram entries grow with `T·D·|P|²` (hundreds to thousands at TSJT's
/// sizes, ×`M` more with [`PromptBank::Sum`]), so a softmax would saturate to near one-hot rows
/// with vanishing gradients; the raw matrix would blow up the diffusion. `D^-1 relu(G)` is
/// invariant to the scale of `G` and keeps every positively correlated neighbour. A row whose
/// prompt is (numerically) zero stays zero (degrees are clamped at `1e-12`).
pub fn graph_support(graph: &Tensor<2>) -> Tensor<2> {
    let a = relu(graph.clone());
    let deg = a.clone().sum_dim(1).clamp_min(1e-12); // [N, 1]
    a / deg
}

/// TSJT's Node Prompting Module (see the module docs and [`NpmConfig`]).
///
/// Fidelity notes (where `node_prompt.py` is ambiguous or broken):
/// - Attention: the code applies `nn.MultiheadAttention(D, 1)` (not `batch_first`) to a
///   `[B·N, T, D]` tensor, which therefore attends across the `B·N` axis (mixing samples of a
///   batch) with `T` as the batch. Here it is **temporal**: every sample's node attends over
///   its own `T` steps (one head, scaled dot product, query/key/value/output projections as
///   `nn.MultiheadAttention` has them).
/// - LayerNorm: the code normalises over `[N, T, D]` with learned `[N, T, D]` scale and shift,
///   which ties the module to one node count (its `main.py` hard-codes `num_node = 627`) while
///   TSJT trains on cities with different `N`. Here both LayerNorms are over `D` (scale and
///   shift `[D]`), so no parameter depends on `N` or `T`.
/// - Bank: the code's `einsum('bntd,sde->bnte')` sums the bank into one matrix; the default
///   here is attention over the bank ([`PromptBank::Attention`]); [`PromptBank::Sum`] keeps the
///   code's form. Both divide by `sqrt(D)` as the code.
/// - Time encoding: the standard transformer formula; the code's loop uses the exponent
///   `2i/C` for the sine of column `i` and `2(i+1)/C` for the cosine of column `i+1` (with `i`
///   the even column, so its frequencies differ from the standard ones) and fails for odd `C`.
///   The code also `detach`es the encoded input, which only matters when `X` needs a gradient;
///   here gradients flow to `X`.
/// - Graph: the code returns one Gram matrix per sample, `einsum('bntd,bmtd->bnm', P, P)`
///   (summed over time and features); here it is averaged over the batch into one `[N, N]`.
/// - Dropout ([`NpmConfig::dropout`]) sits between each graph convolution's linear layer and
///   its ReLU, as in the code, and is active only on an autodiff device (burn's `Dropout`).
#[derive(Module, Debug)]
pub struct Npm {
    encoder: StEncoder,
    /// Prompt bank `W [M, D, D]`.
    pub bank: Param<Tensor<3>>,
    /// One key `k_m [D]` per bank matrix, `[M, D]` ([`PromptBank::Attention`] only).
    pub keys: Option<Param<Tensor<2>>>,
    #[module(skip)]
    config: NpmConfig,
}

impl Npm {
    /// Configuration the module was built with.
    pub fn config(&self) -> &NpmConfig {
        &self.config
    }

    /// Checks the shapes of `x` (`[B > 0, T > 0, N > 0, in_channels]`) and of the normalised
    /// adjacency (`[N, N]`).
    pub fn check_input(&self, x: [usize; 4], adj: [usize; 2]) -> Result<()> {
        let [b, t, n, c] = x;
        if b == 0 || t == 0 || n == 0 {
            return Err(NnError::Shape(format!("NPM input [B={b}, T={t}, N={n}, C={c}] is empty")));
        }
        if c != self.config.in_channels {
            return Err(NnError::Shape(format!("NPM input has C={c} features, module expects in_channels = {}", self.config.in_channels)));
        }
        if adj != [n, n] {
            return Err(NnError::Shape(format!("NPM adjacency is {adj:?}, expected [{n}, {n}] for N={n} nodes")));
        }
        Ok(())
    }

    /// Like [`Npm::forward`], but returns [`NnError::Shape`] when `x` or `adj_norm` do not fit
    /// (see [`Npm::check_input`]).
    pub fn try_forward(&self, x: Tensor<4>, adj_norm: &Tensor<2>) -> Result<NpmOut> {
        self.check_input(x.dims(), adj_norm.dims())?;
        let h = self.encoder.forward(x.clone(), adj_norm);
        let prompt = self.prompt(h);
        let graph = gram(prompt.clone());
        let input = Tensor::cat(vec![x, prompt.clone()], 3);
        Ok(NpmOut { prompt, input, graph })
    }

    /// Prompts for `x [B, T, N, C]` (batch, time, node, feature; any `N` and `T`) and the
    /// normalised adjacency `adj_norm [N, N]` (e.g. from [`sym_norm_adjacency`]; not stored).
    ///
    /// # Panics
    /// When the shapes do not fit (see [`Npm::check_input`]); use [`Npm::try_forward`] to get an
    /// error instead.
    pub fn forward(&self, x: Tensor<4>, adj_norm: &Tensor<2>) -> NpmOut {
        match self.try_forward(x, adj_norm) {
            Ok(out) => out,
            Err(e) => panic!("Npm::forward: {e}"),
        }
    }

    /// `h [B, T, N, D]` -> `P [B, T, N, D]` through the bank.
    fn prompt(&self, h: Tensor<4>) -> Tensor<4> {
        let [b, t, n, d] = h.dims();
        let w = self.bank.val();
        let m = w.dims()[0];
        let scale = 1.0 / (d as f64).sqrt();
        match &self.keys {
            None => {
                let sum = w.sum_dim(0).reshape([d, d]);
                h.reshape([b * t * n, d]).matmul(sum).reshape([b, t, n, d]).mul_scalar(scale)
            }
            Some(keys) => {
                let pooled = h.clone().mean_dim(1).reshape([b * n, d]);
                let a = softmax(pooled.matmul(keys.val().transpose()).mul_scalar(scale), 1); // [BN, M]
                let mix = a.matmul(w.reshape([m, d * d])).reshape([b, n, d, d]);
                h.swap_dims(1, 2).matmul(mix).swap_dims(1, 2).mul_scalar(scale)
            }
        }
    }
}

/// `P [B, T, N, D]` -> `(1/B) sum_b sum_t P_bt P_btᵀ` `[N, N]`.
fn gram(p: Tensor<4>) -> Tensor<2> {
    let [b, t, n, d] = p.dims();
    let q = p.permute([2, 0, 1, 3]).reshape([n, b * t * d]);
    q.clone().matmul(q.transpose()).div_scalar(b as f64)
}
