//! A seeded synthetic road-sensor graph with speed-like series in which the graph matters:
//! congestion spreads to neighbours with a one-step lag.
use ndarray::{Array2, Array3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::SensorGraph;
use super::adjacency::gaussian_kernel;
use crate::error::Result;

/// Size and seed of [`synthetic_sensor_graph`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SyntheticGraphConfig {
    /// Number of sensors (at least 1).
    pub nodes: usize,
    /// Length in days (at least 1).
    pub days: usize,
    /// Minutes per step; must divide 1440.
    pub interval_min: u32,
    /// RNG seed: the same config always gives the same graph.
    pub seed: u64,
}

impl Default for SyntheticGraphConfig {
    fn default() -> Self {
        SyntheticGraphConfig { nodes: 40, days: 14, interval_min: 15, seed: 0 }
    }
}

/// Gaussian bump of width `w` hours around `mu` hours.
fn bump(hour: f64, mu: f64, w: f64) -> f64 {
    (-((hour - mu) / w).powi(2) / 2.0).exp()
}

/// Generates the graph: nodes uniform on the unit square (`coords`), each linked to its 4
/// nearest neighbours (symmetrised) with Gaussian-kernel weights of distance (diagonal 0).
/// Speed per node = free-flow speed (45..75) x (1 - 0.6 congestion) + noise, where congestion
/// mixes the node's own morning / evening rush dips (weaker at weekends), random incidents that
/// decay slowly, and the neighbours' congestion one step earlier. Starts Monday 00:00; values
/// are positive; name `"synthetic-graph"`; zeros are not missing. A configuration out of range
/// ([`SyntheticGraphConfig::validate`]) is an error.
pub fn synthetic_sensor_graph(cfg: &SyntheticGraphConfig) -> Result<SensorGraph> {
    cfg.validate()?;
    let (n, days, interval) = (cfg.nodes, cfg.days, cfg.interval_min);
    let spd = (1440 / interval) as usize;
    let t_len = days * spd;
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let coords: Vec<(f64, f64)> = (0..n).map(|_| (rng.random::<f64>(), rng.random::<f64>())).collect();
    let dist = |i: usize, j: usize| ((coords[i].0 - coords[j].0).powi(2) + (coords[i].1 - coords[j].1).powi(2)).sqrt();
    let mut d = Array2::<f32>::from_elem((n, n), f32::INFINITY);
    for i in 0..n {
        let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        others.sort_by(|&a, &b| dist(i, a).total_cmp(&dist(i, b)));
        for &j in others.iter().take(4) {
            d[(i, j)] = dist(i, j) as f32;
            d[(j, i)] = dist(i, j) as f32;
        }
    }
    let mut adjacency = gaussian_kernel(&d, 0.0);
    adjacency.diag_mut().fill(0.0);
    let neighbours: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|i| {
            let row: Vec<(usize, f64)> = (0..n).filter(|&j| adjacency[(i, j)] > 0.0).map(|j| (j, adjacency[(i, j)] as f64)).collect();
            let total: f64 = row.iter().map(|r| r.1).sum();
            row.into_iter().map(|(j, w)| (j, w / total.max(1e-12))).collect()
        })
        .collect();
    let free: Vec<f64> = (0..n).map(|_| rng.random_range(45.0..75.0)).collect();
    let morning: Vec<f64> = (0..n).map(|_| rng.random_range(0.2..0.8)).collect();
    let evening: Vec<f64> = (0..n).map(|_| rng.random_range(0.2..0.8)).collect();
    let shift: Vec<f64> = (0..n).map(|_| rng.random_range(-0.5..0.5)).collect();
    let mut series = Array3::<f32>::zeros((t_len, n, 1));
    let mut cong = vec![0.0f64; n];
    let mut incident = vec![0.0f64; n];
    for t in 0..t_len {
        let hour = (t % spd) as f64 * interval as f64 / 60.0;
        let weekend = (t / spd) % 7 >= 5;
        let scale = if weekend { 0.3 } else { 1.0 };
        let prev = cong.clone();
        for i in 0..n {
            let h = hour + shift[i];
            let rush = scale * (morning[i] * bump(h, 8.0, 1.0) + evening[i] * bump(h, 17.5, 1.3));
            if rng.random::<f64>() < 0.002 {
                incident[i] += rng.random_range(0.3..0.8);
            }
            incident[i] *= 0.92;
            let spread: f64 = neighbours[i].iter().map(|&(j, w)| w * prev[j]).sum();
            cong[i] = (0.55 * rush + incident[i] + 0.45 * spread).clamp(0.0, 0.95);
            let v = free[i] * (1.0 - 0.6 * cong[i]) + rng.sample::<f64, _>(StandardNormal);
            series[(t, i, 0)] = v.max(1.0) as f32;
        }
    }
    Ok(SensorGraph {
        name: "synthetic-graph".into(),
        interval_min: interval,
        series,
        features: vec!["speed".into()],
        adjacency,
        coords: Some(coords),
        node_ids: None,
        start_minute_of_week: Some(0),
        zero_is_missing: false,
    })
}
