//! Synthetic trajectory outliers for anomaly-detection benchmarks, after LM-TAD
//! (`PortoDataset.generate_outliers`, itself from GM-VSAE), adapted from grid-cell sequences to
//! connected road sequences.
//!
//! LM-TAD's three knobs keep their meaning:
//! * `ratio` — share of trajectories turned into outliers (LM-TAD `outlier_ratio`, 0.05);
//! * `prob` — how much of the route changes (LM-TAD `outlier_prob`, 0.1 or 0.3): the changed
//!   part spans `m = max(1, ⌊(n − 2) · prob⌋)` roads of an `n`-road trajectory (LM-TAD's
//!   `anomaly_len = int((len − 2) · prob)` for detours);
//! * `level` — how far away the anomalous part goes (LM-TAD `outlier_level`, 3 or 5 grid cells
//!   of 100 m): the new part must pass the road nearest to a point moved `level · cell_m`
//!   metres away (LM-TAD moves cells by `level` cells). See [`LMTAD_SETTINGS`].
//!
//! Kinds (on grid cells LM-TAD shifts cells, which breaks road connectivity; here every
//! changed part is a path through the network, so outliers stay drivable):
//! * [`OutlierKind::Detour`] — LM-TAD shifts a contiguous run of `m` points sideways
//!   (perpendicular to the run) and rejoins the route. Here: roads `st .. st + m` (`st` drawn
//!   uniformly, `1 ≤ st`, `st + m ≤ n − 2`) are replaced by a path from the road before them
//!   to the road after them through a waypoint: one of the few roads nearest to the middle
//!   of the run shifted `level · cell_m` perpendicular to the run. Both sides are tried and
//!   the shorter result wins (on a road network one side is often much worse: the route is a
//!   barrier). Accepted only when the new part is at least `min_detour_ratio` times as long
//!   as the part it replaces. When no path rejoins at road `st + m` (e.g. the run's last road
//!   is the only way into it), the run is extended by up to 3 roads, never past the road
//!   before the destination.
//! * [`OutlierKind::RouteSwitch`] — LM-TAD moves points by `level` cells in one of 8 directions
//!   so the trajectory jumps onto other routes. Here: the trip follows its own route up to
//!   road `s − 1` (`s` drawn uniformly in `1 ..= n − 1 − m`), then switches to another route to
//!   the same destination through a waypoint near the middle of the abandoned tail moved
//!   `level · cell_m` in one of LM-TAD's 8 directions (shuffled; the first that works), using
//!   no road of the original route before the destination. Another *trajectory's* route is
//!   not used: trips sharing a destination road are rare, and a path through the network
//!   gives the same kind of anomaly for every trajectory.
//!
//! A new section never uses a road of the original route or drives back along one (reverse
//! twin: same end points, opposite direction), never reuses one of its own roads or drives
//! back along it, and never passes one of its junctions twice; it may cross the original
//! route at a junction. Sections are searched up to 3 · (replaced length + 2 · level ·
//! cell_m) + 1 km. When every waypoint fails (unreachable, or a detour not long enough) the
//! plain shortest path avoiding the original roads is tried; when that fails too the
//! trajectory is skipped (counted in [`OutlierSummary`], kept as a normal trajectory), never
//! a panic. A switch is impossible when the destination can only be entered from the route's
//! own last road (e.g. at a T-junction): such trajectories are skipped.
//!
//! Timestamps: the unchanged prefix keeps its times; each new road is entered
//! `length(previous road) / v` seconds after the previous one (rounded to whole seconds), with
//! `v` the trajectory's own mean speed (route length over duration, when within 0.5–60 m/s),
//! else `fallback_speed_mps`; a detour's unchanged suffix keeps its original gaps, shifted by
//! the delay at the rejoining road.
//!
//! Reproducible: trajectory `i` uses its own RNG seeded from `(seed, i)`, so the output does
//! not depend on the number of threads.
use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::demand::mix;
use crate::error::Result;
use crate::geo::{LocalProjection, LonLat};
use crate::network::RoadNetwork;
use crate::path::{entered_length_m, shortest_path};
use crate::traj::Trajectory;

