//! Checkpoints of a training run: the model, the optimiser's state, the selection state, the
//! best model, the log and the objective's own state, in `RUN/checkpoint/`. A checkpoint is
//! written in full into `RUN/checkpoint.tmp/` and then renamed into place, so a process killed
//! at any moment leaves either the previous checkpoint or the new one, never a mix.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::{BurnpackStore, ModuleSnapshot};
use serde::{Deserialize, Serialize};

use crate::log::TrainLog;

/// Format version of the checkpoint folder.
pub const VERSION: u32 = 1;

/// Everything but the tensors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointState {
    /// [`VERSION`] of the writer.
    pub version: u32,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub step: usize,
    /// Epochs since the last improvement.
    pub bad: usize,
    /// The run's settings as JSON: a resume with other settings is refused.
    pub settings: serde_json::Value,
    /// Whether the run has ended (a resume then returns its best model at once).
    pub finished: bool,
    /// The log so far.
    pub log: TrainLog,
}

/// `RUN/checkpoint`.
pub fn dir_of(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

/// Saves `module` to `path` (burnpack; parameter ids included, so the optimiser's state,
/// keyed by them, still matches after loading).
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path).auto_extension(false).overwrite(true);
    module.save_into(&mut store).map_err(|e| anyhow!("writing {}: {e}", path.display()))
}

/// Loads the weights at `path` into `module`, refusing missing or mismatched tensors
/// ([`urbancast_nn::load_weights`]).
pub fn load_module<M: Module>(module: &mut M, path: &Path) -> Result<()> {
    Ok(urbancast_nn::load_weights(module, path)?)
}

/// Writes the state of `optim` (burnpack, keyed by parameter ids) to `path`.
pub fn save_optim(optim: &ModuleOptimizer, path: &Path) -> Result<()> {
    optim.to_record().save(path).map_err(|e| anyhow!("writing {}: {e:?}", path.display()))
}

/// Loads the optimiser state at `path` (written by [`save_optim`]) into `optim`.
pub fn load_optim_file(path: &Path, optim: ModuleOptimizer) -> Result<ModuleOptimizer> {
    let rec = OptimizerRecord::load(path).map_err(|e| anyhow!("reading {}: {e:?}", path.display()))?;
    Ok(optim.load_record(rec))
}

/// Writes a checkpoint of the run into `run` (see the module docs); `objective` writes the
/// objective's own files into the folder it is given.
pub fn save<M: Module>(
    run: &Path,
    state: &CheckpointState,
    model: &M,
    best: Option<&M>,
    optim: &ModuleOptimizer,
    objective: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let tmp = run.join("checkpoint.tmp");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    save_module(model, &tmp.join("model.bpk"))?;
    if let Some(b) = best {
        save_module(b, &tmp.join("best.bpk"))?;
    }
    save_optim(optim, &tmp.join("optim.bpk"))?;
    let obj = tmp.join("objective");
    std::fs::create_dir_all(&obj).with_context(|| format!("creating {}", obj.display()))?;
    objective(&obj)?;
    crate::fsio::write_json_atomic(&tmp.join("state.json"), state)?;
    let dest = dir_of(run);
    let old = run.join("checkpoint.old");
    if dest.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
        std::fs::rename(&dest, &old).with_context(|| format!("renaming {}", dest.display()))?;
    }
    std::fs::rename(&tmp, &dest).with_context(|| format!("renaming {} to {}", tmp.display(), dest.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    Ok(())
}

/// The folder of the newest complete checkpoint of `run`, if any (`checkpoint/`, or
/// `checkpoint.old/` when a process was killed between the two renames of [`save`]).
pub fn find(run: &Path) -> Option<PathBuf> {
    [dir_of(run), run.join("checkpoint.old")].into_iter().find(|d| d.join("state.json").is_file())
}

/// Reads the state of the checkpoint in `dir`.
pub fn read_state(dir: &Path) -> Result<CheckpointState> {
    let p = dir.join("state.json");
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    let state: CheckpointState = serde_json::from_str(&text).with_context(|| format!("{}: not a checkpoint state", p.display()))?;
    if state.version != VERSION {
        bail!("{}: checkpoint format version {} (this urbancast reads version {VERSION})", p.display(), state.version);
    }
    Ok(state)
}

/// Loads the optimiser state of the checkpoint in `dir` into `optim`.
pub fn load_optim(dir: &Path, optim: ModuleOptimizer) -> Result<ModuleOptimizer> {
    load_optim_file(&dir.join("optim.bpk"), optim)
}
