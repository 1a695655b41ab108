//! What every command shares: `--device`, and `--config FILE` (TOML) under the flags — one
//! reader and one override trait for every command with a configuration file.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use serde::de::DeserializeOwned;
use urbancast_train::outdir::Reuse;

/// `--device`.
#[derive(clap::Args, Debug, Clone)]
pub struct DeviceArg {
    /// Compute device: `cpu` (default), or `cuda` / `cuda:N` in a build with the `cuda` feature.
    #[arg(long = "device", value_name = "DEVICE", default_value = "cpu")]
    pub name: String,
}

impl DeviceArg {
    /// The device named.
    pub fn get(&self) -> Result<Device> {
        Ok(urbancast_nn::device::by_name(&self.name)?)
    }
}

/// `--overwrite` / `--resume`, for every command with an output folder.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutFlags {
    /// Write into --out even when it holds a different run (or files that are not a run).
    #[arg(long)]
    pub overwrite: bool,
    /// Continue the run in --out: finished trainings are loaded from their checkpoints, an
    /// interrupted one continues from its last checkpoint (`OUT/train/<phase>/checkpoint`).
    #[arg(long)]
    pub resume: bool,
}

impl OutFlags {
    /// The reuse policy of these flags.
    pub fn reuse(&self) -> Reuse {
        Reuse { overwrite: self.overwrite, resume: self.resume }
    }
}

/// The file or folder a city SPEC reads (`kind:PATH[:…][?query]`), when it names one.
pub fn spec_path(spec: &str) -> Option<PathBuf> {
    let rest = spec.split_once(':')?.1;
    let path = rest.split(['?', ':']).next()?;
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// Flags that override fields of a configuration `T` read from `--config`.
pub trait Overrides<T> {
    /// Sets the fields of `cfg` given on the command line; checks the result.
    fn apply(&self, cfg: &mut T) -> Result<()>;
}

/// The TOML file `path` as `T` (`T::default()` without a file) with the flags of `flags` on
/// top; `what` names the configuration in the parse error ("not {what}").
pub fn merged<T: DeserializeOwned + Default>(path: Option<&Path>, what: &str, flags: &impl Overrides<T>) -> Result<T> {
    let mut cfg: T = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{}: not {what}", p.display()))?
        }
        None => T::default(),
    };
    flags.apply(&mut cfg)?;
    Ok(cfg)
}

/// A command-line value that may be absent: an `Option` flag, or a list flag given no values.
pub trait Given {
    /// The value when given.
    type Value;
    /// `Some` when the flag was given.
    fn given(&self) -> Option<Self::Value>;
}

impl<V: Clone> Given for Option<V> {
    type Value = V;
    fn given(&self) -> Option<V> {
        self.clone()
    }
}

impl<V: Clone> Given for Vec<V> {
    type Value = Vec<V>;
    fn given(&self) -> Option<Vec<V>> {
        (!self.is_empty()).then(|| self.clone())
    }
}

/// `*field = flag` when the flag was given.
pub fn set<F: Given>(field: &mut F::Value, flag: &F) {
    if let Some(v) = flag.given() {
        *field = v;
    }
}
