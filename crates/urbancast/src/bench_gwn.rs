//! `urbancast bench gwn`: Graph WaveNet training-step and inference time
//! (`urbancast_nn::bench_gwn`); `--compare` also times burn's own ops in a child process
//! (`URBANCAST_REFERENCE_GWN=1`) and prints the speed-up.
use std::process::Command;

use anyhow::{Context, Result, bail};
use urbancast_eval::write_json;
use urbancast_nn::{GwnBenchOpts, GwnBenchReport, bench_gwn};

/// `bench gwn` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Sensors of the benchmark graph.
    #[arg(long, default_value_t = 200)]
    pub nodes: usize,
    /// Untimed iterations.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Timed iterations.
    #[arg(long, default_value_t = 5)]
    pub iters: usize,
    /// Also time burn's own Conv2d / concatenation / gate path (a child process).
    #[arg(long)]
    pub compare: bool,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let opts = GwnBenchOpts { batch: a.batch, nodes: a.nodes, warmup: a.warmup, iters: a.iters };
    opts.validate().map_err(anyhow::Error::msg)?;
    let mut reports = vec![bench_gwn(&opts)];
    if a.compare {
        let exe = std::env::current_exe().context("cannot find the urbancast executable")?;
        let dir = tempfile::tempdir()?;
        let json = dir.path().join("reference.json");
        let status = Command::new(&exe)
            .args(["bench", "gwn", "--batch", &a.batch.to_string(), "--nodes", &a.nodes.to_string()])
            .args(["--warmup", &a.warmup.to_string(), "--iters", &a.iters.to_string(), "--json"])
            .arg(&json)
            .env("URBANCAST_REFERENCE_GWN", "1")
            .stdout(std::process::Stdio::null())
            .status()
            .with_context(|| format!("cannot run {}", exe.display()))?;
        if !status.success() {
            bail!("bench gwn (reference path) failed ({status})");
        }
        let r: Vec<GwnBenchReport> = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
        reports.extend(r);
    }
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    outln!("GWN (meta_gwn defaults), batch {}, {} nodes, {} timed iterations, threads: {threads}", a.batch, a.nodes, a.iters)?;
    for r in &reports {
        outln!("{:<9} train step {}", r.path, r.train_step)?;
        outln!("{:<9} inference  {}", r.path, r.inference)?;
    }
    if let [f, r] = &reports[..] {
        outln!(
            "speed-up (reference / fast, medians): train step {:.2}x, inference {:.2}x",
            r.train_step.median_ms / f.train_step.median_ms,
            r.inference.median_ms / f.inference.median_ms
        )?;
    }
    if let Some(p) = &a.json {
        write_json(p, &reports)?;
    }
    Ok(())
}
