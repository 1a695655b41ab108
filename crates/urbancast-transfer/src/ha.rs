//! The simple predictors every table carries as controls, in original units:
//!
//! * [`predict`], the historical average: the mean of the target's available data at the same
//!   hour of week. Slots with no available data fall back to the same time of day, then to the
//!   overall mean of the available data (with 3 days of data most hours of the week are unseen);
//! * [`region_mean`]: each region's mean over the available data;
//! * [`persistence`]: the last observed step (needs no training data).
use ndarray::{Array3, Axis};
use urbancast_data::City;

/// Predicts `test` steps of `city` from its `available` steps. Returns `[N, R, C]` in original units.
pub fn predict(city: &City, available: &[usize], test: &[usize]) -> Array3<f32> {
    let (_, r, c) = city.flow.dim();
    let spd = city.steps_per_day();
    let spw = 7 * spd;
    let mut week_sum = vec![0f64; spw * r * c];
    let mut week_n = vec![0usize; spw];
    let mut day_sum = vec![0f64; spd * r * c];
    let mut day_n = vec![0usize; spd];
    let mut all_sum = vec![0f64; r * c];
    for &t in available {
        let (ws, ds) = (t % spw, t % spd);
        week_n[ws] += 1;
        day_n[ds] += 1;
        for (i, v) in city.flow.index_axis(Axis(0), t).iter().enumerate() {
            let v = *v as f64;
            week_sum[ws * r * c + i] += v;
            day_sum[ds * r * c + i] += v;
            all_sum[i] += v;
        }
    }
    let mut out = Array3::<f32>::zeros((test.len(), r, c));
    for (k, &t) in test.iter().enumerate() {
        let (ws, ds) = (t % spw, t % spd);
        let (sum, n) = if week_n[ws] > 0 {
            (&week_sum[ws * r * c..(ws + 1) * r * c], week_n[ws])
        } else if day_n[ds] > 0 {
            (&day_sum[ds * r * c..(ds + 1) * r * c], day_n[ds])
        } else {
            (&all_sum[..], available.len().max(1))
        };
        for (o, s) in out.index_axis_mut(Axis(0), k).iter_mut().zip(sum) {
            *o = (*s / n as f64) as f32;
        }
    }
    out
}

/// Each region's (and channel's) mean over the `available` steps, for every `test` step.
pub fn region_mean(city: &City, available: &[usize], test: &[usize]) -> Array3<f32> {
    let (_, r, c) = city.flow.dim();
    let mean = city.flow.select(Axis(0), available).mapv(f64::from).mean_axis(Axis(0)).unwrap_or_else(|| ndarray::Array2::zeros((r, c)));
    let mut out = Array3::<f32>::zeros((test.len(), r, c));
    for mut o in out.axis_iter_mut(Axis(0)) {
        o.assign(&mean.mapv(|v| v as f32));
    }
    out
}

/// The value one step before each `test` step (steps ≥ 1).
pub fn persistence(city: &City, test: &[usize]) -> Array3<f32> {
    let prev: Vec<usize> = test.iter().map(|&t| t.saturating_sub(1)).collect();
    city.flow.select(Axis(0), &prev)
}
