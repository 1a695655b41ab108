//! Hyper-parameters and construction of [`Gwn`].

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, Initializer};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{AdaptiveAdj, Gwn, GwnLayer};
use crate::error::{NnError, Result};

/// Weight initialisation of the convolutions of [`Gwn`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GwnInit {
    /// burn's default for `Conv2d` (Kaiming-uniform with gain `1/sqrt(3)` for weights and
    /// biases, i.e. PyTorch's default `Conv2d` init, which gwnet and ST-GFSL use).
    #[default]
    Burn,
    /// Xavier/Glorot-uniform weights (gain 1, `fan_in = c_in * k`, `fan_out = c_out * k`, as
    /// `torch.nn.init.xavier_uniform_`) and zero biases.
    XavierUniform,
}

/// Hyper-parameters of [`Gwn`] (defaults: ST-GFSL `meta_gwnet`'s).
///
/// Build the model with [`GwnConfig::init`] / [`GwnConfig::init_seeded`]. [`Default`] is
/// `GwnConfig::new(1, 1)`; missing fields deserialise to its values (so `num_nodes` and
/// `in_channels` must be given in practice).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GwnConfig {
    /// Number of graph nodes `N` (default 1); 0 = any number (one model for graphs of
    /// different sizes, as cross-city transfer needs; only without the adaptive adjacency,
    /// whose node embeddings are tied to one graph).
    pub num_nodes: usize,
    /// Input features per node and step `C_in` (default 1).
    pub in_channels: usize,
    /// Input steps `T_in` (default 12); inputs shorter than [`GwnConfig::receptive_field`] are
    /// left-padded with zeros, longer ones are cut to their last `receptive_field` steps.
    pub in_steps: usize,
    /// Predicted steps (default 6).
    pub out_steps: usize,
    /// Predicted channels per node and step (default 1).
    pub out_channels: usize,
    /// Residual channels (default 32).
    pub residual_channels: usize,
    /// Channels of the gated temporal convolution (default 32).
    pub dilation_channels: usize,
    /// Skip channels (default 256).
    pub skip_channels: usize,
    /// Width of `end_conv_1` (default 512).
    pub end_channels: usize,
    /// Temporal kernel width (default 2).
    pub kernel_size: usize,
    /// Blocks (default 4); dilations restart at 1 in every block.
    pub blocks: usize,
    /// Layers per block (default 2); layer `i` of a block has dilation `2^i`.
    pub layers: usize,
    /// Dropout after each graph convolution (default 0.3).
    pub dropout: f64,
    /// Add the adaptive adjacency `softmax(relu(E1 E2))` to the supports (default true).
    pub adaptive_adj: bool,
    /// Width of the node embeddings `E1 [N, d]`, `E2 [d, N]` (default 10).
    pub embed_dim: usize,
    /// Diffusion steps per support in the graph convolution (default 2).
    pub diffusion_order: usize,
    /// Number of given supports passed to [`Gwn::forward`] (default 1; gwnet's
    /// "doubletransition" uses 2, see [`super::double_transition`]).
    pub num_supports: usize,
    /// Initialisation of the convolution weights (default [`GwnInit::Burn`]).
    pub weight_init: GwnInit,
}

impl Default for GwnConfig {
    fn default() -> Self {
        Self::new(1, 1)
    }
}

impl GwnConfig {
    /// ST-GFSL `meta_gwnet` defaults for `num_nodes` nodes and `in_channels` input features.
    pub fn new(num_nodes: usize, in_channels: usize) -> Self {
        Self {
            num_nodes,
            in_channels,
            in_steps: 12,
            out_steps: 6,
            out_channels: 1,
            residual_channels: 32,
            dilation_channels: 32,
            skip_channels: 256,
            end_channels: 512,
            kernel_size: 2,
            blocks: 4,
            layers: 2,
            dropout: 0.3,
            adaptive_adj: true,
            embed_dim: 10,
            diffusion_order: 2,
            num_supports: 1,
            weight_init: GwnInit::Burn,
        }
    }

    /// Receptive field `1 + blocks * (kernel_size - 1) * (2^layers - 1)` (13 for the defaults).
    pub fn receptive_field(&self) -> usize {
        let per_block: usize = (0..self.layers).map(|i| self.kernel_size.saturating_sub(1) << i).sum();
        1 + self.blocks * per_block
    }

    /// Supports used by every graph convolution: the given ones plus the adaptive one.
    pub fn total_supports(&self) -> usize {
        self.num_supports + usize::from(self.adaptive_adj)
    }

