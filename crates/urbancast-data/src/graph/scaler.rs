//! Per-channel z-scoring fitted on the training time range.
use ndarray::{ArrayBase, ArrayView3, Axis, DataMut, Dimension};

use crate::error::{DataError, Result};

/// Per-channel mean and (population) standard deviation: `z = (x - mean) / std`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZScore {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Standard deviation per channel (> 0).
    pub std: Vec<f32>,
}

impl ZScore {
    /// Fits on `x` `[T, N, C]` (pass only the training steps). With `zero_is_missing`, zeros are
    /// left out of the statistics. A channel without values or with zero spread is an error.
    pub fn fit(x: ArrayView3<f32>, zero_is_missing: bool) -> Result<ZScore> {
        let c = x.dim().2;
        let (mut mean, mut std) = (Vec::with_capacity(c), Vec::with_capacity(c));
        for (ci, lane) in x.axis_iter(Axis(2)).enumerate() {
            let keep = |v: &&f32| !zero_is_missing || **v != 0.0;
            let (mut n, mut s) = (0usize, 0f64);
            for v in lane.iter().filter(keep) {
                n += 1;
                s += *v as f64;
            }
            if n == 0 {
                let what = format!("channel {ci}: no observed values in the training range");
                return Err(DataError::city("z-score", what));
            }
            let m = s / n as f64;
            let var = lane.iter().filter(keep).map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / n as f64;
            if !(var > 0.0 && var.is_finite()) {
                let what = format!("channel {ci}: standard deviation is 0 (constant training values {m})");
                return Err(DataError::city("z-score", what));
            }
            mean.push(m as f32);
            std.push(var.sqrt() as f32);
        }
        Ok(ZScore { mean, std })
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Normalises `x` in place; its last axis must be the channel axis.
    pub fn transform<S: DataMut<Elem = f32>, D: Dimension>(&self, x: &mut ArrayBase<S, D>) -> Result<()> {
        self.apply(x, |v, m, s| (v - m) / s)
    }

    /// Undoes [`ZScore::transform`] in place; the last axis must be the channel axis.
    pub fn inverse<S: DataMut<Elem = f32>, D: Dimension>(&self, x: &mut ArrayBase<S, D>) -> Result<()> {
        self.apply(x, |v, m, s| v * s + m)
    }

    /// Normalises one value of channel `c` (`c` must be `< channels()`).
    pub fn transform_value(&self, c: usize, v: f32) -> f32 {
        (v - self.mean[c]) / self.std[c]
    }

    /// Inverts one normalised value of channel `c` (`c` must be `< channels()`).
    pub fn inverse_value(&self, c: usize, v: f32) -> f32 {
        v * self.std[c] + self.mean[c]
    }

    fn apply<S: DataMut<Elem = f32>, D: Dimension>(&self, x: &mut ArrayBase<S, D>, f: impl Fn(f32, f32, f32) -> f32) -> Result<()> {
        let last = x.shape().last().copied();
        if x.ndim() == 0 || last != Some(self.channels()) {
            let what = format!("array of shape {:?} does not end in {} channels", x.shape(), self.channels());
            return Err(DataError::city("z-score", what));
        }
        let axis = Axis(x.ndim() - 1);
        for mut lane in x.lanes_mut(axis) {
            for (c, v) in lane.iter_mut().enumerate() {
                *v = f(*v, self.mean[c], self.std[c]);
            }
        }
        Ok(())
    }
}
