//! Reading the inputs every trajectory command shares: the road network (a folder or file on
//! disk, or the built-in synthetic city), HOSER CSV trajectories checked against it, and the
//! train / validation / test split files a training run writes.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use urbancast_roads::io::{read_hoser_csv, write_hoser_csv};
use urbancast_roads::readers::read_network_auto;
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};
use urbancast_roads::{RoadNetwork, Trajectory};

/// Name of the built-in synthetic city in [`load_network`].
pub const SYNTHETIC: &str = "synthetic";

/// The road network `spec`: a folder with `roadmap.geo` + `roadmap.rel` (HOSER/LibCity), an
/// OSM `edges.csv` (or its folder), a shapefile (or its folder), or [`SYNTHETIC`] for the
/// built-in synthetic city of seed `synthetic_seed` (ignored for networks read from disk).
pub fn load_network(spec: &str, synthetic_seed: u64) -> Result<RoadNetwork> {
    if spec == SYNTHETIC {
        let cfg = SyntheticCityConfig { seed: synthetic_seed, ..Default::default() };
        return Ok(synthetic_city(&cfg)?);
    }
    read_network_auto(spec).with_context(|| format!("reading the road network {spec}"))
}

/// [`read_checked`] of every file in `paths`, concatenated in order.
pub fn read_checked_all(net: &RoadNetwork, paths: &[PathBuf]) -> Result<Vec<Trajectory>> {
    let mut all = Vec::new();
    for p in paths {
        all.extend(read_checked(net, p)?);
    }
    Ok(all)
}

/// Reads one HOSER CSV and checks it against the network, with errors naming the file and
/// the trajectory: the file must exist and hold trajectories, each valid and on `net`.
pub fn read_checked(net: &RoadNetwork, path: &Path) -> Result<Vec<Trajectory>> {
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

/// Writes `dir/train.csv`, `dir/val.csv` and `dir/test.csv` (HOSER CSV): the trajectories of
/// `all` at each split's indices, in order; the folder is created.
pub fn write_splits(dir: &Path, all: &[Trajectory], train_ix: &[usize], val_ix: &[usize], test_ix: &[usize]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, ix) in [("train.csv", train_ix), ("val.csv", val_ix), ("test.csv", test_ix)] {
        let part: Vec<Trajectory> = ix.iter().map(|&i| all[i].clone()).collect();
        let p = dir.join(name);
        write_hoser_csv(&p, &part).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
