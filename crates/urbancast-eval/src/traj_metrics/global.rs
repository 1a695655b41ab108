//! Global (distribution-level) metrics: per-trajectory statistics, HOSER's histogram and the
//! Jensen–Shannon divergence between the real and the generated histogram.
//!
//! Binning (HOSER `caoji-hoser-eval.py` l. 68–71, 121–124, 176–179): `np.linspace(0, real_max,
//! 100)` gives 100 edges, i.e. 99 equal-width bins on `[0, real_max]`, and an appended `inf`
//! edge adds one overflow bin. We keep that layout (99 + 1 bins) with one documented difference:
//! numpy closes only the *last* bin on the right, and the last bin is `[real_max, inf]`, so
//! HOSER puts every value equal to `real_max` (at least the real maximum itself) in the overflow
//! bin. Here the regular bins cover the closed range `[0, real_max]` and the overflow bin holds
//! values `> real_max` only, as the project's specification says. Values below 0 or NaN fall in
//! no bin (numpy drops values outside the edges the same way).
//!
//! JSD (HOSER l. 21–25): `p / (sum(p) + 1e-14)`, `m = (p + q) / 2`, `0.5·KL(p‖m) + 0.5·KL(q‖m)`
//! with `scipy.stats.entropy` (natural log, renormalises, `0·ln 0 = 0`). There the `1e-14` only
//! guards the division; we add `1e-14` to *every bin count* before normalising (the project's
//! definition), which keeps every bin positive. The two differ by O(1e-13) on real data; for
//! disjoint histograms both give ln 2 (ours within 1e-12).
use serde::{Deserialize, Serialize};
use urbancast_roads::LonLat;
use urbancast_roads::geo::haversine_km;

/// HOSER's number of equal-width bins on `[0, real max]` (an overflow bin comes on top).
pub const REGULAR_BINS: usize = 99;
/// Added to every bin count before normalising.
pub const SMOOTHING: f64 = 1e-14;

/// Trip distance in km: the sum of great-circle distances between consecutive points (road
/// centroids). One point gives 0.
pub fn trip_distance_km(points: &[LonLat]) -> f64 {
    points.windows(2).map(|w| haversine_km(w[0], w[1])).sum()
}

/// Radius of gyration in km as HOSER computes it (l. 106–117): the *mean* great-circle distance
/// of the points from their mean point (arithmetic mean of lon and of lat). Not the RMS of the
/// textbook definition; HOSER's mean is kept. NaN for no points.
pub fn radius_of_gyration_km(points: &[LonLat]) -> f64 {
    if points.is_empty() {
        return f64::NAN;
    }
    let n = points.len() as f64;
    let c = [points.iter().map(|p| p[0]).sum::<f64>() / n, points.iter().map(|p| p[1]).sum::<f64>() / n];
    points.iter().map(|&p| haversine_km(c, p)).sum::<f64>() / n
}

/// Minutes between consecutive road entries (HOSER pools these over all trajectories).
pub fn step_durations_min(times: &[i64]) -> impl Iterator<Item = f64> + '_ {
    times.windows(2).map(|w| (w[1] - w[0]) as f64 / 60.0)
}

/// `bins + 1` edges `0, max/bins, …, max` (numpy `linspace(0, max, bins + 1)`).
pub fn bin_edges(max: f64, bins: usize) -> Vec<f64> {
    let step = max / bins as f64;
    (0..=bins).map(|k| if k == bins { max } else { k as f64 * step }).collect()
}

/// Counts per bin for `edges` (from [`bin_edges`]): `edges.len() - 1` regular bins, the last
/// closed on the right, then one overflow bin for values `> max`. Negative and NaN values are
/// not counted.
pub fn bin_counts(values: impl IntoIterator<Item = f64>, edges: &[f64]) -> Vec<u64> {
    let bins = edges.len() - 1;
    let max = edges[bins];
    let step = max / bins as f64;
    let mut counts = vec![0u64; bins + 1];
    for v in values {
        if v.is_nan() || v < 0.0 {
            continue;
        }
        if v > max {
            counts[bins] += 1;
            continue;
        }
        let mut k = if step > 0.0 { ((v / step).floor() as usize).min(bins - 1) } else { bins - 1 };
        // Make the bin agree with the reported edges despite rounding in `v / step`.
        while k > 0 && v < edges[k] {
            k -= 1;
        }
        while k + 1 < bins && v >= edges[k + 1] {
            k += 1;
        }
        counts[k] += 1;
    }
    counts
}

