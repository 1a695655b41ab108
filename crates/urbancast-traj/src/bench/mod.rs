//! Speed of route generation (`urbancast bench traj`): graph encoding, batched beam-search
//! throughput and next-step latency of the HOSER-style generator; [`kd`]: what cross-task
//! distillation costs per training step (`urbancast bench traj-kd`).
pub mod kd;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_roads::RoadNetwork;
use urbancast_roads::zones::{partition_zones, zone_transition_matrix};

use crate::bundle::load_bundle;
use crate::data::{MAX_CANDIDATES, RoadContext, TimeNorm, candidates};
use crate::generate::{BeamConfig, Generated, OdRequest, Query, StepScorer, Token, beam_search};
use crate::model::{Hoser, HoserConfig};
use crate::scorer::HoserScorer;

/// Monday 2015-11-02 00:00 UTC: random start times fall in the week after.
pub const WEEK_START: i64 = 1_446_422_400;

/// A generator to time: a trained one, or a random-init default-size one.
pub struct BenchModel {
    /// The model.
    pub model: Hoser,
    /// Its road context.
    pub ctx: RoadContext,
    /// Its time normalisation.
    pub time_norm: TimeNorm,
    /// What it is (the model folder, or "random-init default-size model").
    pub what: String,
}

impl BenchModel {
    /// The model folder `dir` (checked against `net`), or without it a random-init
    /// default-size model seeded with `seed` (at most `zones` METIS zones, one per 10 roads, no
    /// zone transitions).
    pub fn load_or_init(net: &RoadNetwork, dir: Option<&Path>, zones: usize, seed: u64, device: &Device) -> Result<Self> {
        if let Some(dir) = dir {
            let b = load_bundle(dir, net, device).with_context(|| format!("loading the model {}", dir.display()))?;
            return Ok(BenchModel { model: b.model, ctx: b.ctx, time_norm: b.meta.time_norm, what: dir.display().to_string() });
        }
        let k = zones.min(net.len() / 10).max(1);
        let zones = partition_zones(net, k, seed)?;
        let tr = zone_transition_matrix(&zones, net, &[])?;
        let ctx = RoadContext::new(net, &zones, &tr)?;
        let model = HoserConfig::new(ctx.num_roads, ctx.num_classes, ctx.num_zones).init_seeded(device, seed);
        Ok(BenchModel { model, ctx, time_norm: TimeNorm { mean: 3.0, std: 1.0 }, what: "random-init default-size model".into() })
    }
}

/// Throughput of one generation run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenFigures {
    /// Trajectories generated.
    pub trajectories: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Trajectories per second.
    pub trajectories_per_s: f64,
    /// Share that reached the destination.
    pub reached_share: f64,
    /// Mean roads per route.
    pub mean_roads: f64,
}

/// Beam search with `scorer` over `requests` in chunks of `batch`, timed.
pub fn time_generation<S: StepScorer>(net: &RoadNetwork, scorer: &S, requests: &[OdRequest], cfg: &BeamConfig, batch: usize) -> GenFigures {
    let t0 = Instant::now();
    let out: Vec<Generated> = requests.chunks(batch).flat_map(|c| beam_search(net, scorer, c, cfg)).collect();
    let secs = t0.elapsed().as_secs_f64();
    let n = out.len().max(1) as f64;
    GenFigures {
        trajectories: out.len(),
        seconds: secs,
        trajectories_per_s: out.len() as f64 / secs.max(1e-9),
        reached_share: out.iter().filter(|g| g.reached).count() as f64 / n,
        mean_roads: out.iter().map(Generated::len).sum::<usize>() as f64 / n,
    }
}

/// A walk of `len` roads from `origin` (successor choice by a seeded hash; restarts from the
/// next road when it hits a dead end or comes back to a road; `None` when no start works).
fn walk(net: &RoadNetwork, origin: usize, len: usize, seed: u64) -> Option<Vec<usize>> {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for k in 0..net.len() {
        let start = (origin + k) % net.len();
        let mut route = vec![start];
        while route.len() < len {
            let succ: Vec<u32> =
                net.successors(*route.last().unwrap()).iter().copied().filter(|s| !route.contains(&(*s as usize))).collect();
            if succ.is_empty() {
                break;
            }
            route.push(succ[(next() % succ.len() as u64) as usize] as usize);
        }
        if route.len() == len {
            return Some(route);
        }
    }
    None
}

/// Milliseconds per `score` and per `advance` call (means of `iters` calls) with `rows` rows
/// whose prefix has `p` roads (walks from the origins of `requests`).
pub fn step_latency(
    net: &RoadNetwork,
    scorer: &HoserScorer<'_>,
    requests: &[OdRequest],
    rows: usize,
    p: usize,
    iters: usize,
) -> Result<(f64, f64)> {
    let routes = (0..rows)
        .map(|i| walk(net, requests[i % requests.len()].origin, p + 1, i as u64))
        .collect::<Option<Vec<_>>>()
        .with_context(|| format!("no route of {} roads without repeats in network `{}`: lower --prefix", p + 1, net.name))?;
    let tok = |r: &Vec<usize>, t: usize| Token { road: r[t], time: WEEK_START + 20 * t as i64 };
    let mut state = scorer.begin(&routes.iter().map(|r| tok(r, 0)).collect::<Vec<_>>());
    let ident: Vec<usize> = (0..rows).collect();
    for t in 1..p {
        state = scorer.advance(state, &ident, &routes.iter().map(|r| tok(r, t)).collect::<Vec<_>>());
    }
    let cands: Vec<Vec<u32>> = routes.iter().map(|r| candidates(net, r[p - 1], r[p], MAX_CANDIDATES)).collect();
    let queries: Vec<Query<'_>> = routes
        .iter()
        .zip(&cands)
        .enumerate()
        .map(|(row, (r, c))| Query { row, current: r[p - 1], dest: r[p], time: tok(r, p - 1).time, candidates: c })
        .collect();
    let next: Vec<Token> = routes.iter().map(|r| tok(r, p)).collect();
    let _ = scorer.score(&state, &queries);
    let t0 = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(scorer.score(&state, &queries));
    }
    let score_ms = t0.elapsed().as_secs_f64() * 1e3 / iters as f64;
    let t0 = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(scorer.advance(state.clone(), &ident, &next));
    }
    Ok((score_ms, t0.elapsed().as_secs_f64() * 1e3 / iters as f64))
}
