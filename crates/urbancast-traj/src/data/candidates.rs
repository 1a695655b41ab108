//! Candidate next roads and their navigation features.
//!
//! HOSER facts (matercomus/HOSER):
//! * candidates are all successors of the current road (`reachable_road_id_dict[road_id]`
//!   in `dataset.py` `process_and_save_row`; `gene.py` `Searcher.search`), in the order of
//!   the relation table, uncapped;
//! * distance feature (`dataset.py`, `metric_dis`): haversine metres between the road
//!   centre of each candidate and of the destination, `log1p((d − min d) / 100)`;
//! * angle feature (`dataset.py`, `metric_angle`): the direction from the *end point* of
//!   the current road to the end point of the candidate, against the direction from the end
//!   point of the current road to the end point of the destination, `|Δ|` wrapped to
//!   `[0, π]`, divided by π. There `get_angle(lat1, lon1, lat2, lon2)` (`utils.py`) is called
//!   with `*coords[-1]`, i.e. with `[lon, lat]` unpacked into `(lat, lon)`: it computes
//!   `atan2(Δlon, cos(lon)·Δlat)`, which puts the cos-latitude scale on the wrong axis
//!   (training features are distorted away from the equator). `gene.py` (generation)
//!   instead uses `atan2(Δlat, Δlon)` on raw degrees (right order, no cos-latitude scale),
//!   so training and generation disagree there. We use the great-circle initial bearing
//!   ([`urbancast_roads::geo::bearing_deg`]) on `[lon, lat]` points, the same in both.
use urbancast_roads::RoadNetwork;
use urbancast_roads::geo::{bearing_deg, bearing_diff_deg, haversine_m};

/// Most candidates kept per step (HOSER keeps all; real networks rarely have more than
/// ~10 successors, so this only bounds pathological junctions).
pub const MAX_CANDIDATES: usize = 64;

/// Candidate next roads of `current` when heading to `dest`: the successors of `current`;
/// when there are more than `cap`, the `cap` whose centroids are nearest to the
/// destination's centroid (haversine, ties by smaller road index) are kept. The result is
/// always in successor order (the network's, sorted by index for the built-in builders), so
/// it does not depend on the destination unless capping happened. Deterministic.
pub fn candidates(net: &RoadNetwork, current: usize, dest: usize, cap: usize) -> Vec<u32> {
    let succ = net.successors(current);
    if succ.len() <= cap {
        return succ.to_vec();
    }
    let mut by_dist: Vec<(f64, u32)> = succ.iter().map(|&c| (net.centroid_distance_m(c as usize, dest), c)).collect();
    by_dist.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let mut keep: Vec<u32> = by_dist[..cap].iter().map(|x| x.1).collect();
    keep.sort_unstable();
    succ.iter().copied().filter(|c| keep.binary_search(c).is_ok()).collect()
}

/// `[distance, angle]` features of each candidate (same order as `cands`):
/// * distance: `ln(1 + (d(c, dest) − min_c' d(c', dest)) / 100)`, `d` the haversine metres
///   between road centroids; the nearest candidate gets 0;
/// * angle: `|bearing(end(current) → end(c)) − bearing(end(current) → end(dest))| / 180°`
///   in `[0, 1]` (great-circle initial bearings, see the module docs for HOSER's variants).
///   A zero-length direction (an end point equal to the current road's end) has bearing 0.
pub fn candidate_features(net: &RoadNetwork, current: usize, dest: usize, cands: &[u32]) -> Vec<[f32; 2]> {
    if cands.is_empty() {
        return Vec::new();
    }
    let dc = net.roads[dest].centroid;
    let d: Vec<f64> = cands.iter().map(|&c| haversine_m(net.roads[c as usize].centroid, dc)).collect();
    let dmin = d.iter().copied().fold(f64::INFINITY, f64::min);
    let from = net.roads[current].end();
    let to_dest = bearing_deg(from, net.roads[dest].end());
    cands
        .iter()
        .zip(&d)
        .map(|(&c, &dist)| {
            let b = bearing_deg(from, net.roads[c as usize].end());
            [((dist - dmin) / 100.0).ln_1p() as f32, (bearing_diff_deg(b, to_dest) / 180.0) as f32]
        })
        .collect()
}

/// One step's candidates with their features.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateFeatures {
    /// Candidate road indices ([`candidates`]).
    pub roads: Vec<u32>,
    /// `[distance, angle]` per candidate ([`candidate_features`]).
    pub feats: Vec<[f32; 2]>,
}

impl CandidateFeatures {
    /// The candidates of `current` heading to `dest` (at most `cap`, [`candidates`]) with
    /// their features ([`candidate_features`]).
    pub fn new(net: &RoadNetwork, current: usize, dest: usize, cap: usize) -> Self {
        let roads = candidates(net, current, dest, cap);
        let feats = candidate_features(net, current, dest, &roads);
        CandidateFeatures { roads, feats }
    }
    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.roads.len()
    }
    /// True when the current road has no successor (a dead end).
    pub fn is_empty(&self) -> bool {
        self.roads.is_empty()
    }
    /// Position of road `r` among the candidates.
    pub fn position(&self, r: usize) -> Option<usize> {
        self.roads.iter().position(|&c| c as usize == r)
    }
}
