//! ST-net backbone (CrossTReS `STNet_nobn`): per-lag spatial block (shared weights) ->
//! per-region LSTM over the lags -> `z = [last output || last hidden]` -> MLP head, linear
//! (STBaT eq. 9; the default) or followed by a sigmoid (CrossTReS `sigmoid_out = True`).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{NnError, Result};
use crate::lstm::{FusedLstm, FusedLstmConfig};
use crate::spatial::{GraphBlock, GridBlock, normalized_adjacency};

/// Which spatial block the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpatialKind {
    /// 3x3 convolutions on a regular grid.
    Grid,
    /// GCN layers over a normalised adjacency.
    Graph,
}

/// What follows the head's last linear layer.
///
/// On sparse targets (scaled means of 0.05–0.08, a third or more exact zeros) the sigmoid
/// output starts at 0.5 and its first steps push every region's logit far below zero, where the
/// sigmoid is flat: training sits on the constant predictor for hundreds of steps, in PyTorch as
/// here (README, "Transfer: training regime"). The linear output learns the same windows at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// `FC(ReLU(FC(z)))`, unbounded while training; predictions are clamped at 0 at inference
    /// ([`StNet::predict_scaled`]).
    #[default]
    Linear,
    /// `sigmoid(FC(ReLU(FC(z))))`, in (0, 1).
    Sigmoid,
}

impl Output {
    /// The output of checkpoints written before the choice existed.
    fn legacy() -> Self {
        Output::Sigmoid
    }
}

/// Hyper-parameters of the ST-net.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StNetConfig {
    /// Flow channels `C` (e.g. 1 = one flow type, 2 = inflow/outflow).
    pub channels: usize,
    /// Number of input lags `L` (sequence length of the LSTM).
    pub lags: usize,
    /// Feature maps of the spatial block.
    pub conv_channels: usize,
    /// Residual units in the spatial block.
    pub res_units: usize,
    /// LSTM hidden size; the feature `z` is `2 * hidden` wide.
    pub hidden: usize,
    /// Hidden width of the prediction head.
    pub head_hidden: usize,
    /// Linear or sigmoid output (checkpoints without the field were sigmoid).
    #[serde(default = "Output::legacy")]
    pub output: Output,
}

impl StNetConfig {
    /// Paper defaults (`lags 6, conv 64, 3 res units, hidden 128, head 64`, linear output) for
    /// `channels`.
    pub fn new(channels: usize) -> Self {
        Self { channels, lags: 6, conv_channels: 64, res_units: 3, hidden: 128, head_hidden: 64, output: Output::Linear }
    }

    /// Width of the feature `z` (`2 * hidden`).
    pub fn z_dim(&self) -> usize {
        2 * self.hidden
    }

    /// Builds the model on `device` (parameters are drawn from the device RNG lazily, at
    /// first use; see [`StNetConfig::init_seeded`] for reproducible weights).
    pub fn init(&self, kind: SpatialKind, device: &Device) -> StNet {
        let (c, k) = (self.channels, self.conv_channels);
        let spatial = match kind {
            SpatialKind::Grid => Spatial::Grid(GridBlock::new(c, k, self.res_units, device)),
            SpatialKind::Graph => Spatial::Graph(GraphBlock::new(c, k, self.res_units, device)),
        };
        StNet {
            spatial,
            lstm: FusedLstmConfig { input: k, hidden: self.hidden }.init(device),
            fc1: LinearConfig::new(self.z_dim(), self.head_hidden).init(device),
            fc2: LinearConfig::new(self.head_hidden, c).init(device),
            config: self.clone(),
            kind,
        }
    }

    /// Seeds the device RNG with `seed`, builds the model and materialises every parameter
    /// immediately in a fixed order, so the same seed gives the same weights. The RNG of
    /// burn-flex is process-global: do not initialise other tensors concurrently.
    pub fn init_seeded(&self, kind: SpatialKind, device: &Device, seed: u64) -> StNet {
        crate::seeded::seeded(device, seed, || self.init(kind, device))
    }
}

/// Spatial block of either kind.
#[derive(Module, Debug)]
pub enum Spatial {
    /// Grid CNN.
    Grid(GridBlock),
    /// Graph GCN.
    Graph(GraphBlock),
}

/// Runtime (non-parameter) description of the regions of one city.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Space {
    /// `R = height * width` cells, row-major.
    Grid {
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
    },
    /// `R` nodes with a normalised adjacency `[R, R]` (see [`normalized_adjacency`]) on the
    /// model's device.
    Graph {
        /// `D^-1/2 (A+I) D^-1/2`.
        adj: Tensor<2>,
    },
}

impl Space {
    /// Grid space.
    pub fn grid(height: usize, width: usize) -> Self {
        Space::Grid { height, width }
    }

    /// Graph space from a raw dense row-major adjacency `[r*r]` (normalised here).
    pub fn graph_from_dense(adj: &[f32], r: usize, device: &Device) -> Self {
        let a = normalized_adjacency(adj, r);
        Space::Graph { adj: Tensor::from_data(TensorData::new(a, [r, r]), device) }
    }

