//! Hyper-parameters and construction of [`Mtgnn`].

use burn::nn::DropoutConfig;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::graph::{GraphLearner, MixProp};
use super::layers::{DilatedInception, INCEPTION_KERNELS, NodeLayerNorm};
use super::{Mtgnn, MtgnnLayer};
use crate::error::{NnError, Result};

/// Hyper-parameters of [`Mtgnn`] (defaults of [`MtgnnConfig::new`] in brackets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MtgnnConfig {
    /// Number of graph nodes `N`.
    pub num_nodes: usize,
    /// Input features per node and step (e.g. `C` targets + 1 time-of-day).
    pub in_dim: usize,
    /// Predicted channels per node and step `C`.
    pub out_channels: usize,
    /// Input steps `T` [12].
    pub seq_len: usize,
    /// Predicted steps `H` [12].
    pub horizon: usize,
    /// Node-embedding width of the graph learner [40].
    pub node_dim: usize,
    /// Entries kept per row of the learned adjacency [20] (clamped to `num_nodes`).
    pub top_k: usize,
    /// Saturation rate `alpha` of the graph learner [3.0].
    pub tanh_alpha: f32,
    /// Mix-hop propagation depth [2].
    pub gcn_depth: usize,
    /// Mix-hop retain ratio [0.05].
    pub prop_alpha: f32,
    /// Channels of the dilated inception output [32] (multiple of 4).
    pub conv_channels: usize,
    /// Residual channels [32].
    pub residual_channels: usize,
    /// Skip channels [64].
    pub skip_channels: usize,
    /// Width of `end_conv_1` (= width of [`super::MtgnnOut::hidden`]) [128].
    pub end_channels: usize,
    /// Temporal + graph layers [3].
    pub layers: usize,
    /// Widest temporal kernel [7]; must be 7 (MTGNN's inception kernels are 2, 3, 6, 7).
    pub kernel_size: usize,
    /// Dropout probability [0.3].
    pub dropout: f64,
    /// Add a mix-hop branch over the given adjacency [true].
    pub use_given_adj: bool,
    /// Learn an adjacency from node embeddings [true].
    pub learn_graph: bool,
}

impl MtgnnConfig {
    /// LightST/MTGNN defaults for `num_nodes` nodes, `in_dim` inputs and `out_channels` outputs.
    pub fn new(num_nodes: usize, in_dim: usize, out_channels: usize) -> Self {
        Self {
            num_nodes,
            in_dim,
            out_channels,
            seq_len: 12,
            horizon: 12,
            node_dim: 40,
            top_k: 20,
            tanh_alpha: 3.0,
            gcn_depth: 2,
            prop_alpha: 0.05,
            conv_channels: 32,
            residual_channels: 32,
            skip_channels: 64,
            end_channels: 128,
            layers: 3,
            kernel_size: 7,
            dropout: 0.3,
            use_given_adj: true,
            learn_graph: true,
        }
    }

    /// Receptive field `1 + layers * (kernel_size - 1)`; shorter inputs are left-padded.
    pub fn receptive_field(&self) -> usize {
        1 + self.layers * self.kernel_size.saturating_sub(1)
    }

