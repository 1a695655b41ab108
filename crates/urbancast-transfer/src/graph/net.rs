//! The graph backbone of the ST-GFSL / TSJT protocol: Graph WaveNet over the city's two
//! double-transition supports, optionally behind TSJT's Node Prompting Module (the backbone then
//! sees `concat(X, P)` and a third support built from the prompt graph `PᵀP`). No parameter
//! depends on the number of nodes, so one model trains on cities of different sizes.
use anyhow::Result;
use burn::module::Module;
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};
use urbancast_nn::gwn::{GwnInit, double_transition};
use urbancast_nn::npm::{Npm, NpmConfig, graph_support};
use urbancast_nn::{Gwn, GwnConfig, normalized_adjacency};

/// Backbone sizes (ST-GFSL's `meta_gwn` defaults) and the NPM switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphNetConfig {
    /// Graph WaveNet residual channels (32).
    pub residual_channels: usize,
    /// Dilation channels (32).
    pub dilation_channels: usize,
    /// Skip channels (256).
    pub skip_channels: usize,
    /// End channels (512).
    pub end_channels: usize,
    /// Blocks (4) of `layers` (2) dilated layers.
    pub blocks: usize,
    /// Layers per block.
    pub layers: usize,
    /// Dropout after each graph convolution (0.3).
    pub dropout: f64,
    /// Hidden width `D` of the Node Prompting Module (128).
    pub prompt_dim: usize,
    /// Prompt matrices in the NPM's bank (150).
    pub bank_size: usize,
    /// Weight initialisation: Xavier-uniform as the TSJT code (`xavier`), or burn's
    /// PyTorch-like default (`burn`).
    pub xavier: bool,
}

impl Default for GraphNetConfig {
    fn default() -> Self {
        GraphNetConfig {
            residual_channels: 32,
            dilation_channels: 32,
            skip_channels: 256,
            end_channels: 512,
            blocks: 4,
            layers: 2,
            dropout: 0.3,
            prompt_dim: 128,
            bank_size: 150,
            xavier: true,
        }
    }
}

impl GraphNetConfig {
    /// The GWN of a model on `in_channels` input features predicting `horizon` steps, with or
    /// without the NPM in front.
    pub fn gwn(&self, in_channels: usize, horizon: usize, with_npm: bool) -> GwnConfig {
        GwnConfig {
            num_nodes: 0,
            in_channels: in_channels + if with_npm { self.prompt_dim } else { 0 },
            in_steps: 12,
            out_steps: horizon,
            out_channels: 1,
            residual_channels: self.residual_channels,
            dilation_channels: self.dilation_channels,
            skip_channels: self.skip_channels,
            end_channels: self.end_channels,
            blocks: self.blocks,
            layers: self.layers,
            dropout: self.dropout,
            adaptive_adj: false,
            num_supports: 2 + usize::from(with_npm),
            weight_init: if self.xavier { GwnInit::XavierUniform } else { GwnInit::Burn },
            ..GwnConfig::new(0, in_channels)
        }
    }

    /// The NPM for `in_channels` input features.
    pub fn npm(&self, in_channels: usize) -> NpmConfig {
        NpmConfig { in_channels, hidden: self.prompt_dim, bank_size: self.bank_size, ..NpmConfig::default() }
    }

    /// A fresh model (seeded) for inputs of `in_steps` steps and `in_channels` features.
    pub fn init(
        &self,
        in_steps: usize,
        in_channels: usize,
        horizon: usize,
        with_npm: bool,
        device: &Device,
        seed: u64,
    ) -> Result<GraphNet> {
        let mut g = self.gwn(in_channels, horizon, with_npm);
        g.in_steps = in_steps;
        let gwn = g.try_init_seeded(device, seed)?;
        let npm = if with_npm { Some(self.npm(in_channels).try_init_seeded(device, seed ^ 0x9E37)?) } else { None };
        Ok(GraphNet { gwn, npm })
    }
}

/// A city's graph as the backbone uses it: GWN's two transition supports and the NPM's
/// symmetric normalisation `D^-1/2 (A + I) D^-1/2`.
#[derive(Clone)]
pub struct Supports {
    /// `[P(A), P(Aᵀ)]`, row-normalised (gwnet's double transition).
    pub transition: [Tensor<2>; 2],
    /// The NPM's graph.
    pub sym: Tensor<2>,
}

impl Supports {
    /// Supports of the `n x n` adjacency `adj` (row-major) on `device`.
    pub fn new(adj: &[f32], n: usize, device: &Device) -> Supports {
        let a = Tensor::<2>::from_data(TensorData::new(adj.to_vec(), [n, n]), device);
        let sym = Tensor::<2>::from_data(TensorData::new(normalized_adjacency(adj, n), [n, n]), device);
        Supports { transition: double_transition(&a), sym }
    }
}

/// Graph WaveNet, optionally with TSJT's Node Prompting Module in front.
#[derive(Module, Debug)]
pub struct GraphNet {
    /// The backbone.
    pub gwn: Gwn,
    /// The prompting module (TSJT with NPM).
    pub npm: Option<Npm>,
}

impl GraphNet {
    /// Forecast `[B, H, N]` (normalised units) from inputs `[B, T, N, C]`.
    pub fn forward(&self, x: Tensor<4>, s: &Supports) -> Result<Tensor<3>> {
        let y = match &self.npm {
            None => self.gwn.try_forward(x, &s.transition)?,
            Some(npm) => {
                let out = npm.try_forward(x, &s.sym)?;
                let prompt = graph_support(&out.graph);
                let sup = [s.transition[0].clone(), s.transition[1].clone(), prompt];
                self.gwn.try_forward(out.input, &sup)?
            }
        };
        let [b, h, n, _] = y.dims();
        Ok(y.reshape([b, h, n]))
    }
}
