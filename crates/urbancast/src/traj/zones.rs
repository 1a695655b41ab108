//! `urbancast traj zones`: METIS partition of the roads into zones, and zone transitions.
use std::path::PathBuf;

use anyhow::{Context, Result};
use urbancast_eval::write_json;
use urbancast_roads::io::read_hoser_csv;
use urbancast_roads::zones::{DEFAULT_ZONES, partition_zones, zone_transition_matrix};

use super::common::NetworkArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Number of zones.
    #[arg(long, default_value_t = DEFAULT_ZONES)]
    pub k: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Training trajectories (HOSER CSV) for the zone transition matrix.
    #[arg(long)]
    pub trajectories: Option<PathBuf>,
    /// Output JSON: the partition (zone of every road, by road id) and, with --trajectories,
    /// the transition counts as sparse triplets.
    #[arg(long, default_value = "runs/zones.json")]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let z = partition_zones(&net, a.k, a.seed)?;
    outln!(
        "{} roads into {} zones in {:.3} s: edge cut {} of {} undirected edges, imbalance {:.3} (sizes {}..{})",
        net.len(),
        z.k,
        z.seconds,
        z.edge_cut,
        net.undirected().iter().map(Vec::len).sum::<usize>() / 2,
        z.imbalance,
        z.sizes.iter().min().unwrap_or(&0),
        z.sizes.iter().max().unwrap_or(&0)
    )?;
    let zone_of_road: Vec<(u64, u32)> = net.roads.iter().zip(&z.zone_of).map(|(r, &zz)| (r.id, zz)).collect();
    let mut out = serde_json::json!({
        "network": net.name, "k": z.k, "seed": a.seed, "edge_cut": z.edge_cut, "imbalance": z.imbalance,
        "seconds": z.seconds, "sizes": z.sizes, "zone_of_road": zone_of_road,
    });
    if let Some(p) = &a.trajectories {
        let trajs = read_hoser_csv(p).with_context(|| format!("reading {}", p.display()))?;
        let t = zone_transition_matrix(&z, &net, &trajs)?;
        outln!(
            "transitions: {} road-to-road steps from {} trajectories, {} across zones, {} zone pairs used",
            t.total,
            t.trajectories,
            t.cross_zone,
            t.triplets(false).len()
        )?;
        out["transitions"] = serde_json::json!({ "total": t.total, "cross_zone": t.cross_zone,
            "counts": t.triplets(true) });
    }
    write_json(&a.out, &out)?;
    outln!("wrote {}", a.out.display())?;
    Ok(())
}