/// LM-TAD's `(level, prob)` pairs for Porto (with `ratio` 0.05): `(3, 0.1)`, `(3, 0.3)`,
/// `(5, 0.1)`.
pub const LMTAD_SETTINGS: [(u32, f64); 3] = [(3, 0.1), (3, 0.3), (5, 0.1)];

/// Roads a detour may extend its run by when it cannot rejoin at the run's end.
const MAX_EXTEND: usize = 3;

/// A new section is searched up to `SEARCH_FACTOR · (replaced length + 2 · level · cell_m) +
/// SEARCH_SLACK_M` metres.
const SEARCH_FACTOR: f64 = 3.0;
const SEARCH_SLACK_M: f64 = 1000.0;

/// Roads near a waypoint target tried as the waypoint (the shortest resulting path wins).
const WAYPOINT_CANDIDATES: usize = 4;

/// LM-TAD's 8 point-perturbation directions (grid offsets).
const DIRECTIONS: [[f64; 2]; 8] = [[0., 1.], [1., 0.], [-1., 0.], [0., -1.], [1., 1.], [-1., -1.], [-1., 1.], [1., -1.]];

/// Kind of a synthetic outlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutlierKind {
    /// Leaves the route for a longer side path and rejoins it before the destination.
    Detour,
    /// Leaves the route and reaches the destination by another route.
    RouteSwitch,
}

impl OutlierKind {
    fn tag(self) -> &'static str {
        match self {
            OutlierKind::Detour => "detour",
            OutlierKind::RouteSwitch => "route_switch",
        }
    }
}

/// Settings of [`inject_outliers`]; missing fields in a serialised config take the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutlierConfig {
    /// Probability that a trajectory is turned into an outlier (default 0.05).
    pub ratio: f64,
    /// Distance of the anomalous part from the route, in units of `cell_m` (default 3).
    pub level: u32,
    /// Share of the route's interior roads that change (default 0.3), in `[0, 1]`.
    pub prob: f64,
    /// Metres per `level` unit (default 100, LM-TAD's grid cell).
    pub cell_m: f64,
    /// Kinds drawn uniformly for each selected trajectory (default both).
    pub kinds: Vec<OutlierKind>,
    /// A detour's new part must be at least this many times as long as the part it replaces
    /// (default 1.2, ≥ 1).
    pub min_detour_ratio: f64,
    /// Also keep each outlier's original as a normal trajectory (LM-TAD appends outliers to
    /// the normal set; default false: the outlier replaces its original).
    pub keep_originals: bool,
    /// Speed for timestamps when the trajectory's own is unusable, m/s (default 8.33 = 30 km/h).
    pub fallback_speed_mps: f64,
    /// Waypoint directions tried before the plain shortest path (default 4; a detour has
    /// only its two sides unless its run starts and ends at the same place).
    pub attempts: usize,
    /// Seed of the RNGs: trajectory `i` uses one seeded from `(seed, i)` (default 0).
    pub seed: u64,
}

impl Default for OutlierConfig {
    fn default() -> Self {
        OutlierConfig {
            ratio: 0.05,
            level: 3,
            prob: 0.3,
            cell_m: 100.0,
            kinds: vec![OutlierKind::Detour, OutlierKind::RouteSwitch],
            min_detour_ratio: 1.2,
            keep_originals: false,
            fallback_speed_mps: 30.0 / 3.6,
            attempts: 4,
            seed: 0,
        }
    }
}

