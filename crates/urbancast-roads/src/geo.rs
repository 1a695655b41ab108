//! Great-circle geometry on (lon, lat) degrees. Every point in this crate is `[lon, lat]`
//! (x first, as in WKT and GeoJSON); the functions take them in that order and never swap.

/// Mean Earth radius in metres (the value used by haversine implementations in the field).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A point as `[lon, lat]` in degrees.
pub type LonLat = [f64; 2];

/// Haversine distance in metres between two `[lon, lat]` points.
pub fn haversine_m(a: LonLat, b: LonLat) -> f64 {
    let (lon1, lat1) = (a[0].to_radians(), a[1].to_radians());
    let (lon2, lat2) = (b[0].to_radians(), b[1].to_radians());
    let dlat = lat2 - lat1;
    let dlon = lon2 - lon1;
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Haversine distance in kilometres.
pub fn haversine_km(a: LonLat, b: LonLat) -> f64 {
    haversine_m(a, b) / 1000.0
}

/// Initial bearing from `a` to `b` in degrees, clockwise from north, in [0, 360).
pub fn bearing_deg(a: LonLat, b: LonLat) -> f64 {
    let (lon1, lat1) = (a[0].to_radians(), a[1].to_radians());
    let (lon2, lat2) = (b[0].to_radians(), b[1].to_radians());
    let dlon = lon2 - lon1;
    let y = dlon.sin() * lat2.cos();
    let x = lat1.cos() * lat2.sin() - lat1.sin() * lat2.cos() * dlon.cos();
    let deg = y.atan2(x).to_degrees();
    (deg + 360.0) % 360.0
}

/// Absolute difference of two bearings in degrees, in [0, 180].
pub fn bearing_diff_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 { 360.0 - d } else { d }
}

/// Length in metres of a polyline (sum of haversine distances of consecutive points).
pub fn polyline_length_m(line: &[LonLat]) -> f64 {
    line.windows(2).map(|w| haversine_m(w[0], w[1])).sum()
}

/// A local equirectangular projection around a reference latitude: metres east and north of
/// `origin`. Accurate to well under 0.5 % over a city (tens of km), which is what nearest-road
/// queries and point-to-segment distances need.
#[derive(Debug, Clone, Copy)]
pub struct LocalProjection {
    /// The `[lon, lat]` point (degrees) that projects to `[0, 0]`; its latitude sets the
    /// east–west scale.
    pub origin: LonLat,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl LocalProjection {
    /// The projection centred on `origin` (`[lon, lat]` in degrees).
    pub fn new(origin: LonLat) -> Self {
        let m_per_deg_lat = EARTH_RADIUS_M.to_radians();
        let m_per_deg_lon = m_per_deg_lat * origin[1].to_radians().cos();
        LocalProjection { origin, m_per_deg_lon, m_per_deg_lat }
    }
    /// `[x east, y north]` in metres.
    pub fn to_xy(&self, p: LonLat) -> [f64; 2] {
        [(p[0] - self.origin[0]) * self.m_per_deg_lon, (p[1] - self.origin[1]) * self.m_per_deg_lat]
    }
    /// Inverse of [`LocalProjection::to_xy`]: `[x east, y north]` in metres back to `[lon, lat]`.
    pub fn to_lonlat(&self, xy: [f64; 2]) -> LonLat {
        [self.origin[0] + xy[0] / self.m_per_deg_lon, self.origin[1] + xy[1] / self.m_per_deg_lat]
    }
}

/// Projection of point `p` on segment `a`–`b` (all planar, metres): returns
/// (distance from p to the segment, fraction t in [0, 1] along the segment).
pub fn point_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 <= 0.0 { 0.0 } else { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) };
    let q = [a[0] + t * dx, a[1] + t * dy];
    (((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt(), t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_known_distance() {
        // One degree of latitude is R·π/180 metres.
        let d = haversine_m([0.0, 0.0], [0.0, 1.0]);
        assert!((d - EARTH_RADIUS_M.to_radians()).abs() < 1e-6);
        // Along a parallel at 60°, one degree of longitude is about half of that.
        let d = haversine_m([10.0, 60.0], [11.0, 60.0]);
        assert!((d / EARTH_RADIUS_M.to_radians() - 0.5).abs() < 1e-3);
    }

    #[test]
    fn bearings() {
        assert!((bearing_deg([0.0, 0.0], [0.0, 1.0]) - 0.0).abs() < 1e-9);
        assert!((bearing_deg([0.0, 0.0], [1.0, 0.0]) - 90.0).abs() < 1e-9);
        assert!((bearing_deg([0.0, 0.0], [0.0, -1.0]) - 180.0).abs() < 1e-9);
        assert!((bearing_diff_deg(350.0, 10.0) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn projection_round_trip_and_segment() {
        let p = LocalProjection::new([-8.6, 41.15]);
        let q = [-8.61, 41.16];
        let back = p.to_lonlat(p.to_xy(q));
        assert!((back[0] - q[0]).abs() < 1e-12 && (back[1] - q[1]).abs() < 1e-12);
        let planar = {
            let xy = p.to_xy(q);
            (xy[0].powi(2) + xy[1].powi(2)).sqrt()
        };
        let great = haversine_m([-8.6, 41.15], q);
        assert!((planar - great).abs() / great < 1e-3);
        let (d, t) = point_segment([5.0, 3.0], [0.0, 0.0], [10.0, 0.0]);
        assert!((d - 3.0).abs() < 1e-12 && (t - 0.5).abs() < 1e-12);
    }
}
