//! The LM-TAD network: a nanoGPT-style decoder-only transformer over cell tokens.
//!
//! Token embedding + learned position embedding → dropout → `n_layer` pre-LN blocks
//! (`x + attn(LN(x))`, `x + MLP(LN(x))`, causal multi-head self-attention, MLP
//! `Linear(d, 4d) → GELU → Linear(4d, d)`) → final LayerNorm → logits `h · Eᵀ` with the token
//! embedding `E` tied to the output layer. No biases anywhere: the Linear layers and the
//! LayerNorms (burn's `LayerNormConfig::with_bias(false)`) have none, as nanoGPT's
//! `bias=False`. Initialisation as nanoGPT: every weight `N(0, 0.02)`, the residual
//! projections `N(0, 0.02 / √(2·n_layer))`, LayerNorm scales 1.
//!
//! Dropout (embeddings, attention weights, residual branches) is active only on an autodiff
//! device, i.e. during training, like burn's `Dropout`; inference on a plain device is
//! deterministic.
//!
//! Padding is on the right (PAD after EOT): causal attention already keeps real positions
//! from seeing it, and the loss ignores PAD targets ([`LmTad::loss`]).
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, log_softmax, softmax};
use burn::tensor::{Bool, Device, Distribution, Int, Tensor};

use anyhow::{Result, ensure};
use serde::{Deserialize, Serialize};

use crate::model::lin;

/// Hyper-parameters of [`LmTad`]. The defaults are small for CPU training (4 layers, 4 heads,
/// 128 wide, 256 positions); the LM-TAD paper uses 8 layers, 12 heads, 768 wide.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LmTadConfig {
    /// Vocabulary size ([`super::CellGrid::vocab_size`]); 0 = not set yet.
    pub vocab_size: usize,
    /// PAD token id ([`super::CellGrid::pad`]), ignored as a target by the loss.
    pub pad_token: u32,
    /// Transformer blocks.
    pub n_layer: usize,
    /// Attention heads (must divide `n_embd`).
    pub n_head: usize,
    /// Model width.
    pub n_embd: usize,
    /// Most positions the model attends over (length of the learned position table).
    pub block_size: usize,
    /// Dropout probability during training.
    pub dropout: f64,
}

impl Default for LmTadConfig {
    fn default() -> Self {
        LmTadConfig { vocab_size: 0, pad_token: 0, n_layer: 4, n_head: 4, n_embd: 128, block_size: 256, dropout: 0.1 }
    }
}

impl LmTadConfig {
    /// Defaults for the vocabulary of `grid`.
    pub fn for_grid(grid: &super::CellGrid) -> Self {
        LmTadConfig { vocab_size: grid.vocab_size(), pad_token: grid.pad(), ..Self::default() }
    }

    /// Builds the model on `device` (use `device.autodiff()` for training).
    pub fn init(&self, device: &Device) -> Result<LmTad> {
        self.validate()?;
        let (d, std) = (self.n_embd, 0.02);
        let normal = |std: f64| Initializer::Normal { mean: 0.0, std };
        let emb = |n: usize| EmbeddingConfig::new(n, d).with_initializer(normal(std)).init(device);
        Ok(LmTad {
            wte: emb(self.vocab_size),
            wpe: emb(self.block_size),
            blocks: (0..self.n_layer).map(|_| Block::new(self, device)).collect(),
            ln_f: LayerNormConfig::new(d).with_bias(false).init(device),
            config: self.clone(),
        })
    }

    /// Seeds the device RNG and materialises every parameter in a fixed order: the same seed
    /// gives the same weights. (The burn-flex RNG is process-global: do not initialise
    /// concurrently.)
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Result<LmTad> {
        urbancast_nn::try_seeded(device, seed, || self.init(device))
    }
}

fn linear(d_in: usize, d_out: usize, std: f64, device: &Device) -> Linear {
    LinearConfig::new(d_in, d_out).with_bias(false).with_initializer(Initializer::Normal { mean: 0.0, std }).init(device)
}

/// Inverted dropout, active only on an autodiff device.
fn dropout<const D: usize>(x: Tensor<D>, p: f64) -> Tensor<D> {
    if p <= 0.0 || !x.device().is_autodiff() {
        return x;
    }
    let keep = x.random_like(Distribution::Bernoulli(1.0 - p));
    (x * keep).mul_scalar(1.0 / (1.0 - p))
}

/// Causal multi-head self-attention without biases.
#[derive(Module, Debug)]
pub struct Attention {
    c_attn: Linear,
    c_proj: Linear,
    #[module(skip)]
    heads: usize,
    #[module(skip)]
    dropout: f64,
}

impl Attention {
    fn forward(&self, x: Tensor<3>, mask: &Tensor<4>) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let (h, dh) = (self.heads, d / self.heads);
        let qkv = lin(&self.c_attn, x);
        let split = |z: Tensor<3>| z.reshape([b, t, h, dh]).swap_dims(1, 2); // [B, H, T, dh]
        let q = split(qkv.clone().narrow(2, 0, d));
        let k = split(qkv.clone().narrow(2, d, d));
        let v = split(qkv.narrow(2, 2 * d, d));
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(1.0 / (dh as f32).sqrt()) + mask.clone();
        let a = dropout(softmax(scores, 3), self.dropout);
        let y = a.matmul(v).swap_dims(1, 2).reshape([b, t, d]);
        dropout(lin(&self.c_proj, y), self.dropout)
    }
}

