//! `urbancast traj synth`: synthetic trip demand on a road network, HOSER CSV out.
use std::path::PathBuf;

use anyhow::{Context, Result};
use urbancast_eval::write_json;
use urbancast_roads::demand::{DemandConfig, synthesize};
use urbancast_roads::io::write_hoser_csv;

use super::common::{NetworkArg, bar, sibling};
use crate::args::{Overrides, merged, set};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Number of trips.
    #[arg(long, default_value_t = 10_000)]
    pub trips: usize,
    /// Trips (HOSER CSV); `<stem>.summary.json` is written beside it.
    #[arg(long, default_value = "runs/synthetic-trips.csv")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Zones of the gravity model (a METIS partition of the roads).
    #[arg(long)]
    pub zones: Option<usize>,
    /// Distance deterrence exp(−β·d), per km.
    #[arg(long)]
    pub beta: Option<f64>,
    /// Route variants ("habits") per OD pair.
    #[arg(long)]
    pub habits: Option<usize>,
    /// Origins/destinations drawn from this many fixed roads per zone (0 = any road), so that
    /// OD pairs repeat.
    #[arg(long)]
    pub anchors_per_zone: Option<usize>,
    /// Days covered, from --start-date.
    #[arg(long)]
    pub days: Option<usize>,
    /// Number of drivers.
    #[arg(long)]
    pub drivers: Option<usize>,
    /// Full configuration as TOML (fields of `DemandConfig`); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl Overrides<DemandConfig> for Args {
    fn apply(&self, cfg: &mut DemandConfig) -> Result<()> {
        cfg.trips = self.trips;
        cfg.seed = self.seed;
        set(&mut cfg.zones, &self.zones);
        set(&mut cfg.gravity_beta, &self.beta);
        set(&mut cfg.habits_per_od, &self.habits);
        set(&mut cfg.anchors_per_zone, &self.anchors_per_zone);
        set(&mut cfg.days, &self.days);
        set(&mut cfg.drivers, &self.drivers);
        Ok(())
    }
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let cfg: DemandConfig = merged(a.config.as_deref(), "a demand configuration", &a)?;
    let pb = bar(cfg.trips as u64, "trips");
    let done = |n: usize| pb.set_position(n as u64);
    let (trips, summary) = synthesize(&net, &cfg, Some(&done))?;
    pb.finish_and_clear();
    write_hoser_csv(&a.out, &trips).with_context(|| format!("writing {}", a.out.display()))?;
    let sp = sibling(&a.out, "summary.json");
    write_json(&sp, &serde_json::json!({ "summary": summary, "config": cfg, "network": net.name }))?;
    outln!(
        "{} trips on `{}` in {:.1} s: {} distinct ODs, {} distinct routes, {:.1} roads, {:.2} km, {:.1} min per trip",
        summary.trips,
        net.name,
        summary.seconds,
        summary.distinct_ods,
        summary.distinct_routes,
        summary.mean_roads,
        summary.mean_length_km,
        summary.mean_duration_min
    )?;
    outln!("wrote {} and {}", a.out.display(), sp.display())?;
    Ok(())
}
