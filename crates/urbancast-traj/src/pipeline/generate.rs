//! Generating routes with a trained generator (`urbancast traj generate`): OD requests from a
//! CSV file or sampled, with their start times, from real trajectories (HOSER's protocol),
//! batched beam search or best-first search, and a summary of the run.
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_roads::io::read_hoser_csv;
use urbancast_roads::{RoadNetwork, Trajectory};

use crate::bundle::Bundle;
use crate::data::MAX_CANDIDATES;
use crate::generate::{BeamConfig, BestFirstConfig, Generated, OdRequest, beam_search, best_first};
use crate::od::{OdSample, OdSource, read_od_csv, sample_ods, to_requests};
use crate::scorer::HoserScorer;

/// The search that decodes routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Search {
    /// Batched beam search (all live beams of a chunk of requests scored together).
    Beam,
    /// HOSER's best-first search (one request and one row at a time; slow).
    BestFirst,
}

/// Where the OD requests come from.
#[derive(Debug, Clone)]
pub enum OdInput {
    /// A CSV file with the columns origin_id,destination_id,start_time.
    File(PathBuf),
    /// ODs with their start times sampled (uniformly, with replacement) from trajectories.
    Sample {
        /// How many.
        n: usize,
        /// HOSER CSV to sample from.
        from: PathBuf,
        /// Seed of the sampling.
        seed: u64,
    },
}

/// OD requests ready to decode.
#[derive(Debug, Clone)]
pub struct Requests {
    /// The requests, in order.
    pub requests: Vec<OdRequest>,
    /// With [`OdInput::Sample`]: the sampled real trajectories, ids `real-<i>`, in the same
    /// order.
    pub real: Option<Vec<Trajectory>>,
    /// The file they come from.
    pub source: String,
}

impl OdInput {
    /// Reads or samples the requests and maps them onto `net`. Fails when there is none.
    pub fn requests(&self, net: &RoadNetwork) -> Result<Requests> {
        let (ods, real, source): (Vec<OdSample>, Option<Vec<Trajectory>>, String) = match self {
            OdInput::File(p) => (read_od_csv(p)?, None, p.display().to_string()),
            OdInput::Sample { n, from, seed } => {
                if *n == 0 {
                    bail!("--sample must be at least 1");
                }
                let trajs = read_hoser_csv(from).with_context(|| format!("reading trajectories to sample ODs from: {}", from.display()))?;
                let ods = sample_ods(&trajs, *n, *seed).with_context(|| format!("sampling ODs from {}", from.display()))?;
                let real = ods
                    .iter()
                    .enumerate()
                    .map(|(k, o)| {
                        let OdSource::Trajectory(i) = o.source else { unreachable!("sampled ODs name their trajectory") };
                        Trajectory { id: Some(format!("real-{k}")), ..trajs[i].clone() }
                    })
                    .collect();
                (ods, Some(real), from.display().to_string())
            }
        };
        if ods.is_empty() {
            bail!("{source}: no OD requests");
        }
        let requests = to_requests(net, &ods).with_context(|| format!("OD requests from {source}"))?;
        Ok(Requests { requests, real, source })
    }
}

/// Search settings of [`generate_routes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Which search.
    pub search: Search,
    /// Beam width (beam search).
    pub beam: usize,
    /// Most roads per route, origin included.
    pub max_len: usize,
    /// Requests decoded together per chunk (beam search).
    pub batch: usize,
    /// Most expansions per request (best-first).
    pub max_expansions: usize,
}

impl SearchConfig {
    /// Fails unless the beam width, the route length and the chunk size are at least 1.
    pub fn validate(&self) -> Result<()> {
        if self.beam == 0 || self.max_len == 0 || self.batch == 0 {
            bail!("--beam, --max-len and --batch must be at least 1");
        }
        Ok(())
    }
}

