//! Temporal and normalisation layers of MTGNN.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};

/// Kernel widths of MTGNN's dilated inception (`kernel_set = [2, 3, 6, 7]`).
pub const INCEPTION_KERNELS: [usize; 4] = [2, 3, 6, 7];

/// Dilated inception: parallel `(1, k)` convolutions (`k` in [`INCEPTION_KERNELS`]), each
/// `c_in -> c_out / 4`, truncated to the output length of the widest one and concatenated
/// over channels.
#[derive(Module, Debug)]
pub struct DilatedInception {
    pub(super) convs: Vec<Conv2d>,
}

impl DilatedInception {
    /// New layer `c_in -> c_out` (`c_out` a multiple of 4) with time dilation `dilation`.
    pub fn new(c_in: usize, c_out: usize, dilation: usize, device: &Device) -> Self {
        let per = c_out / INCEPTION_KERNELS.len();
        let convs =
            INCEPTION_KERNELS.iter().map(|&k| Conv2dConfig::new([c_in, per], [1, k]).with_dilation([1, dilation]).init(device)).collect();
        Self { convs }
    }

    /// `[B, c_in, N, T] -> [B, c_out, N, T - dilation * 6]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let outs: Vec<Tensor<4>> = self.convs.iter().map(|c| c.forward(x.clone())).collect();
        let t = outs.iter().map(|o| o.dims()[3]).min().unwrap_or(0);
        let outs = outs
            .into_iter()
            .map(|o| {
                let len = o.dims()[3];
                o.narrow(3, len - t, t)
            })
            .collect();
        Tensor::cat(outs, 1)
    }
}

/// MTGNN's `LayerNorm` over `(C, N, T)` of each sample, with element-wise affine parameters
/// shaped `[C, N, T]` (initialised to 1 and 0), `eps = 1e-5`.
#[derive(Module, Debug)]
pub struct NodeLayerNorm {
    pub(super) weight: Param<Tensor<3>>,
    pub(super) bias: Param<Tensor<3>>,
}

impl NodeLayerNorm {
    /// New normalisation for `[C, N, T]` feature maps.
    pub fn new(shape: [usize; 3], device: &Device) -> Self {
        Self { weight: Param::from_tensor(Tensor::ones(shape, device)), bias: Param::from_tensor(Tensor::zeros(shape, device)) }
    }

    /// `x [B, C, N, T]` -> normalised `x`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, n, t] = x.dims();
        let flat = x.reshape([b, c * n * t]);
        let (var, mean) = flat.clone().var_mean_bias(1);
        let y = (flat - mean) / var.add_scalar(1e-5).sqrt();
        y.reshape([b, c, n, t]) * self.weight.val().unsqueeze::<4>() + self.bias.val().unsqueeze::<4>()
    }
}
