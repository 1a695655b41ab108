//! `urbancast traj generate`: routes from a trained generator (a model folder written by
//! `urbancast traj train`) for OD requests read from a CSV file or sampled, with their start
//! times, from real trajectories (HOSER's protocol).
//!
//! Writes the generated trajectories (HOSER CSV, ids `gen-<i>`), with `--sample` also
//! `<stem>.real.csv` (the sampled real trajectories, ids `real-<i>`, in the same order), and
//! `<stem>.summary.json`. Compare with
//! `urbancast traj eval --real gen.real.csv --generated gen.csv --train <model>/train.csv`.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::Serialize;
use urbancast_roads::Trajectory;
use urbancast_roads::io::{read_hoser_csv, write_hoser_csv};
use urbancast_traj::bundle::load_bundle;
use urbancast_traj::data::MAX_CANDIDATES;
use urbancast_traj::generate::{BeamConfig, BestFirstConfig, Generated, beam_search, best_first, to_trajectory};
use urbancast_traj::od::{OdSample, OdSource, read_od_csv, sample_ods, to_requests};
use urbancast_traj::scorer::HoserScorer;
use urbancast_eval::write_json;

use super::common::{NetworkArg, bar, sibling};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Search {
    /// Batched beam search (all live beams of a chunk of requests scored together).
    Beam,
    /// HOSER's best-first search (one request and one row at a time; slow).
    BestFirst,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub net: NetworkArg,
    /// Model folder (model.bpk, context.json, meta.json) written by `urbancast traj train`.
    #[arg(long)]
    pub model: PathBuf,
    /// OD requests: CSV with the columns origin_id,destination_id,start_time (road ids of the
    /// network; Unix seconds or %Y-%m-%dT%H:%M:%SZ).
    #[arg(long, conflicts_with_all = ["sample", "from"], required_unless_present = "sample")]
    pub od: Option<PathBuf>,
    /// Sample N OD requests with their start times (uniformly, with replacement) from the
    /// trajectories of --from, as HOSER does.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// HOSER CSV to sample ODs and start times from [default: <model>/train.csv]; use
    /// <model>/test.csv for ODs the model has not seen.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Beam width (beam search).
    #[arg(long, default_value_t = 4)]
    pub beam: usize,
    #[arg(long, value_enum, default_value_t = Search::Beam)]
    pub search: Search,
    /// Most roads per route, origin included.
    #[arg(long, default_value_t = 256)]
    pub max_len: usize,
    /// Requests decoded together per chunk (beam search).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Most expansions per request (best-first; HOSER: 5000).
    #[arg(long, default_value_t = 5000)]
    pub max_expansions: usize,
    /// Seed of the OD sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output HOSER CSV.
    #[arg(long, default_value = "gen.csv")]
    pub out: PathBuf,
}

#[derive(Serialize)]
struct Summary {
    n: usize,
    reached: usize,
    reached_share: f64,
    mean_roads: f64,
    mean_duration_s: f64,
    seconds: f64,
    trajectories_per_s: f64,
    graph_encoding_ms: f64,
    search: Search,
    beam: usize,
    max_len: usize,
    batch: usize,
    model: String,
    network: String,
    od_source: String,
    seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    if a.beam == 0 || a.max_len == 0 || a.batch == 0 {
        bail!("--beam, --max-len and --batch must be at least 1");
    }
    let net = a.net.load()?;
    let device = Device::flex();
    let bundle = load_bundle(&a.model, &net, &device)?;

    let (ods, real, od_source): (Vec<OdSample>, Option<Vec<Trajectory>>, String) = match (&a.od, a.sample) {
        (Some(p), _) => (read_od_csv(p)?, None, p.display().to_string()),
        (None, Some(n)) => {
            if n == 0 {
                bail!("--sample must be at least 1");
            }
            let from = a.from.clone().unwrap_or_else(|| a.model.join("train.csv"));
            let trajs = read_hoser_csv(&from).with_context(|| format!("reading trajectories to sample ODs from: {}", from.display()))?;
            let ods = sample_ods(&trajs, n, a.seed).with_context(|| format!("sampling ODs from {}", from.display()))?;
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
        (None, None) => bail!("give --od CSV or --sample N"),
    };
    if ods.is_empty() {
        bail!("{od_source}: no OD requests");
    }
    let requests = to_requests(&net, &ods).with_context(|| format!("OD requests from {od_source}"))?;

    let scorer = HoserScorer::new(&net, &bundle.model, &bundle.ctx, bundle.meta.time_norm, &device)?;
    let t0 = Instant::now();
    let pb = bar(requests.len() as u64, "generating");
    let mut out: Vec<Generated> = Vec::with_capacity(requests.len());
    match a.search {
        Search::Beam => {
            let cfg = BeamConfig { width: a.beam, max_len: a.max_len, cap: MAX_CANDIDATES, ..BeamConfig::default() };
            for chunk in requests.chunks(a.batch) {
                out.extend(beam_search(&net, &scorer, chunk, &cfg));
                pb.inc(chunk.len() as u64);
            }
        }
        Search::BestFirst => {
            let cfg = BestFirstConfig { max_expansions: a.max_expansions, max_len: a.max_len, cap: MAX_CANDIDATES, ..BestFirstConfig::default() };
            for r in &requests {
                out.extend(best_first(&net, &scorer, std::slice::from_ref(r), &cfg));
                pb.inc(1);
            }
        }
    }
    pb.finish_and_clear();
    let seconds = t0.elapsed().as_secs_f64();

    let trajs: Vec<Trajectory> = out.iter().enumerate().map(|(i, g)| to_trajectory(&net, g, format!("gen-{i}"))).collect();
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_hoser_csv(&a.out, &trajs).with_context(|| format!("writing {}", a.out.display()))?;
    let real_path = sibling(&a.out, "real.csv");
    if let Some(real) = &real {
        write_hoser_csv(&real_path, real).with_context(|| format!("writing {}", real_path.display()))?;
    }
    let n = out.len();
    let reached = out.iter().filter(|g| g.reached).count();
    let summary = Summary {
        n,
        reached,
        reached_share: reached as f64 / n as f64,
        mean_roads: out.iter().map(Generated::len).sum::<usize>() as f64 / n as f64,
        mean_duration_s: out.iter().map(|g| g.duration_s() as f64).sum::<f64>() / n as f64,
        seconds,
        trajectories_per_s: n as f64 / seconds.max(1e-9),
        graph_encoding_ms: scorer.encode_secs() * 1e3,
        search: a.search,
        beam: a.beam,
        max_len: a.max_len,
        batch: a.batch,
        model: a.model.display().to_string(),
        network: net.name.clone(),
        od_source,
        seed: a.seed,
    };
    let summary_path = sibling(&a.out, "summary.json");
    write_json(&summary_path, &summary)?;
    println!(
        "{n} trajectories in {seconds:.2} s ({:.1}/s, graph encoding {:.0} ms): {reached} reached the destination ({:.1} %), mean {:.1} roads, {:.0} s",
        summary.trajectories_per_s,
        summary.graph_encoding_ms,
        100.0 * summary.reached_share,
        summary.mean_roads,
        summary.mean_duration_s
    );
    println!("wrote {}{} and {}", a.out.display(), if real.is_some() { format!(", {}", real_path.display()) } else { String::new() }, summary_path.display());
    Ok(())
}
