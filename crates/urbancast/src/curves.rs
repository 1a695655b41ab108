//! `urbancast curves`: training curves from `train-log.jsonl` files (one line per run) as a PNG
//! or SVG: training loss, validation score and gradient norm per epoch, plus every probe value
//! the runs logged (e.g. a loss term's gradient norm on the feature extractor).
use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Result, bail};
use urbancast_eval::plot_series::{SeriesPanel, series_plot};
use urbancast_train::EpochRecord;
use urbancast_train::log::read_jsonl;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run's log, `LABEL=PATH` or `PATH` (labelled by its folder), repeatable; PATH is a
    /// `train-log.jsonl` or the run folder holding it.
    #[arg(long = "log", value_name = "LABEL=PATH", required = true)]
    pub logs: Vec<String>,
    /// Output image (`.png` or `.svg`).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Title above the panels.
    #[arg(long, default_value = "training curves")]
    pub title: String,
}

fn load(spec: &str) -> Result<(String, Vec<EpochRecord>)> {
    let (label, path) = match spec.split_once('=') {
        Some((l, p)) => (Some(l.to_string()), PathBuf::from(p)),
        None => (None, PathBuf::from(spec)),
    };
    let file = if path.is_dir() { path.join(urbancast_train::log::LOG_FILE) } else { path.clone() };
    let label = label.unwrap_or_else(|| {
        let dir = if path.is_dir() { path.as_path() } else { path.parent().unwrap_or(&path) };
        dir.file_name().map_or_else(|| spec.to_string(), |n| n.to_string_lossy().into_owned())
    });
    let epochs = read_jsonl(&file)?;
    if epochs.is_empty() {
        bail!("{}: no epoch logged yet", file.display());
    }
    Ok((label, epochs))
}

pub fn run(a: Args) -> Result<()> {
    let runs: Vec<(String, Vec<EpochRecord>)> = a.logs.iter().map(|s| load(s)).collect::<Result<_>>()?;
    let log10 = |v: f64| if v > 0.0 { v.log10() as f32 } else { f32::NAN };
    let panel = |title: &str, f: &dyn Fn(&EpochRecord) -> f32| SeriesPanel {
        title: title.to_string(),
        truth: vec![],
        preds: runs.iter().map(|(l, e)| (l.clone(), e.iter().map(f).collect())).collect(),
    };
    let mut panels = vec![
        panel("training loss (log10)", &|e| log10(e.loss)),
        panel("validation score", &|e| e.val_score as f32),
        panel("gradient norm before clipping (log10)", &|e| log10(e.grad_norm)),
    ];
    let probes: BTreeSet<&String> = runs.iter().flat_map(|(_, e)| e.iter().flat_map(|r| r.probe.keys())).collect();
    for k in probes {
        panels.push(panel(&format!("{k} (log10, first batch of the epoch)"), &|e| e.probe.get(k).map_or(f32::NAN, |&v| log10(v))));
    }
    series_plot(&a.out, &a.title, &panels, "epoch", "")?;
    for (l, e) in &runs {
        let best = e.iter().rev().find(|r| r.best).map_or(0, |r| r.epoch);
        outln!("{l}: {} epochs, {} steps, best epoch {best}", e.len(), e.last().map_or(0, |r| r.step))?;
    }
    outln!("curves written to {}", a.out.display())?;
    Ok(())
}