    /// Number of regions `R`.
    pub fn regions(&self) -> usize {
        match self {
            Space::Grid { height, width } => height * width,
            Space::Graph { adj } => adj.dims()[0],
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Space::Grid { .. } => "grid",
            Space::Graph { .. } => "graph",
        }
    }
}

/// Output of [`StNet::forward`].
#[derive(Clone, Debug)]
pub struct StOut {
    /// Predictions (scaled units) `[B, R, C]`: unbounded for [`Output::Linear`], in (0, 1)
    /// for [`Output::Sigmoid`].
    pub pred: Tensor<3>,
    /// Region features `[B, R, 2 * hidden]` (= `[last LSTM output || last hidden]`).
    pub z: Tensor<3>,
}

/// The ST-net model (see module docs).
#[derive(Module, Debug)]
pub struct StNet {
    pub(crate) spatial: Spatial,
    pub(crate) lstm: FusedLstm,
    pub(crate) fc1: Linear,
    pub(crate) fc2: Linear,
    #[module(skip)]
    config: StNetConfig,
    #[module(skip)]
    kind: SpatialKind,
}

impl StNet {
    /// Configuration the model was built with.
    pub fn config(&self) -> &StNetConfig {
        &self.config
    }

    /// Spatial kind of the model.
    pub fn kind(&self) -> SpatialKind {
        self.kind
    }

    /// The LSTM layer (e.g. for tests or feature extraction).
    pub fn lstm(&self) -> &FusedLstm {
        &self.lstm
    }

    /// Checks that `x` (`[B, L, C, R]`) and `space` fit the model.
    pub fn check_input(&self, dims: [usize; 4], space: &Space) -> Result<()> {
        let [b, l, c, r] = dims;
        let cfg = &self.config;
        match (self.kind, space) {
            (SpatialKind::Grid, Space::Grid { .. }) | (SpatialKind::Graph, Space::Graph { .. }) => {}
            _ => return Err(NnError::SpaceKind { model: self.kind, given: space.name() }),
        }
        if b == 0 || r == 0 {
            return Err(NnError::Shape(format!("empty input [B={b}, L={l}, C={c}, R={r}]")));
        }
        if l != cfg.lags {
            return Err(NnError::Shape(format!("input has {l} lags, model expects {}", cfg.lags)));
        }
        if c != cfg.channels {
            return Err(NnError::Shape(format!("input has {c} channels, model expects {}", cfg.channels)));
        }
        match space {
            Space::Grid { height, width } if height * width != r => {
                Err(NnError::Shape(format!("input has R={r} regions but the grid is {height}x{width}")))
            }
            Space::Graph { adj } if adj.dims() != [r, r] => {
                Err(NnError::Shape(format!("input has R={r} regions but the adjacency is {:?}", adj.dims())))
            }
            _ => Ok(()),
        }
    }

    /// `x [B, L, C, R]` scaled flows -> predictions `[B, R, C]` and features `[B, R, 2H]`.
    pub fn forward(&self, x: Tensor<4>, space: &Space) -> Result<StOut> {
        let dims = x.dims();
        self.check_input(dims, space)?;
        let [b, l, c, r] = dims;
        let k = self.config.conv_channels;
        // -> time-major sequences [L, B, R, K]
        let seq = match (&self.spatial, space) {
            // channels last: [B, L, C, R] -> [B*L, H, W, C] -> [B*L, H, W, K] -> [L, B, R, K]
            (Spatial::Grid(g), Space::Grid { height, width }) => {
                g.forward(x.swap_dims(2, 3).reshape([b * l, *height, *width, c])).reshape([b, l, r, k]).swap_dims(0, 1)
            }
            (Spatial::Graph(g), Space::Graph { adj }) => {
                g.forward(x.permute([3, 0, 1, 2]).reshape([r, b * l, c]), adj).reshape([r, b, l, k]).permute([2, 1, 0, 3])
            }
            _ => unreachable!("checked by check_input"),
        };
        let h = self.lstm.forward(seq.reshape([l, b * r, k])); // [B*R, H]
        let hd = self.config.hidden;
        // z = [last output || last hidden]: identical halves for a single-layer LSTM, kept
        // duplicated as in the paper's code.
        let z = Tensor::cat(vec![h.clone(), h], 1).reshape([b, r, 2 * hd]);
        let pred = self.forward_head(z.clone());
        Ok(StOut { pred, z })
    }

    /// Prediction head on features: `z [B, R, 2H]` -> `[B, R, C]` (see [`Output`]).
    pub fn forward_head(&self, z: Tensor<3>) -> Tensor<3> {
        let y = self.fc2.forward(relu(self.fc1.forward(z)));
        match self.config.output {
            Output::Linear => y,
            Output::Sigmoid => sigmoid(y),
        }
    }

    /// Inference: [`StNet::forward`]'s predictions clamped at 0 (flows are never negative; a
    /// no-op for the sigmoid output).
    pub fn predict_scaled(&self, x: Tensor<4>, space: &Space) -> Result<Tensor<3>> {
        Ok(self.forward(x, space)?.pred.clamp_min(0.0))
    }

    /// The spatial block (the first part of the feature extractor).
    pub fn spatial(&self) -> &Spatial {
        &self.spatial
    }
}
