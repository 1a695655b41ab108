//! `urbancast bench traj`: speed of route generation with the HOSER-style generator — graph
//! encoding (once per model), batched beam-search throughput, next-step latency — and the
//! throughput of the non-learned `DistanceScorer` as a reference.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde_json::json;
use urbancast_roads::RoadNetwork;
use urbancast_roads::readers::read_network_auto;
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};
use urbancast_roads::zones::{partition_zones, zone_transition_matrix};
use urbancast_traj::bundle::load_bundle;
use urbancast_traj::data::{MAX_CANDIDATES, RoadContext, TimeNorm, candidates};
use urbancast_traj::generate::{BeamConfig, DistanceScorer, Generated, OdRequest, Query, StepScorer, Token, beam_search};
use urbancast_traj::model::{Hoser, HoserConfig};
use urbancast_traj::od::random_walk_ods;
use urbancast_traj::scorer::HoserScorer;

/// Monday 2015-11-02 00:00 UTC: random start times fall in the week after.
const WEEK_START: i64 = 1_446_422_400;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Road network: HOSER/LibCity folder, OSM edges.csv (or folder), shapefile, or
    /// `synthetic` (typical use: the Porto network).
    #[arg(long, default_value = "synthetic")]
    pub network: String,
    /// Seed of the synthetic city.
    #[arg(long, default_value_t = 7)]
    pub network_seed: u64,
    /// Trained model folder; without it a random-init default-size model (zones from METIS,
    /// no zone transitions).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Most zones of the random-init model (fewer on small networks: one per 10 roads).
    #[arg(long, default_value_t = 300)]
    pub zones: usize,
    /// OD requests to generate (random reachable pairs: destination = end of a random walk of
    /// 20–80 roads from the origin).
    #[arg(long, default_value_t = 512)]
    pub requests: usize,
    #[arg(long, default_value_t = 4)]
    pub beam: usize,
    /// Requests decoded together per chunk.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    #[arg(long, default_value_t = 256)]
    pub max_len: usize,
    /// Requests generated before timing.
    #[arg(long, default_value_t = 8)]
    pub warmup: usize,
    /// Timed calls per latency figure.
    #[arg(long, default_value_t = 20)]
    pub iters: usize,
    /// Positions already decoded when the next-step latency is timed.
    #[arg(long, default_value_t = 20)]
    pub prefix: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn load_network(a: &Args) -> Result<RoadNetwork> {
    if a.network == "synthetic" {
        return Ok(synthetic_city(&SyntheticCityConfig { seed: a.network_seed, ..Default::default() })?);
    }
    read_network_auto(&a.network).with_context(|| format!("reading the road network {}", a.network))
}

/// Generation with `scorer` over `requests` in chunks: (results, seconds).
fn generate<S: StepScorer>(net: &RoadNetwork, scorer: &S, requests: &[OdRequest], cfg: &BeamConfig, batch: usize) -> (Vec<Generated>, f64) {
    let t0 = Instant::now();
    let out: Vec<Generated> = requests.chunks(batch).flat_map(|c| beam_search(net, scorer, c, cfg)).collect();
    (out, t0.elapsed().as_secs_f64())
}