impl OutlierConfig {
    /// Checks the settings; the message names the key (prefixed `outliers: `): `ratio` and
    /// `prob` in `[0, 1]`, `cell_m > 0`, at least one of `kinds`, `min_detour_ratio ≥ 1`,
    /// `fallback_speed_mps > 0`, all finite.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("outliers: ")
    }

    /// [`OutlierConfig::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = urbancast_check::Checker::new(prefix);
        c.unit("ratio", self.ratio)?;
        c.unit("prob", self.prob)?;
        c.positive("cell_m", self.cell_m)?;
        c.ensure(!self.kinds.is_empty(), "kinds", "must name at least one of detour, route_switch (got none)")?;
        c.at_least("min_detour_ratio", self.min_detour_ratio, 1.0)?;
        c.positive("fallback_speed_mps", self.fallback_speed_mps)?;
        Ok(())
    }
}

/// Why no outlier could be made from a trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Too few roads (a detour needs 4, a route switch 3).
    TooShort,
    /// Unknown road id, consecutive roads that do not follow each other, or bad timestamps.
    Invalid,
    /// No path avoiding the original roads (or, for a detour, none long enough).
    NoAlternative,
}

/// One trajectory of the mixed set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledTrajectory {
    /// The trajectory: a normal one as given, or an outlier made from it.
    pub traj: Trajectory,
    /// Whether it is a synthetic outlier.
    pub outlier: bool,
    /// The kind, for outliers.
    pub kind: Option<OutlierKind>,
    /// Index of the normal trajectory it comes from.
    pub source: usize,
}

/// Counts of an [`inject_outliers`] run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutlierSummary {
    /// Normal trajectories given.
    pub input: usize,
    /// Drawn to become outliers (probability `ratio` each).
    pub selected: usize,
    /// Outliers made as [`OutlierKind::Detour`].
    pub detours: usize,
    /// Outliers made as [`OutlierKind::RouteSwitch`].
    pub route_switches: usize,
    /// Selected but skipped (kept as normal): [`SkipReason::TooShort`].
    pub skipped_too_short: usize,
    /// Selected but skipped (kept as normal): [`SkipReason::Invalid`].
    pub skipped_invalid: usize,
    /// Selected but skipped (kept as normal): [`SkipReason::NoAlternative`].
    pub skipped_no_alternative: usize,
    /// Trajectories in the mixed set (normals, outliers and kept originals).
    pub output: usize,
    /// Outliers in the mixed set (`detours + route_switches`).
    pub outliers: usize,
}

/// The mixed set, in input order (an outlier follows its original when `keep_originals`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlierSet {
    /// The labelled trajectories, in input order.
    pub items: Vec<LabelledTrajectory>,
    /// Counts of the run.
    pub summary: OutlierSummary,
}

/// Turns a share `cfg.ratio` of `normals` into outliers (see the module docs). Errors only on
/// a bad config; trajectories that cannot be changed are kept as normal and counted.
pub fn inject_outliers(net: &RoadNetwork, normals: &[Trajectory], cfg: &OutlierConfig) -> Result<OutlierSet> {
    cfg.validate()?;
    type Made = Option<(OutlierKind, std::result::Result<Trajectory, SkipReason>)>;
    let results: Vec<Made> = normals
        .par_iter()
        .enumerate()
        .map(|(i, t)| {
            let mut rng = StdRng::seed_from_u64(mix(cfg.seed ^ 0x4f55_544c, i as u64));
            if rng.random::<f64>() >= cfg.ratio {
                return None;
            }
            let kind = cfg.kinds[rng.random_range(0..cfg.kinds.len())];
            Some((kind, make_outlier(net, t, kind, cfg, &mut rng)))
        })
        .collect();
    let mut summary = OutlierSummary { input: normals.len(), ..Default::default() };
    let mut items = Vec::with_capacity(normals.len());
    let normal = |source: usize| LabelledTrajectory { traj: normals[source].clone(), outlier: false, kind: None, source };
    for (source, made) in results.into_iter().enumerate() {
        let Some((kind, res)) = made else {
            items.push(normal(source));
            continue;
        };
        summary.selected += 1;
        match res {
            Ok(traj) => {
                match kind {
                    OutlierKind::Detour => summary.detours += 1,
                    OutlierKind::RouteSwitch => summary.route_switches += 1,
                }
                if cfg.keep_originals {
                    items.push(normal(source));
                }
                items.push(LabelledTrajectory { traj, outlier: true, kind: Some(kind), source });
            }
            Err(reason) => {
                match reason {
                    SkipReason::TooShort => summary.skipped_too_short += 1,
                    SkipReason::Invalid => summary.skipped_invalid += 1,
                    SkipReason::NoAlternative => summary.skipped_no_alternative += 1,
                }
                items.push(normal(source));
            }
        }
    }
    summary.output = items.len();
    summary.outliers = summary.detours + summary.route_switches;
    Ok(OutlierSet { items, summary })
}

