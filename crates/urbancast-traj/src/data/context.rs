//! [`RoadContext`]: everything the road and zone encoders need, computed once per network.
//!
//! HOSER facts this follows (matercomus/HOSER, `train.py` / `train_with_distill.py`, the block
//! that builds `road_attr_*`, `coord2road_id`, `intersection_attr` and `zone_edge_weight`):
//! * road length feature: `log1p(length)` z-scored over all roads (population std, `np.std`);
//! * lon/lat features: the road centroid z-scored per axis (HOSER takes shapely's
//!   length-weighted centroid; we take [`urbancast_roads::Road::centroid`], the vertex mean);
//! * road graph: roads are adjacent when they share an end point (`coord2road_id` keyed on
//!   the first and last polyline coordinates), both directions, no self loops; edge features
//!   `[angle / π, reachable]`;
//! * zone graph: a directed cross-zone transition count matrix (`data/preprocess/
//!   get_zone_trans_mat.py` skips same-zone pairs), pre-normalised
//!   `w_ab = c_ab / sqrt(max(out_a, 1) · max(out_b, 1))` with `out` the row sums, then fed as
//!   edge weights to PyG's `GCN`, whose `gcn_norm` adds unit self loops and normalises again
//!   by the *in*-degree (weights summed at the target), messages flowing `a → b`.
//!   [`gcn_zone_adjacency`] writes that exact operator as one dense matrix.
use std::collections::{BTreeSet, HashMap};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use urbancast_roads::RoadNetwork;
use urbancast_roads::geo::{bearing_deg, bearing_diff_deg};
use urbancast_roads::zones::{ZoneTransitions, Zones};

/// A z-score: `(x - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Norm {
    /// Mean of the fitted values.
    pub mean: f64,
    /// Population standard deviation of the fitted values (1 when it would be 0 or not finite).
    pub std: f64,
}

impl Norm {
    /// Mean and population standard deviation (as `np.std`); a zero or non-finite std
    /// (one road, or all equal) becomes 1 so that the feature is 0, never NaN.
    pub fn fit(xs: impl Iterator<Item = f64> + Clone) -> Norm {
        let n = xs.clone().count().max(1) as f64;
        let mean = xs.clone().sum::<f64>() / n;
        let var = xs.map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let std = var.sqrt();
        Norm { mean, std: if std.is_finite() && std > 1e-12 { std } else { 1.0 } }
    }
    /// The z-score of `x`.
    pub fn apply(&self, x: f64) -> f32 {
        ((x - self.mean) / self.std) as f32
    }
}

/// The statistics a saved model needs to rebuild the same [`RoadContext`]
/// (with [`RoadContext::with_stats`]); the sizes are checked when it is rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadStats {
    /// Roads of the network the statistics were fitted on.
    pub num_roads: usize,
    /// Road classes of that network (`net.classes.len()`).
    pub num_classes: usize,
    /// Zones the roads were partitioned into.
    pub num_zones: usize,
    /// Of `log1p(length_m)`.
    pub len: Norm,
    /// Of the centroid longitude (degrees).
    pub lon: Norm,
    /// Of the centroid latitude (degrees).
    pub lat: Norm,
}

/// Road features, the road graph and the zone graph of one network (plain data; see
/// [`super::GraphTensors`] for the tensors). Road `i` is the network's road index `i`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoadContext {
    /// Roads of the network (`R`).
    pub num_roads: usize,
    /// `net.classes.len()` (class 0 is "unknown").
    pub num_classes: usize,
    /// `[R]` class index of each road.
    pub road_class: Vec<i64>,
    /// `[R]` z-scored `log1p(length_m)`.
    pub len_z: Vec<f32>,
    /// `[R]` z-scored centroid longitude.
    pub lon_z: Vec<f32>,
    /// `[R]` z-scored centroid latitude.
    pub lat_z: Vec<f32>,
    /// `[E]` directed road-graph edges `src → dst`, sorted by `(src, dst)`, symmetric (the
    /// reverse of every edge is an edge), without self loops. See [`road_graph`]. This is
    /// the source road of each edge.
    pub edge_src: Vec<i64>,
    /// `[E]` destination road of each edge (see [`RoadContext::edge_src`]).
    pub edge_dst: Vec<i64>,
    /// `[E]` `[angle / π in [0, 1], reachable ∈ {0, 1}]`. See [`road_graph`].
    pub edge_feat: Vec<[f32; 2]>,
    /// `[R]` zone of each road.
    pub zone_of: Vec<i64>,
    /// Zones (`Z`).
    pub num_zones: usize,
    /// `[Z·Z]` row-major dense GCN operator: a layer is `H' = zone_adj · H · W`. See
    /// [`gcn_zone_adjacency`].
    pub zone_adj: Vec<f32>,
    /// `[R]` road centroids `[lon, lat]` in degrees.
    pub centroids: Vec<[f64; 2]>,
    /// The statistics the features were z-scored with (saved with a model).
    pub stats: RoadStats,
}

