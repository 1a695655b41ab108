//! `urbancast bench transfer-graph`: seconds per epoch and per step, and peak memory, of
//! fine-tune's source pre-training and of TSJT's joint training on the same graphs
//! (`urbancast_transfer::graph::bench`), each method in its own process.
use std::process::Command;

use anyhow::{Context, Result, bail};
use urbancast_eval::write_json;
use urbancast_transfer::graph::bench::{GraphCost, time_method};
use urbancast_transfer::graph::cities::load_graphs;
use urbancast_transfer::graph::{GraphMethod, GraphSettings};

use crate::args::DeviceArg;

/// `bench transfer-graph` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Source graph SPEC (repeatable; as `transfer-graph`).
    #[arg(long = "source", value_name = "SPEC", required = true)]
    pub sources: Vec<String>,
    /// Target graph SPEC.
    #[arg(long, value_name = "SPEC")]
    pub target: String,
    /// Methods to time, comma-separated (default: fine-tune,tsjt,tsjt-no-npm).
    #[arg(long = "method", value_delimiter = ',', value_name = "M")]
    pub methods: Vec<String>,
    /// Epochs of the timed phase.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Target training days.
    #[arg(long, default_value_t = 3)]
    pub days: usize,
    /// Common interval in minutes (default: the coarsest).
    #[arg(long, value_name = "MIN")]
    pub interval: Option<u32>,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub device: DeviceArg,
}

pub fn run(a: Args) -> Result<()> {
    let names = if a.methods.is_empty() { vec!["fine-tune".into(), "tsjt".into(), "tsjt-no-npm".into()] } else { a.methods.clone() };
    let methods: Vec<GraphMethod> = names.iter().map(|m| m.parse::<GraphMethod>().map_err(anyhow::Error::msg)).collect::<Result<_>>()?;
    if let Some(m) = methods.iter().find(|m| !m.uses_sources()) {
        bail!(
            "--method {m}: bench transfer-graph times the methods that train on the sources (fine-tune, tsjt, tsjt-no-npm, joint-no-skew)"
        );
    }
    let costs = if let [m] = methods[..] {
        vec![time_one(&a, m)?]
    } else {
        let exe = std::env::current_exe().context("cannot find the urbancast executable")?;
        let mut all = vec![];
        for m in &methods {
            let dir = tempfile::tempdir()?;
            let json = dir.path().join("cost.json");
            let mut cmd = Command::new(&exe);
            cmd.args(["bench", "transfer-graph", "--target", &a.target, "--method", m.name()])
                .args(["--epochs", &a.epochs.to_string(), "--days", &a.days.to_string(), "--device", &a.device.name])
                .arg("--json")
                .arg(&json)
                .stdout(std::process::Stdio::null());
            for s in &a.sources {
                cmd.args(["--source", s]);
            }
            if let Some(i) = a.interval {
                cmd.args(["--interval", &i.to_string()]);
            }
            let status = cmd.status().with_context(|| format!("cannot run {}", exe.display()))?;
            if !status.success() {
                bail!("bench transfer-graph --method {m} failed ({status})");
            }
            let c: Vec<GraphCost> = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
            all.extend(c);
        }
        all
    };
    outln!("{:<14} {:>7} {:>11} {:>11} {:>10} {:>13}", "method", "epochs", "steps/epoch", "s / epoch", "s / step", "peak RSS MiB")?;
    for c in &costs {
        let mem = c.peak_rss_mib.map(|m| format!("{m:.0}")).unwrap_or_else(|| "n/a".into());
        outln!(
            "{:<14} {:>7} {:>11.1} {:>11.2} {:>10.3} {:>13}",
            c.method,
            c.epochs,
            c.steps_per_epoch,
            c.seconds_per_epoch,
            c.seconds_per_step,
            mem
        )?;
    }
    if let Some(base) = costs.iter().find(|c| c.method == "fine-tune") {
        for c in costs.iter().filter(|c| c.method != "fine-tune") {
            outln!(
                "{} / fine-tune: {:.2}x per epoch, {:.2}x per step",
                c.method,
                c.seconds_per_epoch / base.seconds_per_epoch,
                c.seconds_per_step / base.seconds_per_step
            )?;
        }
    }
    if let Some(p) = &a.json {
        write_json(p, &costs)?;
    }
    Ok(())
}

fn time_one(a: &Args, m: GraphMethod) -> Result<GraphCost> {
    let device = a.device.get()?;
    let (sources, target) = load_graphs(&a.sources, &a.target, a.interval, 1, |msg| eprintln!("note: {msg}"))?;
    let work = tempfile::tempdir()?;
    let c = time_method(&sources, &target, m, (a.epochs, a.days), &GraphSettings::default(), work.path(), &device)?;
    eprintln!(
        "{}: {:.2} s / epoch, {:.3} s / step, peak RSS {:?} MiB",
        c.method,
        c.seconds_per_epoch,
        c.seconds_per_step,
        c.peak_rss_mib.map(|m| m.round())
    );
    Ok(c)
}
