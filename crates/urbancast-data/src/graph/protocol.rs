//! The forecasting protocol: windows of `input_len` steps -> `horizon` steps, a chronological
//! train / val / test split of the time axis, z-scoring fitted on the training block.
use std::ops::Range;

use ndarray::{Array2, Array3, ArrayView3, Axis, s};

use super::{SensorGraph, ZScore};
use crate::error::{DataError, Result};

/// Window lengths, split fractions and target features.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GraphProtocol {
    /// Input steps per window (12).
    pub input_len: usize,
    /// Predicted steps per window (12).
    pub horizon: usize,
    /// Fraction of the time axis in the training block (0.6); the rest after val and test.
    pub train_frac: f64,
    /// Fraction in the validation block (0.2); the test block gets `1 - train - val`.
    pub val_frac: f64,
    /// Indices of the features to forecast (`[0]`).
    pub targets: Vec<usize>,
}

impl Default for GraphProtocol {
    fn default() -> Self {
        GraphProtocol { input_len: 12, horizon: 12, train_frac: 0.6, val_frac: 0.2, targets: vec![0] }
    }
}

impl GraphProtocol {
    /// Sets the fractions from `"train/val/test"` percentages, e.g. `"60/20/20"` or `"70/10/20"`
    /// (they must add up to 100, train > 0).
    pub fn with_split(mut self, split: &str) -> Result<Self> {
        let bad = |what: &str| DataError::Spec { spec: split.into(), what: what.into() };
        let parts: Vec<f64> = split
            .split('/')
            .map(|p| p.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("expected three percentages train/val/test, e.g. 60/20/20"))?;
        if parts.len() != 3 {
            return Err(bad("expected three percentages train/val/test, e.g. 60/20/20"));
        }
        if (parts.iter().sum::<f64>() - 100.0).abs() > 1e-6 || parts[0] <= 0.0 {
            return Err(bad("percentages must add up to 100 with a positive training share"));
        }
        self.train_frac = parts[0] / 100.0;
        self.val_frac = parts[1] / 100.0;
        Ok(self)
    }

    /// The test fraction, `1 - train - val`.
    pub fn test_frac(&self) -> f64 {
        1.0 - self.train_frac - self.val_frac
    }
}

/// A graph ready for training: target channels raw and z-scored, calendar features, and the
/// window-start ranges of the three blocks.
#[derive(Debug, Clone)]
pub struct GraphPrepared {
    /// Dataset name.
    pub name: String,
    /// Minutes per step.
    pub interval_min: u32,
    /// Input steps per window.
    pub input_len: usize,
    /// Output steps per window.
    pub horizon: usize,
    /// Names of the target channels.
    pub features: Vec<String>,
    /// Target channels `[T, N, C]` in raw units.
    pub raw: Array3<f32>,
    /// `(raw - mean) / std` everywhere `[T, N, C]` (missing zeros too: use the mask).
    pub norm: Array3<f32>,
    /// Time-of-day slot per step, `0..steps_per_day`.
    pub tod: Vec<usize>,
    /// Day of week per step, `0..7` (0 = Monday).
    pub dow: Vec<usize>,
    /// Slots per day.
    pub steps_per_day: usize,
    /// The scaler, fitted on the training block.
    pub scaler: ZScore,
    /// Whether raw zeros are missing readings.
    pub zero_is_missing: bool,
    /// Adjacency `[N, N]`.
    pub adjacency: Array2<f32>,
    /// Training window starts `t`: input `t..t+input_len`, output the next `horizon` steps.
    pub train: Range<usize>,
    /// Validation window starts.
    pub val: Range<usize>,
    /// Test window starts.
    pub test: Range<usize>,
}

