//! `urbancast bench pretrain`: seconds per pre-training epoch and peak resident memory of
//! plain pre-training (as fine-tune) and of STBaT on the same source cities.
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use urbancast_data::prep::Prepared;
use urbancast_data::{Layout, spec};
use urbancast_nn::{SpatialKind, StNetConfig};
use urbancast_transfer::batch::Task;
use urbancast_transfer::train::{GridData, Split, train};
use urbancast_transfer::{Settings, device, stbat};

use crate::bench::PretrainArgs;

#[derive(Debug, Serialize, Deserialize)]
struct Figures {
    method: String,
    epochs: usize,
    /// Training seconds (no validation) per epoch, each epoch.
    epoch_seconds: Vec<f64>,
    mean_epoch_seconds: f64,
    /// Peak resident set size of the process (VmHWM), MiB; None off Linux.
    peak_rss_mib: Option<f64>,
    samples_per_epoch: usize,
}

/// Peak resident set size of this process in MiB (Linux `/proc/self/status` VmHWM).
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(a: PretrainArgs) -> Result<()> {
    if a.epochs == 0 || a.sources.is_empty() {
        bail!("bench pretrain needs at least one epoch and one --source");
    }
    let figures = match a.method.as_str() {
        "both" => {
            let exe = std::env::current_exe().context("cannot find the urbancast executable")?;
            let mut all = vec![];
            for m in ["fine-tune", "stbat"] {
                let dir = tempfile::tempdir()?;
                let json = dir.path().join("f.json");
                let mut cmd = Command::new(&exe);
                cmd.args(["bench", "pretrain", "--method", m, "--epochs", &a.epochs.to_string()])
                    .args(["--conv-channels", &a.conv_channels.to_string(), "--hidden", &a.hidden.to_string()])
                    .args(["--seed", &a.seed.to_string(), "--device", &a.device])
                    .arg("--json")
                    .arg(&json);
                for s in &a.sources {
                    cmd.args(["--source", s]);
                }
                let status = cmd.status().with_context(|| format!("cannot run {}", exe.display()))?;
                if !status.success() {
                    bail!("bench pretrain --method {m} failed ({status})");
                }
                let f: Vec<Figures> = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
                all.extend(f);
            }
            all
        }
        "fine-tune" | "plain" | "stbat" => vec![time_one(&a)?],
        m => bail!("unknown --method `{m}`: expected fine-tune, stbat or both"),
    };
    if a.method == "both" {
        println!("{:<10} {:>8} {:>14} {:>14}", "method", "epochs", "s / epoch", "peak RSS MiB");
        for f in &figures {
            let mem = f.peak_rss_mib.map(|m| format!("{m:.0}")).unwrap_or_else(|| "n/a".into());
            println!("{:<10} {:>8} {:>14.2} {:>14}", f.method, f.epochs, f.mean_epoch_seconds, mem);
        }
        if let [p, s] = &figures[..] {
            println!("STBaT / plain: {:.2}x time per epoch", s.mean_epoch_seconds / p.mean_epoch_seconds);
        }
    }
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&figures)?).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

fn time_one(a: &PretrainArgs) -> Result<Figures> {
    let mut settings = Settings::default();
    settings.pretrain.max_epochs = a.epochs;
    settings.pretrain.patience = a.epochs + 1;
    let dev = device::by_name(&a.device)?;
    let ad = dev.autodiff();
    let mut cities = vec![];
    for s in &a.sources {
        cities.push(spec::load(s, a.seed).with_context(|| format!("loading source `{s}`"))?);
    }
    let channels = cities[0].channels.clone();
    let cities: Vec<_> = cities.into_iter().map(|c| c.select_channels(&channels)).collect::<Result<_, _>>()?;
    let kind = match cities[0].layout {
        Layout::Grid { .. } => SpatialKind::Grid,
        Layout::Graph { .. } => SpatialKind::Graph,
    };
    let preps: Vec<Prepared> = cities.into_iter().map(|c| Prepared::new(c, &settings.protocol)).collect();
    let tasks: Vec<Task> = preps.iter().map(|p| Task::new(p, &ad)).collect();
    let splits = preps.iter().map(|p| settings.protocol.source_splits(&p.city)).collect::<Result<Vec<_>, _>>()?;
    let tr: Vec<Split> = tasks.iter().zip(&splits).map(|(t, s)| Split { task: t, steps: &s.train }).collect();
    let va: Vec<Split> = tasks.iter().zip(&splits).map(|(t, s)| Split { task: t, steps: &s.val }).collect();
    let stb = a.method == "stbat";
    let cfg = StNetConfig {
        channels: channels.len(),
        lags: settings.protocol.lags,
        conv_channels: a.conv_channels,
        res_units: settings.res_units,
        hidden: a.hidden,
        head_hidden: if stb { settings.stbat.head_hidden } else { settings.head_hidden },
    };
    let model = cfg.init_seeded(kind, &ad, a.seed);
    let log = if stb {
        stbat::pretrain(model, GridData::new(&tr, &va, settings.protocol.lags), &settings.pretrain, &settings.stbat, a.seed, "stbat", None)?.1
    } else {
        train(model, GridData::new(&tr, &va, settings.protocol.lags), &settings.pretrain, a.seed, "pre-train", None)?.1
    };
    let mean = log.epoch_seconds.iter().sum::<f64>() / log.epoch_seconds.len().max(1) as f64;
    let f = Figures {
        method: if stb { "stbat".into() } else { "fine-tune".into() },
        epochs: log.epoch_seconds.len(),
        epoch_seconds: log.epoch_seconds.clone(),
        mean_epoch_seconds: mean,
        peak_rss_mib: peak_rss_mib(),
        samples_per_epoch: splits.iter().map(|s| s.train.len()).sum(),
    };
    eprintln!("{}: {:.2} s / epoch over {} epochs, peak RSS {:?} MiB", f.method, mean, f.epochs, f.peak_rss_mib.map(|m| m.round()));
    Ok(f)
}
