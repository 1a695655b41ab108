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
