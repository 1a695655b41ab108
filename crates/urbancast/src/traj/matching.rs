//! `urbancast traj match`: raw GPS → road sequences (HMM map matching), HOSER CSV out.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use urbancast_eval::write_json;
use urbancast_roads::io::{ReadSummary, read_chengdu, read_geolife, read_gps_auto, read_gps_csv, read_porto, write_hoser_csv};
use urbancast_roads::matching::{MatchConfig, MatchReport, match_tracks};
use urbancast_roads::spatial::RoadIndex;

use super::common::{NetworkArg, bar, sibling};

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

fn read(a: &Args) -> Result<ReadSummary> {
    let r = match a.format.as_str() {
        "auto" => read_gps_auto(&a.gps),
        "porto" => read_porto(&a.gps),
        "chengdu" => read_chengdu(&a.gps),
        "geolife" => read_geolife(&a.gps),
        "csv" => read_gps_csv(&a.gps),
        f => bail!("--format {f}: expected auto, porto, chengdu, geolife or csv"),
    };
    r.with_context(|| format!("reading GPS {}", a.gps.display()))
}

pub fn run(a: Args) -> Result<()> {
    let net = a.net.load()?;
    let summary = read(&a)?;
    if !summary.skipped.is_empty() {
        outln!("{} tracks skipped while reading (fewer than 2 points)", summary.skipped.len())?;
    }
    let mut tracks = summary.into_tracks();
    if let Some(n) = a.limit {
        tracks.truncate(n);
    }
    let mut cfg = MatchConfig::default();
    if let Some(v) = a.sigma {
        cfg.sigma_z_m = v;
    }
    if let Some(v) = a.beta {
        cfg.beta_m = v;
    }
    if let Some(v) = a.radius {
        cfg.search_radius_m = v;
    }
    if let Some(v) = a.max_candidates {
        cfg.max_candidates = v;
    }
    if let Some(v) = a.max_skipped {
        cfg.max_skipped_points = v;
    }
    for (name, v) in [("--sigma", cfg.sigma_z_m), ("--beta", cfg.beta_m), ("--radius", cfg.search_radius_m)] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{name} must be a positive number of metres, got {v}");
        }
    }
    if cfg.max_candidates == 0 {
        bail!("--max-candidates must be at least 1");
    }
    let t0 = Instant::now();
    let index = RoadIndex::new(&net);
    let pb = bar(tracks.len() as u64, "matching");
    let done = |n: usize| pb.set_position(n as u64);
    let results = match_tracks(&net, &index, &tracks, &cfg, Some(&done))?;
    pb.finish_and_clear();
    let report = MatchReport::new(&net, &results, t0.elapsed().as_secs_f64());
    // Points with some road within the search radius: the ones a matcher could match at all
    // (raw trips often leave the area a network covers).
    let covered: usize =
        tracks.iter().flat_map(|t| &t.points).filter(|p| !index.nearest_within(p.pos, 1, cfg.search_radius_m).is_empty()).count();
    let share_covered_matched = if covered == 0 { 0.0 } else { report.points_matched as f64 / covered as f64 };
    let mut trajs = Vec::new();
    for (r, t) in results.iter().zip(&tracks) {
        trajs.extend(r.to_trajectories(&net, t).into_iter().filter(|t| t.len() >= a.min_roads));
    }
    write_hoser_csv(&a.out, &trajs).with_context(|| format!("writing {}", a.out.display()))?;
    let rp = sibling(&a.out, "report.json");
    write_json(
        &rp,
        &serde_json::json!({ "report": report, "config": cfg, "trajectories_written": trajs.len(),
        "points_covered": covered, "share_covered_points_matched": share_covered_matched,
        "network": net.name, "gps": a.gps }),
    )?;
    outln!("{report}")?;
    outln!("{covered} points have a road within {} m; {:.1} % of them were matched", cfg.search_radius_m, 100.0 * share_covered_matched)?;
    outln!("wrote {} trajectories to {} and the report to {}", trajs.len(), a.out.display(), rp.display())?;
    Ok(())
}
