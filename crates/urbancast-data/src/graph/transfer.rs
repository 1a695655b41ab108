//! The cross-city protocol for sensor graphs of ST-GFSL (`RobinLu1209/ST-GFSL`, `datasets.py`),
//! which TSJT and its baselines use: every city z-scored on its own, windows of 12 input steps
//! → 6 output steps, the target's training data = its first N days (3; 1 and 7 as options),
//! its test = the windows inside the last 20 % of its timeline; sources train on all their
//! windows. Where ST-GFSL has no validation split, this protocol takes the target's next
//! `val_days` days after its training days (default 1; 0 = select on the training windows, as
//! the TSJT code evaluates on them) and the last `source_val_frac` of every source's windows.
use ndarray::{Array2, Array3, s};
use serde::{Deserialize, Serialize};

use super::{SensorGraph, ZScore};
use crate::error::{DataError, Result};

/// Where each city's z-score is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GraphScaling {
    /// Mean and std per feature over all nodes and steps of the city, zeros included
    /// (ST-GFSL's `datasets.py`).
    #[default]
    WholeSeries,
    /// Over the steps the city may train on (a target's training days, a source's training
    /// windows), zeros that mean "missing" left out.
    TrainingSteps,
}

/// The protocol's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphTransferProtocol {
    /// Input steps per window (12).
    pub input_len: usize,
    /// Output steps per window (6; 12 as an option).
    pub horizon: usize,
    /// Fraction of the target's timeline, at its end, that is its test block (0.2).
    pub test_frac: f64,
    /// Days after the target's training days used to select models (1; 0 = select on the
    /// training windows).
    pub val_days: usize,
    /// Fraction of every source's windows, at its end, held out for source validation (0.1).
    pub source_val_frac: f64,
    /// Where the z-score is fitted.
    pub scaling: GraphScaling,
    /// Append the time of day (fraction of the day in `[0, 1)`) as an input feature (ST-GFSL's
    /// cities carry a second feature next to the speed; the graphs here carry one).
    pub time_of_day: bool,
}

impl Default for GraphTransferProtocol {
    fn default() -> Self {
        GraphTransferProtocol {
            input_len: 12,
            horizon: 6,
            test_frac: 0.2,
            val_days: 1,
            source_val_frac: 0.1,
            scaling: GraphScaling::WholeSeries,
            time_of_day: true,
        }
    }
}

impl GraphTransferProtocol {
    /// Checks the ranges (keys prefixed by `prefix`, e.g. `"protocol."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = urbancast_check::Checker::new(prefix);
        c.at_least("input_len", self.input_len, 1)?;
        c.at_least("horizon", self.horizon, 1)?;
        c.open_fraction("test_frac", self.test_frac)?;
        c.in_range("source_val_frac", self.source_val_frac, 0.0..1.0)?;
        Ok(())
    }

    /// Steps of one window (input + output).
    pub fn window(&self) -> usize {
        self.input_len + self.horizon
    }
}

/// One city under the protocol: normalised inputs, raw truth of the forecast feature, the
/// scaler, the graph, and the window starts of each role.
#[derive(Debug, Clone)]
pub struct TransferGraph {
    /// City name.
    pub name: String,
    /// Minutes per step.
    pub interval_min: u32,
    /// Inputs `[T, N, C_in]`: every feature z-scored, then the time of day when asked.
    pub input: Array3<f32>,
    /// The forecast feature (feature 0) in raw units `[T, N]`.
    pub raw: Array2<f32>,
    /// Its mean and std (de-normalisation: `raw = z * std + mean`).
    pub mean: f32,
    /// See [`TransferGraph::mean`].
    pub std: f32,
    /// Whether raw zeros are missing readings (masked in metrics).
    pub zero_is_missing: bool,
    /// Weighted adjacency `[N, N]`.
    pub adjacency: Array2<f32>,
    /// Time-of-day slot of every step, `0..steps_per_day`.
    pub tod: Vec<usize>,
    /// Slots per day.
    pub steps_per_day: usize,
    /// Training window starts (input `t..t+input_len`, output the next `horizon` steps).
    pub train: Vec<usize>,
    /// Validation window starts.
    pub val: Vec<usize>,
    /// Test window starts (targets only).
    pub test: Vec<usize>,
}

impl TransferGraph {
    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.raw.dim().1
    }
    /// Input features per node and step.
    pub fn in_channels(&self) -> usize {
        self.input.dim().2
    }
}

