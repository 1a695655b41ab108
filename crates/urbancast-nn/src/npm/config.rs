//! Hyper-parameters and construction of [`Npm`].

use burn::nn::{DropoutConfig, Initializer, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::Npm;
use super::encoder::{StEncoder, TemporalAttention};
use crate::error::{NnError, Result};

/// How the prompt bank `W [M, D, D]` turns the encoder output `h [.., D]` into prompts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptBank {
    /// Attention over the bank (the paper's idea of a bank of prompts): every sample and node
    /// `n` weighs the `M` matrices by `a_{n,m} = softmax_m(<mean_t h_{n,t}, k_m> / sqrt(D))`
    /// with one learned key `k_m [D]` per matrix, and
    /// `P_{n,t} = h_{n,t} · (sum_m a_{n,m} W_m) / sqrt(D)`.
    /// Costs `O(B·N·M·D²)` operations and a `[B·N, D, D]` intermediate (1.3 GB in f32 for
    /// `B = 32`, `N = 627`, `D = 128`).
    #[default]
    Attention,
    /// What `node_prompt.py` computes: `einsum('bntd,sde->bnte', Z, bank) / sqrt(D)`, which sums
    /// the bank into one matrix, `P = h · (sum_m W_m) / sqrt(D)` (no keys; cheap).
    Sum,
}

/// Hyper-parameters of [`Npm`] (defaults: TSJT's `node_prompt.py`).
///
/// Build the module with [`NpmConfig::init`] / [`NpmConfig::init_seeded`]. [`Default`] is
/// `NpmConfig::new(2)` (TSJT's two input features); missing fields deserialise to its values.
/// No parameter depends on the number of nodes `N` or of steps `T`: one module serves cities
/// of any size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NpmConfig {
    /// Input features per node and step `C` (default 2).
    pub in_channels: usize,
    /// Width `D` of the encoder and of the prompts (default 128).
    pub hidden: usize,
    /// Number `M` of `D x D` prompt matrices in the bank (default 150).
    pub bank_size: usize,
    /// Dropout after the linear layer of both graph convolutions (default 0.1).
    pub dropout: f64,
    /// How the bank is applied (default [`PromptBank::Attention`]).
    pub bank: PromptBank,
}

impl Default for NpmConfig {
    fn default() -> Self {
        Self::new(2)
    }
}

/// A linear layer initialised as TSJT's `train.py` leaves it: Xavier-uniform weight (its
/// `init_weights` on every `nn.Linear`), PyTorch's default bias `U(±1/sqrt(d_in))`; or a zero bias
/// and the weight fans `fans` (`nn.MultiheadAttention`'s projections).
fn linear(d_in: usize, d_out: usize, fans: Option<(usize, usize)>, device: &Device) -> Linear {
    let mut lin = LinearConfig::new(d_in, d_out).init(device);
    let (fan_in, fan_out) = fans.unwrap_or((d_in, d_out));
    lin.weight = Initializer::XavierUniform { gain: 1.0 }.init_with([d_in, d_out], Some(fan_in), Some(fan_out), device);
    if fans.is_some() {
        lin.bias = Some(Initializer::Zeros.init([d_out], device));
    }
    lin
}

impl NpmConfig {
    /// TSJT defaults (`D = 128`, `M = 150`, dropout 0.1, attention over the bank) for
    /// `in_channels` input features.
    pub fn new(in_channels: usize) -> Self {
        Self { in_channels, hidden: 128, bank_size: 150, dropout: 0.1, bank: PromptBank::Attention }
    }

    /// Checks that the configuration describes a buildable module.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(NnError::Shape(format!("invalid NPM config: {msg}")));
        let sizes = [("in_channels", self.in_channels), ("hidden", self.hidden), ("bank_size", self.bank_size)];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return bad(format!("{name} must be > 0"));
        }
        if !self.dropout.is_finite() || !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout {} not in [0, 1)", self.dropout));
        }
        Ok(())
    }

    /// Builds the module on `device`, or fails if [`NpmConfig::validate`] does.
    ///
    /// Initialisation (TSJT's): linear weights Xavier-uniform (`train.py` applies
    /// `xavier_uniform_` to every `nn.Linear`), their biases PyTorch's default; the attention's
    /// query/key/value weights Xavier-uniform over the stacked `[3D, D]` projection with zero
    /// biases and its output bias zero (`nn.MultiheadAttention`'s own reset); LayerNorm scale 1
    /// and shift 0; the bank `~ N(0, 1)` (`torch.randn`); the keys of
    /// [`PromptBank::Attention`] `~ N(0, 1)` (our addition).
    pub fn try_init(&self, device: &Device) -> Result<Npm> {
        self.validate()?;
        let (c, d, m) = (self.in_channels, self.hidden, self.bank_size);
        let proj = || linear(d, d, Some((d, 3 * d)), device);
        let encoder = StEncoder {
            gcn1: linear(c, d, None, device),
            attention: TemporalAttention { query: proj(), key: proj(), value: proj(), output: linear(d, d, Some((d, d)), device) },
            skip: linear(c, d, None, device),
            norm1: LayerNormConfig::new(d).init(device),
            gcn2: linear(d, d, None, device),
            norm2: LayerNormConfig::new(d).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        };
        let normal = Initializer::Normal { mean: 0.0, std: 1.0 };
        // The keys come last, so that for one seed the `Sum` and `Attention` variants draw the
        // same encoder and bank.
        Ok(Npm {
            encoder,
            bank: normal.init([m, d, d], device),
            keys: (self.bank == PromptBank::Attention).then(|| normal.init([m, d], device)),
            config: self.clone(),
        })
    }

    /// Builds the module on `device` (parameters drawn lazily from the device RNG; see
    /// [`NpmConfig::init_seeded`] for reproducible weights).
    ///
    /// # Panics
    /// When the configuration is invalid; use [`NpmConfig::try_init`] to get an error.
    pub fn init(&self, device: &Device) -> Npm {
        match self.try_init(device) {
            Ok(m) => m,
            Err(e) => panic!("NpmConfig::init: {e}"),
        }
    }

    /// Like [`NpmConfig::try_init`], but seeds the device RNG with `seed` first and materialises
    /// every parameter in a fixed order (see [`crate::seeded::try_seeded`]), so the same seed
    /// gives the same weights.
    pub fn try_init_seeded(&self, device: &Device, seed: u64) -> Result<Npm> {
        self.validate()?;
        crate::seeded::try_seeded(device, seed, || self.try_init(device))
    }

    /// Seeded [`NpmConfig::init`] (see [`NpmConfig::try_init_seeded`]).
    ///
    /// # Panics
    /// When the configuration is invalid.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Npm {
        match self.try_init_seeded(device, seed) {
            Ok(m) => m,
            Err(e) => panic!("NpmConfig::init_seeded: {e}"),
        }
    }
}