impl RoadContext {
    /// Builds the context, fitting the z-score statistics on this network.
    pub fn new(net: &RoadNetwork, zones: &Zones, transitions: &ZoneTransitions) -> Result<Self> {
        let len = Norm::fit(net.roads.iter().map(|r| r.length_m.ln_1p()));
        let lon = Norm::fit(net.roads.iter().map(|r| r.centroid[0]));
        let lat = Norm::fit(net.roads.iter().map(|r| r.centroid[1]));
        let stats = RoadStats { num_roads: net.len(), num_classes: net.classes.len(), num_zones: zones.k, len, lon, lat };
        Self::with_stats(net, zones, transitions, &stats)
    }

    /// Builds the context with saved statistics (a trained model's), checking that the
    /// network, classes and zones have the sizes the model was trained with.
    pub fn with_stats(net: &RoadNetwork, zones: &Zones, transitions: &ZoneTransitions, stats: &RoadStats) -> Result<Self> {
        let (r, z) = (net.len(), zones.k);
        if zones.zone_of.len() != r {
            bail!("zones cover {} roads but network `{}` has {r}", zones.zone_of.len(), net.name);
        }
        if transitions.k != z || transitions.counts.len() != z * z {
            bail!("zone transitions are {}×{} ({} counts) but there are {z} zones", transitions.k, transitions.k, transitions.counts.len());
        }
        if stats.num_roads != r || stats.num_classes != net.classes.len() || stats.num_zones != z {
            bail!(
                "saved statistics are for {} roads, {} classes, {} zones; network `{}` has {r} roads, {} classes, {z} zones",
                stats.num_roads,
                stats.num_classes,
                stats.num_zones,
                net.name,
                net.classes.len()
            );
        }
        let (edges, edge_feat) = road_graph(net);
        Ok(RoadContext {
            num_roads: r,
            num_classes: net.classes.len(),
            road_class: net.roads.iter().map(|x| x.class as i64).collect(),
            len_z: net.roads.iter().map(|x| stats.len.apply(x.length_m.ln_1p())).collect(),
            lon_z: net.roads.iter().map(|x| stats.lon.apply(x.centroid[0])).collect(),
            lat_z: net.roads.iter().map(|x| stats.lat.apply(x.centroid[1])).collect(),
            edge_src: edges.iter().map(|e| e.0 as i64).collect(),
            edge_dst: edges.iter().map(|e| e.1 as i64).collect(),
            edge_feat,
            zone_of: zones.zone_of.iter().map(|&x| x as i64).collect(),
            num_zones: z,
            zone_adj: gcn_zone_adjacency(&transitions.counts, z),
            centroids: net.roads.iter().map(|x| x.centroid).collect(),
            stats: stats.clone(),
        })
    }

    /// Directed road-graph edges (`E`).
    pub fn num_edges(&self) -> usize {
        self.edge_src.len()
    }
}

/// End-point key: a junction id, or a coordinate rounded to 1e-6 degree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum EndKey {
    Node(u64),
    Coord(i64, i64),
}

fn coord_key(p: [f64; 2]) -> EndKey {
    EndKey::Coord((p[0] * 1e6).round() as i64, (p[1] * 1e6).round() as i64)
}

