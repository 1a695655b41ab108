//! ST-net CPU benchmark (burn-flex), mirroring `shared/bench/torch_stnet.py`: train step
//! (forward + backward + Adam), inference at batch B and 1, and a conv-part vs LSTM+head split.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use serde::{Deserialize, Serialize};

use crate::stnet::{Space, Spatial, SpatialKind, StNet, StNetConfig};

/// Benchmark options (defaults: channels [1, 2], batch 32, 20x23 grid, 3 warm-up, 20 timed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchOpts {
    /// Channel counts to benchmark.
    pub channels: Vec<usize>,
    /// Batch size for the train step and batched inference.
    pub batch: usize,
    /// Grid rows.
    pub height: usize,
    /// Grid columns.
    pub width: usize,
    /// Untimed iterations.
    pub warmup: usize,
    /// Timed iterations.
    pub iters: usize,
}

impl BenchOpts {
    /// Refuses empty sizes (no channel counts, or a 0 channel count, batch, height, width or
    /// timed iterations).
    pub fn validate(&self) -> Result<(), String> {
        let bad = self.channels.is_empty() || self.channels.contains(&0) || [self.batch, self.height, self.width, self.iters].contains(&0);
        if bad { Err("bench sizes must be > 0 (channels, batch, height, width, iters)".into()) } else { Ok(()) }
    }
}

impl Default for BenchOpts {
    fn default() -> Self {
        Self { channels: vec![1, 2], batch: 32, height: 20, width: 23, warmup: 3, iters: 20 }
    }
}

/// Timing statistics in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Median.
    pub median_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Minimum.
    pub min_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Number of timed iterations.
    pub n: usize,
}

impl Stats {
    /// Statistics of `v` (ms); all zero for an empty slice.
    pub fn of(v: &[f64]) -> Self {
        if v.is_empty() {
            return Self { median_ms: 0.0, mean_ms: 0.0, min_ms: 0.0, max_ms: 0.0, n: 0 };
        }
        let mut s = v.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let n = s.len();
        let median = if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) };
        Self { median_ms: median, mean_ms: s.iter().sum::<f64>() / n as f64, min_ms: s[0], max_ms: s[n - 1], n }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "median {:8.1} ms  mean {:8.1}  min {:8.1}  max {:8.1}", self.median_ms, self.mean_ms, self.min_ms, self.max_ms)
    }
}

/// Results for one channel count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelBench {
    /// Flow channels.
    pub channels: usize,
    /// Trainable parameters.
    pub params: usize,
    /// Forward + backward + Adam step at batch `opts.batch`.
    pub train_step: Stats,
    /// Inference at batch `opts.batch`.
    pub infer_batch: Stats,
    /// Inference at batch 1.
    pub infer_single: Stats,
}

/// Full benchmark report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Options used.
    pub opts: BenchOpts,
    /// Rayon worker threads.
    pub threads: usize,
    /// Backend description.
    pub backend: String,
    /// Per-channel results.
    pub results: Vec<ChannelBench>,
}

/// Conv part vs LSTM+head split for one channel count (like `torch_stnet.py profile`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// Options used.
    pub opts: BenchOpts,
    /// Flow channels profiled (first of `opts.channels`).
    pub channels: usize,
    /// Spatial block + layout change, MSE to a random target, Adam.
    pub conv_train: Stats,
    /// LSTM + head on a random sequence, MSE, Adam.
    pub head_train: Stats,
    /// Spatial block forward only.
    pub conv_infer: Stats,
    /// LSTM + head forward only.
    pub head_infer: Stats,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn timed(warmup: usize, iters: usize, mut f: impl FnMut()) -> Stats {
    let mut v = Vec::with_capacity(iters);
    for i in 0..warmup + iters {
        let t = Instant::now();
        f();
        if i >= warmup {
            v.push(ms(t));
        }
    }
    Stats::of(&v)
}

fn mse<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Tensor<1> {
    (a - b).powi_scalar(2).mean()
}