/// Window starts whose whole window lies in steps `a..b`.
fn starts(a: usize, b: usize, window: usize) -> Vec<usize> {
    if b < a + window { vec![] } else { (a..=b - window).collect() }
}

fn build(g: &SensorGraph, p: &GraphTransferProtocol, fit_steps: std::ops::Range<usize>) -> Result<TransferGraph> {
    let (zero, slice) = match p.scaling {
        GraphScaling::WholeSeries => (false, g.series.view()),
        GraphScaling::TrainingSteps => (g.zero_is_missing, g.series.slice(s![fit_steps, .., ..])),
    };
    let scaler = ZScore::fit(slice, zero).map_err(|e| DataError::city(&g.name, e.to_string()))?;
    let mut norm = g.series.clone();
    scaler.transform(&mut norm)?;
    let (t, n, f) = g.series.dim();
    let c_in = f + usize::from(p.time_of_day);
    let mut input = Array3::<f32>::zeros((t, n, c_in));
    input.slice_mut(s![.., .., ..f]).assign(&norm);
    if p.time_of_day {
        let spd = g.steps_per_day() as f32;
        for ti in 0..t {
            input.slice_mut(s![ti, .., f]).fill(g.time_of_day(ti) as f32 / spd);
        }
    }
    Ok(TransferGraph {
        name: g.name.clone(),
        interval_min: g.interval_min,
        input,
        raw: g.series.slice(s![.., .., 0]).to_owned(),
        mean: scaler.mean[0],
        std: scaler.std[0],
        zero_is_missing: g.zero_is_missing,
        adjacency: g.adjacency.clone(),
        tod: (0..t).map(|i| g.time_of_day(i)).collect(),
        steps_per_day: g.steps_per_day(),
        train: vec![],
        val: vec![],
        test: vec![],
    })
}

/// A source city: its windows, the last `source_val_frac` of them held out for validation.
pub fn prepare_source(g: &SensorGraph, p: &GraphTransferProtocol) -> Result<TransferGraph> {
    p.validate_at("protocol.")?;
    let all = starts(0, g.num_steps(), p.window());
    if all.is_empty() {
        return Err(DataError::city(&g.name, format!("{} steps cannot hold one window of {} steps", g.num_steps(), p.window())));
    }
    let n_val = (all.len() as f64 * p.source_val_frac) as usize;
    let cut = all.len() - n_val;
    // The training windows cover steps 0 .. last training start + window.
    let fit_end = all[cut - 1] + p.window();
    let mut tg = build(g, p, 0..fit_end)?;
    tg.train = all[..cut].to_vec();
    tg.val = all[cut..].to_vec();
    Ok(tg)
}

/// The target city with `days` days of training data: training windows inside its first
/// `days` days, validation windows inside the next `val_days` days (none: validate on the
/// training windows), test windows inside its last `test_frac` of steps (ST-GFSL:
/// `X[int(0.8 T):]`). The training and validation days must end before the test block.
pub fn prepare_target(g: &SensorGraph, p: &GraphTransferProtocol, days: usize) -> Result<TransferGraph> {
    p.validate_at("protocol.")?;
    let fail = |what: String| Err(DataError::city(&g.name, what));
    let (t, spd, w) = (g.num_steps(), g.steps_per_day(), p.window());
    let test_start = (t as f64 * (1.0 - p.test_frac)) as usize;
    let train_end = days * spd;
    let val_end = train_end + p.val_days * spd;
    if days == 0 {
        return fail("the graph protocol needs at least 1 target day of training data".into());
    }
    if val_end > test_start {
        return fail(format!(
            "{days} training + {} validation days ({val_end} steps) run into the test block, which starts at step {test_start} of {t}",
            p.val_days
        ));
    }
    let train = starts(0, train_end, w);
    let test = starts(test_start, t, w);
    if train.is_empty() || test.is_empty() {
        return fail(format!(
            "the training days ({train_end} steps) and the test block ({} steps) must each hold one window of {w} steps",
            t - test_start
        ));
    }
    let mut tg = build(g, p, 0..train_end)?;
    tg.val = if p.val_days > 0 { starts(train_end, val_end, w) } else { train.clone() };
    if tg.val.is_empty() {
        return fail(format!("{} validation days hold no window of {w} steps", p.val_days));
    }
    tg.train = train;
    tg.test = test;
    Ok(tg)
}
