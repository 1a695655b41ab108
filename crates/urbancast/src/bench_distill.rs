//! `urbancast bench distill`: training-step and inference time of LightST's MTGNN teacher and
//! MLP student (plain and distilled) on a synthetic sensor graph of a chosen size
//! (`urbancast_distill::bench`).
use anyhow::Result;
use urbancast_distill::bench::bench_lightst;
use urbancast_eval::write_json;

use crate::args::DeviceArg;

#[derive(clap::Args, Debug)]
pub struct DistillBenchArgs {
    /// Sensors of the synthetic graph (207 = METR-LA / LA loop, 156 = Shenzhen, 307 = PEMS04).
    #[arg(long, default_value_t = 207)]
    pub nodes: usize,
    /// Training batch size (LightST: 32).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    #[arg(long, default_value_t = 10)]
    pub iters: usize,
    #[command(flatten)]
    pub device: DeviceArg,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

pub fn run(a: DistillBenchArgs) -> Result<()> {
    let b = bench_lightst(a.nodes, a.batch, a.warmup, a.iters, &a.device.get()?)?;
    let (t, s) = (&b.teacher, &b.student);
    outln!("LightST bench: {} sensors, training batch {}, medians of {} runs", a.nodes, a.batch, a.iters)?;
    outln!("{:<28} {:>12} {:>12}", "", "teacher", "student")?;
    outln!("{:<28} {:>12} {:>12}", "parameters", t.params, s.params)?;
    outln!("{:<28} {:>12.1} {:>12.1}", "training step (ms)", t.train_step_ms, s.train_step_ms)?;
    outln!("{:<28} {:>12} {:>12.1}", "distilled training step (ms)", "", s.distilled_train_step_ms.unwrap_or(f64::NAN))?;
    outln!("{:<28} {:>12.2} {:>12.2}", "inference, batch 64 (ms)", t.inference.batch64_ms, s.inference.batch64_ms)?;
    outln!("{:<28} {:>12.3} {:>12.3}", "inference, 1 sample (ms)", t.inference.single_ms, s.inference.single_ms)?;
    outln!(
        "student speed-up: {:.1}x (batch 64), {:.1}x (1 sample)",
        t.inference.batch64_ms / s.inference.batch64_ms,
        t.inference.single_ms / s.inference.single_ms
    )?;
    if let Some(p) = a.json {
        write_json(&p, &b)?;
        eprintln!("figures written to {}", p.display());
    }
    Ok(())
}
