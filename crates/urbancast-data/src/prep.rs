//! Scaling, windows and splits: the CrossTReS / STBaT protocol.
//!
//! * Per city and channel min-max scaling with `max` = the 99.9th percentile of the series
//!   (CrossTReS: `sorted[int(n * 0.999)]`) and `min = max(0, min)`; values above `max` are
//!   clipped. Metrics are computed after undoing the scaling.
//! * A sample is `lags` consecutive steps predicting the next one; a sample belongs to the split
//!   that holds its *target* step.
//! * Sources: chronological train : validation = 2 : 1.
//! * Target: the last `test_days` are test, the `val_days` before them validation, and training
//!   is the last `train_days` days just before validation. Series too short for that use the
//!   last 20 % as test and the 20 % before as validation (and say so).
use ndarray::{Array3, Axis};
use serde::{Deserialize, Serialize};

use crate::city::City;
use crate::error::{DataError, Result};

/// Per-channel min-max scaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Per-channel lower bound (the series minimum, floored at 0), length `C`.
    pub min: Vec<f32>,
    /// Per-channel upper bound (the fitted percentile; larger values are clipped), length `C`.
    pub max: Vec<f32>,
}

impl Scaler {
    /// Fits on the whole series of each channel (all regions, all steps), as CrossTReS does.
    pub fn fit(flow: &Array3<f32>, percentile: f64) -> Scaler {
        let c = flow.dim().2;
        let mut min = Vec::with_capacity(c);
        let mut max = Vec::with_capacity(c);
        for ch in 0..c {
            let mut v: Vec<f32> = flow.index_axis(Axis(2), ch).iter().copied().collect();
            v.sort_by(f32::total_cmp);
            let idx = ((v.len() as f64 * percentile) as usize).min(v.len() - 1);
            min.push(v[0].max(0.0));
            max.push(v[idx]);
        }
        Scaler { min, max }
    }

    fn span(&self, ch: usize) -> f32 {
        let s = self.max[ch] - self.min[ch];
        if s > 0.0 { s } else { 1.0 }
    }

    /// Clip to `max`, then map `[min, max]` to `[0, 1]`.
    pub fn transform(&self, flow: &Array3<f32>) -> Array3<f32> {
        let mut out = flow.clone();
        for (ch, mut lane) in out.axis_iter_mut(Axis(2)).enumerate() {
            let (lo, hi, span) = (self.min[ch], self.max[ch], self.span(ch));
            lane.mapv_inplace(|x| (x.min(hi) - lo) / span);
        }
        out
    }

    /// Undo the scaling of one value of channel `ch`.
    #[inline]
    pub fn inverse_value(&self, x: f32, ch: usize) -> f32 {
        x * self.span(ch) + self.min[ch]
    }

    /// Undo the scaling of a `[.., C]` array in place (last axis = channel).
    pub fn inverse_inplace<D: ndarray::Dimension + ndarray::RemoveAxis>(&self, a: &mut ndarray::Array<f32, D>) {
        let last = a.ndim() - 1;
        for (ch, mut lane) in a.axis_iter_mut(Axis(last)).enumerate() {
            let (lo, span) = (self.min[ch], self.span(ch));
            lane.mapv_inplace(|x| x * span + lo);
        }
    }
}

/// Which part of the protocol a city plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A data-rich city used for pre-training (train / validation splits only).
    Source,
    /// The city being transferred to (train / validation / test splits).
    Target,
}

/// Protocol numbers (defaults from CrossTReS / STBaT).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocol {
    /// Number of past steps `L` in each input window (default 6).
    pub lags: usize,
    /// Quantile in `(0, 1]` used as the scaler's max (default 0.999).
    pub percentile: f64,
    /// Source cities: fraction of samples used for training (the rest validates).
    pub source_train_frac: f64,
    /// Target cities: days at the end of the series used for testing (default 60).
    pub test_days: usize,
    /// Target cities: days just before the test period used for validation (default 60).
    pub val_days: usize,
    /// Fractions used when a target series is too short for `test_days + val_days`.
    pub short_test_frac: f64,
    /// Fraction of steps used for validation in the short-series fallback (default 0.2).
    pub short_val_frac: f64,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            lags: 6,
            percentile: 0.999,
            source_train_frac: 2.0 / 3.0,
            test_days: 60,
            val_days: 60,
            short_test_frac: 0.2,
            short_val_frac: 0.2,
        }
    }
}

