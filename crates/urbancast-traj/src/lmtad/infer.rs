//! Inference without autodiff: next-token distributions and the LM-TAD anomaly score.
//!
//! A model living on an autodiff device is replaced by its `valid()` copy and inputs go to its
//! plain (inner) device, so no graph is recorded and dropout is off.
//!
//! **Anomaly score** of a token sequence `x_0 = SOT, x_1 … x_{L−1}` (the last being EOT):
//! `(1 / (L−1)) Σ_{t=1}^{L−1} −log p(x_t | x_<t)`, the mean negative log-likelihood of every
//! token after SOT — the log-perplexity; higher = more anomalous.
//!
//! Long sequences (`L > block_size + 1`) are scored with **sliding windows** of
//! `block_size + 1` tokens and a stride of `⌈block_size / 2⌉`: the first window scores all its
//! tokens, every later window only the tokens past the previous window, so each token is
//! scored once and, beyond the first window, with at least `block_size / 2` tokens of context
//! (not the full prefix).
//!
//! Memory: rows are grouped by length and run in chunks of at most `batch` rows and at most
//! [`MAX_CHUNK_ELEMENTS`] logits (`rows · T · V`), at least one row per chunk.
use std::borrow::Cow;

use anyhow::{Result, ensure};
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor};

use super::{LmTad, check_sequence, token_tensor};

/// Upper bound on the logits elements (`rows · T · V`) of one forward pass.
pub const MAX_CHUNK_ELEMENTS: usize = 1 << 24;

/// The model on a plain device (a `valid()` copy when it lives on an autodiff device) and
/// that device.
pub(crate) fn plain(model: &LmTad) -> (Cow<'_, LmTad>, Device) {
    let devices = model.devices();
    let device = devices.first().cloned().unwrap_or_else(Device::flex).inner();
    if devices.iter().any(Device::is_autodiff) { (Cow::Owned(model.valid()), device) } else { (Cow::Borrowed(model), device) }
}

fn rows_per_chunk(batch: usize, len: usize, vocab: usize) -> usize {
    (MAX_CHUNK_ELEMENTS / (len.max(1) * vocab.max(1))).clamp(1, batch.max(1))
}

/// Next-token log-probabilities `[B, T, V]` (log-softmax of [`LmTad::forward`]) for
/// `tokens [B, T]`, `T ≤ block_size`, computed in row chunks of bounded size. Token ids are
/// checked against the vocabulary.
pub fn log_probs(model: &LmTad, tokens: Tensor<2, Int>) -> Result<Tensor<3>> {
    let (m, device) = plain(model);
    let cfg = m.config();
    let [b, t] = tokens.dims();
    ensure!(b > 0 && t > 0, "empty token batch [{b}, {t}]");
    ensure!(t <= cfg.block_size, "{t} positions exceed the model's block_size {}", cfg.block_size);
    let tokens = tokens.to_device(&device);
    let (lo, hi) = (tokens.clone().min().into_scalar::<i64>(), tokens.clone().max().into_scalar::<i64>());
    ensure!(lo >= 0 && (hi as usize) < cfg.vocab_size, "token ids span {lo}..={hi}, outside the vocabulary 0..{}", cfg.vocab_size);
    let step = rows_per_chunk(b, t, cfg.vocab_size);
    let mut parts = Vec::with_capacity(b.div_ceil(step));
    for i in (0..b).step_by(step) {
        let n = step.min(b - i);
        parts.push(log_softmax(m.forward(tokens.clone().narrow(0, i, n))?, 2));
    }
    Ok(Tensor::cat(parts, 0))
}

/// Next-token probabilities `[B, T, V]` (softmax; rows sum to 1), see [`log_probs`].
pub fn next_token_distribution(model: &LmTad, tokens: Tensor<2, Int>) -> Result<Tensor<3>> {
    Ok(log_probs(model, tokens)?.exp())
}

/// One window of one sequence: tokens `start..end`, scoring the tokens from `first` on.
struct Window {
    seq: usize,
    start: usize,
    end: usize,
    first: usize,
}

fn windows(seq: usize, len: usize, block_size: usize) -> Vec<Window> {
    let w = block_size + 1;
    let stride = block_size.div_ceil(2).max(1);
    let (mut out, mut start, mut first) = (Vec::new(), 0, 1);
    loop {
        let end = (start + w).min(len);
        out.push(Window { seq, start, end, first });
        if end == len {
            return out;
        }
        first = end;
        start += stride;
    }
}

/// `−log p(x_t | context)` for every token `t = 1 … L−1` of every sequence (`L − 1` values per
/// sequence; see the module docs for long sequences). Sequences need at least 2 tokens, all in
/// the vocabulary; `batch` bounds the rows per forward pass.
pub fn token_nll(model: &LmTad, seqs: &[Vec<u32>], batch: usize) -> Result<Vec<Vec<f32>>> {
    let (m, device) = plain(model);
    let cfg = m.config();
    let mut wins = Vec::new();
    for (i, s) in seqs.iter().enumerate() {
        check_sequence(i, s, cfg)?;
        ensure!(s.len() >= 2, "sequence {i} has {} token(s); scoring needs SOT and at least one more", s.len());
        wins.extend(windows(i, s.len(), cfg.block_size));
    }
    let mut out: Vec<Vec<f32>> = seqs.iter().map(|s| vec![f32::NAN; s.len() - 1]).collect();
    wins.sort_by_key(|w| w.end - w.start);
    let mut k = 0;
    while k < wins.len() {
        let longest = wins[(k + batch.max(1)).min(wins.len()) - 1].end - wins[k].start;
        let n = rows_per_chunk(batch, longest, cfg.vocab_size).min(wins.len() - k);
        let chunk = &wins[k..k + n];
        let rows: Vec<Vec<u32>> = chunk.iter().map(|w| seqs[w.seq][w.start..w.end].to_vec()).collect();
        let l = rows.iter().map(Vec::len).max().unwrap_or(0);
        let tokens = token_tensor(&rows, cfg, cfg.block_size + 1, &device)?;
        let (lp, _, _) = m.target_log_probs(tokens)?;
        let lp: Vec<f32> = lp.into_data().iter::<f32>().collect(); // [n, l − 1]
        for (r, w) in chunk.iter().enumerate() {
            for g in w.first..w.end {
                out[w.seq][g - 1] = -lp[r * (l - 1) + (g - w.start - 1)];
            }
        }
        k += n;
    }
    Ok(out)
}

/// LM-TAD anomaly score of every sequence: the mean of its [`token_nll`] (log-perplexity).
pub fn anomaly_scores(model: &LmTad, seqs: &[Vec<u32>], batch: usize) -> Result<Vec<f64>> {
    Ok(token_nll(model, seqs, batch)?.iter().map(|v| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64).collect())
}
