//! Timing pre-training (`urbancast bench pretrain`): seconds per epoch and peak resident memory
//! of plain pre-training (as fine-tune) or of STBaT on the same source cities.
use anyhow::{Context, Result};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_data::prep::Prepared;
use urbancast_data::{Layout, spec};
use urbancast_nn::{SpatialKind, StNetConfig};

use crate::batch::Task;
use crate::runner::Settings;
use crate::stbat;
use crate::train::{GridData, Split, train};

/// What [`time_pretrain`] measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PretrainFigures {
    /// `fine-tune` or `stbat`.
    pub method: String,
    /// Epochs run.
    pub epochs: usize,
    /// Training seconds (no validation) per epoch, each epoch.
    pub epoch_seconds: Vec<f64>,
    /// Mean of `epoch_seconds`.
    pub mean_epoch_seconds: f64,
    /// Peak resident set size of the process (VmHWM), MiB; None off Linux.
    pub peak_rss_mib: Option<f64>,
    /// Training samples per epoch over all sources.
    pub samples_per_epoch: usize,
}

/// Peak resident set size of this process in MiB (Linux `/proc/self/status` VmHWM).
pub fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Pre-trains an ST-net of `conv_channels` / `hidden` on the `sources` (city SPECs, aligned to
/// the first one's channels) for exactly `epochs` epochs — STBaT when `stbat`, else plain —
/// and reports the seconds per epoch and the process's peak memory.
pub fn time_pretrain(
    sources: &[String],
    stbat: bool,
    epochs: usize,
    conv_channels: usize,
    hidden: usize,
    seed: u64,
    device: &Device,
) -> Result<PretrainFigures> {
    let mut settings = Settings::default();
    settings.pretrain.max_epochs = epochs;
    settings.pretrain.patience = epochs + 1;
    let ad = device.clone().autodiff();
    let mut cities = vec![];
    for s in sources {
        cities.push(spec::load(s, seed).with_context(|| format!("loading source `{s}`"))?);
    }
    let channels = cities.first().context("no source city")?.channels.clone();
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
    let cfg = StNetConfig {
        channels: channels.len(),
        lags: settings.protocol.lags,
        conv_channels,
        res_units: settings.res_units,
        hidden,
        head_hidden: if stbat { settings.stbat.head_hidden } else { settings.head_hidden },
        output: if stbat { urbancast_nn::Output::Linear } else { settings.output },
    };
    let model = cfg.init_seeded(kind, &ad, seed);
    let log = if stbat {
        stbat::pretrain(model, GridData::new(&tr, &va, settings.protocol.lags), &settings.pretrain, &settings.stbat, seed, "stbat", None)?.1
    } else {
        train(model, GridData::new(&tr, &va, settings.protocol.lags), &settings.pretrain, seed, "pre-train", None)?.1
    };
    let mean = log.epoch_seconds.iter().sum::<f64>() / log.epoch_seconds.len().max(1) as f64;
    Ok(PretrainFigures {
        method: if stbat { "stbat".into() } else { "fine-tune".into() },
        epochs: log.epoch_seconds.len(),
        epoch_seconds: log.epoch_seconds.clone(),
        mean_epoch_seconds: mean,
        peak_rss_mib: peak_rss_mib(),
        samples_per_epoch: splits.iter().map(|s| s.train.len()).sum(),
    })
}