/// Target-step indices of each split (a sample's input is the `lags` steps before its target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Splits {
    /// Target steps of the training samples, ascending.
    pub train: Vec<usize>,
    /// Target steps of the validation samples, ascending.
    pub val: Vec<usize>,
    /// Target steps of the test samples, ascending (empty for source cities).
    pub test: Vec<usize>,
    /// Set when the short-series fallback was used; says what was done.
    pub note: Option<String>,
}

impl Protocol {
    /// Splits for a source city: chronological train : validation.
    pub fn source_splits(&self, city: &City) -> Result<Splits> {
        let t = city.num_steps();
        if t <= self.lags + 1 {
            return Err(DataError::city(&city.name, format!("{t} steps are too few for {} input lags", self.lags)));
        }
        let first = self.lags;
        let n = t - first;
        let n_train = ((n as f64) * self.source_train_frac).round() as usize;
        let n_train = n_train.clamp(1, n - 1);
        Ok(Splits { train: (first..first + n_train).collect(), val: (first + n_train..t).collect(), test: vec![], note: None })
    }

    /// Splits for a target city with `train_days` days of training data (0 = zero-shot).
    pub fn target_splits(&self, city: &City, train_days: usize) -> Result<Splits> {
        let t = city.num_steps();
        let spd = city.steps_per_day();
        let train_len = train_days * spd;
        let test_len = self.test_days * spd;
        let val_len = self.val_days * spd;
        let (test_len, val_len, note) = if self.lags + train_len + val_len + test_len <= t {
            (test_len, val_len, None)
        } else {
            let tl = ((t as f64) * self.short_test_frac).floor() as usize;
            let vl = ((t as f64) * self.short_val_frac).floor() as usize;
            let note = format!(
                "city `{}` has {} days ({t} steps), too short for {} test + {} validation + {train_days} training days: using the last {}% ({tl} steps) as test and the {}% before ({vl} steps) as validation",
                city.name,
                t / spd,
                self.test_days,
                self.val_days,
                (self.short_test_frac * 100.0).round(),
                (self.short_val_frac * 100.0).round()
            );
            (tl, vl, Some(note))
        };
        let test_start = t - test_len;
        let val_start = test_start.saturating_sub(val_len);
        if test_len == 0 || val_len == 0 || val_start < self.lags {
            return Err(DataError::city(&city.name, format!("{t} steps leave no room for {} input lags, validation and test", self.lags)));
        }
        if val_start < self.lags + train_len {
            return Err(DataError::city(
                &city.name,
                format!(
                    "{train_days} training days ({train_len} steps) do not fit before the validation period (starts at step {val_start}, {} lags needed)",
                    self.lags
                ),
            ));
        }
        Ok(Splits {
            train: (val_start - train_len..val_start).collect(),
            val: (val_start..test_start).collect(),
            test: (test_start..t).collect(),
            note,
        })
    }
}

/// A city ready for learning: scaled series plus its scaler.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The original, unscaled city.
    pub city: City,
    /// Scaler fitted on the city's whole series; undoes the scaling for metrics.
    pub scaler: Scaler,
    /// Scaled flow `[T, R, C]` in `[0, 1]`.
    pub scaled: Array3<f32>,
}

impl Prepared {
    /// Fits a [`Scaler`] at `protocol.percentile` on the city's flow and scales it.
    pub fn new(city: City, protocol: &Protocol) -> Prepared {
        let scaler = Scaler::fit(&city.flow, protocol.percentile);
        let scaled = scaler.transform(&city.flow);
        Prepared { city, scaler, scaled }
    }

    /// Channel `c` alone (`c < C`): its flow, scaled flow and scaler, with the city's name, layout,
    /// POI and active-region mask unchanged (so a per-channel model is scored on the regions of
    /// the joint one).
    pub fn channel(&self, c: usize) -> Prepared {
        let one = |a: &Array3<f32>| a.slice(ndarray::s![.., .., c..c + 1]).to_owned();
        let mut city = self.city.clone();
        city.flow = one(&self.city.flow);
        city.channels = vec![self.city.channels[c]];
        let scaler = Scaler { min: vec![self.scaler.min[c]], max: vec![self.scaler.max[c]] };
        Prepared { city, scaler, scaled: one(&self.scaled) }
    }

    /// Input window for target step `t`: the `lags` steps before it, `[L, R, C]`.
    pub fn window(&self, t: usize, lags: usize) -> ndarray::ArrayView3<'_, f32> {
        self.scaled.slice(ndarray::s![t - lags..t, .., ..])
    }
}
