//! What every `traj` command shares: the network option, progress bars, JSON output.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use urbancast_roads::RoadNetwork;
use urbancast_roads::readers::read_network_auto;
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};

/// `--network`: a road network on disk or the built-in synthetic city.
#[derive(clap::Args, Debug, Clone)]
pub struct NetworkArg {
    /// Road network: a folder with `roadmap.geo` + `roadmap.rel` (HOSER/LibCity), an OSM
    /// `edges.csv` (or its folder), a shapefile (or its folder), or `synthetic` for the built-in
    /// synthetic city (grid-like arterials with local streets).
    #[arg(long, default_value = "synthetic")]
    pub network: String,
    /// Seed of the synthetic city (ignored for networks read from disk).
    #[arg(long, default_value_t = 7)]
    pub network_seed: u64,
}

impl NetworkArg {
    pub fn load(&self) -> Result<RoadNetwork> {
        if self.network == "synthetic" {
            let cfg = SyntheticCityConfig { seed: self.network_seed, ..Default::default() };
            return Ok(synthetic_city(&cfg)?);
        }
        let net = read_network_auto(&self.network).with_context(|| format!("reading the road network {}", self.network))?;
        Ok(net)
    }
}

pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})")
            .expect("valid template"),
    );
    pb.set_message(what.to_string());
    pb
}

pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)?).with_context(|| format!("writing {}", path.display()))
}

/// `x.csv` → `x.<suffix>`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().trim_end_matches(".csv").to_string()).unwrap_or_default();
    path.with_file_name(format!("{stem}.{suffix}"))
}