fn figures(out: &[Generated], secs: f64) -> serde_json::Value {
    let n = out.len().max(1) as f64;
    json!({
        "trajectories": out.len(),
        "seconds": secs,
        "trajectories_per_s": out.len() as f64 / secs.max(1e-9),
        "reached_share": out.iter().filter(|g| g.reached).count() as f64 / n,
        "mean_roads": out.iter().map(Generated::len).sum::<usize>() as f64 / n,
    })
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
            let succ: Vec<u32> = net.successors(*route.last().unwrap()).iter().copied().filter(|s| !route.contains(&(*s as usize))).collect();
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

/// Milliseconds per `score` and per `advance` call with `rows` rows whose prefix has `p` roads.
fn latency(net: &RoadNetwork, scorer: &HoserScorer<'_>, requests: &[OdRequest], rows: usize, p: usize, iters: usize) -> Result<(f64, f64)> {
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

pub fn run(a: Args) -> Result<()> {
    if a.requests == 0 || a.beam == 0 || a.batch == 0 || a.max_len < 2 || a.iters == 0 || a.prefix == 0 || a.zones == 0 {
        bail!("--requests, --beam, --batch, --iters, --prefix and --zones must be at least 1, --max-len at least 2");
    }
    let net = load_network(&a)?;
    let device = Device::flex();
    let (model, ctx, time_norm, what): (Hoser, RoadContext, TimeNorm, String) = match &a.model {
        Some(dir) => {
            let b = load_bundle(dir, &net, &device).with_context(|| format!("loading the model {}", dir.display()))?;
            (b.model, b.ctx, b.meta.time_norm, dir.display().to_string())
        }
        None => {
            let k = a.zones.min(net.len() / 10).max(1);
            let zones = partition_zones(&net, k, a.seed)?;
            let tr = zone_transition_matrix(&zones, &net, &[])?;
            let ctx = RoadContext::new(&net, &zones, &tr)?;
            let model = HoserConfig::new(ctx.num_roads, ctx.num_classes, ctx.num_zones).init_seeded(&device, a.seed);
            (model, ctx, TimeNorm { mean: 3.0, std: 1.0 }, "random-init default-size model".into())
        }
    };
    println!("network `{}`: {} roads, {} zones; {what}: {} parameters", net.name, net.len(), ctx.num_zones, model.num_params());

    let scorer = HoserScorer::new(&net, &model, &ctx, time_norm, &device)?;
    let encode_first_ms = scorer.encode_secs() * 1e3;
    let encode_ms = HoserScorer::new(&net, &model, &ctx, time_norm, &device)?.encode_secs() * 1e3;
    println!("graph encoding (once per model): {encode_ms:.1} ms (first call {encode_first_ms:.1} ms)");

    let requests = random_walk_ods(&net, a.requests, 20, 80, WEEK_START, a.seed);
    let cfg = BeamConfig { width: a.beam, max_len: a.max_len, cap: MAX_CANDIDATES, ..BeamConfig::default() };
    let warm = random_walk_ods(&net, a.warmup, 20, 80, WEEK_START, a.seed + 1);
    let _ = generate(&net, &scorer, &warm, &cfg, a.batch);
    let (out, secs) = generate(&net, &scorer, &requests, &cfg, a.batch);
    let hoser = figures(&out, secs);
    println!(
        "HOSER beam {} (batch {}): {} trajectories in {secs:.2} s = {:.2} trajectories/s; reached {:.1} %, mean route length {:.1} roads",
        a.beam,
        a.batch,
        out.len(),
        hoser["trajectories_per_s"].as_f64().unwrap(),
        100.0 * hoser["reached_share"].as_f64().unwrap(),
        hoser["mean_roads"].as_f64().unwrap()
    );

    let mut lat = Vec::new();
    for rows in [1, a.batch] {
        let (s, adv) = latency(&net, &scorer, &requests, rows, a.prefix, a.iters)?;
        println!(
            "next-step latency, {rows} row(s), prefix {}: score {s:.2} ms, advance {adv:.2} ms ({:.3} ms per row-step)",
            a.prefix,
            (s + adv) / rows as f64
        );
        lat.push(json!({ "rows": rows, "prefix": a.prefix, "score_ms": s, "advance_ms": adv }));
    }

    let dist = DistanceScorer::new(&net);
    let _ = generate(&net, &dist, &warm, &cfg, a.batch);
    let (dout, dsecs) = generate(&net, &dist, &requests, &cfg, a.batch);
    let reference = figures(&dout, dsecs);
    println!(
        "DistanceScorer beam {} (non-learned reference): {:.1} trajectories/s; reached {:.1} %, mean route length {:.1} roads",
        a.beam,
        reference["trajectories_per_s"].as_f64().unwrap(),
        100.0 * reference["reached_share"].as_f64().unwrap(),
        reference["mean_roads"].as_f64().unwrap()
    );

    if let Some(p) = &a.json {
        let v = json!({
            "network": net.name, "roads": net.len(), "zones": ctx.num_zones, "model": what,
            "parameters": model.num_params(), "beam": a.beam, "batch": a.batch, "max_len": a.max_len,
            "requests": a.requests, "threads": threads(),
            "graph_encoding_ms": encode_ms, "graph_encoding_first_ms": encode_first_ms,
            "hoser": hoser, "next_step_latency": lat, "distance_scorer": reference,
        });
        std::fs::write(p, serde_json::to_string_pretty(&v)?).with_context(|| format!("writing {}", p.display()))?;
        eprintln!("figures written to {}", p.display());
    }
    Ok(())
}

fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
