//! Spatial blocks of the ST-net: a grid CNN (conv 3x3 + residual units) and its graph analogue
//! (GCN layers over a normalised adjacency). Weights are shared across lags: the lags are
//! folded into the batch dimension and processed in one call.

use burn::module::{Initializer, Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

/// `D^-1/2 (A + I) D^-1/2` for a dense row-major `r x r` adjacency (weights allowed), with
/// `D` the row sums of `A + I`. Rows whose degree is 0 (impossible with the self loop unless
/// negative weights cancel it) get 0.
pub fn normalized_adjacency(adj: &[f32], r: usize) -> Vec<f32> {
    assert_eq!(adj.len(), r * r, "adjacency must be r*r = {} values", r * r);
    let mut a: Vec<f32> = adj.to_vec();
    for i in 0..r {
        a[i * r + i] += 1.0;
    }
    let dinv: Vec<f32> = (0..r)
        .map(|i| {
            let d: f32 = a[i * r..(i + 1) * r].iter().sum();
            if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 }
        })
        .collect();
    for i in 0..r {
        for j in 0..r {
            a[i * r + j] *= dinv[i] * dinv[j];
        }
    }
    a
}

/// 3x3 convolution, stride 1, zero padding 1, on channels-last tensors `[N, H, W, C]`, with
/// an optional ReLU applied to its input (fused). Weight `[9 * Cin, Cout]` (rows ordered
/// `(kh, kw, cin)`), bias `[Cout]`; PyTorch's default init U(-1/sqrt(9 Cin), 1/sqrt(9 Cin)).
/// On Flex it runs as one fused op (`conv_op`); elsewhere through burn's `conv2d`.
#[derive(Module, Debug)]
pub struct Conv3x3 {
    /// `[9 * Cin, Cout]`.
    pub weight: Param<Tensor<2>>,
    /// `[Cout]`.
    pub bias: Param<Tensor<1>>,
}

impl Conv3x3 {
    /// New layer.
    pub fn new(cin: usize, cout: usize, device: &Device) -> Self {
        let k = 1.0 / ((9 * cin) as f64).sqrt();
        let init = Initializer::Uniform { min: -k, max: k };
        Self { weight: init.init([9 * cin, cout], device), bias: init.init([cout], device) }
    }

    /// `conv(relu?(x))`, `x [N, H, W, Cin]` -> `[N, H, W, Cout]`.
    pub fn forward(&self, x: Tensor<4>, pre_relu: bool) -> Tensor<4> {
        let (w, b) = (self.weight.val(), self.bias.val());
        if std::env::var_os("URBANCAST_REFERENCE_CONV").is_none()
            && let Some(y) = crate::conv_op::try_fused(&x, &w, &b, pre_relu)
        {
            return y;
        }
        reference_conv3x3(x, w, b, pre_relu)
    }
}

/// Plain burn version of [`Conv3x3::forward`] (reference for tests, non-Flex backends).
pub fn reference_conv3x3(x: Tensor<4>, w: Tensor<2>, b: Tensor<1>, pre_relu: bool) -> Tensor<4> {
    let x = if pre_relu { relu(x) } else { x };
    let [k9, cout] = w.dims();
    let cin = k9 / 9;
    // [(kh, kw, cin), cout] -> [cout, cin, kh, kw]
    let w = w.reshape([3, 3, cin, cout]).permute([3, 2, 0, 1]);
    let y = conv2d(x.permute([0, 3, 1, 2]), w, Some(b), ConvOptions::new([1, 1], [1, 1], [1, 1], 1));
    y.permute([0, 2, 3, 1])
}

/// Residual unit: `x + conv(relu(conv(relu(x))))`.
#[derive(Module, Debug)]
pub struct ResUnit {
    c1: Conv3x3,
    c2: Conv3x3,
}

impl ResUnit {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let h = self.c1.forward(x.clone(), true);
        self.c2.forward(h, true) + x
    }
}

/// Grid spatial block: conv C->K, then residual units; channels-last `[N, H, W, C]`.
#[derive(Module, Debug)]
pub struct GridBlock {
    conv_in: Conv3x3,
    res: Vec<ResUnit>,
}

impl GridBlock {
    /// New block with `cin` input channels, `k` feature maps and `units` residual units.
    pub fn new(cin: usize, k: usize, units: usize, device: &Device) -> Self {
        Self {
            conv_in: Conv3x3::new(cin, k, device),
            res: (0..units).map(|_| ResUnit { c1: Conv3x3::new(k, k, device), c2: Conv3x3::new(k, k, device) }).collect(),
        }
    }

    /// `[N, H, W, C] -> [N, H, W, K]` (channels last).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = self.conv_in.forward(x, false);
        for r in &self.res {
            y = r.forward(y);
        }
        y
    }
}

/// GCN layer `X -> Â X W + b`, operating on node-major features `[R, M, F]`.
#[derive(Module, Debug)]
pub struct GcnLayer {
    lin: Linear,
}

impl GcnLayer {
    fn new(fin: usize, fout: usize, device: &Device) -> Self {
        Self { lin: LinearConfig::new(fin, fout).init(device) }
    }

    /// `x [R, M, Fin]`, `adj [R, R]` -> `[R, M, Fout]`.
    pub fn forward(&self, x: Tensor<3>, adj: &Tensor<2>) -> Tensor<3> {
        let [r, m, f] = x.dims();
        let ax = adj.clone().matmul(x.reshape([r, m * f])).reshape([r, m, f]);
        self.lin.forward(ax)
    }
}

/// Graph residual unit: `x + gcn(relu(gcn(relu(x))))`.
#[derive(Module, Debug)]
pub struct GraphResUnit {
    g1: GcnLayer,
    g2: GcnLayer,
}

/// Graph spatial block: the grid block with every conv replaced by a GCN layer.
#[derive(Module, Debug)]
pub struct GraphBlock {
    gc_in: GcnLayer,
    res: Vec<GraphResUnit>,
}

impl GraphBlock {
    /// New block with `cin` input features, `k` hidden features and `units` residual units.
    pub fn new(cin: usize, k: usize, units: usize, device: &Device) -> Self {
        Self {
            gc_in: GcnLayer::new(cin, k, device),
            res: (0..units).map(|_| GraphResUnit { g1: GcnLayer::new(k, k, device), g2: GcnLayer::new(k, k, device) }).collect(),
        }
    }

    /// `x [R, M, C]` (node-major), `adj [R, R]` normalised -> `[R, M, K]`.
    pub fn forward(&self, x: Tensor<3>, adj: &Tensor<2>) -> Tensor<3> {
        let mut y = self.gc_in.forward(x, adj);
        for u in &self.res {
            let h = u.g1.forward(relu(y.clone()), adj);
            y = u.g2.forward(relu(h), adj) + y;
        }
        y
    }
}
