//! Summary figures of a map-matching run.
use serde::Serialize;

use crate::network::RoadNetwork;

use super::MatchResult;

/// How well a set of tracks matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchReport {
    /// Number of tracks.
    pub trips: usize,
    /// GPS points over all tracks.
    pub points_total: usize,
    /// GPS points matched to a road over all tracks.
    pub points_matched: usize,
    /// `points_matched / points_total` (0 when there are no points).
    pub share_points_matched: f64,
    /// Median GPS-to-road distance of the matched points, metres (NaN when none).
    pub median_distance_m: f64,
    /// Mean GPS-to-road distance of the matched points, metres (NaN when none).
    pub mean_distance_m: f64,
    /// Tracks matched as a single piece whose consecutive roads all follow each other.
    pub trips_connected: usize,
    /// `trips_connected / trips` (0 when there are no tracks).
    pub share_trips_connected: f64,
    /// Chain restarts over all tracks.
    pub breaks: usize,
    /// Points passed over as outliers (unmatched) over all tracks.
    pub outliers: usize,
    /// Wall-clock seconds of the matching (as given by the caller).
    pub seconds: f64,
}

impl MatchReport {
    /// Sums up `results` (one per track, matched on `net`); `seconds` is the wall-clock time
    /// the matching took.
    pub fn new(net: &RoadNetwork, results: &[MatchResult], seconds: f64) -> MatchReport {
        let points_total: usize = results.iter().map(|r| r.points_total).sum();
        let points_matched: usize = results.iter().map(|r| r.points_matched).sum();
        let mut d: Vec<f64> = results.iter().flat_map(|r| r.distances_m.iter().copied()).collect();
        d.sort_by(f64::total_cmp);
        let median_distance_m = match d.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => d[n / 2],
            n => (d[n / 2 - 1] + d[n / 2]) / 2.0,
        };
        let mean_distance_m = if d.is_empty() { f64::NAN } else { d.iter().sum::<f64>() / d.len() as f64 };
        let trips_connected = results.iter().filter(|r| r.is_connected(net)).count();
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        MatchReport {
            trips: results.len(),
            points_total,
            points_matched,
            share_points_matched: share(points_matched, points_total),
            median_distance_m,
            mean_distance_m,
            trips_connected,
            share_trips_connected: share(trips_connected, results.len()),
            breaks: results.iter().map(|r| r.breaks).sum(),
            outliers: results.iter().map(|r| r.outliers).sum(),
            seconds,
        }
    }
}

impl std::fmt::Display for MatchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} trips, {}/{} points matched ({:.1} %), distance median {:.1} m mean {:.1} m, \
             {} trips connected ({:.1} %), {} breaks, {} outliers, {:.2} s",
            self.trips,
            self.points_matched,
            self.points_total,
            100.0 * self.share_points_matched,
            self.median_distance_m,
            self.mean_distance_m,
            self.trips_connected,
            100.0 * self.share_trips_connected,
            self.breaks,
            self.outliers,
            self.seconds
        )
    }
}
