//! MTGNN checkpoints (burnpack; the configuration is stored as JSON metadata).

use std::path::Path;

use burn::tensor::Device;

use super::{Mtgnn, MtgnnConfig};
use crate::checkpoint::{load_weights, read_config, save_module};
use crate::error::{NnError, Result};

const KEY_CONFIG: &str = "urbancast.mtgnn.config";

/// Writes `model` (weights + configuration) to `path` (overwritten if present).
pub fn save_mtgnn(model: &Mtgnn, path: impl AsRef<Path>) -> Result<()> {
    save_module(model, KEY_CONFIG, model.config(), path)
}

/// Reads the configuration stored in an MTGNN checkpoint.
pub fn read_mtgnn_config(path: impl AsRef<Path>) -> Result<MtgnnConfig> {
    read_config(path, KEY_CONFIG, "MTGNN teacher")
}

/// Builds a model from `config` on `device` and loads the weights at `path`; fails with
/// [`NnError::ConfigMismatch`] when the checkpoint was written with a different configuration.
pub fn load_mtgnn(config: &MtgnnConfig, path: impl AsRef<Path>, device: &Device) -> Result<Mtgnn> {
    let path = path.as_ref();
    let stored = read_mtgnn_config(path)?;
    if &stored != config {
        return Err(NnError::ConfigMismatch {
            path: path.display().to_string(),
            msg: format!("config {stored:?} vs requested {config:?}"),
        });
    }
    let mut model = config.try_init(device)?;
    load_weights(&mut model, path)?;
    Ok(model)
}
