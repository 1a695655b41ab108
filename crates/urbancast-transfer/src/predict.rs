//! Inference: predictions in original units for a list of target steps.
use ndarray::Array3;
use urbancast_nn::StNet;

use crate::batch::Task;

/// Predicts the given target steps with `model` (a non-autodiff module) in batches of `batch`.
/// Returns `[N, R, C]` in the city's original units.
pub fn predict(model: &StNet, task: &Task, steps: &[usize], lags: usize, batch: usize) -> anyhow::Result<Array3<f32>> {
    let city = &task.prep.city;
    let (r, c) = (city.num_regions(), city.num_channels());
    let mut out = Vec::with_capacity(steps.len() * r * c);
    for chunk in steps.chunks(batch.max(1)) {
        let x = task.eval_inputs(chunk, lags);
        let pred = model.forward(x, &task.eval_space)?.pred;
        let data = pred.into_data().convert::<f32>();
        out.extend(data.as_slice::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?.iter().copied());
    }
    let mut a = Array3::from_shape_vec((steps.len(), r, c), out)?;
    task.prep.scaler.inverse_inplace(&mut a);
    Ok(a)
}

/// Ground truth for the given steps, `[N, R, C]`: the scaled series with the scaling undone
/// (so values above the 99.9th percentile are clipped, as in CrossTReS's evaluation).
pub fn truth(task: &Task, steps: &[usize]) -> Array3<f32> {
    let mut a = task.prep.scaled.select(ndarray::Axis(0), steps);
    task.prep.scaler.inverse_inplace(&mut a);
    a
}
