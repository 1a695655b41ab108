//! Checkpoints: the model weights (burnpack) plus a `meta.json` describing how to use them.
use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use urbancast_data::Channel;
use urbancast_nn::{SpatialKind, StNet, StNetConfig};

/// File name of the model weights (burnpack) inside a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// File name of the [`Meta`] JSON inside a checkpoint folder.
pub const META_FILE: &str = "meta.json";

/// What a checkpoint's weights need to be used on a new city (`meta.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// ST-net architecture; must match the stored weights.
    pub model: StNetConfig,
    /// Spatial block: grid convolutions or graph convolutions.
    pub kind: SpatialKind,
    /// Flow channels the model reads and predicts, in order (a city is reduced to these).
    pub channels: Vec<Channel>,
    /// Minutes per time step the model was trained at (a city is resampled to it).
    pub interval_min: u32,
    /// Scaler quantile of the training protocol (see `Protocol::percentile`), reused to scale
    /// new data the same way.
    pub percentile: f64,
    /// Name of the method that produced the weights (e.g. `fine-tune`).
    pub method: String,
    /// Cities whose data trained the model: the sources if pre-trained, then the target if
    /// trained on it.
    pub trained_on: Vec<String>,
    /// Random seed of the run.
    pub seed: u64,
}

/// Writes `dir/model.bpk` and `dir/meta.json`.
pub fn save(dir: &Path, model: &StNet, meta: &Meta) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create checkpoint folder {}", dir.display()))?;
    urbancast_nn::save_stnet(model, dir.join(WEIGHTS_FILE))?;
    let p = dir.join(META_FILE);
    urbancast_io::write_atomic(&p, serde_json::to_string_pretty(meta)?).with_context(|| format!("cannot write {}", p.display()))?;
    Ok(())
}

/// Reads a checkpoint folder written by [`save`].
pub fn load(dir: &Path, device: &Device) -> Result<(StNet, Meta)> {
    let p = dir.join(META_FILE);
    let text = std::fs::read_to_string(&p)
        .with_context(|| format!("{}: cannot read checkpoint metadata (is this a checkpoint folder?)", p.display()))?;
    let meta: Meta = serde_json::from_str(&text).with_context(|| format!("{}: malformed checkpoint metadata", p.display()))?;
    let model = urbancast_nn::load_stnet(dir.join(WEIGHTS_FILE), device)?;
    if model.config() != &meta.model {
        anyhow::bail!("{}: the weights do not match meta.json's model configuration", dir.display());
    }
    Ok((model, meta))
}

/// Loads `dir`: one checkpoint (a `meta.json` in it), or a folder of single-channel checkpoints
/// (one subfolder each, e.g. `pickup/` and `dropoff/`, in name order) that together make one
/// model per channel of the same city. Errors name the folder.
pub fn load_set(dir: &Path, device: &Device) -> Result<Vec<(StNet, Meta)>> {
    if dir.join(META_FILE).is_file() || !dir.is_dir() {
        return Ok(vec![load(dir, device)?]);
    }
    let mut subs: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(META_FILE).is_file())
        .collect();
    subs.sort();
    if subs.is_empty() {
        anyhow::bail!("{}: not a checkpoint folder (no {META_FILE}, nor subfolders with one)", dir.display());
    }
    let mut out = vec![];
    for s in &subs {
        let (m, meta) = load(s, device)?;
        if meta.channels.len() != 1 {
            anyhow::bail!("{}: a per-channel checkpoint must have one channel, this one has {:?}", s.display(), meta.channels);
        }
        if let Some((_, first)) = out.first() {
            let first: &Meta = first;
            if first.interval_min != meta.interval_min
                || first.model.lags != meta.model.lags
                || out.iter().any(|(_, o): &(StNet, Meta)| o.channels == meta.channels)
            {
                anyhow::bail!(
                    "{}: the per-channel checkpoints in {} do not belong together (interval, lags or a repeated channel)",
                    s.display(),
                    dir.display()
                );
            }
        }
        out.push((m, meta));
    }
    Ok(out)
}
