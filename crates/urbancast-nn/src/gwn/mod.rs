//! Graph WaveNet (Wu et al., IJCAI 2019, "Graph WaveNet for Deep Spatial-Temporal Graph
//! Modeling"), following the reference `gwnet` (nnzhan/Graph-WaveNet, `model.py`) and its copy
//! in ST-GFSL (`Models/meta_gwn.py`, class `gwnet`, ST-GFSL's defaults):
//!
//! - input `[B, T, N, C_in]` is brought to `[B, C_in, T, N]`, left-padded with zeros to the
//!   receptive field (13 steps for the defaults) and mapped by a 1x1 `start_conv` to the
//!   residual channels;
//! - `blocks x layers` layers, dilations `1, 2, .., 2^(layers-1)` restarting in every block,
//!   each: gated TCN `tanh(filter(x)) * sigmoid(gate(x))` (dilated convolutions of width
//!   `kernel_size` along time, no padding) -> 1x1 skip convolution (summed over layers, aligned
//!   to the last time step) and diffusion graph convolution (`[h, A h, .., A^K h]` for every
//!   support, then a 1x1 convolution and dropout) -> residual add -> `BatchNorm2d`;
//! - head: `relu(skip)` -> 1x1 `end_conv_1` -> relu -> 1x1 `end_conv_2` to
//!   `out_steps * out_channels`.
//!
//! Choices where the references leave room (documented on [`Gwn`]): the adaptive adjacency is
//! gwnet's (`meta_gwnet` has none), `BatchNorm2d` after every layer as both references, and
//! inputs longer than the receptive field are cut to it.

mod config;
mod gate_op;
mod graph;
mod io;
mod ops;

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Dropout};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

pub use config::{GwnConfig, GwnInit};
pub use graph::{AdaptiveAdj, double_transition, transition_matrix};
pub use io::{load_gwn, read_gwn_config, save_gwn};

/// Whether the model runs burn's own `Conv2d`, concatenation and gate instead of the matmul
/// convolutions and the fused gate (`URBANCAST_REFERENCE_GWN` set; for A/B measurements).
pub fn reference_path() -> bool {
    ops::reference()
}

use crate::error::{NnError, Result};

/// One Graph WaveNet layer on the `[B, C, T, N]` layout: gated dilated TCN, skip convolution,
/// diffusion graph convolution (or a 1x1 residual convolution when there is no support at all),
/// residual connection and batch normalisation.
#[derive(Module, Debug)]
pub struct GwnLayer {
    filter: Conv2d,
    gate: Conv2d,
    skip: Conv2d,
    /// 1x1 convolution over the diffusion features (when there are supports).
    gconv: Option<Conv2d>,
    /// 1x1 convolution used instead of `gconv` when there are no supports.
    residual: Option<Conv2d>,
    bn: Option<BatchNorm>,
}

impl GwnLayer {
    /// `x [B, res, T, N]` -> (next `x [B, res, T - dilation * (k - 1), N]` or `None` for the last
    /// layer, skip contribution of the last step `[B, skip, 1, N]`).
    fn forward(&self, x: Tensor<4>, supports: &[Tensor<2>], order: usize, dropout: &Dropout) -> (Option<Tensor<4>>, Tensor<4>) {
        let residual = x.clone();
        let h = gate_op::gate(ops::filter_gate(&self.filter, &self.gate, x));
        let t = h.dims()[2];
        // Only the last step of the summed skip reaches the head (gwnet slices `skip[..., -1:]`).
        let s = ops::conv(&self.skip, h.clone().narrow(2, t - 1, 1));
        let y = match (&self.gconv, &self.residual) {
            (Some(g), _) => Some(dropout.forward(ops::conv_parts(g, graph::diffusion_parts(h, supports, order)))),
            (None, Some(r)) => Some(ops::conv(r, h)),
            (None, None) => None,
        };
        let y = y.map(|y| {
            let rt = residual.dims()[2];
            let y = y + residual.narrow(2, rt - t, t);
            match &self.bn {
                Some(bn) => bn.forward(y),
                None => y,
            }
        });
        (y, s)
    }
}

/// The Graph WaveNet model (see the module docs and [`GwnConfig`]).
///
/// Notes on fidelity to gwnet / ST-GFSL's `meta_gwn.py`:
/// - `BatchNorm2d(residual_channels)` after each layer's residual add, as in both references
///   (burn's [`BatchNorm`]: batch statistics on an autodiff device, running statistics
///   otherwise). The last layer's graph convolution and BatchNorm are not built: in the
///   references their output is computed but never used (only the skip path reaches the head),
///   so the predictions are the same.
/// - The adaptive adjacency `softmax(relu(E1 E2), rows)` (embeddings `~ N(0, 1)`) is appended
///   after the given supports when [`GwnConfig::adaptive_adj`] is on (gwnet's `addaptadj`;
///   `meta_gwnet` itself uses only the two double-transition supports).
/// - Inputs shorter than the receptive field are left-padded with zeros (as the references);
///   longer inputs are cut to their last `receptive_field` steps (the references would then
///   predict for several end steps; only the last one is kept here).
/// - Dropout ([`GwnConfig::dropout`]) after each graph convolution, active only on an
///   autodiff device (burn's [`Dropout`]).
#[derive(Module, Debug)]
pub struct Gwn {
    start_conv: Conv2d,
    adaptive: Option<AdaptiveAdj>,
    layers: Vec<GwnLayer>,
    end_conv_1: Conv2d,
    end_conv_2: Conv2d,
    dropout: Dropout,
    #[module(skip)]
    config: GwnConfig,
}

