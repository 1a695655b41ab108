//! Micro-timings of the fused LSTM kernels at the benchmark shape (N = 32*460, T = 6).
use std::time::Instant;
use urbancast_nn::lstm_kernel::{Dims, backward, forward};

fn main() {
    if std::env::var_os("TUNE").is_some() {
        println!("tune_allocator: {}", urbancast_nn::tune_allocator());
    }
    let d = Dims { t: 6, n: 32 * 460, f: 64, h: 128 };
    let g = 4 * d.h;
    let x: Vec<f32> = (0..d.t * d.n * d.f).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
    let wi: Vec<f32> = (0..d.f * g).map(|i| (((i * 31) % 200) as f32 - 100.0) / 1000.0).collect();
    let wh: Vec<f32> = (0..d.h * g).map(|i| (((i * 17) % 200) as f32 - 100.0) / 1000.0).collect();
    let b = vec![0.01f32; g];
    for rep in 0..4 {
        let t = Instant::now();
        let _ = forward(d, &x, &wi, &wh, &b, false);
        let inf = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let (h, s) = forward(d, &x, &wi, &wh, &b, true);
        let tr = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let _g = backward(d, &x, &wi, &wh, s.as_ref().unwrap(), &h);
        let bw = t.elapsed().as_secs_f64() * 1e3;
        println!("rep {rep}: infer fwd {inf:.1} ms, train fwd {tr:.1} ms, backward {bw:.1} ms");
    }
}
