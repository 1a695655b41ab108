//! Spatial blocks of the ST-net: a grid CNN (conv 3x3 + residual units) and its graph analogue
//! (GCN layers over a normalised adjacency). Weights are shared across lags: the lags are
//! folded into the batch dimension and processed in one call.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
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

fn conv3x3(cin: usize, cout: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

/// Residual unit: `x + conv(relu(conv(relu(x))))`.
#[derive(Module, Debug)]
pub struct ResUnit {
    c1: Conv2d,
    c2: Conv2d,
}

impl ResUnit {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let h = self.c1.forward(relu(x.clone()));
        self.c2.forward(relu(h)) + x
    }
}

/// Grid spatial block: conv C->K, then residual units.
#[derive(Module, Debug)]
pub struct GridBlock {
    conv_in: Conv2d,
    res: Vec<ResUnit>,
}

impl GridBlock {
    /// New block with `cin` input channels, `k` feature maps and `units` residual units.
    pub fn new(cin: usize, k: usize, units: usize, device: &Device) -> Self {
        Self {
            conv_in: conv3x3(cin, k, device),
            res: (0..units)
                .map(|_| ResUnit { c1: conv3x3(k, k, device), c2: conv3x3(k, k, device) })
                .collect(),
        }
    }

    /// `[N, C, H, W] -> [N, K, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = self.conv_in.forward(x);
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
            res: (0..units)
                .map(|_| GraphResUnit {
                    g1: GcnLayer::new(k, k, device),
                    g2: GcnLayer::new(k, k, device),
                })
                .collect(),
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