/// One outlier of `kind` from `traj` (see the module docs); the id gets the suffix `-detour`
/// or `-route_switch`, the driver is kept.
pub fn make_outlier(
    net: &RoadNetwork,
    traj: &Trajectory,
    kind: OutlierKind,
    cfg: &OutlierConfig,
    rng: &mut impl Rng,
) -> std::result::Result<Trajectory, SkipReason> {
    let n = traj.roads.len();
    if traj.validate().is_err() {
        return Err(SkipReason::Invalid);
    }
    let route = net.indices_of(&traj.roads).map_err(|_| SkipReason::Invalid)?;
    if route.windows(2).any(|w| !net.successors(w[0]).contains(&(w[1] as u32))) {
        return Err(SkipReason::Invalid);
    }
    let m = (((n.saturating_sub(2)) as f64 * cfg.prob).floor() as usize).max(1);
    // Changed roads: `lo .. hi` (exclusive), anchors `route[lo - 1]` and `route[hi]`.
    let (lo, hi) = match kind {
        OutlierKind::Detour => {
            if n < 4 {
                return Err(SkipReason::TooShort);
            }
            let m = m.min(n - 3);
            let st = rng.random_range(1..=n - 2 - m);
            (st, st + m)
        }
        OutlierKind::RouteSwitch => {
            if n < 3 {
                return Err(SkipReason::TooShort);
            }
            (rng.random_range(1..=n - 1 - m), n - 1)
        }
    };
    // A detour that cannot rejoin at `route[hi]` (e.g. the run's last road is the only way
    // into it) rejoins up to MAX_EXTEND roads later, never at the destination.
    let last_hi = match kind {
        OutlierKind::Detour => (hi + MAX_EXTEND).min(n - 2),
        OutlierKind::RouteSwitch => hi,
    };
    let (hi, section) = (hi..=last_hi)
        .filter(|&h| route[lo - 1] != route[h])
        .find_map(|h| replace_section(net, &route, lo, h, kind, cfg, rng).map(|s| (h, s)))
        .ok_or(SkipReason::NoAlternative)?;
    let mut roads_ix: Vec<usize> = route[..lo - 1].to_vec();
    roads_ix.extend(&section);
    roads_ix.extend(&route[hi + 1..]);
    let times = retime(net, traj, &route, &roads_ix, lo, hi, cfg);
    let roads = roads_ix.iter().map(|&r| net.roads[r].id).collect();
    let id = traj.id.as_ref().map(|s| format!("{s}-{}", kind.tag()));
    Ok(Trajectory { id, driver: traj.driver.clone(), roads, times })
}

