//! Trajectories as road-index sequences ([`Sample`]) and the travel-time normalisation.
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use urbancast_roads::{RoadNetwork, Trajectory};

use super::candidates::{MAX_CANDIDATES, candidates};
use super::context::RoadContext;

/// One usable trajectory: at least two roads, every road a successor of the previous one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The trajectory's id; a piece of a split trajectory gets `"<id>#<piece>"`.
    pub id: Option<String>,
    /// Road indices of the network (not user ids).
    pub roads: Vec<u32>,
    /// Unix seconds (UTC) at which each road was entered.
    pub times: Vec<i64>,
}

impl Sample {
    /// Number of roads.
    pub fn len(&self) -> usize {
        self.roads.len()
    }
    /// True when the sample has no road (never for a prepared sample).
    pub fn is_empty(&self) -> bool {
        self.roads.is_empty()
    }
    /// Prediction steps: `len − 1` (step `t` predicts road `t + 1` from roads `..=t`).
    pub fn steps(&self) -> usize {
        self.roads.len().saturating_sub(1)
    }
    /// Destination road index (the last road).
    pub fn dest(&self) -> usize {
        *self.roads.last().expect("a sample has roads") as usize
    }
    /// Origin road index (the first road).
    pub fn origin(&self) -> usize {
        self.roads[0] as usize
    }
}

/// What to do with a trajectory in which a road is not a successor of the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BrokenPolicy {
    /// Cut it at every broken transition and keep the pieces of two roads or more (each
    /// piece is its own sample, with its own destination).
    #[default]
    Split,
    /// Drop the whole trajectory.
    Drop,
}

/// What [`prepare`] kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrepareReport {
    /// Trajectories read.
    pub input: usize,
    /// Samples produced.
    pub samples: usize,
    /// Trajectories with fewer than two roads (after collapsing repeats).
    pub too_short: usize,
    /// Consecutive repeats of one road (not its own successor) merged into the first entry.
    pub collapsed_repeats: usize,
    /// Transitions `a → b` with `b ∉ successors(a)`.
    pub broken_transitions: usize,
    /// Trajectories with at least one broken transition.
    pub broken_trajectories: usize,
    /// Pieces of split trajectories dropped for having a single road.
    pub short_pieces: usize,
    /// Prediction steps over all samples.
    pub steps: usize,
    /// Steps whose true next road is not among the [`MAX_CANDIDATES`] kept candidates
    /// (their batch target is −1).
    pub capped_steps: usize,
}

/// [`prepare_with`] with [`BrokenPolicy::Split`].
pub fn prepare(net: &RoadNetwork, ctx: &RoadContext, trajs: &[Trajectory]) -> Result<(Vec<Sample>, PrepareReport)> {
    prepare_with(net, ctx, trajs, BrokenPolicy::Split)
}

