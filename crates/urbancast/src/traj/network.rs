//! `urbancast traj network`: what a road network holds.
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use urbancast_eval::write_json;

use super::common::NetworkArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Also write the summary as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Serialize)]
struct Summary {
    name: String,
    roads: usize,
    transitions: usize,
    dead_ends: usize,
    total_length_km: f64,
    mean_length_m: f64,
    bbox: [f64; 4],
    classes: Vec<(String, usize)>,
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let mut counts = vec![0usize; net.classes.len()];
    for r in &net.roads {
        counts[r.class as usize] += 1;
    }
    let total: f64 = net.roads.iter().map(|r| r.length_m).sum();
    let s = Summary {
        name: net.name.clone(),
        roads: net.len(),
        transitions: net.num_transitions(),
        dead_ends: net.successors.iter().filter(|s| s.is_empty()).count(),
        total_length_km: total / 1000.0,
        mean_length_m: total / net.len() as f64,
        bbox: net.bbox(),
        classes: net.classes.iter().cloned().zip(counts).filter(|(_, c)| *c > 0).collect(),
    };
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