/// The road graph: directed edges `(src, dst)` sorted, with features `[angle/π, reachable]`.
///
/// * Adjacency: roads `a ≠ b` are adjacent when they share an end point (either end of one
///   equals either end of the other), as HOSER's `coord2road_id`. End points are junction
///   ids when *every* road has both (`start_node`/`end_node`), else polyline end points
///   rounded to 1e-6°. Successor pairs are added too (a network built from an explicit
///   relation table may link roads whose polylines do not touch). Every edge exists in both
///   directions; no self loops (the model adds them).
/// * Angle (our choice; HOSER uses the chord-bearing difference for every edge): the turn
///   at the junction, `|end_heading(src) − start_heading(dst)| / π`, when `dst` follows `src`;
///   the same turn seen from the other side, `|end_heading(dst) − start_heading(src)| / π`,
///   when `src` follows `dst` (so both directions of a movement carry the same angle);
///   otherwise (roads leaving or entering the same junction, forbidden turns), HOSER's
///   difference of the chord bearings (first → last polyline point) of the two roads.
/// * Reachable: 1.0 when `dst ∈ successors(src)`, else 0.0 (HOSER's `adj_reachability`).
pub fn road_graph(net: &RoadNetwork) -> (Vec<(u32, u32)>, Vec<[f32; 2]>) {
    let n = net.len();
    let use_nodes = net.roads.iter().all(|r| r.start_node.is_some() && r.end_node.is_some());
    let key = |i: usize, end: bool| -> EndKey {
        let r = &net.roads[i];
        match (use_nodes, end) {
            (true, false) => EndKey::Node(r.start_node.unwrap()),
            (true, true) => EndKey::Node(r.end_node.unwrap()),
            (false, false) => coord_key(r.start()),
            (false, true) => coord_key(r.end()),
        }
    };
    let mut at: HashMap<EndKey, Vec<u32>> = HashMap::new();
    for i in 0..n {
        let (s, e) = (key(i, false), key(i, true));
        at.entry(s).or_default().push(i as u32);
        if e != s {
            at.entry(e).or_default().push(i as u32);
        }
    }
    let mut adj: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
    for roads in at.values() {
        for &a in roads {
            for &b in roads {
                if a != b {
                    adj[a as usize].insert(b);
                }
            }
        }
    }
    for (a, succ) in net.successors.iter().enumerate() {
        for &b in succ {
            if b as usize != a {
                adj[a].insert(b);
                adj[b as usize].insert(a as u32);
            }
        }
    }
    let chord: Vec<f64> = net.roads.iter().map(|r| bearing_deg(r.start(), r.end())).collect();
    let mut edges = Vec::new();
    let mut feats = Vec::new();
    for (a, nb) in adj.iter().enumerate() {
        for &b in nb {
            let bu = b as usize;
            let (ra, rb) = (&net.roads[a], &net.roads[bu]);
            let forward = net.successors[a].contains(&b);
            let angle = if forward {
                bearing_diff_deg(ra.end_heading, rb.start_heading)
            } else if net.successors[bu].contains(&(a as u32)) {
                bearing_diff_deg(rb.end_heading, ra.start_heading)
            } else {
                bearing_diff_deg(chord[a], chord[bu])
            };
            edges.push((a as u32, b));
            feats.push([(angle / 180.0) as f32, if forward { 1.0 } else { 0.0 }]);
        }
    }
    (edges, feats)
}

/// Dense `k × k` GCN operator from zone transition counts (`counts[a·k + b]`: trips from
/// zone `a` to zone `b`), reproducing HOSER's zone encoder input exactly:
/// 1. drop the diagonal (HOSER counts cross-zone transitions only), keep direction and
///    counts (weighted, not binarised, not symmetrised);
/// 2. pre-normalise `w_ab = c_ab / sqrt(max(out_a, 1) · max(out_b, 1))`, `out` = row sums;
/// 3. PyG `gcn_norm`: `A[a][b] = w_ba` (zone `a` receives from the zones with trips into
///    it), `Â = D^-1/2 (A + I) D^-1/2` with `D = diag(row sums of A + I)` (in-degree plus
///    the self loop).
///
/// Returned row-major as f32; a layer computes `H' = Â · H · W`. Rows do not sum to 1 in
/// general; a zone without incoming trips keeps only its self loop (`Â[a][a] = 1`).
pub fn gcn_zone_adjacency(counts: &[f64], k: usize) -> Vec<f32> {
    assert_eq!(counts.len(), k * k, "counts must be k×k");
    let c = |a: usize, b: usize| if a == b { 0.0 } else { counts[a * k + b] };
    let out: Vec<f64> = (0..k).map(|a| (0..k).map(|b| c(a, b)).sum::<f64>().max(1.0)).collect();
    // a[r][s] = w_sr: row r receives from s
    let mut a = vec![0.0f64; k * k];
    for s in 0..k {
        for r in 0..k {
            let w = c(s, r);
            if w != 0.0 {
                a[r * k + s] = w / (out[s] * out[r]).sqrt();
            }
        }
    }
    for z in 0..k {
        a[z * k + z] += 1.0;
    }
    let dinv: Vec<f64> = a.chunks(k).map(|row| 1.0 / row.iter().sum::<f64>().sqrt()).collect();
    a.iter().enumerate().map(|(i, &x)| (x * dinv[i / k] * dinv[i % k]) as f32).collect()
}
