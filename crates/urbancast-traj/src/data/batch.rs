//! [`TrajBatch`]: B samples as padded, flat, row-major arrays (no tensors yet).
use rayon::prelude::*;
use urbancast_roads::RoadNetwork;

use super::candidates::{CandidateFeatures, MAX_CANDIDATES};
use super::context::RoadContext;
use super::sample::{Sample, TimeNorm, is_weekend, minute_of_day};

/// A training batch of `b` trajectories padded to `l` steps, `l = max(len − 1)`. Token `t`
/// of a trajectory is its road `t`; step `t` predicts road `t + 1` among the candidates of
/// road `t` (HOSER drops the last road from the input and uses it as the destination).
/// All arrays are row-major with the shapes given; padding is 0 / false.
///
/// Loss masks: the next-road loss and the time loss use the steps with `target >= 0`
/// (valid and the true next road among the candidates); `valid` marks real tokens (use it
/// for attention padding). A valid step has `target == −1` only when the true next road was
/// capped away ([`MAX_CANDIDATES`]; counted in `capped_targets`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrajBatch {
    /// Trajectories in the batch (`B`).
    pub b: usize,
    /// Padded steps per trajectory (`L`, the longest `len − 1` of the batch).
    pub l: usize,
    /// Candidates per step, `max` over the batch (at least 1).
    pub k: usize,
    /// `[B·L]` road index of token t.
    pub roads: Vec<i64>,
    /// `[B·L]` minute of day (UTC, fractional, `0..1440`) at which token t was entered.
    pub minute: Vec<f32>,
    /// `[B·L]` 1.0 when token t was entered on a Saturday or Sunday (UTC), else 0.0.
    /// (HOSER flags the whole trip by its start day; we flag each token by its own time.)
    pub weekend: Vec<f32>,
    /// `[B·L·2]` centroid `[lon, lat]` of token t, raw degrees.
    pub lonlat: Vec<f32>,
    /// `[B·L]` seconds from the trip start to entering token t.
    pub secs: Vec<f32>,
    /// `[B·L]` true for real tokens `t < len − 1`.
    pub valid: Vec<bool>,
    /// `[B]` destination road index.
    pub dest_road: Vec<i64>,
    /// `[B]` zone of the destination road.
    pub dest_zone: Vec<i64>,
    /// `[B·L·K]` candidate road indices for step t (pad 0).
    pub cand: Vec<i64>,
    /// `[B·L·K]` true for real candidates.
    pub cand_mask: Vec<bool>,
    /// `[B·L·K·2]` `[distance, angle]` per candidate.
    pub cand_feat: Vec<f32>,
    /// `[B·L]` position of road t + 1 among the candidates of step t; −1 when padding or
    /// capped away.
    pub target: Vec<i64>,
    /// `[B·L]` `(ln(1 + Δt) − mean) / std` of the seconds from entering road t to entering
    /// road t + 1 (0 on padding).
    pub time_target: Vec<f32>,
    /// `[B·L]` raw Δt seconds (0 on padding), for MAPE.
    pub dt_secs: Vec<f32>,
    /// Valid steps whose true next road was capped away.
    pub capped_targets: usize,
}

impl TrajBatch {
    /// Builds the batch (candidates computed in parallel; the result does not depend on the
    /// number of threads). Every sample needs at least two roads ([`super::prepare`]).
    pub fn build(net: &RoadNetwork, ctx: &RoadContext, samples: &[&Sample], norm: &TimeNorm) -> TrajBatch {
        assert!(!samples.is_empty(), "a batch needs at least one sample");
        assert!(samples.iter().all(|s| s.len() >= 2), "every sample needs at least two roads");
        let b = samples.len();
        let l = samples.iter().map(|s| s.steps()).max().unwrap();
        let cands: Vec<Vec<CandidateFeatures>> = samples
            .par_iter()
            .map(|s| {
                let dest = s.dest();
                s.roads[..s.steps()].iter().map(|&r| CandidateFeatures::new(net, r as usize, dest, MAX_CANDIDATES)).collect()
            })
            .collect();
        let k = cands.iter().flatten().map(CandidateFeatures::len).max().unwrap_or(0).max(1);
        let mut out = TrajBatch {
            b,
            l,
            k,
            roads: vec![0; b * l],
            minute: vec![0.0; b * l],
            weekend: vec![0.0; b * l],
            lonlat: vec![0.0; b * l * 2],
            secs: vec![0.0; b * l],
            valid: vec![false; b * l],
            dest_road: Vec::with_capacity(b),
            dest_zone: Vec::with_capacity(b),
            cand: vec![0; b * l * k],
            cand_mask: vec![false; b * l * k],
            cand_feat: vec![0.0; b * l * k * 2],
            target: vec![-1; b * l],
            time_target: vec![0.0; b * l],
            dt_secs: vec![0.0; b * l],
            capped_targets: 0,
        };
        for (i, (s, cs)) in samples.iter().zip(&cands).enumerate() {
            let dest = s.dest();
            out.dest_road.push(dest as i64);
            out.dest_zone.push(ctx.zone_of[dest]);
            let t0 = s.times[0];
            for (t, c) in cs.iter().enumerate() {
                let p = i * l + t;
                let r = s.roads[t] as usize;
                let time = s.times[t];
                out.roads[p] = r as i64;
                out.minute[p] = minute_of_day(time);
                out.weekend[p] = if is_weekend(time) { 1.0 } else { 0.0 };
                out.lonlat[2 * p] = ctx.centroids[r][0] as f32;
                out.lonlat[2 * p + 1] = ctx.centroids[r][1] as f32;
                out.secs[p] = (time - t0) as f32;
                out.valid[p] = true;
                for (j, (&cr, f)) in c.roads.iter().zip(&c.feats).enumerate() {
                    let q = p * k + j;
                    out.cand[q] = cr as i64;
                    out.cand_mask[q] = true;
                    out.cand_feat[2 * q] = f[0];
                    out.cand_feat[2 * q + 1] = f[1];
                }
                match c.position(s.roads[t + 1] as usize) {
                    Some(j) => out.target[p] = j as i64,
                    None => out.capped_targets += 1,
                }
                let dt = (s.times[t + 1] - time) as f64;
                out.dt_secs[p] = dt as f32;
                out.time_target[p] = norm.normalize(dt);
            }
        }
        out
    }

    /// Number of valid steps.
    pub fn num_valid(&self) -> usize {
        self.valid.iter().filter(|&&v| v).count()
    }
    /// Number of steps with a target (`target >= 0`).
    pub fn num_targets(&self) -> usize {
        self.target.iter().filter(|&&t| t >= 0).count()
    }
}
