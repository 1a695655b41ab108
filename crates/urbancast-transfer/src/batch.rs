//! Turning a prepared city into model inputs: spatial context, masks and batches.
use burn::prelude::*;
use burn::tensor::TensorData;
use urbancast_data::Layout;
use urbancast_data::prep::Prepared;
use urbancast_nn::Space;

/// A prepared city on a device, ready to be batched.
pub struct Task<'a> {
    /// The prepared (scaled) city the batches are cut from.
    pub prep: &'a Prepared,
    /// Spatial context on the training device.
    pub space: Space,
    /// The same on the inference (non-autodiff) device, so evaluation records no graph.
    pub eval_space: Space,
    /// Active-region mask `[1, R, 1]` (1 = active).
    pub mask: Tensor<3>,
    /// Number of active regions (the denominator of [`masked_mse`]).
    pub n_active: usize,
    /// Training device (usually autodiff): where [`Task::batch`] puts its tensors.
    pub device: Device,
    /// `device` without autodiff, for inference ([`Task::eval_inputs`]).
    pub eval_device: Device,
}

impl<'a> Task<'a> {
    /// Builds the spatial context (grid shape or normalised graph) and the active-region mask of
    /// `prep`'s city on `device` and on its non-autodiff version.
    pub fn new(prep: &'a Prepared, device: &Device) -> Task<'a> {
        let city = &prep.city;
        let r = city.num_regions();
        let eval_device = device.clone().without_autodiff();
        let space_on = |d: &Device| match &city.layout {
            Layout::Grid { height, width } => Space::Grid { height: *height, width: *width },
            Layout::Graph { adjacency, .. } => {
                let raw: Vec<f32> = adjacency.iter().copied().collect();
                Space::graph_from_dense(&raw, r, d)
            }
        };
        let (space, eval_space) = (space_on(device), space_on(&eval_device));
        let m: Vec<f32> = city.mask.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
        let mask = Tensor::<1>::from_data(TensorData::new(m, [r]), device).reshape([1, r, 1]);
        Task { prep, space, eval_space, mask, n_active: city.num_active(), device: device.clone(), eval_device }
    }

    /// Inputs `[B, L, C, R]` and targets `[B, R, C]` (scaled) for the given target steps.
    pub fn batch(&self, steps: &[usize], lags: usize) -> (Tensor<4>, Tensor<3>) {
        let (x, y) = self.batch_data(steps, lags);
        (Tensor::from_data(x, &self.device), Tensor::from_data(y, &self.device))
    }

    /// Inputs only, on the inference device (for a module from `.valid()`).
    pub fn eval_inputs(&self, steps: &[usize], lags: usize) -> Tensor<4> {
        Tensor::from_data(self.batch_data(steps, lags).0, &self.eval_device)
    }

    fn batch_data(&self, steps: &[usize], lags: usize) -> (TensorData, TensorData) {
        let s = &self.prep.scaled;
        let (_, r, c) = s.dim();
        let b = steps.len();
        let mut x = Vec::with_capacity(b * lags * c * r);
        let mut y = Vec::with_capacity(b * r * c);
        for &t in steps {
            for l in t - lags..t {
                for ch in 0..c {
                    x.extend((0..r).map(|ri| s[[l, ri, ch]]));
                }
            }
            y.extend(s.index_axis(ndarray::Axis(0), t).iter().copied());
        }
        (TensorData::new(x, [b, lags, c, r]), TensorData::new(y, [b, r, c]))
    }
}

/// Squared error summed over active regions, averaged over the batch and the channels:
/// `sum(mask * (p - y)^2) / (B * C)` — CrossTReS `train_epoch`'s `loss.mean(0).sum()` for one
/// channel (STBaT eq. 15 sums over regions as well). With a per-channel model (C = 1) it is
/// exactly CrossTReS's loss; a joint model averages its channels so both have one scale.
pub fn masked_mse(pred: Tensor<3>, target: Tensor<3>, task: &Task) -> Tensor<1> {
    let [b, _, c] = pred.dims();
    let se = (pred - target).square() * task.mask.clone();
    se.sum().div_scalar((b * c) as f32)
}
