//! OD keys: which real and generated trajectories are compared pair by pair, and the OD match
//! rate.
//!
//! HOSER (`caoji-hoser-eval.py` l. 256–288, `map_manager.py`): `MapManager('BJ_Taxi')` has a
//! hard-coded box (lon 116.25–116.51, lat 39.79–40.00); `gps2grid(lon, lat)` gives
//! `x = floor(geodesic((lat, lon_0), (lat, lon)).m / 200)` and
//! `y = floor(geodesic((lat_0, lon), (lat, lon)).m / 200)`, and the key of a trajectory is
//! `(o_x * img_height + o_y, d_x * img_height + d_y)` for the centroids of its first and last
//! road. The coordinates go in the right order there (`road_gps` holds `(lon, lat)`, geopy takes
//! `(lat, lon)`), and it asserts that every centroid lies in the box. For each key that both
//! sides have, the i-th real is paired with the i-th generated trajectory (file order) for
//! `i < min(#real, #generated)` (l. 294–296). The fork's `evaluation.py` replaced the 200 m grid
//! by a 0.001° grid over the centroids' box, clamping outside points.
//!
//! Here: a 200 m grid anchored at the network's bounding-box corner (min lon, min lat). Cell sizes
//! in degrees follow from the same sphere as `geo::haversine_km`: `Δlat = d / R` (radians) exactly,
//! and `Δlon = 2·asin(sin(d / 2R) / cos φ)` at the box's middle latitude φ, the longitude step
//! whose haversine length along that parallel is exactly `d`. (HOSER measures x along each point's
//! own parallel on the WGS-84 ellipsoid; over a city the cell boundaries move by well under 1 %.)
//! Keys are the cell index pairs `((o_x, o_y), (d_x, d_y))`, equal exactly when HOSER's linear
//! indices are equal. Cells outside the box get negative or large indices; nothing is clamped.
//! Pairing is HOSER's.
use std::collections::{HashMap, HashSet};

use urbancast_roads::geo::EARTH_RADIUS_M;
use urbancast_roads::{LonLat, RoadNetwork};

/// A grid cell: `(x index east, y index north)`.
pub type Cell = (i64, i64);
/// `(origin cell, destination cell)`.
pub type OdKey = (Cell, Cell);

/// A regular lon/lat grid whose cells measure `cell_km` on the ground at the anchor box's middle
/// latitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OdGrid {
    /// `[min lon, min lat]` of the box: the corner of cell `(0, 0)`.
    pub corner: LonLat,
    /// Cell size `[Δlon, Δlat]` in degrees.
    pub cell_deg: [f64; 2],
}

impl OdGrid {
    /// The grid over `net`'s bounding box (all polyline points).
    pub fn new(net: &RoadNetwork, cell_km: f64) -> OdGrid {
        OdGrid::from_bbox(net.bbox(), cell_km)
    }

    /// The grid over `[min lon, min lat, max lon, max lat]`.
    pub fn from_bbox(bbox: [f64; 4], cell_km: f64) -> OdGrid {
        let r_km = EARTH_RADIUS_M / 1000.0;
        let dlat = (cell_km / r_km).to_degrees();
        let mid_lat = (0.5 * (bbox[1] + bbox[3])).to_radians();
        let s = ((cell_km / (2.0 * r_km)).sin() / mid_lat.cos()).min(1.0);
        let dlon = (2.0 * s.asin()).to_degrees();
        OdGrid { corner: [bbox[0], bbox[1]], cell_deg: [dlon, dlat] }
    }

    /// The cell holding `p` (`[lon, lat]`).
    pub fn cell(&self, p: LonLat) -> Cell {
        (((p[0] - self.corner[0]) / self.cell_deg[0]).floor() as i64, ((p[1] - self.corner[1]) / self.cell_deg[1]).floor() as i64)
    }

    /// The key of a trajectory from its first and last point.
    pub fn key(&self, first: LonLat, last: LonLat) -> OdKey {
        (self.cell(first), self.cell(last))
    }
}

/// HOSER's pairing: for each key (in order of first appearance among the generated
/// trajectories) the i-th real and i-th generated trajectory with that key, in input order, for
/// `i < min(count real, count generated)`. Returns `(real index, generated index)` pairs.
pub fn pair_by_od(real_keys: &[OdKey], generated_keys: &[OdKey]) -> Vec<(usize, usize)> {
    let mut real_by_key: HashMap<OdKey, Vec<usize>> = HashMap::new();
    for (i, k) in real_keys.iter().enumerate() {
        real_by_key.entry(*k).or_default().push(i);
    }
    let mut gen_by_key: HashMap<OdKey, Vec<usize>> = HashMap::new();
    let mut order = Vec::new();
    for (i, k) in generated_keys.iter().enumerate() {
        let v = gen_by_key.entry(*k).or_default();
        if v.is_empty() {
            order.push(*k);
        }
        v.push(i);
    }
    let mut pairs = Vec::new();
    for k in order {
        if let Some(r) = real_by_key.get(&k) {
            pairs.extend(r.iter().copied().zip(gen_by_key[&k].iter().copied()));
        }
    }
    pairs
}

/// The cell of the fixed-degree grid used by the OD match rate:
/// `(floor(lon / cell_deg), floor(lat / cell_deg))`.
pub fn degree_cell(p: LonLat, cell_deg: f64) -> Cell {
    ((p[0] / cell_deg).floor() as i64, (p[1] / cell_deg).floor() as i64)
}

/// Share of generated trajectories whose (first, last) point cells on the `cell_deg` grid form
/// an OD pair that some real trajectory has. NaN with no generated trajectories.
pub fn od_match_rate(real: &[(LonLat, LonLat)], generated: &[(LonLat, LonLat)], cell_deg: f64) -> f64 {
    if generated.is_empty() {
        return f64::NAN;
    }
    let key = |&(o, d): &(LonLat, LonLat)| (degree_cell(o, cell_deg), degree_cell(d, cell_deg));
    let known: HashSet<OdKey> = real.iter().map(key).collect();
    generated.iter().filter(|g| known.contains(&key(g))).count() as f64 / generated.len() as f64
}
