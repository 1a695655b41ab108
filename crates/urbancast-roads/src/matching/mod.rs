//! HMM map matching of raw GPS tracks onto a [`RoadNetwork`], after P. Newson and J. Krumm,
//! "Hidden Markov Map Matching Through Noise and Sparseness" (ACM SIGSPATIAL GIS 2009).
//!
//! Per track: points closer than `min_point_distance_m` to the previous kept point are set
//! aside (they carry no direction, only noise); each kept point gets up to `max_candidates`
//! roads within `search_radius_m`; Viterbi picks the most likely candidate sequence. Emission:
//! Gaussian in the GPS-to-road distance, `-½ (d/σ_z)²`; transition: exponential in
//! `|route distance − great-circle distance|`, `-|Δ|/β`, where the route runs along the network
//! between the two projected points (see [`MatchConfig`] for the limits that make a leg
//! impossible). A point that the chain cannot reach is passed over as an outlier when the
//! next one is reachable again (up to `max_skipped_points`); otherwise, and at a point with
//! no road within the radius, the chain breaks and a new one starts. Each chain becomes a [`MatchedPiece`]: matched roads joined by the shortest routes found during
//! decoding (so consecutive roads always follow each other in the network), repeats
//! collapsed, and entry times interpolated along the route between the GPS times.
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Result;
use crate::network::RoadNetwork;
use crate::spatial::RoadIndex;
use crate::traj::{GpsTrack, Trajectory};

mod piece;
pub mod report;
mod route;
mod viterbi;

pub use report::MatchReport;

/// Parameters of the HMM. The defaults suit taxi GPS sampled every 15 s in a dense city. They
/// were chosen on the Porto OSM network with (a) 300 simulated 15 s tracks along known routes,
/// with noise like the Porto taxi sample's (median GPS-to-road distance 3.3 m, one point in
/// ten beyond 15 m), scored by the length share of wrongly added or missed roads (2.8 % with
/// the defaults), and (b) the 318 real Porto taxi trips, scored by the share of trips matched
/// in one connected piece.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatchConfig {
    /// Standard deviation of GPS noise, metres (emission Gaussian). Newson & Krumm measured
    /// 4.07 m; on the Porto sample the robust estimate (1.4826 × median distance) is 4.5 m but
    /// the tail is heavy (RMS 9–13 m). Default 7 m. On simulated tracks what matters is σ
    /// against `beta_m`: σ from 0.7 β to β works best (2.7–2.8 % route error for σ = 4–10 m);
    /// with β = 10 m, σ = 4 m over-trusts the nearest road (+40 %) and σ = 15–20 m lets the
    /// transitions overrule good fixes (+20–40 %).
    pub sigma_z_m: f64,
    /// Scale of the exponential transition on `|route − great circle|`, metres. The maximum-
    /// likelihood estimate on matched Porto legs (mean deviation) is 8–9 m. Default 10 m;
    /// 20–30 m let the match drift onto parallel streets (simulated route error +25–40 %).
    pub beta_m: f64,
    /// Candidate roads are searched within this radius, metres. Default 80 m: at 50 m the
    /// true road of a fix 20–40 m off is sometimes missing, which broke 5 of 300 simulated
    /// tracks and added 16 % route error.
    pub search_radius_m: f64,
    /// At most this many candidate roads per point (the nearest). Default 12: where two-way
    /// streets meet, many directed roads lie within a few metres of a fix; with 8 the true one
    /// was missing often enough to break 5 of 300 simulated tracks, and more than 12 changed
    /// nothing but the time.
    pub max_candidates: usize,
    /// A point closer than this to the previous kept point is not decoded but matched
    /// afterwards onto the roads around it (Newson & Krumm: 2 σ). Default 14 m.
    pub min_point_distance_m: f64,
    /// A leg is impossible when its route is longer than `max_route_factor × great circle +
    /// route_slack_m`. Default 2: a taxi does not drive twice the straight distance in 15 s.
    /// Looser bounds join more real trips (3 × + 300 m: 18 more of the 318 Porto trips), but
    /// through long detours that stand for wrong-way driving or streets missing from the map,
    /// and they do not help on simulated tracks.
    pub max_route_factor: f64,
    /// See `max_route_factor`. Default 200 m (a block or two of detour for short steps).
    pub route_slack_m: f64,
    /// A leg is impossible when its route implies a mean speed above this. Default 150 km/h.
    pub max_speed_kmh: f64,
    /// Going back along the same road by at most this much is read as noise (no movement)
    /// rather than a loop around the block. Default 10 m.
    pub backtrack_m: f64,
    /// Up to this many consecutive points that the chain cannot reach are passed over as
    /// outliers when the point after them is reachable again (0: break at once, as Newson &
    /// Krumm do). A point with no road within `search_radius_m` always breaks. Default 2: on
    /// Porto it joins 21 more trips (of 318) than 0 does, for 60 unmatched points (of 14,436).
    pub max_skipped_points: usize,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            sigma_z_m: 7.0,
            beta_m: 10.0,
            search_radius_m: 80.0,
            max_candidates: 12,
            min_point_distance_m: 14.0,
            max_route_factor: 2.0,
            route_slack_m: 200.0,
            max_speed_kmh: 150.0,
            backtrack_m: 10.0,
            max_skipped_points: 2,
        }
    }
}

