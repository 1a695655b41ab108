//! `urbancast bench traj`: speed of route generation with the HOSER-style generator — graph
//! encoding (once per model), batched beam-search throughput, next-step latency — and the
//! throughput of the non-learned `DistanceScorer` as a reference (`urbancast_traj::bench`).
use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::tensor::Device;
use serde_json::json;
use urbancast_eval::write_json;
use urbancast_traj::bench::{BenchModel, WEEK_START, step_latency, time_generation};
use urbancast_traj::data::MAX_CANDIDATES;
use urbancast_traj::generate::{BeamConfig, DistanceScorer};
use urbancast_traj::od::random_walk_ods;
use urbancast_traj::scorer::HoserScorer;

use crate::traj::common::NetworkArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
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

pub fn run(a: Args) -> Result<()> {
    if a.requests == 0 || a.beam == 0 || a.batch == 0 || a.max_len < 2 || a.iters == 0 || a.prefix == 0 || a.zones == 0 {
        bail!("--requests, --beam, --batch, --iters, --prefix and --zones must be at least 1, --max-len at least 2");
    }
    let net = a.net.load()?;
    let device = Device::flex();
    let m = BenchModel::load_or_init(&net, a.model.as_deref(), a.zones, a.seed, &device)?;
    outln!("network `{}`: {} roads, {} zones; {}: {} parameters", net.name, net.len(), m.ctx.num_zones, m.what, m.model.num_params())?;

    let scorer = HoserScorer::new(&net, &m.model, &m.ctx, m.time_norm, &device)?;
    let encode_first_ms = scorer.encode_secs() * 1e3;
    let encode_ms = HoserScorer::new(&net, &m.model, &m.ctx, m.time_norm, &device)?.encode_secs() * 1e3;
    outln!("graph encoding (once per model): {encode_ms:.1} ms (first call {encode_first_ms:.1} ms)")?;

    let requests = random_walk_ods(&net, a.requests, 20, 80, WEEK_START, a.seed);
    let cfg = BeamConfig { width: a.beam, max_len: a.max_len, cap: MAX_CANDIDATES, ..BeamConfig::default() };
    let warm = random_walk_ods(&net, a.warmup, 20, 80, WEEK_START, a.seed + 1);
    let _ = time_generation(&net, &scorer, &warm, &cfg, a.batch);
    let hoser = time_generation(&net, &scorer, &requests, &cfg, a.batch);
    outln!(
        "HOSER beam {} (batch {}): {} trajectories in {:.2} s = {:.2} trajectories/s; reached {:.1} %, mean route length {:.1} roads",
        a.beam,
        a.batch,
        hoser.trajectories,
        hoser.seconds,
        hoser.trajectories_per_s,
        100.0 * hoser.reached_share,
        hoser.mean_roads
    )?;

    let mut lat = Vec::new();
    for rows in [1, a.batch] {
        let (s, adv) = step_latency(&net, &scorer, &requests, rows, a.prefix, a.iters)?;
        outln!(
            "next-step latency, {rows} row(s), prefix {}: score {s:.2} ms, advance {adv:.2} ms ({:.3} ms per row-step)",
            a.prefix,
            (s + adv) / rows as f64
        )?;
        lat.push(json!({ "rows": rows, "prefix": a.prefix, "score_ms": s, "advance_ms": adv }));
    }

    let dist = DistanceScorer::new(&net);
    let _ = time_generation(&net, &dist, &warm, &cfg, a.batch);
    let reference = time_generation(&net, &dist, &requests, &cfg, a.batch);
    outln!(
        "DistanceScorer beam {} (non-learned reference): {:.1} trajectories/s; reached {:.1} %, mean route length {:.1} roads",
        a.beam,
        reference.trajectories_per_s,
        100.0 * reference.reached_share,
        reference.mean_roads
    )?;

    if let Some(p) = &a.json {
        let v = json!({
            "network": net.name, "roads": net.len(), "zones": m.ctx.num_zones, "model": m.what,
            "parameters": m.model.num_params(), "beam": a.beam, "batch": a.batch, "max_len": a.max_len,
            "requests": a.requests, "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "graph_encoding_ms": encode_ms, "graph_encoding_first_ms": encode_first_ms,
            "hoser": hoser, "next_step_latency": lat, "distance_scorer": reference,
        });
        write_json(p, &v)?;
        eprintln!("figures written to {}", p.display());
    }
    Ok(())
}