/// Moves a model out of an `Option` slot, trains one step, puts it back.
fn train_step(slot: &mut Option<StNet>, optim: &mut burn::optim::ModuleOptimizer, x: &Tensor<4>, y: &Tensor<3>, space: &Space) -> f32 {
    let model = slot.take().expect("model present");
    let out = model.forward(x.clone(), space).expect("bench shapes are valid");
    let loss = mse(out.pred, y.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    *slot = Some(optim.step(1e-3, model, grads));
    loss.into_scalar()
}

/// Runs the benchmark on burn-flex (CPU) and prints one line per measurement.
/// Calls [`crate::tune_allocator`] first (process-global glibc setting).
pub fn bench_stnet(opts: &BenchOpts) -> BenchReport {
    crate::tune_allocator();
    let base = Device::flex();
    let ad = base.clone().autodiff();
    let (b, h, w) = (opts.batch, opts.height, opts.width);
    let r = h * w;
    let space = Space::grid(h, w);
    let threads = rayon::current_num_threads();
    println!("stnet bench: burn-flex, {threads} threads, B={b}, grid {h}x{w}, warmup {}, iters {}", opts.warmup, opts.iters);
    let mut results = vec![];
    for &c in &opts.channels {
        let cfg = StNetConfig { output: crate::stnet::Output::Sigmoid, ..StNetConfig::new(c) }; // as torch_stnet.py
        let l = cfg.lags;
        let model = cfg.init(SpatialKind::Grid, &ad);
        let params = model.num_params();
        let mut optim = AdamConfig::new().init();
        let x = Tensor::<4>::random([b, l, c, r], Distribution::Uniform(0.0, 1.0), &ad);
        let y = Tensor::<3>::random([b, r, c], Distribution::Uniform(0.0, 1.0), &ad);
        let mut slot = Some(model);
        let train = timed(opts.warmup, opts.iters, || {
            train_step(&mut slot, &mut optim, &x, &y, &space);
        });
        println!("C={c} TRAIN step:     {train}");
        let valid = slot.expect("model").valid();
        let infer = |bb: usize| {
            let xi = Tensor::<4>::random([bb, l, c, r], Distribution::Uniform(0.0, 1.0), &base);
            timed(opts.warmup, opts.iters, || {
                let out = valid.forward(xi.clone(), &space).expect("valid shapes");
                let _ = out.pred.into_data();
            })
        };
        let infer_batch = infer(b);
        println!("C={c} INFER B={b:<3}:   {infer_batch}");
        let infer_single = infer(1);
        println!("C={c} INFER B=1  :   {infer_single}");
        results.push(ChannelBench { channels: c, params, train_step: train, infer_batch, infer_single });
    }
    BenchReport { opts: opts.clone(), threads, backend: "burn-flex (CPU) + fused NHWC conv3x3 and LSTM ops".into(), results }
}

/// Conv part vs LSTM+head split (first channel count of `opts`).
/// Calls [`crate::tune_allocator`] first (process-global glibc setting).
pub fn profile_stnet(opts: &BenchOpts) -> ProfileReport {
    crate::tune_allocator();
    let base = Device::flex();
    let ad = base.clone().autodiff();
    let c = opts.channels.first().copied().unwrap_or(1);
    let (b, h, w) = (opts.batch, opts.height, opts.width);
    let r = h * w;
    let cfg = StNetConfig { output: crate::stnet::Output::Sigmoid, ..StNetConfig::new(c) }; // as torch_stnet.py
    let (l, k) = (cfg.lags, cfg.conv_channels);
    let model = cfg.init(SpatialKind::Grid, &ad);
    let Spatial::Grid(grid) = model.spatial.clone() else { unreachable!() };
    let x = Tensor::<4>::random([b * l, h, w, c], Distribution::Uniform(0.0, 1.0), &ad);
    let conv_fwd = |g: &crate::spatial::GridBlock, x: Tensor<4>| g.forward(x).reshape([b, l, r, k]).swap_dims(0, 1).reshape([l, b * r, k]);

    // conv part train
    let tgt = Tensor::<3>::random([l, b * r, k], Distribution::Uniform(0.0, 1.0), &ad);
    let mut opt = AdamConfig::new().init();
    let mut g = Some(grid);
    let conv_train = timed(opts.warmup, opts.iters, || {
        let m = g.take().expect("grid");
        let loss = mse(conv_fwd(&m, x.clone()), tgt.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        g = Some(opt.step(1e-3, m, grads));
        let _: f32 = loss.into_scalar();
    });
    println!("PROFILE conv-part train:       {conv_train}");

    // LSTM + head train
    #[derive(Module, Debug)]
    struct Head {
        lstm: crate::lstm::FusedLstm,
        fc1: burn::nn::Linear,
        fc2: burn::nn::Linear,
    }
    impl Head {
        fn forward(&self, seq: Tensor<3>) -> Tensor<2> {
            let hh = self.lstm.forward(seq);
            let z = Tensor::cat(vec![hh.clone(), hh], 1);
            burn::tensor::activation::sigmoid(self.fc2.forward(burn::tensor::activation::relu(self.fc1.forward(z))))
        }
    }
    let head = Head { lstm: model.lstm.clone(), fc1: model.fc1.clone(), fc2: model.fc2.clone() };
    let seq = Tensor::<3>::random([l, b * r, k], Distribution::Uniform(0.0, 1.0), &ad);
    let yt = Tensor::<2>::random([b * r, c], Distribution::Uniform(0.0, 1.0), &ad);
    let mut opt = AdamConfig::new().init();
    let mut hs = Some(head);
    let head_train = timed(opts.warmup, opts.iters, || {
        let m = hs.take().expect("head");
        let loss = mse(m.forward(seq.clone()), yt.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        hs = Some(opt.step(1e-3, m, grads));
        let _: f32 = loss.into_scalar();
    });
    println!("PROFILE lstm+head train:       {head_train}");

    let gv = g.expect("grid").valid();
    let hv = hs.expect("head").valid();
    let xi = Tensor::<4>::random([b * l, h, w, c], Distribution::Uniform(0.0, 1.0), &base);
    let si = Tensor::<3>::random([l, b * r, k], Distribution::Uniform(0.0, 1.0), &base);
    let conv_infer = timed(opts.warmup, opts.iters, || {
        let _ = conv_fwd(&gv, xi.clone()).into_data();
    });
    println!("PROFILE conv-part infer B={b}: {conv_infer}");
    let head_infer = timed(opts.warmup, opts.iters, || {
        let _ = hv.forward(si.clone()).into_data();
    });
    println!("PROFILE lstm+head infer B={b}: {head_infer}");
    ProfileReport { opts: opts.clone(), channels: c, conv_train, head_train, conv_infer, head_infer }
}
