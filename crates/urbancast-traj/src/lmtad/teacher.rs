//! The teacher folder that `urbancast traj teacher` writes and `traj anomalies` / `traj
//! distill` read: the [`save_lmtad_dir`] files plus [`META_FILE`] (the network's fingerprint
//! and free-form facts about the training run).
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_eval::report::write_json;
use urbancast_roads::RoadNetwork;

use super::{CONFIG_FILE, CellGrid, GRID_FILE, LmTad, Tokenizer, WEIGHTS_FILE, load_lmtad_dir, save_lmtad_dir};
use crate::bundle::NetworkFingerprint;

/// Name of the meta file inside a teacher folder.
pub const META_FILE: &str = "meta.json";

/// [`META_FILE`] of a teacher folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TeacherMeta {
    /// The network the teacher was trained on.
    pub network: NetworkFingerprint,
    /// Free-form facts about the training run (files, split, configs, losses, timings).
    pub training: serde_json::Value,
}

/// Writes a teacher folder: the model and grid ([`save_lmtad_dir`]) and [`META_FILE`] with
/// the fingerprint of `net` and `training`.
pub fn save_teacher(dir: &Path, model: &LmTad, grid: &CellGrid, net: &RoadNetwork, training: serde_json::Value) -> Result<()> {
    save_lmtad_dir(dir, model, grid)?;
    write_json(&dir.join(META_FILE), &TeacherMeta { network: NetworkFingerprint::of(net), training })
}

/// Loads a teacher folder written by [`save_teacher`] and checks that `net` is the network it
/// was trained on: the model on `device`, its tokenizer for `net` and the meta data.
pub fn load_teacher(dir: &Path, net: &RoadNetwork, device: &Device) -> Result<(LmTad, Tokenizer, TeacherMeta)> {
    let expect = format!("{WEIGHTS_FILE}, {CONFIG_FILE}, {GRID_FILE}, {META_FILE} written by `urbancast traj teacher`");
    if !dir.is_dir() {
        bail!("{}: no such teacher folder (expected {expect})", dir.display());
    }
    let mp = dir.join(META_FILE);
    let text = std::fs::read_to_string(&mp)
        .with_context(|| format!("{}: cannot read: not a teacher folder? (expected {expect})", mp.display()))?;
    let meta: TeacherMeta = serde_json::from_str(&text).with_context(|| format!("{}: not a teacher meta file", mp.display()))?;
    meta.network.ensure_matches(net, dir, "the teacher")?;
    let (model, grid) = load_lmtad_dir(dir, device).with_context(|| format!("loading the LM-TAD teacher {}", dir.display()))?;
    let tok = Tokenizer::new(grid, net).with_context(|| format!("{}: grid vs network `{}`", dir.display(), net.name))?;
    Ok((model, tok, meta))
}
