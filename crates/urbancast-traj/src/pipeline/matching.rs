//! Map matching as one library call (`urbancast traj match`): read raw GPS in any supported
//! layout, match every track with the HMM matcher, keep the matched pieces as trajectories,
//! and report how much of the data a matcher could match at all.
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use urbancast_roads::io::{ReadSummary, read_chengdu, read_geolife, read_gps_auto, read_gps_csv, read_porto};
use urbancast_roads::matching::{MatchConfig, MatchReport, match_tracks};
use urbancast_roads::spatial::RoadIndex;
use urbancast_roads::{GpsTrack, RoadNetwork, Trajectory};

/// Reads the GPS file (or GeoLife folder) `path` in `format`: `auto`, `porto`, `chengdu`,
/// `geolife` or `csv`.
pub fn read_gps(path: &Path, format: &str) -> Result<ReadSummary> {
    let r = match format {
        "auto" => read_gps_auto(path),
        "porto" => read_porto(path),
        "chengdu" => read_chengdu(path),
        "geolife" => read_geolife(path),
        "csv" => read_gps_csv(path),
        f => bail!("--format {f}: expected auto, porto, chengdu, geolife or csv"),
    };
    r.with_context(|| format!("reading GPS {}", path.display()))
}

/// What [`match_gps`] produced.
#[derive(Serialize)]
pub struct MatchOutcome {
    /// The matcher's report (points matched, breaks, time).
    pub report: MatchReport,
    /// Matched pieces with at least `min_roads` roads, in track order.
    #[serde(skip)]
    pub trajectories: Vec<Trajectory>,
    /// GPS points with some road within the search radius (the ones a matcher could match).
    pub points_covered: usize,
    /// Share of those points that were matched.
    pub share_covered_points_matched: f64,
}

/// Matches `tracks` on `net` with `cfg` (checked first), keeping pieces of at least
/// `min_roads` roads; `done(n)` is called as tracks finish.
pub fn match_gps(
    net: &RoadNetwork,
    tracks: &[GpsTrack],
    cfg: &MatchConfig,
    min_roads: usize,
    done: &(dyn Fn(usize) + Sync),
) -> Result<MatchOutcome> {
    let t0 = Instant::now();
    let index = RoadIndex::new(net);
    let results = match_tracks(net, &index, tracks, cfg, Some(done))?;
    let report = MatchReport::new(net, &results, t0.elapsed().as_secs_f64());
    // Raw trips often leave the area a network covers: count the points a matcher could match.
    let covered = tracks.iter().flat_map(|t| &t.points).filter(|p| !index.nearest_within(p.pos, 1, cfg.search_radius_m).is_empty()).count();
    let share = if covered == 0 { 0.0 } else { report.points_matched as f64 / covered as f64 };
    let mut trajectories = Vec::new();
    for (r, t) in results.iter().zip(tracks) {
        trajectories.extend(r.to_trajectories(net, t).into_iter().filter(|t| t.len() >= min_roads));
    }
    Ok(MatchOutcome { report, trajectories, points_covered: covered, share_covered_points_matched: share })
}
