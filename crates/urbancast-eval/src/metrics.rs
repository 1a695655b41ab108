//! Masked forecasting metrics, computed in the data's original units.
use ndarray::{ArrayView3, Axis};
use serde::{Deserialize, Serialize};

/// Errors of one channel (or their average over channels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Scores {
    /// Root mean squared error over active entries, in the data's units.
    pub rmse: f64,
    /// Mean absolute error over active entries, in the data's units.
    pub mae: f64,
    /// Mean absolute percentage error over entries whose target is > 0, in percent.
    /// `NaN` when no target is > 0.
    pub mape: f64,
    /// How many entries the RMSE/MAE were computed on.
    pub count: usize,
}

/// Per-channel scores and their mean over channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelScores {
    /// Channel names, length `C` (`ch{i}` where no name was given).
    pub channels: Vec<String>,
    /// Scores of each channel, in the order of `channels`.
    pub per_channel: Vec<Scores>,
    /// Mean of the per-channel RMSE, MAE and MAPE.
    pub mean: Scores,
}

/// Scores `pred` against `truth` (both `[N, R, C]`, original units) over active regions only.
///
/// RMSE and MAE run over every active region and every step; MAPE only over entries whose
/// target is > 0. The `mean` row averages the per-channel values.
pub fn score(pred: ArrayView3<f32>, truth: ArrayView3<f32>, mask: &[bool], channel_names: &[String]) -> ChannelScores {
    assert_eq!(pred.dim(), truth.dim(), "prediction and truth shapes differ");
    assert_eq!(pred.dim().1, mask.len(), "mask length differs from the number of regions");
    let c = pred.dim().2;
    let mut per_channel = Vec::with_capacity(c);
    for ch in 0..c {
        let (p, t) = (pred.index_axis(Axis(2), ch), truth.index_axis(Axis(2), ch));
        let (mut se, mut ae, mut n, mut ape, mut n_pos) = (0f64, 0f64, 0usize, 0f64, 0usize);
        for ((ti, r), &pv) in p.indexed_iter() {
            let tv = t[[ti, r]];
            if !mask[r] {
                continue;
            }
            let e = (pv as f64) - (tv as f64);
            se += e * e;
            ae += e.abs();
            n += 1;
            if tv > 0.0 {
                ape += e.abs() / tv as f64;
                n_pos += 1;
            }
        }
        let nf = n.max(1) as f64;
        per_channel.push(Scores {
            rmse: (se / nf).sqrt(),
            mae: ae / nf,
            mape: if n_pos > 0 { 100.0 * ape / n_pos as f64 } else { f64::NAN },
            count: n,
        });
    }
    let cf = c.max(1) as f64;
    let mean = Scores {
        rmse: per_channel.iter().map(|s| s.rmse).sum::<f64>() / cf,
        mae: per_channel.iter().map(|s| s.mae).sum::<f64>() / cf,
        mape: per_channel.iter().map(|s| s.mape).sum::<f64>() / cf,
        count: per_channel.iter().map(|s| s.count).sum(),
    };
    let channels = (0..c).map(|i| channel_names.get(i).cloned().unwrap_or_else(|| format!("ch{i}"))).collect();
    ChannelScores { channels, per_channel, mean }
}

/// RMSE of each region over steps and channels (`NaN` for inactive regions): for error maps.
pub fn per_region_rmse(pred: ArrayView3<f32>, truth: ArrayView3<f32>, mask: &[bool]) -> Vec<f64> {
    let (n, r, c) = pred.dim();
    (0..r)
        .map(|ri| {
            if !mask[ri] {
                return f64::NAN;
            }
            let mut se = 0f64;
            for ti in 0..n {
                for ci in 0..c {
                    let e = (pred[[ti, ri, ci]] - truth[[ti, ri, ci]]) as f64;
                    se += e * e;
                }
            }
            (se / (n * c).max(1) as f64).sqrt()
        })
        .collect()
}

/// Mean and sample standard deviation (n - 1); std is 0 for a single value.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (m, 0.0);
    }
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
    (m, var.sqrt())
}