/// The new section `[a, …, b]` replacing `route[lo..hi]` (`a = route[lo − 1]`, `b = route[hi]`).
fn replace_section(
    net: &RoadNetwork,
    route: &[usize],
    lo: usize,
    hi: usize,
    kind: OutlierKind,
    cfg: &OutlierConfig,
    rng: &mut impl Rng,
) -> Option<Vec<usize>> {
    let (a, b) = (route[lo - 1], route[hi]);
    let ban = Ban::new(net, route);
    let old_len = entered_length_m(net, &route[lo - 1..=hi]);
    let accept = |p: &[usize]| match kind {
        OutlierKind::Detour => {
            let new_len = entered_length_m(net, p);
            new_len >= cfg.min_detour_ratio * old_len && new_len > old_len
        }
        OutlierKind::RouteSwitch => p.len() >= 3,
    };
    // Geometry in metres around the middle of the changed part.
    let mid = net.roads[route[(lo + hi) / 2]].centroid;
    let proj = LocalProjection::new(mid);
    let dirs: Vec<[f64; 2]> = match kind {
        OutlierKind::Detour => {
            let (p, q) = (proj.to_xy(net.roads[a].end()), proj.to_xy(net.roads[b].start()));
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            let norm = (dx * dx + dy * dy).sqrt();
            if norm < 1.0 {
                let mut d = DIRECTIONS.to_vec();
                d.shuffle(rng);
                d
            } else {
                let side = if rng.random::<bool>() { 1.0 } else { -1.0 };
                let perp = [-dy / norm * side, dx / norm * side];
                vec![perp, [-perp[0], -perp[1]]]
            }
        }
        OutlierKind::RouteSwitch => {
            let mut d = DIRECTIONS.to_vec();
            d.shuffle(rng);
            d
        }
    };
    let dist = cfg.level as f64 * cfg.cell_m;
    // Search bound (and longest section accepted): absurd excursions are not outliers of the
    // kind wanted, and unreachable waypoints must not make Dijkstra sweep the whole city.
    let limit = SEARCH_FACTOR * (old_len + 2.0 * dist) + SEARCH_SLACK_M;
    let shortest =
        |paths: &mut dyn Iterator<Item = Vec<usize>>| paths.min_by(|p, q| entered_length_m(net, p).total_cmp(&entered_length_m(net, q)));
    let mut found = Vec::new();
    for dir in dirs.iter().take(cfg.attempts) {
        let target = [dir[0] * dist, dir[1] * dist];
        // The roads nearest to the target point (a point, not a direction: the best-placed of
        // a few nearby roads avoids circling a block to enter one the wrong way round).
        let mut paths = nearest_allowed(net, &proj, target, &ban, WAYPOINT_CANDIDATES)
            .into_iter()
            .filter_map(|w| via(net, a, w, b, &ban, limit))
            .filter(|p| accept(p));
        if let Some(p) = shortest(&mut paths) {
            // A switch takes the first direction that works; a detour the shorter side.
            if kind == OutlierKind::RouteSwitch {
                return Some(p);
            }
            found.push(p);
        }
    }
    if let Some(p) = shortest(&mut found.into_iter()) {
        return Some(p);
    }
    // Plain shortest path avoiding the original roads.
    let (p, _) = shortest_path(net, a, b, |r| if r != b && ban.blocks(net, r) { f64::INFINITY } else { net.roads[r].length_m }, limit)?;
    accept(&p).then_some(p)
}

/// A polyline end point as integer 1e-7 degrees (for exact comparisons).
type Key = (i64, i64);
fn key(p: LonLat) -> Key {
    ((p[0] * 1e7).round() as i64, (p[1] * 1e7).round() as i64)
}

/// Roads a new section may not enter, so that the outlier never reuses a road, never drives
/// back along the route or along itself, and never passes a junction of its own twice (it may
/// cross the original route at a junction):
/// * the original route's roads and their reverse twins (same end points, opposite direction);
/// * on the second leg of a waypoint path, the first leg's roads, their twins, and any road
///   leading into a junction the first leg passed (including the start of the section).
#[derive(Clone)]
struct Ban {
    roads: HashSet<usize>,
    /// `(start, end)` of the banned twins.
    twins: HashSet<(Key, Key)>,
    /// Junctions (road end points) that may not be entered.
    junctions: HashSet<Key>,
}