    /// Checks that the configuration describes a buildable model.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(NnError::Shape(format!("invalid GWN config: {msg}")));
        let sizes = [
            ("in_channels", self.in_channels),
            ("in_steps", self.in_steps),
            ("out_steps", self.out_steps),
            ("out_channels", self.out_channels),
            ("residual_channels", self.residual_channels),
            ("dilation_channels", self.dilation_channels),
            ("skip_channels", self.skip_channels),
            ("end_channels", self.end_channels),
            ("blocks", self.blocks),
            ("layers", self.layers),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return bad(format!("{name} must be > 0"));
        }
        if self.num_nodes == 0 && self.adaptive_adj {
            return bad(
                "num_nodes = 0 (any graph) needs adaptive_adj off: the adaptive adjacency's node embeddings are tied to one graph".into()
            );
        }
        if self.kernel_size < 2 {
            return bad(format!("kernel_size {} must be >= 2", self.kernel_size));
        }
        if self.layers > 16 {
            return bad(format!("layers {} per block is too many (dilation 2^(layers-1))", self.layers));
        }
        if self.adaptive_adj && self.embed_dim == 0 {
            return bad("embed_dim must be > 0 when adaptive_adj".into());
        }
        if self.total_supports() > 0 && self.diffusion_order == 0 {
            return bad("diffusion_order must be > 0 when there are supports".into());
        }
        if !self.dropout.is_finite() || !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout {} not in [0, 1)", self.dropout));
        }
        Ok(())
    }

    /// A `(kernel, 1)` convolution over `[B, C, T, N]` with time dilation `dilation`.
    fn conv(&self, c_in: usize, c_out: usize, kernel: usize, dilation: usize, device: &Device) -> Conv2d {
        let cfg = Conv2dConfig::new([c_in, c_out], [kernel, 1]).with_dilation([dilation, 1]);
        match self.weight_init {
            GwnInit::Burn => cfg.init(device),
            GwnInit::XavierUniform => {
                let mut conv = cfg.with_initializer(Initializer::XavierUniform { gain: 1.0 }).with_bias(false).init(device);
                conv.bias = Some(Initializer::Zeros.init([c_out], device));
                conv
            }
        }
    }

    /// Builds the model on `device`, or fails if [`GwnConfig::validate`] does.
    pub fn try_init(&self, device: &Device) -> Result<Gwn> {
        self.validate()?;
        let (res, dil, skip, k) = (self.residual_channels, self.dilation_channels, self.skip_channels, self.kernel_size);
        let supports = self.total_supports();
        let depth = self.blocks * self.layers;
        let layers = (0..depth)
            .map(|i| {
                let dilation = 1usize << (i % self.layers);
                // The last layer's graph convolution, residual and BatchNorm feed nothing (only
                // its skip output reaches the head), so they are not built.
                let mixes = i + 1 < depth;
                GwnLayer {
                    filter: self.conv(res, dil, k, dilation, device),
                    gate: self.conv(res, dil, k, dilation, device),
                    skip: self.conv(dil, skip, 1, 1, device),
                    gconv: (mixes && supports > 0).then(|| self.conv((self.diffusion_order * supports + 1) * dil, res, 1, 1, device)),
                    residual: (mixes && supports == 0).then(|| self.conv(dil, res, 1, 1, device)),
                    bn: mixes.then(|| BatchNormConfig::new(res).init(device)),
                }
            })
            .collect();
        let normal = Initializer::Normal { mean: 0.0, std: 1.0 };
        Ok(Gwn {
            start_conv: self.conv(self.in_channels, res, 1, 1, device),
            adaptive: self.adaptive_adj.then(|| AdaptiveAdj {
                e1: normal.init([self.num_nodes, self.embed_dim], device),
                e2: normal.init([self.embed_dim, self.num_nodes], device),
            }),
            layers,
            end_conv_1: self.conv(skip, self.end_channels, 1, 1, device),
            end_conv_2: self.conv(self.end_channels, self.out_steps * self.out_channels, 1, 1, device),
            dropout: DropoutConfig::new(self.dropout).init(),
            config: self.clone(),
        })
    }

    /// Builds the model on `device` (parameters drawn lazily from the device RNG; see
    /// [`GwnConfig::init_seeded`] for reproducible weights).
    ///
    /// # Panics
    /// When the configuration is invalid; use [`GwnConfig::try_init`] to get an error.
    pub fn init(&self, device: &Device) -> Gwn {
        match self.try_init(device) {
            Ok(m) => m,
            Err(e) => panic!("GwnConfig::init: {e}"),
        }
    }

    /// Like [`GwnConfig::try_init`], but seeds the device RNG with `seed` first and materialises
    /// every parameter in a fixed order (see [`crate::seeded::try_seeded`]), so the same seed
    /// gives the same weights.
    pub fn try_init_seeded(&self, device: &Device, seed: u64) -> Result<Gwn> {
        self.validate()?;
        crate::seeded::try_seeded(device, seed, || self.try_init(device))
    }

    /// Seeded [`GwnConfig::init`] (see [`GwnConfig::try_init_seeded`]).
    ///
    /// # Panics
    /// When the configuration is invalid.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Gwn {
        match self.try_init_seeded(device, seed) {
            Ok(m) => m,
            Err(e) => panic!("GwnConfig::init_seeded: {e}"),
        }
    }
}
