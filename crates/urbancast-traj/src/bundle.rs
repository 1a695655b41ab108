//! A trained generator on disk: one folder with the weights and everything needed to rebuild
//! its inputs — `model.bpk` (weights + [`HoserConfig`]), `context.json` (the [`RoadContext`]:
//! feature statistics, road graph, zones, zone operator), `meta.json` (time normalisation and
//! the network's fingerprint, so that a model is never run on another network by mistake).
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_roads::RoadNetwork;

use crate::data::{RoadContext, TimeNorm};
use crate::model::{Hoser, HoserConfig, load_hoser, read_hoser_config, save_hoser};

/// Identifies a road network: name, number of roads and a checksum of the road ids, centroids
/// (to 1e-6°) and successor lists in order — two networks with the same ids but another layout
/// (e.g. synthetic cities of different seeds) differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkFingerprint {
    /// The network's name ([`RoadNetwork::name`]).
    pub name: String,
    /// Number of roads.
    pub roads: usize,
    /// FNV-1a hash of the road ids, centroids (rounded to 1e-6°) and successor lists, in
    /// road index order.
    pub id_checksum: u64,
}

impl NetworkFingerprint {
    /// The fingerprint of `net`.
    pub fn of(net: &RoadNetwork) -> Self {
        // FNV-1a over ids, rounded centroids and successors in index order.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |x: u64| {
            for b in x.to_le_bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for (r, succ) in net.roads.iter().zip(&net.successors) {
            eat(r.id);
            eat((r.centroid[0] * 1e6).round() as i64 as u64);
            eat((r.centroid[1] * 1e6).round() as i64 as u64);
            eat(succ.len() as u64);
            for &s in succ {
                eat(s as u64);
            }
        }
        NetworkFingerprint { name: net.name.clone(), roads: net.len(), id_checksum: h }
    }

    /// Fails, saying what was trained on which network, unless `net` is this network;
    /// `what` names the thing (e.g. "the model", "the teacher").
    pub fn ensure_matches(&self, net: &RoadNetwork, dir: &Path, what: &str) -> Result<()> {
        let fp = NetworkFingerprint::of(net);
        if *self != fp {
            bail!(
                "{}: {what} was trained on network `{}` ({} roads, id checksum {:x}), not on `{}` ({} roads, id checksum {:x}) — pass the --network (and --network-seed) it was trained on",
                dir.display(),
                self.name,
                self.roads,
                self.id_checksum,
                fp.name,
                fp.roads,
                fp.id_checksum
            );
        }
        Ok(())
    }
}

/// What `meta.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleMeta {
    /// The network the model was trained on.
    pub network: NetworkFingerprint,
    /// Normalisation of the `ln(1 + Δt)` travel-time targets, fitted on the training samples.
    pub time_norm: TimeNorm,
    /// Free-form facts about the training run (seed, epochs, data files, best accuracy, ...).
    pub training: serde_json::Value,
}

/// A loaded generator.
pub struct Bundle {
    /// The generator with its trained weights.
    pub model: Hoser,
    /// Its hyper-parameters, as stored in `model.bpk`.
    pub config: HoserConfig,
    /// The road context it was trained with (`context.json`).
    pub ctx: RoadContext,
    /// The contents of `meta.json`.
    pub meta: BundleMeta,
}

/// The weights file of the bundle folder `dir` (`dir/model.bpk`).
pub fn model_path(dir: &Path) -> PathBuf {
    dir.join("model.bpk")
}

/// Writes the three files of a bundle into `dir` (created if needed).
pub fn save_bundle(dir: &Path, model: &Hoser, ctx: &RoadContext, meta: &BundleMeta) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    save_hoser(model, model_path(dir)).with_context(|| format!("writing {}", model_path(dir).display()))?;
    let write = |name: &str, v: String| {
        let p = dir.join(name);
        urbancast_io::write_atomic(&p, v).with_context(|| format!("writing {}", p.display()))
    };
    write("context.json", serde_json::to_string(ctx)?)?;
    write("meta.json", serde_json::to_string_pretty(meta)?)?;
    Ok(())
}

/// Writes only the weights (e.g. the best checkpoint so far) next to an existing bundle.
pub fn save_weights(dir: &Path, model: &Hoser) -> Result<()> {
    save_hoser(model, model_path(dir)).with_context(|| format!("writing {}", model_path(dir).display()))
}

/// Loads a bundle and checks that `net` is the network it was trained on.
pub fn load_bundle(dir: &Path, net: &RoadNetwork, device: &Device) -> Result<Bundle> {
    if !dir.is_dir() {
        bail!("{}: not a model folder (expected model.bpk, context.json, meta.json)", dir.display());
    }
    let read = |name: &str| -> Result<String> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).with_context(|| format!("{}: cannot read", p.display()))
    };
    let meta: BundleMeta =
        serde_json::from_str(&read("meta.json")?).with_context(|| format!("{}/meta.json: not a bundle meta file", dir.display()))?;
    meta.network.ensure_matches(net, dir, "the model")?;
    let ctx: RoadContext =
        serde_json::from_str(&read("context.json")?).with_context(|| format!("{}/context.json: not a road context", dir.display()))?;
    let config = read_hoser_config(model_path(dir)).with_context(|| format!("reading {}", model_path(dir).display()))?;
    let model = load_hoser(model_path(dir), device).with_context(|| format!("loading {}", model_path(dir).display()))?;
    Ok(Bundle { model, config, ctx, meta })
}