/// Pre-LN transformer block.
#[derive(Module, Debug)]
pub struct Block {
    ln_1: LayerNorm,
    attn: Attention,
    ln_2: LayerNorm,
    c_fc: Linear,
    c_proj: Linear,
    #[module(skip)]
    dropout: f64,
}

impl Block {
    fn new(c: &LmTadConfig, device: &Device) -> Self {
        let d = c.n_embd;
        let proj_std = 0.02 / (2.0 * c.n_layer as f64).sqrt();
        Block {
            ln_1: LayerNormConfig::new(d).with_bias(false).init(device),
            attn: Attention {
                c_attn: linear(d, 3 * d, 0.02, device),
                c_proj: linear(d, d, proj_std, device),
                heads: c.n_head,
                dropout: c.dropout,
            },
            ln_2: LayerNormConfig::new(d).with_bias(false).init(device),
            c_fc: linear(d, 4 * d, 0.02, device),
            c_proj: linear(4 * d, d, proj_std, device),
            dropout: c.dropout,
        }
    }

    fn forward(&self, x: Tensor<3>, mask: &Tensor<4>) -> Tensor<3> {
        let x = x.clone() + self.attn.forward(self.ln_1.forward(x), mask);
        let y = lin(&self.c_proj, gelu(lin(&self.c_fc, self.ln_2.forward(x.clone()))));
        x + dropout(y, self.dropout)
    }
}

/// The LM-TAD trajectory language model (see the module docs).
#[derive(Module, Debug)]
pub struct LmTad {
    wte: Embedding,
    wpe: Embedding,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    #[module(skip)]
    config: LmTadConfig,
}

impl LmTad {
    /// The configuration the model was built from.
    pub fn config(&self) -> &LmTadConfig {
        &self.config
    }

    /// Number of scalar parameters (the tied embedding counted once).
    pub fn num_params(&self) -> usize {
        Module::num_params(self)
    }

    /// Logits `[B, T, V]` of the next token at every position of `tokens [B, T]` (right-padded
    /// with PAD). Fails when `T` exceeds `block_size` or is 0. Token ids must be below
    /// `vocab_size`; the checked entry points ([`super::token_tensor`], [`LmTad::loss_of`],
    /// the inference helpers) verify that on the host.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Result<Tensor<3>> {
        let [b, t] = tokens.dims();
        let h = self.hidden(tokens)?.reshape([b * t, self.config.n_embd]);
        Ok(self.logits_of(h).reshape([b, t, self.config.vocab_size]))
    }

    /// Final hidden states `[B, T, n_embd]` (after the last layer norm) of tokens `[B, T]`.
    pub fn hidden(&self, tokens: Tensor<2, Int>) -> Result<Tensor<3>> {
        let [b, t] = tokens.dims();
        let c = &self.config;
        ensure!(t > 0 && b > 0, "empty token batch [{b}, {t}]");
        ensure!(t <= c.block_size, "sequence of {t} positions exceeds the model's block_size {}", c.block_size);
        let device = tokens.device();
        let pos = self.wpe.weight.val().narrow(0, 0, t).unsqueeze_dim::<3>(0); // [1, T, d]
        let mut x = dropout(self.wte.forward(tokens) + pos, c.dropout);
        let future = Tensor::<2, Bool>::tril_mask([t, t], 0, &device).unsqueeze_dims::<4>(&[0, 1]);
        let mask = future.float().mul_scalar(-1.0e9); // [1, 1, T, T]
        for block in &self.blocks {
            x = block.forward(x, &mask);
        }
        Ok(self.ln_f.forward(x))
    }

    /// Logits `[N, V]` of hidden states `h [N, n_embd]` (tied embeddings: `h · Eᵀ`).
    pub fn logits_of(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.wte.weight.val().transpose())
    }

    /// Mean next-token cross entropy of `tokens [B, L]` (inputs `tokens[:, ..L-1]`, targets
    /// `tokens[:, 1..]`), ignoring PAD targets; also returns the number of counted targets.
    /// Needs `2 ≤ L ≤ block_size + 1`.
    pub fn loss(&self, tokens: Tensor<2, Int>) -> Result<(Tensor<1>, usize)> {
        let (lp, _, keep) = self.target_log_probs(tokens)?;
        let n = keep.clone().sum().into_scalar::<f32>().round() as usize;
        let nll = -(lp * keep).sum().div_scalar(n.max(1) as f32);
        Ok((nll, n))
    }

    /// [`LmTad::loss`] of right-padded host sequences (checked: see [`super::token_tensor`]).
    pub fn loss_of(&self, seqs: &[Vec<u32>], device: &Device) -> Result<(Tensor<1>, usize)> {
        let tokens = super::token_tensor(seqs, &self.config, self.config.block_size + 1, device)?;
        self.loss(tokens)
    }

    /// `log p(target)` `[B, L−1]`, the targets `[B, L−1]` and the non-PAD mask `[B, L−1]`.
    pub(crate) fn target_log_probs(&self, tokens: Tensor<2, Int>) -> Result<(Tensor<2>, Tensor<2, Int>, Tensor<2>)> {
        let [b, l] = tokens.dims();
        ensure!(l >= 2, "next-token loss needs at least 2 tokens per row, got {l}");
        let input = tokens.clone().narrow(1, 0, l - 1);
        let target = tokens.narrow(1, 1, l - 1);
        let logp = log_softmax(self.forward(input)?, 2);
        let lp = logp.gather(2, target.clone().unsqueeze_dim::<3>(2)).reshape([b, l - 1]);
        let keep = target.clone().not_equal_elem(self.config.pad_token as i64).float();
        Ok((lp, target, keep))
    }
}
