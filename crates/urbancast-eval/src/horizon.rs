//! Per-horizon forecasting errors (MAE, RMSE, MAPE) in raw units, masked like the graph
//! traffic literature (LightST, STGCN): missing zeros are skipped and MAPE uses positive truths.
use anyhow::{Result, bail, ensure};
use ndarray::{ArrayView4, Axis};

/// Mean absolute error, root mean squared error and mean absolute percentage error (percent).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ErrStats {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute percentage error in percent, over entries with truth > 0 (NaN if none).
    pub mape: f64,
}

/// Errors at selected horizon steps and over all steps pooled.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HorizonReport {
    /// `(step, stats)` with 1-based horizon steps, e.g. 3, 6, 12.
    pub horizons: Vec<(usize, ErrStats)>,
    /// All horizon steps pooled.
    pub average: ErrStats,
}

/// Running sums of one horizon step.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: u64,
    abs: f64,
    sq: f64,
    n_pct: u64,
    pct: f64,
}

impl Sums {
    fn merge(&mut self, o: &Sums) {
        self.n += o.n;
        self.abs += o.abs;
        self.sq += o.sq;
        self.n_pct += o.n_pct;
        self.pct += o.pct;
    }
    fn stats(&self) -> ErrStats {
        let n = self.n as f64;
        let mape = if self.n_pct > 0 { 100.0 * self.pct / self.n_pct as f64 } else { f64::NAN };
        ErrStats { mae: self.abs / n, rmse: (self.sq / n).sqrt(), mape }
    }
}

/// Accumulates errors batch by batch (`[B, H, N, C]`), so predictions need not all be in memory.
#[derive(Debug, Clone)]
pub struct HorizonAccumulator {
    zero_is_missing: bool,
    per_step: Vec<Sums>,
    shape: Option<(usize, usize)>,
}

impl HorizonAccumulator {
    /// An empty accumulator for `horizon` steps. With `zero_is_missing`, entries whose truth is
    /// exactly 0 are left out of every metric.
    pub fn new(horizon: usize, zero_is_missing: bool) -> Self {
        HorizonAccumulator { zero_is_missing, per_step: vec![Sums::default(); horizon], shape: None }
    }

    /// Adds a batch of predictions and truths `[B, H, N, C]` (raw units). Fails on a shape
    /// mismatch between them, a different `H` than [`HorizonAccumulator::new`], or a different
    /// `N, C` than earlier batches.
    pub fn add(&mut self, pred: ArrayView4<f32>, truth: ArrayView4<f32>) -> Result<()> {
        ensure!(pred.shape() == truth.shape(), "prediction shape {:?} != truth shape {:?}", pred.shape(), truth.shape());
        let (_, h, n, c) = pred.dim();
        ensure!(h == self.per_step.len(), "batch has {h} horizon steps, expected {}", self.per_step.len());
        if let Some(prev) = self.shape {
            ensure!(prev == (n, c), "batch has [N, C] = {:?}, earlier batches had {prev:?}", (n, c));
        }
        self.shape = Some((n, c));
        for (k, sums) in self.per_step.iter_mut().enumerate() {
            let (p, y) = (pred.index_axis(Axis(1), k), truth.index_axis(Axis(1), k));
            for (&p, &y) in p.iter().zip(y.iter()) {
                if self.zero_is_missing && y == 0.0 {
                    continue;
                }
                let e = (p as f64 - y as f64).abs();
                sums.n += 1;
                sums.abs += e;
                sums.sq += e * e;
                if y > 0.0 {
                    sums.n_pct += 1;
                    sums.pct += e / y as f64;
                }
            }
        }
        Ok(())
    }

    /// The report at the 1-based steps `report_at` plus the pooled average. Fails when nothing
    /// (or only missing entries) was added, or a step is 0 or beyond the horizon. A step whose
    /// entries are all missing gets NaN metrics.
    pub fn finish(&self, report_at: &[usize]) -> Result<HorizonReport> {
        let h = self.per_step.len();
        if let Some(&bad) = report_at.iter().find(|&&k| k == 0 || k > h) {
            bail!("horizon step {bad} is outside 1..={h}");
        }
        let mut all = Sums::default();
        self.per_step.iter().for_each(|s| all.merge(s));
        ensure!(all.n > 0, "no observed entries to score (empty input or all truths missing)");
        Ok(HorizonReport { horizons: report_at.iter().map(|&k| (k, self.per_step[k - 1].stats())).collect(), average: all.stats() })
    }
}

/// One-shot version of [`HorizonAccumulator`]: `pred` and `truth` `[S, H, N, C]` in raw units.
/// Fails on a shape mismatch, an empty array, or a step in `report_at` outside `1..=H`.
pub fn horizon_metrics(pred: ArrayView4<f32>, truth: ArrayView4<f32>, zero_is_missing: bool, report_at: &[usize]) -> Result<HorizonReport> {
    ensure!(pred.shape() == truth.shape(), "prediction shape {:?} != truth shape {:?}", pred.shape(), truth.shape());
    ensure!(!pred.is_empty(), "empty prediction array of shape {:?}", pred.shape());
    let mut acc = HorizonAccumulator::new(pred.dim().1, zero_is_missing);
    acc.add(pred, truth)?;
    acc.finish(report_at)
}