/// Splits the time axis into train / val / test blocks (val and test sizes
/// `floor(T * frac)`, train the rest, in that order), fits the z-score on the training block and
/// lists the window starts lying wholly inside each block. Errors: no or out-of-range targets,
/// bad fractions, zero lengths, a non-empty block shorter than one window.
pub fn prepare_graph(g: &SensorGraph, p: &GraphProtocol) -> Result<GraphPrepared> {
    p.validate()?;
    let fail = |what: String| DataError::city(&g.name, what);
    let (t, _, f) = g.series.dim();
    if let Some(&bad) = p.targets.iter().find(|&&c| c >= f) {
        return Err(fail(format!("target feature {bad} out of range: the graph has {f} ({:?})", g.features)));
    }
    let n_val = (t as f64 * p.val_frac + 1e-9).floor() as usize;
    let n_test = (t as f64 * p.test_frac().max(0.0) + 1e-9).floor() as usize;
    let n_train = t.saturating_sub(n_val + n_test);
    let window = p.input_len + p.horizon;
    let blocks = [("train", 0, n_train), ("val", n_train, n_train + n_val), ("test", n_train + n_val, t)];
    let mut ranges = Vec::with_capacity(3);
    for (name, b0, b1) in blocks {
        let len = b1 - b0;
        if len == 0 && name != "train" {
            ranges.push(b0..b0);
            continue;
        }
        if len < window {
            return Err(fail(format!("the {name} block has {len} of {t} steps but one window needs input_len + horizon = {window}")));
        }
        ranges.push(b0..b1 - window + 1);
    }
    let raw = g.series.select(Axis(2), &p.targets);
    let scaler = ZScore::fit(raw.slice(s![..n_train, .., ..]), g.zero_is_missing).map_err(|e| fail(format!("training block: {e}")))?;
    let mut norm = raw.clone();
    scaler.transform(&mut norm)?;
    let mut it = ranges.into_iter();
    let (train, val, test) = (it.next().unwrap_or(0..0), it.next().unwrap_or(0..0), it.next().unwrap_or(0..0));
    Ok(GraphPrepared {
        name: g.name.clone(),
        interval_min: g.interval_min,
        input_len: p.input_len,
        horizon: p.horizon,
        features: p.targets.iter().map(|&c| g.features[c].clone()).collect(),
        raw,
        norm,
        tod: (0..t).map(|i| g.time_of_day(i)).collect(),
        dow: (0..t).map(|i| g.day_of_week(i)).collect(),
        steps_per_day: g.steps_per_day(),
        scaler,
        zero_is_missing: g.zero_is_missing,
        adjacency: g.adjacency.clone(),
        train,
        val,
        test,
    })
}

impl GraphPrepared {
    /// Number of nodes `N`.
    pub fn num_nodes(&self) -> usize {
        self.raw.dim().1
    }
    /// Number of target channels `C`.
    pub fn channels(&self) -> usize {
        self.raw.dim().2
    }
    /// Number of steps `T`.
    pub fn num_steps(&self) -> usize {
        self.raw.dim().0
    }

    /// The window starting at `t`: normalised input `[input_len, N, C]` and raw truth
    /// `[horizon, N, C]`.
    ///
    /// # Panics
    /// When `t + input_len + horizon > T` (window starts from `train`/`val`/`test` never do).
    pub fn window(&self, t: usize) -> (ArrayView3<'_, f32>, ArrayView3<'_, f32>) {
        let (l, h) = (self.input_len, self.horizon);
        (self.norm.slice(s![t..t + l, .., ..]), self.raw.slice(s![t + l..t + l + h, .., ..]))
    }

    /// 1 where the truth of window `t` is observed (raw != 0 when `zero_is_missing`), else 0;
    /// `[horizon, N, C]`. Panics like [`GraphPrepared::window`].
    pub fn truth_mask(&self, t: usize) -> Array3<f32> {
        let truth = self.window(t).1;
        if self.zero_is_missing { truth.mapv(|v| f32::from(u8::from(v != 0.0))) } else { Array3::ones(truth.raw_dim()) }
    }
}
