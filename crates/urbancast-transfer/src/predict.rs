//! Inference: predictions in original units for a list of target steps; a checkpoint on a
//! city and a time range ([`predict_city`]), written to NPY or CSV.
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::Device;
use ndarray::Array3;
use urbancast_data::prep::{Prepared, Protocol};
use urbancast_nn::StNet;

use crate::batch::Task;

/// Predicts the given target steps with `model` (a non-autodiff module) in batches of `batch`,
/// clamped at 0 ([`StNet::predict_scaled`]). Returns `[N, R, C]` in the city's original units.
pub fn predict(model: &StNet, task: &Task, steps: &[usize], lags: usize, batch: usize) -> anyhow::Result<Array3<f32>> {
    let city = &task.prep.city;
    let (r, c) = (city.num_regions(), city.num_channels());
    let mut out = Vec::with_capacity(steps.len() * r * c);
    for chunk in steps.chunks(batch.max(1)) {
        let x = task.eval_inputs(chunk, lags);
        let pred = model.predict_scaled(x, &task.eval_space)?;
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

/// Predictions of a checkpoint for a range of steps of a city ([`predict_city`]).
pub struct CityPrediction {
    /// The city as the model sees it (channels and interval of the checkpoint), prepared.
    pub prep: Prepared,
    /// The target steps predicted.
    pub steps: Vec<usize>,
    /// `[steps, regions, channels]` in original units.
    pub pred: Array3<f32>,
}

/// Loads the checkpoint folder `checkpoint` on `device` and predicts the target steps
/// `from..to` (default: the first step with enough history to the end) of the city `spec`
/// (`seed` seeds a synthetic SPEC), resampled and channel-aligned to the checkpoint. A folder of
/// per-channel checkpoints (one subfolder per channel, as `transfer` writes them) is predicted
/// channel by channel.
pub fn predict_city(
    checkpoint: &Path,
    spec: &str,
    seed: u64,
    from: Option<usize>,
    to: Option<usize>,
    device: &Device,
) -> anyhow::Result<CityPrediction> {
    let models = crate::checkpoint::load_set(checkpoint, device)?;
    let channels: Vec<_> = models.iter().flat_map(|(_, m)| m.channels.iter().copied()).collect();
    let meta = &models[0].1;
    let city = urbancast_data::spec::load(spec, seed).with_context(|| format!("loading `{spec}`"))?;
    let city = city.select_channels(&channels)?.resample(meta.interval_min)?;
    let lags = meta.model.lags;
    let t = city.num_steps();
    let (from, to) = (from.unwrap_or(lags), to.unwrap_or(t));
    if from < lags || to > t || from >= to {
        bail!(
            "time range [{from}, {to}) is invalid for `{}`: it has {t} steps and each prediction needs {lags} earlier steps, so use {lags} <= from < to <= {t}",
            city.name
        );
    }
    let protocol = Protocol { percentile: meta.percentile, ..Default::default() };
    let prep = Prepared::new(city, &protocol);
    let steps: Vec<usize> = (from..to).collect();
    let mut parts = vec![];
    let mut c0 = 0;
    for (model, m) in &models {
        let c = m.channels.len();
        // a per-channel model sees its channels scaled on their own, as in training
        let part = if models.len() == 1 { prep.clone() } else { prep.channel(c0) };
        let task = Task::new(&part, device);
        parts.push(predict(&model.valid(), &task, &steps, lags, 64)?);
        c0 += c;
    }
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let pred = ndarray::concatenate(ndarray::Axis(2), &views)?;
    Ok(CityPrediction { prep, steps, pred })
}

impl CityPrediction {
    /// Writes `out`: `.npy` (`[N, R, C]` in original units) or `.csv`
    /// (step,region,channel,prediction,truth); the parent folder is created.
    pub fn write(&self, out: &Path) -> anyhow::Result<()> {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let city = &self.prep.city;
        match out.extension().and_then(|e| e.to_str()) {
            Some("npy") => urbancast_io::with_temp(out, |p| ndarray_npy::write_npy(p, &self.pred))
                .with_context(|| format!("cannot write {}", out.display()))?,
            Some("csv") => {
                let mut s = String::from("step,region,channel,prediction,truth\n");
                for (k, &st) in self.steps.iter().enumerate() {
                    for r in 0..city.num_regions() {
                        for (c, ch) in city.channels.iter().enumerate() {
                            let _ = writeln!(s, "{st},{r},{},{:.4},{}", ch.name(), self.pred[[k, r, c]], city.flow[[st, r, c]]);
                        }
                    }
                }
                urbancast_io::write_atomic(out, s).with_context(|| format!("cannot write {}", out.display()))?;
            }
            _ => bail!("{}: the output must end in .npy or .csv", out.display()),
        }
        Ok(())
    }
}