/// Converts trajectories to samples, in input order:
/// 1. an invalid trajectory (lengths differ, time going back) or an unknown road id is an
///    error naming the trajectory (id and input position) and the road position;
/// 2. consecutive repeats of a road that is not its own successor are merged (the first
///    entry time is kept);
/// 3. broken transitions (next road not a successor) are handled by `policy`;
/// 4. sequences with fewer than two roads are dropped.
pub fn prepare_with(
    net: &RoadNetwork,
    ctx: &RoadContext,
    trajs: &[Trajectory],
    policy: BrokenPolicy,
) -> Result<(Vec<Sample>, PrepareReport)> {
    if ctx.num_roads != net.len() {
        bail!("road context has {} roads but network `{}` has {}", ctx.num_roads, net.name, net.len());
    }
    let mut rep = PrepareReport { input: trajs.len(), ..Default::default() };
    let mut out = Vec::with_capacity(trajs.len());
    for (n, t) in trajs.iter().enumerate() {
        let name = || format!("trajectory {} (#{n})", t.id.as_deref().unwrap_or("<no id>"));
        t.validate().with_context(name)?;
        let ix = net.indices_of(&t.roads).with_context(name)?;
        let mut roads: Vec<u32> = Vec::with_capacity(ix.len());
        let mut times: Vec<i64> = Vec::with_capacity(ix.len());
        for (&r, &time) in ix.iter().zip(&t.times) {
            if let Some(&p) = roads.last()
                && p as usize == r
                && !net.successors(r).contains(&(r as u32))
            {
                rep.collapsed_repeats += 1;
                continue;
            }
            roads.push(r as u32);
            times.push(time);
        }
        if roads.len() < 2 {
            rep.too_short += 1;
            continue;
        }
        let cuts: Vec<usize> = (1..roads.len()).filter(|&k| !net.successors(roads[k - 1] as usize).contains(&roads[k])).collect();
        if cuts.is_empty() {
            out.push(Sample { id: t.id.clone(), roads, times });
            continue;
        }
        rep.broken_transitions += cuts.len();
        rep.broken_trajectories += 1;
        if policy == BrokenPolicy::Drop {
            continue;
        }
        let bounds: Vec<usize> = std::iter::once(0).chain(cuts).chain(std::iter::once(roads.len())).collect();
        for (piece, w) in bounds.windows(2).enumerate() {
            if w[1] - w[0] < 2 {
                rep.short_pieces += 1;
                continue;
            }
            let id = Some(format!("{}#{piece}", t.id.as_deref().unwrap_or("")));
            out.push(Sample { id, roads: roads[w[0]..w[1]].to_vec(), times: times[w[0]..w[1]].to_vec() });
        }
    }
    rep.samples = out.len();
    for s in &out {
        rep.steps += s.steps();
        let dest = s.dest();
        for w in s.roads.windows(2) {
            if net.successors(w[0] as usize).len() > MAX_CANDIDATES && !candidates(net, w[0] as usize, dest, MAX_CANDIDATES).contains(&w[1])
            {
                rep.capped_steps += 1;
            }
        }
    }
    Ok((out, rep))
}

/// Normalisation of travel times: `z = (ln(1 + Δt) − mean) / std`, `Δt` the seconds from
/// entering a road to entering the next (HOSER's `timestamp_label` and its log1p stats).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeNorm {
    /// Mean of `ln(1 + Δt)` over the training transitions.
    pub mean: f64,
    /// Population standard deviation of `ln(1 + Δt)` (1 when it would be 0).
    pub std: f64,
}

impl TimeNorm {
    /// Fits on every transition of `samples` (population std as HOSER's `np.std`; no
    /// transition gives mean 0, std 1; a zero std becomes 1).
    pub fn fit(samples: &[Sample]) -> TimeNorm {
        let (mut n, mut s, mut s2) = (0usize, 0.0f64, 0.0f64);
        for x in samples.iter().flat_map(|s| s.times.windows(2).map(|w| ((w[1] - w[0]).max(0) as f64).ln_1p())) {
            n += 1;
            s += x;
            s2 += x * x;
        }
        if n == 0 {
            return TimeNorm { mean: 0.0, std: 1.0 };
        }
        let mean = s / n as f64;
        let std = (s2 / n as f64 - mean * mean).max(0.0).sqrt();
        TimeNorm { mean, std: if std > 1e-12 { std } else { 1.0 } }
    }
    /// Seconds → normalised target.
    pub fn normalize(&self, dt_secs: f64) -> f32 {
        ((dt_secs.max(0.0).ln_1p() - self.mean) / self.std) as f32
    }
    /// Normalised value → seconds (`expm1`, clamped at 0).
    pub fn denormalize(&self, z: f64) -> f64 {
        (z * self.std + self.mean).exp_m1().max(0.0)
    }
}

/// Minute of the day (UTC, fractional: `h·60 + m + s/60`) of a Unix time, in `[0, 1440)`.
pub fn minute_of_day(t: i64) -> f32 {
    (t.rem_euclid(86_400) as f64 / 60.0) as f32
}

/// Whether a Unix time (UTC) falls on a Saturday or Sunday.
pub fn is_weekend(t: i64) -> bool {
    // 1970-01-01 was a Thursday: Monday = 0 gives (days + 3) mod 7.
    (t.div_euclid(86_400) + 3).rem_euclid(7) >= 5
}