impl MatchConfig {
    /// Checks the settings; the message names the key (prefixed `matching: `): `sigma_z_m`,
    /// `beta_m`, `search_radius_m`, `max_route_factor`, `max_speed_kmh` finite and `> 0`,
    /// `min_point_distance_m`, `route_slack_m`, `backtrack_m` finite and `≥ 0`,
    /// `max_candidates ≥ 1`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("matching: ")
    }

    /// [`MatchConfig::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = urbancast_check::Checker::new(prefix);
        c.positive("sigma_z_m", self.sigma_z_m)?;
        c.positive("beta_m", self.beta_m)?;
        c.positive("search_radius_m", self.search_radius_m)?;
        c.at_least("max_candidates", self.max_candidates, 1)?;
        c.non_negative("min_point_distance_m", self.min_point_distance_m)?;
        c.positive("max_route_factor", self.max_route_factor)?;
        c.non_negative("route_slack_m", self.route_slack_m)?;
        c.positive("max_speed_kmh", self.max_speed_kmh)?;
        c.non_negative("backtrack_m", self.backtrack_m)?;
        Ok(())
    }
}

/// Where one GPS point was matched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointMatch {
    /// Index of the point in the track.
    pub point: usize,
    /// Road index.
    pub road: usize,
    /// Distance from the GPS point to the road, metres.
    pub distance_m: f64,
    /// Position of the projected point along the road, metres from its start.
    pub offset_m: f64,
    /// Whether the point took part in decoding (false: set aside as too close to the previous
    /// kept point, then matched to the nearest road of the route around it).
    pub kept: bool,
}

/// One unbroken matched stretch of a track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedPiece {
    /// Road indices, each a successor of the previous one, no road twice in a row.
    pub roads: Vec<usize>,
    /// Unix seconds at which each road was entered (the first: the piece's first GPS time).
    /// Non-decreasing.
    pub entry_times: Vec<i64>,
    /// The GPS points of this piece, in track order.
    pub points: Vec<PointMatch>,
}

/// The matching of one track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    /// The unbroken matched stretches, in track order (empty when nothing matched).
    pub pieces: Vec<MatchedPiece>,
    /// GPS points in the track.
    pub points_total: usize,
    /// GPS points matched to a road (over all pieces).
    pub points_matched: usize,
    /// GPS-to-road distance of every matched point, in track order.
    pub distances_m: Vec<f64>,
    /// Times the chain restarted (`pieces − 1`, or 0 when nothing matched).
    pub breaks: usize,
    /// Points passed over as outliers (see [`MatchConfig::max_skipped_points`]); unmatched.
    pub outliers: usize,
}

impl MatchResult {
    /// Every point's match (`None`: unmatched), indexed like the track's points.
    pub fn point_matches(&self) -> Vec<Option<PointMatch>> {
        let mut v = vec![None; self.points_total];
        for p in self.pieces.iter().flat_map(|pc| &pc.points) {
            v[p.point] = Some(*p);
        }
        v
    }

    /// The pieces as trajectories of user road ids. A track matched in one piece keeps its
    /// id; otherwise piece `k` gets `"{id}-{k}"`. The driver is the track's. Every piece is
    /// returned, one-road pieces included (filter on `len()` to drop them).
    pub fn to_trajectories(&self, net: &RoadNetwork, track: &GpsTrack) -> Vec<Trajectory> {
        let one = self.pieces.len() == 1;
        self.pieces
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let id = if one { track.id.clone() } else { format!("{}-{k}", track.id) };
                let roads = p.roads.iter().map(|&r| net.roads[r].id).collect();
                Trajectory { id: Some(id), driver: track.driver.clone(), roads, times: p.entry_times.clone() }
            })
            .collect()
    }

    /// Whether the track matched as one piece whose consecutive roads all follow each other.
    pub fn is_connected(&self, net: &RoadNetwork) -> bool {
        self.pieces.len() == 1 && self.pieces[0].roads.windows(2).all(|w| net.successors(w[0]).contains(&(w[1] as u32)))
    }
}

/// Map-matches one track; a configuration out of range ([`MatchConfig::validate`]) is an error.
pub fn match_track(net: &RoadNetwork, index: &RoadIndex, track: &GpsTrack, cfg: &MatchConfig) -> Result<MatchResult> {
    cfg.validate()?;
    Ok(match_checked(net, index, track, cfg))
}

/// [`match_track`] with a configuration already checked.
fn match_checked(net: &RoadNetwork, index: &RoadIndex, track: &GpsTrack, cfg: &MatchConfig) -> MatchResult {
    let chains = viterbi::decode(net, index, track, cfg);
    let pieces: Vec<MatchedPiece> = chains.iter().map(|c| piece::assemble(net, index, track, c)).collect();
    let distances_m: Vec<f64> = pieces.iter().flat_map(|p| p.points.iter().map(|m| m.distance_m)).collect();
    MatchResult {
        points_total: track.points.len(),
        points_matched: distances_m.len(),
        distances_m,
        breaks: pieces.len().saturating_sub(1),
        outliers: chains.iter().map(|c| c.skipped.len()).sum(),
        pieces,
    }
}

/// Map-matches many tracks in parallel (rayon); results in input order. `progress`, when
/// given, is called after each track with the number of tracks finished so far. A
/// configuration out of range ([`MatchConfig::validate`]) is an error before any track is matched.
pub fn match_tracks(
    net: &RoadNetwork,
    index: &RoadIndex,
    tracks: &[GpsTrack],
    cfg: &MatchConfig,
    progress: Option<&(dyn Fn(usize) + Sync)>,
) -> Result<Vec<MatchResult>> {
    cfg.validate()?;
    let done = AtomicUsize::new(0);
    Ok(tracks
        .par_iter()
        .map(|t| {
            let r = match_checked(net, index, t, cfg);
            if let Some(f) = progress {
                f(done.fetch_add(1, Ordering::Relaxed) + 1);
            }
            r
        })
        .collect())
}
