//! Mini-batches of sliding windows from a prepared sensor graph.
use burn::tensor::{Device, Int, Tensor, TensorData};
use urbancast_data::graph::GraphPrepared;

/// One batch of windows starting at the given steps.
pub struct Batch {
    /// Normalised inputs `[B, T, N, C]` (the student's input).
    pub x: Tensor<4>,
    /// Normalised inputs plus the time-of-day fraction as one more channel `[B, T, N, C + 1]`
    /// (the teacher's input, as MTGNN's `in_dim = 2`).
    pub x_teacher: Tensor<4>,
    /// Slot of day (`0..steps_per_day`) of the last input step `[B]`.
    pub tod: Tensor<1, Int>,
    /// Day of week (`0..7`) of the last input step `[B]`.
    pub dow: Tensor<1, Int>,
    /// Truth in original units `[B, H, N, C]`.
    pub y: Tensor<4>,
    /// 1 where the truth is observed `[B, H, N, C]`.
    pub mask: Tensor<4>,
    /// Window start of each sample.
    pub starts: Vec<usize>,
}

impl Batch {
    /// Builds the batch of windows starting at `starts` on `device`.
    pub fn new(p: &GraphPrepared, starts: &[usize], device: &Device) -> Batch {
        let (l, h, n, c) = (p.input_len, p.horizon, p.num_nodes(), p.channels());
        let b = starts.len();
        let mut x = Vec::with_capacity(b * l * n * c);
        let mut xt = Vec::with_capacity(b * l * n * (c + 1));
        let mut y = Vec::with_capacity(b * h * n * c);
        let mut mask = Vec::with_capacity(b * h * n * c);
        let mut tod = Vec::with_capacity(b);
        let mut dow = Vec::with_capacity(b);
        let spd = p.steps_per_day as f32;
        for &t in starts {
            let (input, truth) = p.window(t);
            for (s, step) in input.outer_iter().enumerate() {
                let frac = p.tod[t + s] as f32 / spd;
                for node in step.outer_iter() {
                    x.extend(node.iter().copied());
                    xt.extend(node.iter().copied());
                    xt.push(frac);
                }
            }
            y.extend(truth.iter().copied());
            mask.extend(p.truth_mask(t).iter().copied());
            tod.push(p.tod[t + l - 1] as i64);
            dow.push(p.dow[t + l - 1] as i64);
        }
        Batch {
            x: Tensor::from_data(TensorData::new(x, [b, l, n, c]), device),
            x_teacher: Tensor::from_data(TensorData::new(xt, [b, l, n, c + 1]), device),
            tod: Tensor::from_data(TensorData::new(tod, [b]), device),
            dow: Tensor::from_data(TensorData::new(dow, [b]), device),
            y: Tensor::from_data(TensorData::new(y, [b, h, n, c]), device),
            mask: Tensor::from_data(TensorData::new(mask, [b, h, n, c]), device),
            starts: starts.to_vec(),
        }
    }

    /// The same batch without autodiff (for frozen teachers and validation).
    pub fn inner(&self) -> Batch {
        Batch {
            x: self.x.clone().inner(),
            x_teacher: self.x_teacher.clone().inner(),
            tod: self.tod.clone().inner(),
            dow: self.dow.clone().inner(),
            y: self.y.clone().inner(),
            mask: self.mask.clone().inner(),
            starts: self.starts.clone(),
        }
    }

    /// Number of windows `B` in the batch.
    pub fn size(&self) -> usize {
        self.x.dims()[0]
    }
}

/// Per-channel z-score as tensors, to bring predictions back to original units.
#[derive(Clone)]
pub struct Denorm {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Denorm {
    /// The training-set scaler (per-channel mean and std) of `p`.
    pub fn new(p: &GraphPrepared) -> Denorm {
        Denorm { mean: p.scaler.mean.clone(), std: p.scaler.std.clone() }
    }

    fn tensor(&self, v: &[f32], device: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(v.to_vec(), [1, 1, 1, v.len()]), device)
    }

    /// `pred * std + mean` per channel (last axis).
    pub fn apply(&self, pred: Tensor<4>) -> Tensor<4> {
        let device = pred.device();
        pred * self.tensor(&self.std, &device) + self.tensor(&self.mean, &device)
    }

    /// `(y - mean) / std` per channel.
    pub fn normalise(&self, y: Tensor<4>) -> Tensor<4> {
        let device = y.device();
        (y - self.tensor(&self.mean, &device)) / self.tensor(&self.std, &device)
    }
}
