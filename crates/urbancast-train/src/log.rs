//! What the engine records: one [`EpochRecord`] per epoch (also appended to `train-log.jsonl`
//! in the run folder as soon as the epoch ends) and the run's [`TrainLog`].
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::objective::Direction;

/// One epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Optimiser steps so far (all epochs).
    pub step: usize,
    /// Mean training loss (batch-weighted, see [`crate::BatchLoss::weight`]).
    pub loss: f64,
    /// Mean of each named loss term.
    pub terms: BTreeMap<String, f64>,
    /// Training counters (ratio of their sums), e.g. `train_acc`.
    pub counters: BTreeMap<String, f64>,
    /// Validation score after the epoch.
    pub val_score: f64,
    /// Further validation values.
    pub val: BTreeMap<String, f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean global gradient norm before clipping.
    pub grad_norm: f64,
    /// Largest global gradient norm before clipping.
    pub grad_norm_max: f64,
    /// Share of the epoch's steps whose gradient was clipped.
    pub clipped: f64,
    /// The objective's diagnostics on the epoch's first batch ([`crate::Objective::probe`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub probe: BTreeMap<String, f64>,
    /// Whether this epoch's model became the best so far.
    pub best: bool,
    /// Seconds of the epoch's optimiser steps (batch building included).
    pub train_seconds: f64,
    /// Seconds of the whole epoch (training, validation, checkpoint).
    pub seconds: f64,
}

/// The run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainLog {
    /// Name of the run (progress label).
    pub label: String,
    /// Every epoch, in order.
    pub epochs: Vec<EpochRecord>,
    /// Validation direction of the scores.
    pub direction: Direction,
    /// 1-based epoch of the kept model (0 when no epoch ran).
    pub best_epoch: usize,
    /// Its validation score.
    pub best_score: f64,
    /// Optimiser steps run.
    pub steps: usize,
    /// Steps the schedule was laid out for (`max_epochs · batches per epoch`).
    pub planned_steps: usize,
    /// Whether patience ended the run before `max_epochs`.
    pub stopped_early: bool,
    /// The epoch a resumed run continued after (None for an uninterrupted run).
    pub resumed_after: Option<usize>,
    /// Seconds of the run (this process only, for a resumed run).
    pub seconds: f64,
}

impl TrainLog {
    /// An empty log.
    pub fn new(label: &str, direction: Direction, planned_steps: usize) -> TrainLog {
        TrainLog {
            label: label.to_string(),
            epochs: vec![],
            direction,
            best_epoch: 0,
            best_score: direction.worst(),
            steps: 0,
            planned_steps,
            stopped_early: false,
            resumed_after: None,
            seconds: 0.0,
        }
    }

    /// Mean training loss of every epoch.
    pub fn losses(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.loss).collect()
    }

    /// Validation score of every epoch.
    pub fn val_scores(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.val_score).collect()
    }

    /// Training seconds of every epoch.
    pub fn epoch_seconds(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.train_seconds).collect()
    }

    /// The values of term `name` per epoch (NaN where absent).
    pub fn term(&self, name: &str) -> Vec<f64> {
        self.epochs.iter().map(|e| e.terms.get(name).copied().unwrap_or(f64::NAN)).collect()
    }
}

/// File name of the per-epoch log in a run folder.
pub const LOG_FILE: &str = "train-log.jsonl";

/// Appends one epoch as a JSON line to `path` (created if absent) and flushes it, so the file
/// can be watched while the run goes on.
pub fn append_jsonl(path: &Path, rec: &EpochRecord) -> Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("opening {}", path.display()))?;
    let line = serde_json::to_string(rec)?;
    writeln!(f, "{line}").and_then(|_| f.flush()).with_context(|| format!("writing {}", path.display()))
}

/// Rewrites `path` with exactly `epochs` (temporary file + rename): used on resume so the
/// file holds the epochs of the checkpoint, not those a killed process wrote after it.
pub fn rewrite_jsonl(path: &Path, epochs: &[EpochRecord]) -> Result<()> {
    let mut text = String::new();
    for e in epochs {
        text.push_str(&serde_json::to_string(e)?);
        text.push('\n');
    }
    crate::fsio::write_atomic(path, text.as_bytes())
}

/// Reads a `train-log.jsonl` back.
pub fn read_jsonl(path: &Path) -> Result<Vec<EpochRecord>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}: line {}", path.display(), i + 1)))
        .collect()
}
