//! What every `traj` command shares: the network option, progress bars, JSON output.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use urbancast_roads::io::read_hoser_csv;
use urbancast_roads::readers::read_network_auto;
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};
use urbancast_roads::{RoadNetwork, Trajectory};

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

/// The trajectories a training command learns from and how they are split (`traj train`,
/// `traj distill`, `traj teacher`: the same files, fractions and seed give the same split).
#[derive(clap::Args, Debug, Clone)]
pub struct TrajData {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Trajectories (HOSER CSV: mm_id,user_id,traj_id,rid_list,time_list); repeat the flag to
    /// concatenate several files.
    #[arg(long = "train", required = true)]
    pub train: Vec<PathBuf>,
    /// Share of the trajectories held out for validation (model selection).
    #[arg(long, default_value_t = 0.1)]
    pub val_frac: f64,
    /// Share of the trajectories held out for testing.
    #[arg(long, default_value_t = 0.1)]
    pub test_frac: f64,
}

impl TrajData {
    /// The network and every `--train` file's trajectories, concatenated, each checked.
    pub fn load(&self) -> Result<(RoadNetwork, Vec<Trajectory>)> {
        let net = self.net.load()?;
        let all = read_checked_all(&net, &self.train)?;
        Ok((net, all))
    }

    /// The `--train` files, for the records.
    pub fn files(&self) -> Vec<String> {
        self.train.iter().map(|p| p.display().to_string()).collect()
    }
}

/// The training-loop flags of `traj train` / `traj distill` / `traj teacher`; each overrides
/// the config file's `[train]` table.
#[derive(clap::Args, Debug, Clone)]
pub struct LoopArgs {
    /// Epochs (overrides the config file).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Trajectories per batch (overrides the config file).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Peak learning rate (overrides the config file).
    #[arg(long)]
    pub lr: Option<f64>,
    /// At most this many batches per epoch (overrides the config file).
    #[arg(long)]
    pub max_batches: Option<usize>,
    /// Seed of the split, the zones (generator), the initialisation and the batch order
    /// (overrides the config file).
    #[arg(long)]
    pub seed: Option<u64>,
    /// `cpu`, or `cuda` / `cuda:N` in a build with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

impl LoopArgs {
    /// Applies the flags given to a config's (epochs, batch, lr, seed, max batches per epoch).
    pub fn apply(&self, epochs: &mut usize, batch: &mut usize, lr: &mut f64, seed: &mut u64, max_batches: &mut Option<usize>) {
        *epochs = self.epochs.unwrap_or(*epochs);
        *batch = self.batch.unwrap_or(*batch);
        *lr = self.lr.unwrap_or(*lr);
        *seed = self.seed.unwrap_or(*seed);
        if self.max_batches.is_some() {
            *max_batches = self.max_batches;
        }
    }
}

/// [`read_checked`] of every file in `paths`, concatenated in order.
pub(crate) fn read_checked_all(net: &RoadNetwork, paths: &[PathBuf]) -> Result<Vec<Trajectory>> {
    let mut all = Vec::new();
    for p in paths {
        all.extend(read_checked(net, p)?);
    }
    Ok(all)
}

/// Reads one HOSER CSV and checks it against the network, with errors naming the file and
/// the trajectory (as `traj train` does).
pub(crate) fn read_checked(net: &RoadNetwork, path: &Path) -> Result<Vec<Trajectory>> {
    if !path.is_file() {
        bail!("{}: no such trajectory file", path.display());
    }
    let trajs = read_hoser_csv(path).with_context(|| format!("reading trajectories {}", path.display()))?;
    if trajs.is_empty() {
        bail!("{}: no trajectories in the file", path.display());
    }
    let name = |k: usize, t: &Trajectory| format!("{}: trajectory {} (#{k})", path.display(), t.id.as_deref().unwrap_or("<no id>"));
    for (k, t) in trajs.iter().enumerate() {
        t.validate().with_context(|| name(k, t))?;
    }
    let unknown: Vec<usize> = (0..trajs.len()).filter(|&k| net.indices_of(&trajs[k].roads).is_err()).collect();
    if let Some(&k) = unknown.first() {
        let err = net.indices_of(&trajs[k].roads).unwrap_err();
        bail!(
            "{}: {} of {} trajectories use road ids that are not in network `{}` ({} roads) — were they made on another network? First: {}: {err}",
            path.display(),
            unknown.len(),
            trajs.len(),
            net.name,
            net.len(),
            name(k, &trajs[k])
        );
    }
    Ok(trajs)
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
