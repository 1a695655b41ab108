//! What every `traj` command shares: the network option, the training data and loop flags,
//! progress bars, output paths.
use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::ProgressBar;
use urbancast_roads::{RoadNetwork, Trajectory};
use urbancast_traj::io::{load_network, read_checked_all};
use urbancast_traj::pipeline::RunInputs;

use crate::args::{DeviceArg, OutFlags, set};

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
    /// The network named.
    pub fn load(&self) -> Result<RoadNetwork> {
        load_network(&self.network, self.network_seed)
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

    /// The files the run reads (trajectories, and the network unless synthetic).
    pub fn input_paths(&self) -> Vec<PathBuf> {
        let mut v = self.train.clone();
        if self.net.network != "synthetic" {
            v.push(PathBuf::from(&self.net.network));
        }
        v
    }

    /// The run description for the pipelines.
    pub fn inputs(&self, device: &DeviceArg) -> RunInputs {
        let files = self.train.iter().map(|p| p.display().to_string()).collect();
        RunInputs { files, val_frac: self.val_frac, test_frac: self.test_frac, device: device.name.clone(), resume: false }
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
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub out: OutFlags,
}

impl LoopArgs {
    /// Applies the flags given to a config's (epochs, batch, lr, seed, max batches per epoch).
    pub fn apply(&self, epochs: &mut usize, batch: &mut usize, lr: &mut f64, seed: &mut u64, max_batches: &mut Option<usize>) {
        set(epochs, &self.epochs);
        set(batch, &self.batch);
        set(lr, &self.lr);
        set(seed, &self.seed);
        if self.max_batches.is_some() {
            *max_batches = self.max_batches;
        }
    }
}

/// A progress bar of `len` items labelled `what` (the program's one style).
pub fn bar(len: u64, what: &str) -> ProgressBar {
    urbancast_train::progress::bar(len, what, "items", true)
}

/// `x.csv` → `x.<suffix>`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().trim_end_matches(".csv").to_string()).unwrap_or_default();
    path.with_file_name(format!("{stem}.{suffix}"))
}