    /// Checks that the configuration describes a buildable model.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(NnError::Shape(format!("invalid MTGNN config: {msg}")));
        let sizes = [
            ("num_nodes", self.num_nodes),
            ("in_dim", self.in_dim),
            ("out_channels", self.out_channels),
            ("seq_len", self.seq_len),
            ("horizon", self.horizon),
            ("conv_channels", self.conv_channels),
            ("residual_channels", self.residual_channels),
            ("skip_channels", self.skip_channels),
            ("end_channels", self.end_channels),
            ("layers", self.layers),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return bad(format!("{name} must be > 0"));
        }
        if self.learn_graph && (self.node_dim == 0 || self.top_k == 0) {
            return bad("node_dim and top_k must be > 0 when learn_graph".into());
        }
        if !self.conv_channels.is_multiple_of(INCEPTION_KERNELS.len()) {
            return bad(format!("conv_channels {} is not a multiple of 4", self.conv_channels));
        }
        if self.kernel_size != 7 {
            return bad(format!("kernel_size {} (only 7 is supported)", self.kernel_size));
        }
        if !self.dropout.is_finite() || !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout {} not in [0, 1)", self.dropout));
        }
        if !self.tanh_alpha.is_finite() || !self.prop_alpha.is_finite() {
            return bad("tanh_alpha and prop_alpha must be finite".into());
        }
        Ok(())
    }

    /// Builds the model on `device`, or fails if [`MtgnnConfig::validate`] does.
    pub fn try_init(&self, device: &Device) -> Result<Mtgnn> {
        self.validate()?;
        let (res, conv, skip) = (self.residual_channels, self.conv_channels, self.skip_channels);
        let n = self.num_nodes;
        let k1 = self.kernel_size - 1;
        let t0 = self.seq_len.max(self.receptive_field());
        let mixprop = |on: bool| on.then(|| MixProp::new(conv, res, self.gcn_depth, self.prop_alpha, device));
        let layers = (0..self.layers)
            .map(|i| {
                let t = t0 - (i + 1) * k1;
                MtgnnLayer {
                    filter: DilatedInception::new(res, conv, 1, device),
                    gate: DilatedInception::new(res, conv, 1, device),
                    skip: Conv2dConfig::new([conv, skip], [1, t]).init(device),
                    gconv1: mixprop(self.learn_graph),
                    gconv2: mixprop(self.learn_graph),
                    gconv3: mixprop(self.use_given_adj),
                    residual: (!self.learn_graph && !self.use_given_adj).then(|| Conv2dConfig::new([conv, res], [1, 1]).init(device)),
                    norm: NodeLayerNorm::new([res, n, t], device),
                }
            })
            .collect();
        let t_final = t0 - self.layers * k1;
        Ok(Mtgnn {
            graph: self.learn_graph.then(|| GraphLearner::new(n, self.node_dim, self.top_k, self.tanh_alpha, device)),
            start_conv: Conv2dConfig::new([self.in_dim, res], [1, 1]).init(device),
            skip0: Conv2dConfig::new([self.in_dim, skip], [1, t0]).init(device),
            layers,
            skip_e: Conv2dConfig::new([res, skip], [1, t_final]).init(device),
            end_conv_1: Conv2dConfig::new([skip, self.end_channels], [1, 1]).init(device),
            end_conv_2: Conv2dConfig::new([self.end_channels, self.horizon * self.out_channels], [1, 1]).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            config: self.clone(),
        })
    }

    /// Builds the model on `device` (parameters drawn lazily from the device RNG; see
    /// [`MtgnnConfig::init_seeded`] for reproducible weights).
    ///
    /// # Panics
    /// When the configuration is invalid; use [`MtgnnConfig::try_init`] to get an error.
    pub fn init(&self, device: &Device) -> Mtgnn {
        match self.try_init(device) {
            Ok(m) => m,
            Err(e) => panic!("MtgnnConfig::init: {e}"),
        }
    }

    /// Like [`MtgnnConfig::try_init`], but seeds the device RNG with `seed` first and
    /// materialises every parameter in a fixed order, so the same seed gives the same weights.
    /// The RNG of burn-flex is process-global: do not initialise other tensors concurrently.
    pub fn try_init_seeded(&self, device: &Device, seed: u64) -> Result<Mtgnn> {
        self.validate()?;
        crate::seeded::try_seeded(device, seed, || self.try_init(device))
    }

    /// Seeded [`MtgnnConfig::init`] (see [`MtgnnConfig::try_init_seeded`]).
    ///
    /// # Panics
    /// When the configuration is invalid.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Mtgnn {
        match self.try_init_seeded(device, seed) {
            Ok(m) => m,
            Err(e) => panic!("MtgnnConfig::init_seeded: {e}"),
        }
    }
}