impl Ban {
    /// The roads of `route` and their twins.
    fn new(net: &RoadNetwork, route: &[usize]) -> Self {
        let mut ban = Ban { roads: HashSet::new(), twins: HashSet::new(), junctions: HashSet::new() };
        for &r in route {
            ban.roads.insert(r);
            ban.twins.insert((key(net.roads[r].end()), key(net.roads[r].start())));
        }
        ban
    }
    /// Bans `r`, its reverse twin and re-entering its end junction.
    fn add_passed(&mut self, net: &RoadNetwork, r: usize) {
        let (start, end) = (key(net.roads[r].start()), key(net.roads[r].end()));
        self.roads.insert(r);
        self.twins.insert((end, start));
        self.junctions.insert(end);
    }
    fn blocks(&self, net: &RoadNetwork, r: usize) -> bool {
        let (start, end) = (key(net.roads[r].start()), key(net.roads[r].end()));
        self.roads.contains(&r) || self.junctions.contains(&end) || self.twins.contains(&(start, end))
    }
}

/// The `k` allowed roads whose centroids are nearest to `target` (metres in `proj`).
fn nearest_allowed(net: &RoadNetwork, proj: &LocalProjection, target: [f64; 2], ban: &Ban, k: usize) -> Vec<usize> {
    let d2 = |r: usize| {
        let p = proj.to_xy(net.roads[r].centroid);
        (p[0] - target[0]).powi(2) + (p[1] - target[1]).powi(2)
    };
    let mut roads: Vec<(f64, usize)> = (0..net.len()).filter(|&r| !ban.blocks(net, r)).map(|r| (d2(r), r)).collect();
    if roads.len() > k {
        roads.select_nth_unstable_by(k, |x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        roads.truncate(k);
    }
    roads.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    roads.into_iter().map(|(_, r)| r).collect()
}

/// `a → w → b` by shortest paths (length) through allowed roads (`b` allowed on the second
/// leg only); the second leg also avoids what the first leg passed (see [`Ban`]).
fn via(net: &RoadNetwork, a: usize, w: usize, b: usize, ban: &Ban, limit: f64) -> Option<Vec<usize>> {
    let len = |r: usize| net.roads[r].length_m;
    let (leg1, c1) = shortest_path(net, a, w, |r| if ban.blocks(net, r) { f64::INFINITY } else { len(r) }, limit)?;
    let mut ban2 = ban.clone();
    for &r in &leg1[..leg1.len() - 1] {
        ban2.add_passed(net, r);
    }
    let (leg2, _) = shortest_path(net, w, b, |r| if r != b && ban2.blocks(net, r) { f64::INFINITY } else { len(r) }, limit - c1)?;
    let mut p = leg1;
    p.extend(&leg2[1..]);
    Some(p)
}

/// Timestamps of the new road sequence `new` (see the module docs). `route[lo..hi]` was
/// replaced; `new[..lo − 1]` equals `route[..lo − 1]`.
fn retime(net: &RoadNetwork, traj: &Trajectory, route: &[usize], new: &[usize], lo: usize, hi: usize, cfg: &OutlierConfig) -> Vec<i64> {
    let n = route.len();
    let len_m: f64 = route[..n - 1].iter().map(|&r| net.roads[r].length_m).sum();
    let dur = traj.duration_s() as f64;
    let own = if dur > 0.0 { len_m / dur } else { 0.0 };
    let v = if (0.5..=60.0).contains(&own) { own } else { cfg.fallback_speed_mps };
    let suffix = n - 1 - hi; // original roads after the anchor `route[hi]`
    let new_end = new.len() - suffix; // `new[new_end - 1]` is the anchor `route[hi]`
    let mut times = traj.times[..lo].to_vec(); // up to and including the anchor route[lo − 1]
    let mut t = traj.times[lo - 1] as f64;
    for j in lo..new_end {
        t += net.roads[new[j - 1]].length_m / v;
        times.push((t.round() as i64).max(*times.last().unwrap()));
    }
    let shift = times.last().unwrap() - traj.times[hi];
    times.extend(traj.times[hi + 1..].iter().map(|&x| x + shift));
    times
}
