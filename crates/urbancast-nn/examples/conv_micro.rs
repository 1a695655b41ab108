//! Micro-timings of the grid spatial block at the benchmark shape (B*L = 192, 20x23).
use burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;
use urbancast_nn::spatial::GridBlock;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "both".into());
    let ad = Device::flex().autodiff();
    let base = Device::flex();
    let gb = GridBlock::new(1, 64, 3, &ad);
    let x = Tensor::<4>::random([192, 20, 23, 1], Distribution::Uniform(0.0, 1.0), &ad);
    if mode != "train" {
        let gv = burn::module::Module::valid(&gb);
        let xi = Tensor::<4>::random([192, 20, 23, 1], Distribution::Uniform(0.0, 1.0), &base);
        for rep in 0..4 {
            let t = Instant::now();
            let _ = gv.forward(xi.clone()).into_data();
            println!("rep {rep}: infer {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        }
    }
    if mode != "infer" {
        for rep in 0..4 {
            let t = Instant::now();
            let y = gb.forward(x.clone());
            let loss = y.powi_scalar(2).mean();
            let _ = loss.clone().into_data();
            let tf = t.elapsed().as_secs_f64() * 1e3;
            let _g = loss.backward();
            println!("rep {rep}: train fwd {tf:.1} ms, total {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        }
    }
}
