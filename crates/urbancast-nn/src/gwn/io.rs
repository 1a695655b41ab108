//! Graph WaveNet checkpoints (burnpack; the configuration is stored as JSON metadata).
use std::path::Path;

use burn::tensor::Device;

use super::{Gwn, GwnConfig};
use crate::checkpoint::{load_weights, read_config, save_module};
use crate::error::{NnError, Result};

/// Metadata key of the configuration in a GWN checkpoint.
pub const KEY_CONFIG: &str = "urbancast.gwn.config";

/// Writes `model` (weights + configuration) to `path` (overwritten if present).
pub fn save_gwn(model: &Gwn, path: impl AsRef<Path>) -> Result<()> {
    save_module(model, KEY_CONFIG, model.config(), path)
}

/// Reads the configuration stored in a GWN checkpoint.
pub fn read_gwn_config(path: impl AsRef<Path>) -> Result<GwnConfig> {
    read_config(path, KEY_CONFIG, "Graph WaveNet")
}

/// Builds a model from the configuration stored at `path` on `device` and loads its weights.
pub fn load_gwn(path: impl AsRef<Path>, device: &Device) -> Result<Gwn> {
    let path = path.as_ref();
    let config = read_gwn_config(path)?;
    let mut model =
        config.try_init(device).map_err(|e| NnError::ConfigMismatch { path: path.display().to_string(), msg: e.to_string() })?;
    load_weights(&mut model, path)?;
    Ok(model)
}
