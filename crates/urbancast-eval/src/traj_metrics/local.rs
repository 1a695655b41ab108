//! Local (pair-level) metrics between a real and a generated sequence of road centroids:
//! Hausdorff distance, dynamic time warping and edit distance on real sequences (EDR), all on
//! great-circle distances in km between `[lon, lat]` points.
//!
//! What HOSER does (`caoji-hoser-eval.py`, the original author's notebook as kept in the
//! matercomus/HOSER fork) and what differs here:
//!
//! * Points: `road_gps[rid][::-1]`, i.e. `(lat, lon)` arrays (l. 298, 302).
//! * Hausdorff (l. 305): `hausdorff.hausdorff_distance(real, gen, distance='haversine')`; that
//!   package reads points as `(lat, lng)`, so the order is right. Earth radius 6378.0 km.
//! * DTW (l. 306): `fastdtw(real, gen, dist=haversine)` with HOSER's own `haversine` (l. 214–224)
//!   reading `[0]` as lat and `[1]` as lon: right order, radius 6378.0 km. `fastdtw` is an
//!   approximation (radius 1) that can only *over*-estimate the warping cost; we compute the exact
//!   classic DTW (sum of point costs along the optimal warping path).
//! * **EDR coordinate bug** (l. 229–253, called at l. 307): `great_circle_distance(lon1, lat1,
//!   lon2, lat2)` is called as `great_circle_distance(t0[i-1][0], t0[i-1][1], ...)` on the
//!   `(lat, lon)` arrays, so latitude goes in as longitude and longitude as latitude. The cosine
//!   factor then lands on the wrong axis: east–west offsets are measured at 111.3 km per degree
//!   (true at Beijing, 39.9° N: 85.3 km) and north–south offsets are scaled by
//!   |cos(116.4°)| = 0.445 (49.5 km per degree instead of 111.3). Whether two points lie within
//!   100 m is decided on that wrong distance. The fork's `evaluation.py` (`_calculate_edr`) fixes it
//!   by passing `t0[i-1][1], t0[i-1][0]`. Here every distance is [`haversine_km`] on `[lon, lat]`.
//! * Earth radius: 6378.0 km (Hausdorff, DTW), 6378.137 km (EDR) and geopy's 6371.009 km (global
//!   metrics) in HOSER; one mean radius (6371.0088 km, `urbancast_roads::geo`) here.
//! * EDR match: HOSER tests `distance < eps`; here two points match when `distance ≤ eps`
//!   (0.1 km by default). EDR = edits / max(n, m) in both.
use urbancast_roads::LonLat;
use urbancast_roads::geo::haversine_km;

/// The three pair metrics of one real/generated pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairScores {
    /// Symmetric Hausdorff distance between the two point sequences, km.
    pub hausdorff_km: f64,
    /// Exact DTW cost (sum of point distances along the optimal warping path), km.
    pub dtw_km: f64,
    /// Edit distance on real sequences divided by the longer length, in `[0, 1]`.
    pub edr: f64,
}

/// Row-major `a.len() × b.len()` matrix of great-circle distances in km.
pub fn distance_matrix_km(a: &[LonLat], b: &[LonLat]) -> Vec<f64> {
    a.iter().flat_map(|&p| b.iter().map(move |&q| haversine_km(p, q))).collect()
}

/// All three metrics from one distance matrix. NaN when either sequence is empty.
pub fn pair_scores(a: &[LonLat], b: &[LonLat], eps_km: f64) -> PairScores {
    if a.is_empty() || b.is_empty() {
        return PairScores { hausdorff_km: f64::NAN, dtw_km: f64::NAN, edr: f64::NAN };
    }
    let d = distance_matrix_km(a, b);
    let (n, m) = (a.len(), b.len());
    PairScores { hausdorff_km: hausdorff(&d, n, m), dtw_km: dtw(&d, n, m), edr: edr(&d, n, m, eps_km) }
}

/// Symmetric Hausdorff distance in km: the larger of the two directed distances
/// `max_i min_j d(a_i, b_j)` and `max_j min_i d(a_i, b_j)`. NaN when either is empty.
pub fn hausdorff_km(a: &[LonLat], b: &[LonLat]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    hausdorff(&distance_matrix_km(a, b), a.len(), b.len())
}

/// Classic DTW in km: `D(i, j) = d(a_i, b_j) + min(D(i-1, j), D(i, j-1), D(i-1, j-1))`,
/// `D(0, 0) = 0`, borders infinite; the result is `D(n, m)`, the sum of point distances along
/// the optimal warping path. NaN when either is empty.
pub fn dtw_km(a: &[LonLat], b: &[LonLat]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    dtw(&distance_matrix_km(a, b), a.len(), b.len())
}

/// EDR with threshold `eps_km`: the edit distance where substituting `a_i` by `b_j` costs 0 when
/// `d(a_i, b_j) ≤ eps_km` and 1 otherwise, inserting or deleting costs 1; divided by
/// `max(n, m)`. NaN when either is empty.
pub fn edr_normalised(a: &[LonLat], b: &[LonLat], eps_km: f64) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    edr(&distance_matrix_km(a, b), a.len(), b.len(), eps_km)
}

fn hausdorff(d: &[f64], n: usize, m: usize) -> f64 {
    let a_to_b = (0..n).map(|i| d[i * m..(i + 1) * m].iter().copied().fold(f64::INFINITY, f64::min)).fold(0.0, f64::max);
    let b_to_a = (0..m).map(|j| (0..n).map(|i| d[i * m + j]).fold(f64::INFINITY, f64::min)).fold(0.0, f64::max);
    a_to_b.max(b_to_a)
}

fn dtw(d: &[f64], n: usize, m: usize) -> f64 {
    let mut prev = vec![f64::INFINITY; m + 1];
    prev[0] = 0.0;
    let mut cur = vec![f64::INFINITY; m + 1];
    for i in 1..=n {
        cur[0] = f64::INFINITY;
        for j in 1..=m {
            cur[j] = d[(i - 1) * m + j - 1] + prev[j].min(cur[j - 1]).min(prev[j - 1]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

fn edr(d: &[f64], n: usize, m: usize, eps_km: f64) -> f64 {
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let sub = usize::from(d[(i - 1) * m + j - 1] > eps_km);
            cur[j] = (cur[j - 1] + 1).min(prev[j] + 1).min(prev[j - 1] + sub);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m] as f64 / n.max(m) as f64
}
