//! LM-TAD teacher: a trajectory language model over grid-cell tokens ("Trajectory Anomaly
//! Detection with Language Models", Mbuya et al., 2024; public code `jonathankabala/LMTAD`).
//!
//! * [`grid`]: the vocabulary — grid cells over the road network plus PAD / SOT / EOT — and
//!   the road → cell map ψ ([`Tokenizer`]); a trajectory becomes `SOT ψ(r_1) … ψ(r_n) EOT`;
//! * [`model`]: the nanoGPT-style causal transformer ([`LmTad`]) with tied input/output
//!   embeddings and no biases, and its next-token loss that ignores PAD targets;
//! * [`train`]: AdamW with warm-up + cosine decay, gradient clipping, seeded shuffling, the
//!   best validation loss kept ([`fit`]);
//! * [`infer`]: next-token distributions and the anomaly score (mean −log p of every token
//!   after SOT, EOT included, i.e. the log-perplexity), batched and chunked.
//!
//! Sequence length: the model attends over at most `block_size` positions, so a sequence of
//! `L` tokens (`L − 1` predictions) fits one pass when `L ≤ block_size + 1`. [`fit`] truncates
//! longer training sequences to their first `block_size + 1` tokens; the scorers use sliding
//! windows instead (see [`infer`]), so every token of a long trajectory is scored.
//!
//! Checkpoints: [`save_lmtad`] / [`load_lmtad`] write one burnpack file with the configuration
//! as metadata; [`save_lmtad_dir`] / [`load_lmtad_dir`] write a directory with the weights,
//! `config.json` and `grid.json`; [`teacher`] adds `meta.json` for a teacher folder
//! ([`save_teacher`] / [`load_teacher`]).
pub mod grid;
pub mod infer;
pub mod model;
pub mod teacher;
pub mod train;

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::tensor::{Device, Int, Tensor, TensorData};
use urbancast_nn::checkpoint::{load_weights, read_config, save_module};

pub use grid::{CellGrid, DEFAULT_CELL_DEG, Tokenizer};
pub use infer::{anomaly_scores, log_probs, next_token_distribution, token_nll};
pub use model::{LmTad, LmTadConfig};
pub use teacher::{META_FILE, TeacherMeta, load_teacher, save_teacher};
pub use train::{LmTadEpochLog, LmTadTrainConfig, LmTadTrainLog, fit, fit_in, mean_loss};

const KEY_CONFIG: &str = "urbancast.lmtad.config";
/// File names inside a [`save_lmtad_dir`] directory.
pub const WEIGHTS_FILE: &str = "lmtad.bpk";
/// See [`WEIGHTS_FILE`].
pub const CONFIG_FILE: &str = "config.json";
/// See [`WEIGHTS_FILE`].
pub const GRID_FILE: &str = "grid.json";

/// Right-pads `seqs` with the PAD token into a `[B, L]` tensor (`L` = longest sequence).
/// Fails on an empty batch, an empty sequence, a sequence longer than `max_len` or a token
/// `≥ vocab_size`.
pub fn token_tensor(seqs: &[Vec<u32>], cfg: &LmTadConfig, max_len: usize, device: &Device) -> Result<Tensor<2, Int>> {
    ensure!(!seqs.is_empty(), "no token sequences");
    let l = seqs.iter().map(Vec::len).max().unwrap_or(0);
    for (i, s) in seqs.iter().enumerate() {
        check_sequence(i, s, cfg)?;
        ensure!(s.len() <= max_len, "sequence {i} has {} tokens; at most {max_len} fit", s.len());
    }
    let mut v = Vec::with_capacity(seqs.len() * l);
    for s in seqs {
        v.extend(s.iter().map(|&t| t as i64));
        v.extend(std::iter::repeat_n(cfg.pad_token as i64, l - s.len()));
    }
    Ok(Tensor::from_data(TensorData::new(v, [seqs.len(), l]), device))
}

/// Fails on an empty sequence or a token outside the vocabulary (`i` names the sequence).
pub(crate) fn check_sequence(i: usize, s: &[u32], cfg: &LmTadConfig) -> Result<()> {
    ensure!(!s.is_empty(), "sequence {i} is empty");
    if let Some((k, t)) = s.iter().enumerate().find(|(_, t)| **t as usize >= cfg.vocab_size) {
        bail!("sequence {i}: token {t} at position {k} is outside the vocabulary of {} tokens", cfg.vocab_size);
    }
    Ok(())
}

/// Writes the model and its configuration to one burnpack file (overwritten).
pub fn save_lmtad(model: &LmTad, path: impl AsRef<Path>) -> Result<()> {
    Ok(save_module(model, KEY_CONFIG, model.config(), path)?)
}

/// Reads the configuration stored by [`save_lmtad`].
pub fn read_lmtad_config(path: impl AsRef<Path>) -> Result<LmTadConfig> {
    Ok(read_config(path, KEY_CONFIG, "LM-TAD")?)
}

/// Rebuilds the model stored at `path` on `device`.
pub fn load_lmtad(path: impl AsRef<Path>, device: &Device) -> Result<LmTad> {
    let path = path.as_ref();
    let mut model = read_lmtad_config(path)?.init(device)?;
    load_weights(&mut model, path)?;
    Ok(model)
}

/// Writes `dir/`[`WEIGHTS_FILE`], `dir/`[`CONFIG_FILE`] and `dir/`[`GRID_FILE`] (the directory
/// is created). Fails when the grid's vocabulary differs from the model's.
pub fn save_lmtad_dir(dir: impl AsRef<Path>, model: &LmTad, grid: &CellGrid) -> Result<()> {
    let dir = dir.as_ref();
    check_grid(model.config(), grid)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    save_lmtad(model, dir.join(WEIGHTS_FILE))?;
    let p = dir.join(CONFIG_FILE);
    urbancast_io::write_atomic(&p, serde_json::to_string_pretty(model.config())?).with_context(|| format!("writing {}", p.display()))?;
    grid.save_json(dir.join(GRID_FILE))
}

/// Reads a directory written by [`save_lmtad_dir`]: the model on `device` and its grid.
pub fn load_lmtad_dir(dir: impl AsRef<Path>, device: &Device) -> Result<(LmTad, CellGrid)> {
    let dir = dir.as_ref();
    let model = load_lmtad(dir.join(WEIGHTS_FILE), device)?;
    let grid = CellGrid::load_json(dir.join(GRID_FILE))?;
    check_grid(model.config(), &grid).with_context(|| format!("LM-TAD directory {}", dir.display()))?;
    Ok((model, grid))
}

fn check_grid(cfg: &LmTadConfig, grid: &CellGrid) -> Result<()> {
    ensure!(
        cfg.vocab_size == grid.vocab_size() && cfg.pad_token == grid.pad(),
        "model vocabulary ({} tokens, PAD {}) does not match the grid ({} tokens, PAD {})",
        cfg.vocab_size,
        cfg.pad_token,
        grid.vocab_size(),
        grid.pad()
    );
    Ok(())
}
