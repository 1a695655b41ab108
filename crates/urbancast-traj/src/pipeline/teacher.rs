//! Training the LM-TAD teacher on trajectories: split, tokenise, fit, write the teacher folder
//! (weights, `config.json`, `grid.json`, `meta.json`), `train-log.json`, `training.png` and the
//! data splits.
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde_json::json;
use urbancast_eval::report::write_json;
use urbancast_roads::{RoadNetwork, Trajectory};

use super::RunInputs;
use super::plots::plot_teacher_log;
use crate::io::write_splits;
use crate::lmtad::{CellGrid, LmTad, LmTadConfig, LmTadTrainConfig, LmTadTrainLog, Tokenizer, fit_in, save_teacher};
use crate::train::split_indices;

/// The teacher's inputs, split and tokenised ([`prepare_teacher`]).
#[derive(Debug, Clone)]
pub struct TeacherData {
    /// The vocabulary.
    pub grid: CellGrid,
    /// Indices into the trajectories of each split.
    pub train_ix: Vec<usize>,
    /// See [`TeacherData::train_ix`].
    pub val_ix: Vec<usize>,
    /// See [`TeacherData::train_ix`].
    pub test_ix: Vec<usize>,
    /// Token sequences of the training split.
    pub train_seqs: Vec<Vec<u32>>,
    /// Token sequences of the validation split.
    pub val_seqs: Vec<Vec<u32>>,
    /// `model` with the grid's vocabulary size and PAD token, validated.
    pub model_cfg: LmTadConfig,
}

impl TeacherData {
    /// Mean tokens per training sequence.
    pub fn tokens_per_train_seq(&self) -> f64 {
        self.train_seqs.iter().map(Vec::len).sum::<usize>() as f64 / self.train_seqs.len() as f64
    }
}

/// Splits `all` by `seed` (as `traj train` does), builds the grid of `cell_deg` degrees over
/// `net` and tokenises the training and validation splits. Fails when training or validation
/// would be empty (the best epoch is chosen on validation) or on an invalid `model`.
pub fn prepare_teacher(
    net: &RoadNetwork,
    all: &[Trajectory],
    val_frac: f64,
    test_frac: f64,
    seed: u64,
    cell_deg: f64,
    model: &LmTadConfig,
) -> Result<TeacherData> {
    let (train_ix, val_ix, test_ix) = split_indices(all.len(), val_frac, test_frac, seed)
        .with_context(|| format!("splitting {} trajectories (--val-frac {val_frac}, --test-frac {test_frac})", all.len()))?;
    if train_ix.is_empty() || val_ix.is_empty() {
        bail!(
            "{} trajectories split into {} / {} / {} (train / val / test): training and validation both need trajectories (the best epoch is chosen on validation)",
            all.len(),
            train_ix.len(),
            val_ix.len(),
            test_ix.len()
        );
    }
    let grid = CellGrid::new(net, cell_deg).context("--cell-deg")?;
    let tok = Tokenizer::new(grid.clone(), net)?;
    let encode = |ix: &[usize]| -> Result<Vec<Vec<u32>>> {
        let part: Vec<Trajectory> = ix.iter().map(|&i| all[i].clone()).collect();
        tok.encode_all(net, &part)
    };
    let (train_seqs, val_seqs) = (encode(&train_ix)?, encode(&val_ix)?);
    let model_cfg = LmTadConfig { vocab_size: grid.vocab_size(), pad_token: grid.pad(), ..model.clone() };
    model_cfg.validate_at("model.")?;
    Ok(TeacherData { grid, train_ix, val_ix, test_ix, train_seqs, val_seqs, model_cfg })
}

/// Fits the teacher on `data` (prepared from `all` by [`prepare_teacher`]) with `tc` on
/// `device` and writes everything into `out`: the splits, the teacher folder with `meta.json`
/// (the facts of `inputs`, the split, configurations, losses and timings), `train-log.json`
/// and `training.png` (a warning on stderr when the plot fails).
pub fn train_teacher(
    net: &RoadNetwork,
    all: &[Trajectory],
    data: &TeacherData,
    tc: &LmTadTrainConfig,
    device: &Device,
    out: &Path,
    inputs: &RunInputs,
) -> Result<(LmTad, LmTadTrainLog)> {
    write_splits(out, all, &data.train_ix, &data.val_ix, &data.test_ix)?;
    let run = urbancast_train::RunDir::new(out.join("train"), inputs.resume);
    let (model, log) = fit_in(&data.train_seqs, &data.val_seqs, &data.model_cfg, tc, device, true, Some(&run))?;
    let grid = &data.grid;
    let training = json!({
        "train_files": inputs.files,
        "trajectories": all.len(),
        "val_frac": inputs.val_frac,
        "test_frac": inputs.test_frac,
        "seed": tc.seed,
        "split": {"train": data.train_ix.len(), "val": data.val_ix.len(), "test": data.test_ix.len()},
        "cell_deg": grid.cell_deg,
        "grid": {"cols": grid.cols, "rows": grid.rows},
        "vocab_size": grid.vocab_size(),
        "model_config": data.model_cfg,
        "train_config": tc,
        "parameters": model.num_params(),
        "device": inputs.device,
        "best_epoch": log.best_epoch,
        "best_val_loss": log.best_val_loss,
        "final_train_loss": log.epochs.last().map(|e| e.train_loss),
        "steps": log.steps,
        "truncated": log.truncated,
        "seconds": log.seconds,
        "seconds_per_step": log.seconds / log.steps.max(1) as f64,
    });
    save_teacher(out, &model, grid, net, training)?;
    write_json(&out.join("train-log.json"), &log)?;
    if let Err(e) = plot_teacher_log(&out.join("training.png"), &log) {
        eprintln!("warning: no training curves: {e:#}");
    }
    Ok((model, log))
}
