//! GEMM throughput at the shapes used by the ST-net kernels.
use rayon::prelude::*;
use std::time::Instant;

fn mm(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32], par: gemm::Parallelism) {
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

fn main() {
    let total = 88320;
    for &(k, n) in &[(64usize, 64usize), (576, 64)] {
        let a = vec![0.5f32; total * k];
        let b = vec![0.25f32; k * n];
        let mut c = vec![0.0f32; total * n];
        let flops = 2.0 * total as f64 * k as f64 * n as f64;
        for chunk in [128usize, 256, 512, 1024, 4096] {
            let mut best = f64::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                c.par_chunks_mut(chunk * n).zip(a.par_chunks(chunk * k)).for_each(|(cc, aa)| {
                    let m = cc.len() / n;
                    mm(m, n, k, cc, aa, &b, gemm::Parallelism::None);
                });
                best = best.min(t.elapsed().as_secs_f64());
            }
            println!("k={k} n={n} chunk {chunk:5}: {:.1} ms, {:.1} GFLOPS", best * 1e3, flops / best / 1e9);
        }
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            mm(total, n, k, &mut c, &a, &b, gemm::Parallelism::Rayon(0));
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("k={k} n={n} single rayon gemm: {:.1} ms, {:.1} GFLOPS", best * 1e3, flops / best / 1e9);
    }
}
