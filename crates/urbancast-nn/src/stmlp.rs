//! The LightST student: a spatio-temporal MLP with no graph operation.
//!
//! Per node, the input window `[T, C]` is flattened and encoded by one linear layer; learned
//! node-identity, time-of-day and day-of-week embeddings are concatenated to it; three residual
//! MLP layers with layer norm (`h + W2 · dropout(relu(W1 · LN(h)))`) follow; one linear layer
//! produces all `H x C` outputs at once. Nodes never exchange information: the model has no
//! adjacency input, so inference costs `O(N)` and needs no graph.
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{load_weights, read_config, save_module};
use crate::error::{NnError, Result};

const KEY_CONFIG: &str = "urbancast.stmlp.config";

/// Hyper-parameters of the student.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StMlpConfig {
    /// Nodes `N` (sensors or zones).
    pub num_nodes: usize,
    /// Target channels `C` (inputs and outputs).
    pub channels: usize,
    /// Input steps `T` of a window.
    pub seq_len: usize,
    /// Output steps `H` predicted at once.
    pub horizon: usize,
    /// Time-of-day slots per day (e.g. 288 at 5 minutes).
    pub steps_per_day: usize,
    /// Width of the encoded input window.
    pub embed_dim: usize,
    /// Width of the node-identity embedding (0 = none).
    pub node_dim: usize,
    /// Width of the time-of-day embedding (0 = none).
    pub tod_dim: usize,
    /// Width of the day-of-week embedding (0 = none).
    pub dow_dim: usize,
    /// Residual MLP layers.
    pub layers: usize,
    /// Dropout probability inside the MLP layers during training.
    pub dropout: f64,
}

impl StMlpConfig {
    /// Defaults: 32-wide window encoding and embeddings (hidden 128), 3 layers, dropout 0.15.
    pub fn new(num_nodes: usize, channels: usize, steps_per_day: usize) -> Self {
        Self {
            num_nodes,
            channels,
            seq_len: 12,
            horizon: 12,
            steps_per_day,
            embed_dim: 32,
            node_dim: 32,
            tod_dim: 32,
            dow_dim: 32,
            layers: 3,
            dropout: 0.15,
        }
    }

    /// Width of the hidden node representation.
    pub fn hidden(&self) -> usize {
        self.embed_dim + self.node_dim + self.tod_dim + self.dow_dim
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> StMlp {
        let h = self.hidden();
        let emb =
            |n: usize, d: usize| (d > 0).then(|| Initializer::XavierUniform { gain: 1.0 }.init_with([n, d], Some(d), Some(n), device));
        StMlp {
            encoder: LinearConfig::new(self.seq_len * self.channels, self.embed_dim).init(device),
            node_emb: emb(self.num_nodes, self.node_dim),
            tod_emb: emb(self.steps_per_day, self.tod_dim),
            dow_emb: emb(7, self.dow_dim),
            blocks: (0..self.layers)
                .map(|_| MlpBlock {
                    norm: LayerNormConfig::new(h).init(device),
                    fc1: LinearConfig::new(h, h).init(device),
                    fc2: LinearConfig::new(h, h).init(device),
                    dropout: DropoutConfig::new(self.dropout).init(),
                })
                .collect(),
            head: LinearConfig::new(h, self.horizon * self.channels).init(device),
            config: self.clone(),
        }
    }

    /// Seeds the device RNG and materialises every parameter in a fixed order (same seed, same
    /// weights). The burn-flex RNG is process-global: do not initialise tensors concurrently.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> StMlp {
        crate::seeded::seeded(device, seed, || self.init(device))
    }
}

/// One residual MLP layer with pre-layer-norm.
#[derive(Module, Debug)]
pub struct MlpBlock {
    norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    dropout: Dropout,
}

impl MlpBlock {
    fn forward(&self, h: Tensor<3>) -> Tensor<3> {
        let y = self.fc2.forward(self.dropout.forward(relu(self.fc1.forward(self.norm.forward(h.clone())))));
        h + y
    }
}

/// The student network.
#[derive(Module, Debug)]
pub struct StMlp {
    encoder: Linear,
    node_emb: Option<Param<Tensor<2>>>,
    tod_emb: Option<Param<Tensor<2>>>,
    dow_emb: Option<Param<Tensor<2>>>,
    blocks: Vec<MlpBlock>,
    head: Linear,
    #[module(skip)]
    config: StMlpConfig,
}

/// Student outputs.
pub struct StMlpOut {
    /// Predictions `[B, H, N, C]` (normalised units).
    pub pred: Tensor<4>,
    /// Hidden node representations `[B, N, hidden]` (for representation distillation).
    pub hidden: Tensor<3>,
}

impl StMlp {
    /// The hyper-parameters the model was built with.
    pub fn config(&self) -> &StMlpConfig {
        &self.config
    }

    /// `x`: `[B, T, N, C]` normalised inputs; `tod`, `dow`: `[B]` slot of day / day of week of
    /// the last input step.
    pub fn forward(&self, x: Tensor<4>, tod: Tensor<1, Int>, dow: Tensor<1, Int>) -> Result<StMlpOut> {
        let cfg = &self.config;
        let [b, t, n, c] = x.dims();
        if t != cfg.seq_len || n != cfg.num_nodes || c != cfg.channels {
            return Err(NnError::Shape(format!(
                "student expects input [B, {}, {}, {}], got [{b}, {t}, {n}, {c}]",
                cfg.seq_len, cfg.num_nodes, cfg.channels
            )));
        }
        if tod.dims()[0] != b || dow.dims()[0] != b {
            return Err(NnError::Shape(format!("time indices of length {} / {} for a batch of {b}", tod.dims()[0], dow.dims()[0])));
        }
        let window = x.permute([0, 2, 1, 3]).reshape([b, n, t * c]);
        let mut parts = vec![self.encoder.forward(window)];
        if let Some(e) = &self.node_emb {
            parts.push(e.val().unsqueeze_dim::<3>(0).expand([b, n, cfg.node_dim]));
        }
        if let Some(e) = &self.tod_emb {
            parts.push(e.val().select(0, tod).unsqueeze_dim::<3>(1).expand([b, n, cfg.tod_dim]));
        }
        if let Some(e) = &self.dow_emb {
            parts.push(e.val().select(0, dow).unsqueeze_dim::<3>(1).expand([b, n, cfg.dow_dim]));
        }
        let mut h = Tensor::cat(parts, 2);
        for block in &self.blocks {
            h = block.forward(h);
        }
        let pred = self.head.forward(h.clone()).reshape([b, n, cfg.horizon, c]).permute([0, 2, 1, 3]);
        Ok(StMlpOut { pred, hidden: h })
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        Module::num_params(self)
    }
}

/// Writes the student and its configuration to `path`.
pub fn save_stmlp(model: &StMlp, path: impl AsRef<std::path::Path>) -> Result<()> {
    save_module(model, KEY_CONFIG, model.config(), path)
}

/// Rebuilds the student stored at `path` on `device`.
pub fn load_stmlp(path: impl AsRef<std::path::Path>, device: &Device) -> Result<StMlp> {
    let config: StMlpConfig = read_config(&path, KEY_CONFIG, "LightST student")?;
    let mut model = config.init(device);
    load_weights(&mut model, path)?;
    Ok(model)
}
