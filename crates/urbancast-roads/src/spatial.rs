//! A spatial index over road polylines: nearest roads to a point, and roads within a radius.
//!
//! Every polyline *segment* goes into an R*-tree (rstar) in a local equirectangular projection
//! (metres) centred on the network's bounding box, so distances are planar metres — accurate to
//! well under 0.5 % over a city. Queries return at most one [`Candidate`] per road (its closest
//! segment), sorted by distance with ties broken by road index, so results are deterministic.
use std::collections::HashMap;

use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};
use serde::{Deserialize, Serialize};

use crate::geo::{LocalProjection, LonLat, point_segment};
use crate::network::RoadNetwork;

/// A road near a query point, with the point's projection on it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Road index (`0..net.len()`).
    pub road: usize,
    /// Distance in metres from the query point to the road.
    pub distance_m: f64,
    /// Distance along the road from its start to the projected point, in metres, scaled so
    /// that the road's end is at [`crate::Road::length_m`] (the network's own length).
    pub offset_m: f64,
    /// The projected point, `[lon, lat]`.
    pub point: LonLat,
}

/// (road index, segment index within the road's polyline).
type Seg = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// R*-tree over the segments of every road of a network.
#[derive(Debug, Clone)]
pub struct RoadIndex {
    proj: LocalProjection,
    tree: RTree<Seg>,
    /// Per road: projected polyline points.
    xy: Vec<Vec<[f64; 2]>>,
    /// Per road: cumulative planar length at each polyline point (first is 0).
    cum: Vec<Vec<f64>>,
    /// Per road: network length over planar polyline length (offsets are scaled by it).
    scale: Vec<f64>,
}

impl RoadIndex {
    /// Indexes every segment of every road of `net`.
    pub fn new(net: &RoadNetwork) -> RoadIndex {
        let b = net.bbox();
        let proj = LocalProjection::new([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]);
        let mut segs = Vec::new();
        let mut xy = Vec::with_capacity(net.len());
        let mut cum = Vec::with_capacity(net.len());
        let mut scale = Vec::with_capacity(net.len());
        for (r, road) in net.roads.iter().enumerate() {
            let pts: Vec<[f64; 2]> = road.polyline.iter().map(|&p| proj.to_xy(p)).collect();
            let mut c = Vec::with_capacity(pts.len());
            let mut acc = 0.0;
            c.push(0.0);
            for (s, w) in pts.windows(2).enumerate() {
                acc += ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt();
                c.push(acc);
                segs.push(GeomWithData::new(Line::new(w[0], w[1]), (r as u32, s as u32)));
            }
            scale.push(if acc > 0.0 { road.length_m / acc } else { 0.0 });
            xy.push(pts);
            cum.push(c);
        }
        RoadIndex { proj, tree: RTree::bulk_load(segs), xy, cum, scale }
    }

    /// The projection used for the planar geometry.
    pub fn projection(&self) -> &LocalProjection {
        &self.proj
    }

    /// Number of indexed roads.
    pub fn num_roads(&self) -> usize {
        self.xy.len()
    }

    /// Candidate for point `xy` on segment `seg` of road `road`.
    fn on_segment(&self, xy: [f64; 2], road: usize, seg: usize) -> Candidate {
        let (a, b) = (self.xy[road][seg], self.xy[road][seg + 1]);
        let (d, t) = point_segment(xy, a, b);
        let along = self.cum[road][seg] + t * (self.cum[road][seg + 1] - self.cum[road][seg]);
        let q = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
        Candidate { road, distance_m: d, offset_m: along * self.scale[road], point: self.proj.to_lonlat(q) }
    }

    /// The projection of `p` on road `road` (its closest segment, the first one on ties).
    pub fn project(&self, p: LonLat, road: usize) -> Candidate {
        let xy = self.proj.to_xy(p);
        (0..self.xy[road].len() - 1)
            .map(|s| self.on_segment(xy, road, s))
            .min_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
            .expect("a road has at least one segment")
    }

    /// The `k` roads nearest to `p`, closest first.
    pub fn nearest(&self, p: LonLat, k: usize) -> Vec<Candidate> {
        self.nearest_within(p, k, f64::INFINITY)
    }

    /// Every road within `radius_m` of `p`, closest first.
    pub fn within(&self, p: LonLat, radius_m: f64) -> Vec<Candidate> {
        if radius_m.is_nan() || radius_m < 0.0 {
            return Vec::new();
        }
        let xy = self.proj.to_xy(p);
        let mut best: HashMap<usize, Candidate> = HashMap::new();
        let mut segs: Vec<(u32, u32)> = self.tree.locate_within_distance(xy, radius_m * radius_m).map(|s| s.data).collect();
        segs.sort_unstable(); // lowest segment first: the tie-break among a road's segments
        for (r, s) in segs {
            let c = self.on_segment(xy, r as usize, s as usize);
            if c.distance_m > radius_m {
                continue;
            }
            match best.get(&c.road) {
                Some(b) if b.distance_m <= c.distance_m => {}
                _ => {
                    best.insert(c.road, c);
                }
            }
        }
        sorted(best.into_values().collect(), usize::MAX)
    }

    /// At most `k` roads within `radius_m` of `p`, closest first (ties by road index).
    pub fn nearest_within(&self, p: LonLat, k: usize, radius_m: f64) -> Vec<Candidate> {
        if k == 0 || radius_m.is_nan() || radius_m < 0.0 {
            return Vec::new();
        }
        let xy = self.proj.to_xy(p);
        let r2 = radius_m * radius_m;
        let mut best: HashMap<usize, Candidate> = HashMap::new();
        let mut kth = f64::INFINITY; // squared distance of the k-th distinct road, once found
        for (seg, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&xy) {
            // keep going through ties with the k-th road, so the cut is deterministic
            if d2 > r2 || d2 > kth {
                break;
            }
            let (r, s) = seg.data;
            let c = self.on_segment(xy, r as usize, s as usize);
            match best.get(&c.road) {
                Some(b) if b.distance_m < c.distance_m => {}
                Some(b) if b.distance_m == c.distance_m && b.offset_m <= c.offset_m => {}
                _ => {
                    best.insert(c.road, c);
                }
            }
            if best.len() == k && kth.is_infinite() {
                kth = d2;
            }
        }
        sorted(best.into_values().filter(|c| c.distance_m <= radius_m).collect(), k)
    }
}

fn sorted(mut v: Vec<Candidate>, k: usize) -> Vec<Candidate> {
    v.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.road.cmp(&b.road)));
    v.truncate(k);
    v
}
