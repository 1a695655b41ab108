//! The evaluation engine: resolves road ids once, then computes metrics for any subsets of the
//! real and generated trajectories.
use std::collections::HashSet;

use anyhow::{Result, anyhow, bail};
use rayon::prelude::*;
use urbancast_roads::{LonLat, RoadNetwork, Trajectory};

use super::global::{Histogram, radius_of_gyration_km, step_durations_min, trip_distance_km};
use super::local::{PairScores, pair_scores};
use super::od::{OdGrid, OdKey, od_match_rate, pair_by_od};
use super::{EvalConfig, Histograms, SplitReport, TrajMetrics};

/// Pairs from which the local metrics run on the rayon pool.
const PARALLEL_MIN_PAIRS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Stat {
    distance_km: f64,
    radius_km: f64,
    first: LonLat,
    last: LonLat,
}

struct Side<'a> {
    trajs: &'a [Trajectory],
    /// Road indices into the network.
    roads: Vec<Vec<u32>>,
    stats: Vec<Stat>,
}

impl<'a> Side<'a> {
    fn new(net: &RoadNetwork, trajs: &'a [Trajectory], side: &str) -> Result<Self> {
        let mut roads = Vec::with_capacity(trajs.len());
        let mut stats = Vec::with_capacity(trajs.len());
        for (k, t) in trajs.iter().enumerate() {
            let name = match &t.id {
                Some(id) => format!("{side} trajectory #{k} (id `{id}`)"),
                None => format!("{side} trajectory #{k}"),
            };
            if t.roads.is_empty() {
                bail!("{name} has no roads");
            }
            if t.times.len() != t.roads.len() {
                bail!("{name} has {} roads but {} timestamps", t.roads.len(), t.times.len());
            }
            let idx = t
                .roads
                .iter()
                .enumerate()
                .map(|(pos, &id)| net.index_of(id).map(|i| i as u32).map_err(|e| anyhow!("{name}: road at position {pos}: {e}")))
                .collect::<Result<Vec<u32>>>()?;
            let pts: Vec<LonLat> = idx.iter().map(|&i| net.roads[i as usize].centroid).collect();
            stats.push(Stat {
                distance_km: trip_distance_km(&pts),
                radius_km: radius_of_gyration_km(&pts),
                first: pts[0],
                last: pts[pts.len() - 1],
            });
            roads.push(idx);
        }
        Ok(Side { trajs, roads, stats })
    }
}

/// Real and generated trajectories resolved against a network, ready for metrics on any
/// subsets (indices into the slices given to [`Evaluation::new`]).
pub struct Evaluation<'a> {
    net: &'a RoadNetwork,
    cfg: EvalConfig,
    grid: OdGrid,
    real: Side<'a>,
    generated: Side<'a>,
}

impl<'a> Evaluation<'a> {
    /// Checks `cfg` ([`EvalConfig::validate`]), resolves every road id (errors name the
    /// trajectory and position) and computes the per-trajectory statistics.
    pub fn new(net: &'a RoadNetwork, real: &'a [Trajectory], generated: &'a [Trajectory], cfg: EvalConfig) -> Result<Self> {
        cfg.validate()?;
        let grid = OdGrid::new(net, cfg.od_cell_km);
        Ok(Evaluation { net, cfg, grid, real: Side::new(net, real, "real")?, generated: Side::new(net, generated, "generated")? })
    }

    /// The 200 m grid used to pair trajectories.
    pub fn grid(&self) -> &OdGrid {
        &self.grid
    }

    /// Indices `0..n` of every real trajectory, for [`Evaluation::metrics`] and friends.
    pub fn all_real(&self) -> Vec<usize> {
        (0..self.real.trajs.len()).collect()
    }

    /// Indices `0..n` of every generated trajectory, for [`Evaluation::metrics`] and friends.
    pub fn all_generated(&self) -> Vec<usize> {
        (0..self.generated.trajs.len()).collect()
    }

    /// Metrics of all generated against all real trajectories.
    pub fn all(&self) -> TrajMetrics {
        self.metrics(&self.all_real(), &self.all_generated())
    }

    fn key(&self, side: &Side, i: usize) -> OdKey {
        self.grid.key(side.stats[i].first, side.stats[i].last)
    }

    fn points(&self, side: &Side, i: usize) -> Vec<LonLat> {
        side.roads[i].iter().map(|&r| self.net.roads[r as usize].centroid).collect()
    }

    /// The compared `(real index, generated index)` pairs: same 200 m OD cells, i-th with i-th.
    pub fn pairs(&self, real: &[usize], generated: &[usize]) -> Vec<(usize, usize)> {
        let rk: Vec<OdKey> = real.iter().map(|&i| self.key(&self.real, i)).collect();
        let gk: Vec<OdKey> = generated.iter().map(|&i| self.key(&self.generated, i)).collect();
        pair_by_od(&rk, &gk).into_iter().map(|(a, b)| (real[a], generated[b])).collect()
    }

