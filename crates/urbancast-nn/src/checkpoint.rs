//! ST-net checkpoints in burn's burnpack format. The model configuration and spatial kind are
//! stored as burnpack metadata, so [`load_stnet`] can rebuild the model from the file alone.

use std::path::Path;

use burn::module::Module;
use burn::store::burn_pack::Reader;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{NnError, Result};
use crate::stnet::{SpatialKind, StNet, StNetConfig};

const KEY_CONFIG: &str = "urbancast.stnet.config";
const KEY_KIND: &str = "urbancast.stnet.kind";

fn ckpt_err(path: &Path, msg: impl std::fmt::Display) -> NnError {
    NnError::Checkpoint { path: path.display().to_string(), msg: msg.to_string() }
}

/// Writes `model` to `path` (exact path, overwritten if present; `.bpk` is the usual extension).
pub fn save_stnet(model: &StNet, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ckpt_err(path, e))?;
    }
    let config = serde_json::to_string(model.config()).map_err(|e| ckpt_err(path, e))?;
    let kind = serde_json::to_string(&model.kind()).map_err(|e| ckpt_err(path, e))?;
    urbancast_io::with_temp(path, |p| {
        let mut store =
            BurnpackStore::from_file(p).auto_extension(false).overwrite(true).metadata(KEY_CONFIG, config).metadata(KEY_KIND, kind);
        model.save_into(&mut store).map_err(|e| ckpt_err(path, e))
    })
    .map_err(|e| ckpt_err(path, e))
}

/// Reads the configuration and spatial kind stored in a checkpoint.
pub fn read_stnet_meta(path: impl AsRef<Path>) -> Result<(StNetConfig, SpatialKind)> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(ckpt_err(path, "no such file"));
    }
    let reader = Reader::from_file_exact(path).map_err(|e| ckpt_err(path, e))?;
    let meta = reader.metadata();
    let get = |key: &str| meta.get(key).ok_or_else(|| ckpt_err(path, format!("not an urbancast ST-net checkpoint (no `{key}`)")));
    let config: StNetConfig = serde_json::from_str(get(KEY_CONFIG)?).map_err(|e| ckpt_err(path, e))?;
    let kind: SpatialKind = serde_json::from_str(get(KEY_KIND)?).map_err(|e| ckpt_err(path, e))?;
    Ok((config, kind))
}

/// Rebuilds the model stored at `path` on `device`.
pub fn load_stnet(path: impl AsRef<Path>, device: &Device) -> Result<StNet> {
    let path = path.as_ref();
    let (config, kind) = read_stnet_meta(path)?;
    let mut model = config.init(kind, device);
    apply(&mut model, path)?;
    Ok(model)
}

/// Loads the weights at `path` into an existing `model`; fails with
/// [`NnError::ConfigMismatch`] when the checkpoint was written by a differently configured model.
pub fn load_stnet_into(model: &mut StNet, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let (config, kind) = read_stnet_meta(path)?;
    if kind != model.kind() {
        return Err(NnError::ConfigMismatch {
            path: path.display().to_string(),
            msg: format!("spatial kind {kind:?} vs model {:?}", model.kind()),
        });
    }
    if &config != model.config() {
        return Err(NnError::ConfigMismatch {
            path: path.display().to_string(),
            msg: format!("config {config:?} vs model {:?}", model.config()),
        });
    }
    apply(model, path)
}

fn apply<M: Module>(model: &mut M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path).auto_extension(false);
    let res = model.load_from(&mut store).map_err(|e| ckpt_err(path, e))?;
    if !res.errors.is_empty() || !res.missing.is_empty() {
        return Err(ckpt_err(path, format!("incompatible tensors: missing {:?}, errors {:?}", res.missing, res.errors)));
    }
    Ok(())
}

/// Writes any module with its configuration (JSON under the metadata key `key`) to `path`, so
/// that [`read_config`] + [`load_weights`] can rebuild it from the file alone.
pub fn save_module<M: Module, C: Serialize>(model: &M, key: &str, config: &C, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ckpt_err(path, e))?;
    }
    let config = serde_json::to_string(config).map_err(|e| ckpt_err(path, e))?;
    urbancast_io::with_temp(path, |p| {
        let mut store = BurnpackStore::from_file(p).auto_extension(false).overwrite(true).metadata(key, config);
        model.save_into(&mut store).map_err(|e| ckpt_err(path, e))
    })
    .map_err(|e| ckpt_err(path, e))
}

/// Reads the configuration stored under `key` by [`save_module`]; `what` names the model kind in
/// the error when the key is absent (e.g. "MTGNN teacher").
pub fn read_config<C: DeserializeOwned>(path: impl AsRef<Path>, key: &str, what: &str) -> Result<C> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(ckpt_err(path, "no such file"));
    }
    let reader = Reader::from_file_exact(path).map_err(|e| ckpt_err(path, e))?;
    let json =
        reader.metadata().get(key).ok_or_else(|| ckpt_err(path, format!("not an urbancast {what} checkpoint (no `{key}`)")))?.clone();
    serde_json::from_str(&json).map_err(|e| ckpt_err(path, e))
}

/// Loads the weights at `path` into `model` (built from the config of [`read_config`]).
pub fn load_weights<M: Module>(model: &mut M, path: impl AsRef<Path>) -> Result<()> {
    apply(model, path.as_ref())
}
