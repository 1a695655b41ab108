//! Evaluation on a window range (masked MAE / RMSE / MAPE per horizon, original units),
//! series for plots, and inference timing.
use std::ops::Range;
use std::time::Instant;

use burn::tensor::{Device, Tensor};
use ndarray::Array4;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::GraphPrepared;
use urbancast_eval::horizon::{HorizonAccumulator, HorizonReport};

use crate::batch::{Batch, Denorm};

/// Horizon steps reported (1-based): 3, 6 and 12 (15, 30, 60 minutes at 5 minutes).
pub const REPORT_AT: [usize; 3] = [3, 6, 12];

fn to_array(t: Tensor<4>) -> anyhow::Result<Array4<f32>> {
    let dims = t.dims();
    let v: Vec<f32> = t.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("reading predictions: {e:?}"))?;
    Ok(Array4::from_shape_vec(dims, v)?)
}

/// Runs `predict` (normalised predictions of a batch) over the windows `range` of `data` in
/// batches of `batch` on the non-autodiff version of `device` and scores it against the truth.
pub fn evaluate(
    mut predict: impl FnMut(&Batch) -> anyhow::Result<Tensor<4>>,
    data: &GraphPrepared,
    range: Range<usize>,
    batch: usize,
    denorm: &Denorm,
    device: &Device,
) -> anyhow::Result<HorizonReport> {
    let device = device.clone().inner();
    let starts: Vec<usize> = range.collect();
    anyhow::ensure!(!starts.is_empty(), "`{}`: no windows to evaluate", data.name);
    let mut acc = HorizonAccumulator::new(data.horizon, data.zero_is_missing);
    for chunk in starts.chunks(batch.max(1)) {
        let b = Batch::new(data, chunk, &device);
        let pred = to_array(denorm.apply(predict(&b)?))?;
        let truth = to_array(b.y)?;
        acc.add(pred.view(), truth.view())?;
    }
    let report_at: Vec<usize> = REPORT_AT.iter().copied().filter(|&h| h <= data.horizon).collect();
    acc.finish(&report_at)
}

/// Predicted and true series of a few nodes at one horizon step, over consecutive test windows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesSample {
    /// Node index in the graph.
    pub node: usize,
    /// Horizon step of the predictions, 1-based.
    pub horizon_step: usize,
    /// True values, original units, one per window.
    pub truth: Vec<f32>,
    /// Predicted values, original units, aligned with `truth`.
    pub pred: Vec<f32>,
}

/// Which series [`sample_series`] extracts: `nodes` (channel 0) at `horizon_step` over the first
/// `len` windows of `range`.
#[derive(Debug, Clone)]
pub struct SeriesSpec<'a> {
    /// Window start indices to draw from (e.g. `data.test`); only the first `len` are used.
    pub range: Range<usize>,
    /// Number of consecutive windows, i.e. the length of each series.
    pub len: usize,
    /// Node indices (columns of the graph), one series each.
    pub nodes: &'a [usize],
    /// Horizon step, 1-based (clamped to `1..=data.horizon`).
    pub horizon_step: usize,
}

/// Predictions at `spec.horizon_step` (1-based) for `spec.nodes` (channel 0) over the first
/// `spec.len` windows of `spec.range`: window `t`'s prediction is for step
/// `t + input_len + horizon_step - 1`.
pub fn sample_series(
    mut predict: impl FnMut(&Batch) -> anyhow::Result<Tensor<4>>,
    data: &GraphPrepared,
    spec: &SeriesSpec<'_>,
    denorm: &Denorm,
    device: &Device,
) -> anyhow::Result<Vec<SeriesSample>> {
    let device = device.clone().inner();
    let starts: Vec<usize> = spec.range.clone().take(spec.len).collect();
    let h = spec.horizon_step.clamp(1, data.horizon) - 1;
    let mut out: Vec<SeriesSample> =
        spec.nodes.iter().map(|&node| SeriesSample { node, horizon_step: h + 1, truth: vec![], pred: vec![] }).collect();
    for chunk in starts.chunks(64) {
        let b = Batch::new(data, chunk, &device);
        let pred = to_array(denorm.apply(predict(&b)?))?;
        let truth = to_array(b.y)?;
        for s in out.iter_mut() {
            for i in 0..chunk.len() {
                s.pred.push(pred[[i, h, s.node, 0]]);
                s.truth.push(truth[[i, h, s.node, 0]]);
            }
        }
    }
    Ok(out)
}

/// Inference time in milliseconds (median of repeated runs after a warm-up).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct InferenceTime {
    /// One batch of 64 windows.
    pub batch64_ms: f64,
    /// One single window.
    pub single_ms: f64,
}

/// Times `predict` on a batch of 64 test windows and on one window (results are read back to
/// the host, so the time includes the whole forward pass); the median of `reps ≥ 1` runs.
pub fn time_inference(
    mut predict: impl FnMut(&Batch) -> anyhow::Result<Tensor<4>>,
    data: &GraphPrepared,
    reps: usize,
    device: &Device,
) -> anyhow::Result<InferenceTime> {
    urbancast_check::Checker::new("").at_least("reps", reps, 1)?;
    let device = device.clone().inner();
    let pool: Vec<usize> = data.test.clone().chain(data.train.clone()).collect();
    anyhow::ensure!(!pool.is_empty(), "`{}`: no windows to time", data.name);
    let starts: Vec<usize> = pool.iter().cycle().take(64).copied().collect();
    let mut median = |b: &Batch| -> anyhow::Result<f64> {
        for _ in 0..3 {
            predict(b)?.into_data();
        }
        let mut ms = Vec::with_capacity(reps);
        for _ in 0..reps {
            let t0 = Instant::now();
            predict(b)?.into_data();
            ms.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        Ok(ms[ms.len() / 2])
    };
    let batch64_ms = median(&Batch::new(data, &starts, &device))?;
    let single_ms = median(&Batch::new(data, &starts[..1], &device))?;
    Ok(InferenceTime { batch64_ms, single_ms })
}