    /// Distance, radius and step-duration histograms of the subsets.
    pub fn histograms(&self, real: &[usize], generated: &[usize]) -> Histograms {
        let (bins, s) = (self.cfg.bins, self.cfg.smoothing);
        let stat = |side: &Side, sel: &[usize], f: fn(&Stat) -> f64| sel.iter().map(|&i| f(&side.stats[i])).collect::<Vec<f64>>();
        let steps = |side: &Side, sel: &[usize]| sel.iter().flat_map(|&i| step_durations_min(&side.trajs[i].times)).collect::<Vec<f64>>();
        let hist = |name: &str, f: fn(&Stat) -> f64| {
            Histogram::new(name, &stat(&self.real, real, f), &stat(&self.generated, generated, f), bins, s)
        };
        Histograms {
            distance: hist("trip distance (km)", |t| t.distance_km),
            radius: hist("radius of gyration (km)", |t| t.radius_km),
            duration: Histogram::new("step duration (min)", &steps(&self.real, real), &steps(&self.generated, generated), bins, s),
        }
    }

    /// All metrics of the `generated` subset against the `real` subset.
    pub fn metrics(&self, real: &[usize], generated: &[usize]) -> TrajMetrics {
        let h = self.histograms(real, generated);
        let pairs = self.pairs(real, generated);
        let matched: HashSet<OdKey> = pairs.iter().map(|&(r, _)| self.key(&self.real, r)).collect();
        let eps = self.cfg.edr_eps_km;
        let score = |&(r, g): &(usize, usize)| pair_scores(&self.points(&self.real, r), &self.points(&self.generated, g), eps);
        let scores: Vec<PairScores> =
            if pairs.len() >= PARALLEL_MIN_PAIRS { pairs.par_iter().map(score).collect() } else { pairs.iter().map(score).collect() };
        let mean = |f: fn(&PairScores) -> f64| {
            if scores.is_empty() { f64::NAN } else { scores.iter().map(f).sum::<f64>() / scores.len() as f64 }
        };
        let n = real.len() + generated.len();
        let total: usize =
            real.iter().map(|&i| self.real.roads[i].len()).chain(generated.iter().map(|&i| self.generated.roads[i].len())).sum();
        let mean_len = if n == 0 { f64::NAN } else { total as f64 / n as f64 };
        let ends = |side: &Side, sel: &[usize]| sel.iter().map(|&i| (side.stats[i].first, side.stats[i].last)).collect::<Vec<_>>();
        let (hausdorff_km, dtw_km) = (mean(|s| s.hausdorff_km), mean(|s| s.dtw_km));
        TrajMetrics {
            od_match_rate: od_match_rate(&ends(&self.real, real), &ends(&self.generated, generated), self.cfg.match_cell_deg),
            jsd_distance: h.distance.jsd,
            jsd_radius: h.radius.jsd,
            jsd_duration: h.duration.jsd,
            hausdorff_km,
            dtw_km,
            edr: mean(|s| s.edr),
            hausdorff_norm: hausdorff_km / mean_len,
            dtw_norm: dtw_km / mean_len,
            mean_len,
            pairs: pairs.len(),
            matched_od_cells: matched.len(),
            n_real: real.len(),
            n_generated: generated.len(),
            real_mean_distance_km: h.distance.real_mean,
            generated_mean_distance_km: h.distance.generated_mean,
            real_mean_radius_km: h.radius.real_mean,
            generated_mean_radius_km: h.radius.generated_mean,
            real_mean_step_min: h.duration.real_mean,
            generated_mean_step_min: h.duration.generated_mean,
        }
    }

    /// Everything, then the generated trajectories whose OD (`intended`, or first and last
    /// road) satisfies `is_train` against the real ones whose (first, last) does, and the rest
    /// against the rest.
    pub fn split(&self, intended: Option<&[(u64, u64)]>, is_train: impl Fn(u64, u64) -> bool) -> Result<SplitReport> {
        let gen_trajs = self.generated.trajs;
        let gen_od: Vec<(u64, u64)> = match intended {
            Some(v) if v.len() != gen_trajs.len() => {
                bail!("{} intended ODs for {} generated trajectories", v.len(), gen_trajs.len())
            }
            Some(v) => v.to_vec(),
            None => gen_trajs.iter().map(|t| (t.origin(), t.destination())).collect(),
        };
        let (real_train, real_test): (Vec<usize>, Vec<usize>) =
            self.all_real().into_iter().partition(|&i| is_train(self.real.trajs[i].origin(), self.real.trajs[i].destination()));
        let (gen_train, gen_test): (Vec<usize>, Vec<usize>) =
            self.all_generated().into_iter().partition(|&i| is_train(gen_od[i].0, gen_od[i].1));
        Ok(SplitReport { all: self.all(), train_od: self.metrics(&real_train, &gen_train), test_od: self.metrics(&real_test, &gen_test) })
    }
}
