//! Inference latency at batch 1 (20x23 grid), for profiling.
use burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;
use urbancast_nn::{Space, SpatialKind, StNetConfig};

fn main() {
    urbancast_nn::tune_allocator();
    let b: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let dev = Device::flex();
    let model = StNetConfig::new(1).init(SpatialKind::Grid, &dev);
    let x = Tensor::<4>::random([b, 6, 1, 460], Distribution::Uniform(0.0, 1.0), &dev);
    let space = Space::grid(20, 23);
    let mut v = vec![];
    for _ in 0..200 {
        let t = Instant::now();
        let _ = model.forward(x.clone(), &space).unwrap().pred.into_data();
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    println!("B={b}: median {:.2} ms min {:.2} ms", v[v.len() / 2], v[0]);
}
