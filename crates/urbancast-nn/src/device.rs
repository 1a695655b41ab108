//! Picking the compute device by name (`--device` of every command).
use burn::tensor::Device;

use crate::{NnError, Result};

/// `cpu` (burn-flex, the default) or, with the `cuda` feature, `cuda` / `cuda:N`.
pub fn by_name(name: &str) -> Result<Device> {
    match name {
        "cpu" | "flex" => Ok(Device::flex()),
        n if n == "cuda" || n.starts_with("cuda:") => cuda(n),
        other => {
            Err(NnError::Device(format!("unknown device `{other}`: use `cpu`, or `cuda` / `cuda:N` in a build with the `cuda` feature")))
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda(name: &str) -> Result<Device> {
    let idx: usize = match name.strip_prefix("cuda:") {
        Some(s) => s.parse().map_err(|e| NnError::Device(format!("device `{name}`: {e}")))?,
        None => 0,
    };
    Ok(Device::cuda(idx))
}

#[cfg(not(feature = "cuda"))]
fn cuda(_name: &str) -> Result<Device> {
    Err(NnError::Device("this urbancast was built without GPU support: rebuild with `cargo build --release --features cuda`".into()))
}