/// The routes of [`generate_routes`] and what they cost.
#[derive(Debug, Clone)]
pub struct GeneratedRoutes {
    /// One route per request, in order.
    pub routes: Vec<Generated>,
    /// Seconds of search.
    pub seconds: f64,
    /// Milliseconds of the graph encoding (once per model).
    pub graph_encoding_ms: f64,
}

/// Decodes a route for every request with the generator of `bundle` on `device`; `progress`
/// gets the number of requests done after every chunk.
pub fn generate_routes(
    net: &RoadNetwork,
    bundle: &Bundle,
    requests: &[OdRequest],
    cfg: &SearchConfig,
    device: &Device,
    progress: impl Fn(usize),
) -> Result<GeneratedRoutes> {
    cfg.validate()?;
    let scorer = HoserScorer::new(net, &bundle.model, &bundle.ctx, bundle.meta.time_norm, device)?;
    let t0 = Instant::now();
    let mut out: Vec<Generated> = Vec::with_capacity(requests.len());
    match cfg.search {
        Search::Beam => {
            let bc = BeamConfig { width: cfg.beam, max_len: cfg.max_len, cap: MAX_CANDIDATES, ..BeamConfig::default() };
            for chunk in requests.chunks(cfg.batch) {
                out.extend(beam_search(net, &scorer, chunk, &bc));
                progress(out.len());
            }
        }
        Search::BestFirst => {
            let bc = BestFirstConfig {
                max_expansions: cfg.max_expansions,
                max_len: cfg.max_len,
                cap: MAX_CANDIDATES,
                ..BestFirstConfig::default()
            };
            for r in requests {
                out.extend(best_first(net, &scorer, std::slice::from_ref(r), &bc));
                progress(out.len());
            }
        }
    }
    Ok(GeneratedRoutes { routes: out, seconds: t0.elapsed().as_secs_f64(), graph_encoding_ms: scorer.encode_secs() * 1e3 })
}

/// The summary of a generation run (`<stem>.summary.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerateSummary {
    /// Routes generated.
    pub n: usize,
    /// Routes that reached the destination.
    pub reached: usize,
    /// Share that reached the destination.
    pub reached_share: f64,
    /// Mean roads per route.
    pub mean_roads: f64,
    /// Mean duration per route, seconds.
    pub mean_duration_s: f64,
    /// Seconds of search.
    pub seconds: f64,
    /// Routes per second.
    pub trajectories_per_s: f64,
    /// Milliseconds of the graph encoding.
    pub graph_encoding_ms: f64,
    /// Which search.
    pub search: Search,
    /// Beam width.
    pub beam: usize,
    /// Most roads per route.
    pub max_len: usize,
    /// Requests per chunk.
    pub batch: usize,
    /// The model folder.
    pub model: String,
    /// The network's name.
    pub network: String,
    /// Where the requests come from.
    pub od_source: String,
    /// Seed of the OD sampling.
    pub seed: u64,
}

impl GenerateSummary {
    /// The summary of `g` made with `cfg` by the model in `model` on `net`.
    pub fn new(g: &GeneratedRoutes, cfg: &SearchConfig, model: &Path, net: &RoadNetwork, od_source: &str, seed: u64) -> Self {
        let out = &g.routes;
        let n = out.len();
        let reached = out.iter().filter(|g| g.reached).count();
        GenerateSummary {
            n,
            reached,
            reached_share: reached as f64 / n as f64,
            mean_roads: out.iter().map(Generated::len).sum::<usize>() as f64 / n as f64,
            mean_duration_s: out.iter().map(|g| g.duration_s() as f64).sum::<f64>() / n as f64,
            seconds: g.seconds,
            trajectories_per_s: n as f64 / g.seconds.max(1e-9),
            graph_encoding_ms: g.graph_encoding_ms,
            search: cfg.search,
            beam: cfg.beam,
            max_len: cfg.max_len,
            batch: cfg.batch,
            model: model.display().to_string(),
            network: net.name.clone(),
            od_source: od_source.to_string(),
            seed,
        }
    }
}