/// `(count + smoothing) / sum` per bin.
pub fn normalise(counts: &[u64], smoothing: f64) -> Vec<f64> {
    let total: f64 = counts.iter().map(|&c| c as f64 + smoothing).sum();
    counts.iter().map(|&c| (c as f64 + smoothing) / total).collect()
}

/// Jensen–Shannon divergence (natural log) of two distributions over the same bins:
/// `½ KL(P‖M) + ½ KL(Q‖M)`, `M = (P + Q)/2`, with `0·ln 0 = 0`. In `[0, ln 2]`.
pub fn jsd(p: &[f64], q: &[f64]) -> f64 {
    assert_eq!(p.len(), q.len(), "jsd: histograms have different numbers of bins");
    let kl = |a: f64, m: f64| if a > 0.0 { a * (a / m).ln() } else { 0.0 };
    p.iter()
        .zip(q)
        .map(|(&a, &b)| {
            let m = 0.5 * (a + b);
            0.5 * kl(a, m) + 0.5 * kl(b, m)
        })
        .sum()
}

/// The real and generated histograms of one statistic, normalised, with their JSD.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Histogram {
    /// What was binned, e.g. `"trip distance (km)"`.
    pub name: String,
    /// Edges of the regular bins, `0 ..= real max` (`bins + 1` values); one more bin, the
    /// overflow bin `(real max, ∞)`, follows the last regular bin.
    pub edges: Vec<f64>,
    /// Raw counts of the real values per bin, `bins + 1` values (the last is the overflow bin).
    pub real_counts: Vec<u64>,
    /// Raw counts of the generated values per bin, `bins + 1` values (the last is the overflow bin).
    pub generated_counts: Vec<u64>,
    /// Smoothed, normalised (sums to 1); `bins + 1` values, the last for the overflow bin.
    pub real: Vec<f64>,
    /// The generated counts smoothed and normalised like `real`.
    pub generated: Vec<f64>,
    /// Jensen–Shannon divergence of `real` and `generated` (natural log, in `[0, ln 2]`); NaN
    /// when either side is empty.
    pub jsd: f64,
    /// Mean of the real values (NaN when there are none).
    pub real_mean: f64,
    /// Mean of the generated values (NaN when there are none).
    pub generated_mean: f64,
}

impl Histogram {
    /// Bins both samples on edges from the real maximum. With no real values there are no
    /// edges (empty vectors); with nothing counted on either side the JSD is NaN.
    pub fn new(name: &str, real: &[f64], generated: &[f64], bins: usize, smoothing: f64) -> Histogram {
        assert!(bins > 0, "a histogram needs at least one regular bin");
        let mean = |v: &[f64]| if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
        let max = real.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
        let (real_mean, generated_mean) = (mean(real), mean(generated));
        if !max.is_finite() {
            return Histogram {
                name: name.into(),
                edges: Vec::new(),
                real_counts: Vec::new(),
                generated_counts: Vec::new(),
                real: Vec::new(),
                generated: Vec::new(),
                jsd: f64::NAN,
                real_mean,
                generated_mean,
            };
        }
        let edges = bin_edges(max.max(0.0), bins);
        let real_counts = bin_counts(real.iter().copied(), &edges);
        let generated_counts = bin_counts(generated.iter().copied(), &edges);
        let (p, q) = (normalise(&real_counts, smoothing), normalise(&generated_counts, smoothing));
        // An empty side would become a uniform histogram through the smoothing: no JSD then.
        let empty = |c: &[u64]| c.iter().all(|&n| n == 0);
        let jsd = if empty(&real_counts) || empty(&generated_counts) { f64::NAN } else { jsd(&p, &q) };
        Histogram { name: name.into(), edges, real_counts, generated_counts, real: p, generated: q, jsd, real_mean, generated_mean }
    }
}
