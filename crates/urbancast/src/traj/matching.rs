//! `urbancast traj match`: raw GPS → road sequences (HMM map matching), HOSER CSV out.
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use urbancast_eval::write_json;
use urbancast_roads::io::write_hoser_csv;
use urbancast_roads::matching::MatchConfig;
use urbancast_traj::pipeline::matching::{match_gps, read_gps};

use super::common::{NetworkArg, bar, sibling};
use crate::args::set;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Raw GPS file (or folder, for GeoLife): Porto (WKT LINESTRING + timestamps, or the Kaggle
    /// POLYLINE layout), Chengdu JSON lines, GeoLife (.plt, folder, or CSV lat,lng,datetime,uid),
    /// or a plain CSV with id, time, lat, lon columns.
    #[arg(long)]
    pub gps: PathBuf,
    /// auto, porto, chengdu, geolife or csv.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Matched trajectories (HOSER CSV); a report `<stem>.report.json` is written beside it.
    #[arg(long, default_value = "runs/matched.csv")]
    pub out: PathBuf,
    /// Only the first N tracks.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Drop matched pieces with fewer roads than this.
    #[arg(long, default_value_t = 2)]
    pub min_roads: usize,
    /// GPS noise standard deviation, metres (emission).
    #[arg(long)]
    pub sigma: Option<f64>,
    /// Transition scale, metres (|route − great circle|).
    #[arg(long)]
    pub beta: Option<f64>,
    /// Candidate search radius, metres.
    #[arg(long)]
    pub radius: Option<f64>,
    /// Candidate roads per point.
    #[arg(long)]
    pub max_candidates: Option<usize>,
    /// Up to this many unreachable points in a row are skipped as outliers before a break.
    #[arg(long)]
    pub max_skipped: Option<usize>,
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let summary = read_gps(&a.gps, &a.format)?;
    if !summary.skipped.is_empty() {
        outln!("{} tracks skipped while reading (fewer than 2 points)", summary.skipped.len())?;
    }
    let mut tracks = summary.into_tracks();
    if let Some(n) = a.limit {
        tracks.truncate(n);
    }
    let mut cfg = MatchConfig::default();
    set(&mut cfg.sigma_z_m, &a.sigma);
    set(&mut cfg.beta_m, &a.beta);
    set(&mut cfg.search_radius_m, &a.radius);
    set(&mut cfg.max_candidates, &a.max_candidates);
    set(&mut cfg.max_skipped_points, &a.max_skipped);
    for (name, v) in [("--sigma", cfg.sigma_z_m), ("--beta", cfg.beta_m), ("--radius", cfg.search_radius_m)] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{name} must be a positive number of metres, got {v}");
        }
    }
    let pb = bar(tracks.len() as u64, "matching");
    let o = match_gps(&net, &tracks, &cfg, a.min_roads, &|n| pb.set_position(n as u64))?;
    pb.finish_and_clear();
    write_hoser_csv(&a.out, &o.trajectories).with_context(|| format!("writing {}", a.out.display()))?;
    let rp = sibling(&a.out, "report.json");
    let record = serde_json::json!({ "report": o.report, "config": cfg, "trajectories_written": o.trajectories.len(),
        "points_covered": o.points_covered, "share_covered_points_matched": o.share_covered_points_matched, "network": net.name, "gps": a.gps });
    write_json(&rp, &record)?;
    outln!("{}", o.report)?;
    let share = 100.0 * o.share_covered_points_matched;
    outln!("{} points have a road within {} m; {share:.1} % of them were matched", o.points_covered, cfg.search_radius_m)?;
    outln!("wrote {} trajectories to {} and the report to {}", o.trajectories.len(), a.out.display(), rp.display())?;
    Ok(())
}
