//! Graph WaveNet CPU benchmark: a training step (forward + backward + Adam) and inference at
//! ST-GFSL's `meta_gwn` defaults on a graph of `nodes` sensors (a ring with one chord per node,
//! double-transition supports). Times the path this process runs: the matmul convolutions and
//! fused gate, or burn's own ops when `URBANCAST_REFERENCE_GWN` is set.
use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::bench::Stats;
use crate::gwn::{GwnConfig, double_transition};

/// What [`bench_gwn`] times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GwnBenchOpts {
    /// Batch size of the training step and of inference.
    pub batch: usize,
    /// Sensors.
    pub nodes: usize,
    /// Untimed iterations.
    pub warmup: usize,
    /// Timed iterations.
    pub iters: usize,
}

impl GwnBenchOpts {
    /// Refuses zero sizes.
    pub fn validate(&self) -> Result<(), String> {
        if [self.batch, self.nodes, self.iters].contains(&0) { Err("bench gwn: batch, nodes and iters must be > 0".into()) } else { Ok(()) }
    }
}

/// What [`bench_gwn`] measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GwnBenchReport {
    /// `fast` (matmul convolutions, fused gate) or `reference` (burn's `Conv2d`, concatenation,
    /// `tanh`/`sigmoid`).
    pub path: String,
    /// The options.
    pub opts: GwnBenchOpts,
    /// Trainable parameters.
    pub params: usize,
    /// Forward + backward + Adam step.
    pub train_step: Stats,
    /// Forward without autodiff.
    pub inference: Stats,
}

/// A ring of `n` nodes with one chord per node (`i -> i + n/3`), as 0/1 weights.
fn bench_graph(n: usize, dev: &Device) -> Tensor<2> {
    let mut a = vec![0.0f32; n * n];
    for i in 0..n {
        for j in [(i + 1) % n, (i + n - 1) % n, (i + n / 3) % n] {
            if j != i {
                a[i * n + j] = 1.0;
            }
        }
    }
    Tensor::from_data(TensorData::new(a, [n, n]), dev)
}

/// Times `f` `warmup + iters` times and keeps the last `iters`.
fn time(warmup: usize, iters: usize, mut f: impl FnMut()) -> Stats {
    let mut ms = Vec::with_capacity(iters);
    for i in 0..warmup + iters {
        let t = Instant::now();
        f();
        if i >= warmup {
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    Stats::of(&ms)
}

/// Runs the benchmark on the CPU backend.
pub fn bench_gwn(opts: &GwnBenchOpts) -> GwnBenchReport {
    let (b, n) = (opts.batch, opts.nodes);
    let cfg = GwnConfig { num_supports: 2, ..GwnConfig::new(n, 2) };
    let ad = Device::flex().autodiff();
    let mut model = cfg.init_seeded(&ad, 1);
    let params = burn::module::Module::num_params(&model);
    let x = Tensor::<4>::random([b, cfg.in_steps, n, 2], Distribution::Uniform(0.0, 1.0), &ad);
    let y = Tensor::<4>::random([b, cfg.out_steps, n, 1], Distribution::Uniform(0.0, 1.0), &ad);
    let sups = double_transition(&bench_graph(n, &ad));
    let mut optim = AdamConfig::new().init();
    let train_step = time(opts.warmup, opts.iters, || {
        let loss = (model.forward(x.clone(), &sups) - y.clone()).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model.clone(), grads);
    });
    let dev = Device::flex();
    let plain = cfg.init_seeded(&dev, 1);
    let xi = Tensor::<4>::random([b, cfg.in_steps, n, 2], Distribution::Uniform(0.0, 1.0), &dev);
    let sups_i = double_transition(&bench_graph(n, &dev));
    let inference = time(opts.warmup, opts.iters, || {
        let _ = plain.forward(xi.clone(), &sups_i).into_data();
    });
    let path = if crate::gwn::reference_path() { "reference" } else { "fast" };
    GwnBenchReport { path: path.into(), opts: opts.clone(), params, train_step, inference }
}