impl Gwn {
    /// Configuration the model was built with.
    pub fn config(&self) -> &GwnConfig {
        &self.config
    }

    /// The self-adaptive adjacency `softmax(relu(E1 E2))` `[N, N]` (rows sum to 1), or `None`
    /// when [`GwnConfig::adaptive_adj`] is off.
    pub fn adaptive_adjacency(&self) -> Option<Tensor<2>> {
        self.adaptive.as_ref().map(AdaptiveAdj::adjacency)
    }

    /// Checks the shapes of `x` (`[B > 0, in_steps, num_nodes, in_channels]`) and of the
    /// supports (exactly [`GwnConfig::num_supports`] matrices `[N, N]`).
    pub fn check_input(&self, x: [usize; 4], supports: &[[usize; 2]]) -> Result<()> {
        let c = &self.config;
        let [b, t, n, f] = x;
        if b == 0 {
            return Err(NnError::Shape("GWN: empty batch".into()));
        }
        if n == 0 {
            return Err(NnError::Shape("GWN: a graph without nodes".into()));
        }
        if t != c.in_steps || (c.num_nodes != 0 && n != c.num_nodes) || f != c.in_channels {
            return Err(NnError::Shape(format!(
                "GWN input is [B, T={t}, N={n}, C={f}], model expects T={}, N={}, C={}",
                c.in_steps, c.num_nodes, c.in_channels
            )));
        }
        if supports.len() != c.num_supports {
            return Err(NnError::Shape(format!(
                "GWN got {} supports, model was built for num_supports = {}",
                supports.len(),
                c.num_supports
            )));
        }
        if let Some((i, s)) = supports.iter().enumerate().find(|(_, s)| **s != [n, n]) {
            return Err(NnError::Shape(format!("GWN support {i} is {s:?}, expected [{n}, {n}]")));
        }
        Ok(())
    }

    /// Like [`Gwn::forward`], but returns [`NnError::Shape`] when `x` or `supports` do not fit
    /// the model (see [`Gwn::check_input`]).
    pub fn try_forward(&self, x: Tensor<4>, supports: &[Tensor<2>]) -> Result<Tensor<4>> {
        let dims: Vec<[usize; 2]> = supports.iter().map(Tensor::dims).collect();
        self.check_input(x.dims(), &dims)?;
        Ok(self.forward_unchecked(x, supports).0)
    }

    /// Like [`Gwn::try_forward`], and also returns the node representation the head reads,
    /// `relu(end_conv_1(relu(skip)))` as `[B, N, end_channels]` (for distillation).
    pub fn try_forward_hidden(&self, x: Tensor<4>, supports: &[Tensor<2>]) -> Result<(Tensor<4>, Tensor<3>)> {
        let dims: Vec<[usize; 2]> = supports.iter().map(Tensor::dims).collect();
        self.check_input(x.dims(), &dims)?;
        Ok(self.forward_unchecked(x, supports))
    }

    /// Forecast: `x [B, T_in, N, C_in]` (batch, time, node, feature) and the given supports
    /// (already normalised `[N, N]` transition matrices, e.g. from [`transition_matrix`] or
    /// [`double_transition`]; they may differ between calls and are not stored) ->
    /// predictions `[B, out_steps, N, out_channels]`. The adaptive adjacency is appended to the
    /// supports when [`GwnConfig::adaptive_adj`] is on.
    ///
    /// # Panics
    /// When the shapes do not fit the model or `supports.len() != num_supports`; use
    /// [`Gwn::try_forward`] to get an error instead.
    pub fn forward(&self, x: Tensor<4>, supports: &[Tensor<2>]) -> Tensor<4> {
        match self.try_forward(x, supports) {
            Ok(y) => y,
            Err(e) => panic!("Gwn::forward: {e}"),
        }
    }

    fn forward_unchecked(&self, x: Tensor<4>, supports: &[Tensor<2>]) -> (Tensor<4>, Tensor<3>) {
        let c = &self.config;
        let [b, t, n, f] = x.dims();
        let mut x = x.permute([0, 3, 1, 2]); // [B, C_in, T, N]
        let rf = c.receptive_field();
        if t < rf {
            let pad = Tensor::zeros([b, f, rf - t, n], &x.device());
            x = Tensor::cat(vec![pad, x], 2);
        } else if t > rf {
            x = x.narrow(2, t - rf, rf);
        }
        let mut all: Vec<Tensor<2>> = supports.to_vec();
        all.extend(self.adaptive_adjacency());
        let mut h = Some(ops::conv(&self.start_conv, x));
        let mut skip: Option<Tensor<4>> = None;
        for layer in &self.layers {
            let Some(x) = h else { break };
            let (y, s) = layer.forward(x, &all, c.diffusion_order, &self.dropout);
            h = y;
            skip = Some(match skip {
                Some(acc) => acc + s,
                None => s,
            });
        }
        let skip = skip.expect("GWN has at least one layer");
        let z = relu(ops::conv(&self.end_conv_1, relu(skip))); // [B, end, 1, N]
        let hidden = z.clone().reshape([b, c.end_channels, n]).swap_dims(1, 2);
        let pred = ops::conv(&self.end_conv_2, z).reshape([b, c.out_steps, c.out_channels, n]).swap_dims(2, 3);
        (pred, hidden)
    }
}
