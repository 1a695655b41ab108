//! `cargo bench -p urbancast-nn --bench stnet [-- profile|all] [warmup] [iters]`
//! Criterion-free ST-net benchmark (same measurements as `urbancast bench stnet`).
use urbancast_nn::{BenchOpts, bench_stnet, profile_stnet};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let mode = args.first().map(String::as_str).unwrap_or("all");
    let mut opts = BenchOpts::default();
    if let Some(w) = args.get(1).and_then(|s| s.parse().ok()) {
        opts.warmup = w;
    }
    if let Some(n) = args.get(2).and_then(|s| s.parse().ok()) {
        opts.iters = n;
    }
    if let Ok(c) = std::env::var("STNET_CHANNELS") {
        opts.channels = c.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    }
    if mode == "all" || mode == "bench" {
        let report = bench_stnet(&opts);
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
    }
    if mode == "all" || mode == "profile" {
        let p = profile_stnet(&opts);
        println!("{}", serde_json::to_string(&p).unwrap());
    }
}
