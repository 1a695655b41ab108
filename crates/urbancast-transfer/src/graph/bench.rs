//! The cost of a graph-transfer method (`urbancast bench transfer-graph`): seconds per epoch
//! and per optimiser step of its source-dependent training phase — pre-training on the sources
//! for fine-tune, the joint training for TSJT (two backward passes per step) — and the peak
//! resident memory of the process.
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::SensorGraph;
use urbancast_train::log::read_jsonl;

use super::{GraphMethod, GraphPlan, GraphSettings, run};
use crate::bench::peak_rss_mib;

/// What [`time_method`] measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphCost {
    /// Method name.
    pub method: String,
    /// The phase timed (`pretrain-seed1` or `<method>-n<N>-seed1`).
    pub phase: String,
    /// Epochs timed.
    pub epochs: usize,
    /// Optimiser steps per epoch.
    pub steps_per_epoch: f64,
    /// Training seconds per epoch (validation excluded), mean over the epochs.
    pub seconds_per_epoch: f64,
    /// `seconds_per_epoch / steps_per_epoch`.
    pub seconds_per_step: f64,
    /// Peak resident set size of the process (VmHWM, MiB; `None` off Linux).
    pub peak_rss_mib: Option<f64>,
}

/// Runs `method` (fine-tune, tsjt, tsjt-no-npm or joint-no-skew) for `epochs` epochs of its
/// source phase with `days` target days and seed 1, keeping the training logs in `work`, and
/// reads back the phase's per-epoch training seconds.
pub fn time_method(
    sources: &[SensorGraph],
    target: &SensorGraph,
    method: GraphMethod,
    (epochs, days): (usize, usize),
    settings: &GraphSettings,
    work: &Path,
    device: &Device,
) -> Result<GraphCost> {
    if !method.uses_sources() {
        bail!(
            "bench transfer-graph times the methods that train on the sources (fine-tune, tsjt, tsjt-no-npm, joint-no-skew), not {method}"
        );
    }
    if epochs == 0 {
        bail!("bench transfer-graph: --epochs must be at least 1");
    }
    let mut s = settings.clone();
    for t in [&mut s.pretrain, &mut s.tsjt.train] {
        (t.max_epochs, t.patience, t.min_steps) = (epochs, 0, 0);
    }
    s.target_train.max_epochs = 1;
    (s.train_dir, s.resume) = (Some(work.to_path_buf()), false);
    let plan = GraphPlan { methods: &[method], days: &[days], seeds: &[1], settings: &s, device };
    run(sources, target, &plan, |_| {})?;
    let phase = if method == GraphMethod::FineTune { "pretrain-seed1".to_string() } else { format!("{method}-n{days}-seed1") };
    let log = read_jsonl(&work.join(&phase).join("train-log.jsonl")).with_context(|| format!("reading the log of phase {phase}"))?;
    let last = log.last().with_context(|| format!("phase {phase} logged no epoch"))?;
    let n = log.len() as f64;
    let seconds_per_epoch = log.iter().map(|r| r.train_seconds).sum::<f64>() / n;
    let steps_per_epoch = last.step as f64 / n;
    Ok(GraphCost {
        method: method.name().into(),
        phase,
        epochs: log.len(),
        steps_per_epoch,
        seconds_per_epoch,
        seconds_per_step: seconds_per_epoch / steps_per_epoch.max(1.0),
        peak_rss_mib: peak_rss_mib(),
    })
}
