//! Picking the compute device by name.
use anyhow::{Result, bail};
use burn::tensor::Device;

/// `cpu` (burn-flex, the default) or, with the `cuda` feature, `cuda` / `cuda:N`.
pub fn by_name(name: &str) -> Result<Device> {
    match name {
        "cpu" | "flex" => Ok(Device::flex()),
        n if n == "cuda" || n.starts_with("cuda:") => cuda(n),
        other => bail!("unknown device `{other}`: use `cpu`, or `cuda` / `cuda:N` in a build with the `cuda` feature"),
    }
}

#[cfg(feature = "cuda")]
fn cuda(name: &str) -> Result<Device> {
    let idx: usize = name.strip_prefix("cuda:").map(|s| s.parse()).transpose()?.unwrap_or(0);
    Ok(Device::cuda(idx))
}

#[cfg(not(feature = "cuda"))]
fn cuda(_name: &str) -> Result<Device> {
    bail!("this urbancast was built without GPU support: rebuild with `cargo build --release --features cuda`")
}
