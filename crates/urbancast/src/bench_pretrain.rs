//! `urbancast bench pretrain`: seconds per pre-training epoch and peak resident memory of
//! plain pre-training (as fine-tune) and of STBaT on the same source cities
//! (`urbancast_transfer::bench`), each in its own process.
use std::process::Command;

use anyhow::{Context, Result, bail};
use urbancast_eval::write_json;
use urbancast_transfer::bench::{PretrainFigures, time_pretrain};

use crate::bench::PretrainArgs;

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
                    .args(["--seed", &a.seed.to_string(), "--device", &a.device.name])
                    .arg("--json")
                    .arg(&json);
                for s in &a.sources {
                    cmd.args(["--source", s]);
                }
                let status = cmd.status().with_context(|| format!("cannot run {}", exe.display()))?;
                if !status.success() {
                    bail!("bench pretrain --method {m} failed ({status})");
                }
                let f: Vec<PretrainFigures> = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
                all.extend(f);
            }
            all
        }
        "fine-tune" | "plain" | "stbat" => vec![time_one(&a)?],
        m => bail!("unknown --method `{m}`: expected fine-tune, stbat or both"),
    };
    if a.method == "both" {
        outln!("{:<10} {:>8} {:>14} {:>14}", "method", "epochs", "s / epoch", "peak RSS MiB")?;
        for f in &figures {
            let mem = f.peak_rss_mib.map(|m| format!("{m:.0}")).unwrap_or_else(|| "n/a".into());
            outln!("{:<10} {:>8} {:>14.2} {:>14}", f.method, f.epochs, f.mean_epoch_seconds, mem)?;
        }
        if let [p, s] = &figures[..] {
            outln!("STBaT / plain: {:.2}x time per epoch", s.mean_epoch_seconds / p.mean_epoch_seconds)?;
        }
    }
    if let Some(p) = &a.json {
        write_json(p, &figures)?;
    }
    Ok(())
}

fn time_one(a: &PretrainArgs) -> Result<PretrainFigures> {
    let f = time_pretrain(&a.sources, a.method == "stbat", a.epochs, a.conv_channels, a.hidden, a.seed, &a.device.get()?)?;
    eprintln!(
        "{}: {:.2} s / epoch over {} epochs, peak RSS {:?} MiB",
        f.method,
        f.mean_epoch_seconds,
        f.epochs,
        f.peak_rss_mib.map(|m| m.round())
    );
    Ok(f)
}
