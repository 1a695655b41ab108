//! `urbancast traj network`: what a road network holds.
use std::path::PathBuf;

use anyhow::Result;
use urbancast_eval::write_json;
use urbancast_roads::summary::NetworkSummary;

use super::common::NetworkArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Also write the summary as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let s = NetworkSummary::of(&net);
    outln!("network `{}`: {} roads, {} transitions, {} dead ends", s.name, s.roads, s.transitions, s.dead_ends)?;
    outln!("length: {:.1} km in all, {:.1} m per road on average", s.total_length_km, s.mean_length_m)?;
    outln!("bbox: lon {:.5}..{:.5}, lat {:.5}..{:.5}", s.bbox[0], s.bbox[2], s.bbox[1], s.bbox[3])?;
    for (c, n) in &s.classes {
        outln!("  {c:<16} {n}")?;
    }
    if let Some(p) = a.json {
        write_json(&p, &s)?;
        outln!("wrote {}", p.display())?;
    }
    Ok(())
}
