//! `urbancast traj generate`: routes from a trained generator (a model folder written by
//! `urbancast traj train`) for OD requests read from a CSV file or sampled, with their start
//! times, from real trajectories (HOSER's protocol).
//!
//! Writes the generated trajectories (HOSER CSV, ids `gen-<i>`), with `--sample` also
//! `<stem>.real.csv` (the sampled real trajectories, ids `real-<i>`, in the same order), and
//! `<stem>.summary.json`. Compare with
//! `urbancast traj eval --real gen.real.csv --generated gen.csv --train <model>/train.csv`.
//! The protocol is `urbancast_traj::pipeline::generate`.
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use urbancast_eval::write_json;
use urbancast_roads::Trajectory;
use urbancast_roads::io::write_hoser_csv;
use urbancast_traj::bundle::load_bundle;
use urbancast_traj::generate::to_trajectory;
use urbancast_traj::pipeline::generate::{GenerateSummary, OdInput, Search, SearchConfig, generate_routes};

use super::common::{NetworkArg, bar, sibling};

/// `--search`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchArg {
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
    #[arg(long, value_enum, default_value_t = SearchArg::Beam)]
    pub search: SearchArg,
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

pub fn run(a: Args) -> Result<()> {
    let search = if a.search == SearchArg::Beam { Search::Beam } else { Search::BestFirst };
    let cfg = SearchConfig { search, beam: a.beam, max_len: a.max_len, batch: a.batch, max_expansions: a.max_expansions };
    cfg.validate()?;
    let net = a.net.load()?;
    let device = Device::flex();
    let bundle = load_bundle(&a.model, &net, &device)?;
    let input = match (&a.od, a.sample) {
        (Some(p), _) => OdInput::File(p.clone()),
        (None, Some(n)) => OdInput::Sample { n, from: a.from.clone().unwrap_or_else(|| a.model.join("train.csv")), seed: a.seed },
        (None, None) => bail!("give --od CSV or --sample N"),
    };
    let req = input.requests(&net)?;
    let pb = bar(req.requests.len() as u64, "generating");
    let g = generate_routes(&net, &bundle, &req.requests, &cfg, &device, |n| pb.set_position(n as u64))?;
    pb.finish_and_clear();

    let trajs: Vec<Trajectory> = g.routes.iter().enumerate().map(|(i, r)| to_trajectory(&net, r, format!("gen-{i}"))).collect();
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_hoser_csv(&a.out, &trajs).with_context(|| format!("writing {}", a.out.display()))?;
    let real_path = sibling(&a.out, "real.csv");
    if let Some(real) = &req.real {
        write_hoser_csv(&real_path, real).with_context(|| format!("writing {}", real_path.display()))?;
    }
    let s = GenerateSummary::new(&g, &cfg, &a.model, &net, &req.source, a.seed);
    let summary_path = sibling(&a.out, "summary.json");
    write_json(&summary_path, &s)?;
    outln!(
        "{} trajectories in {:.2} s ({:.1}/s, graph encoding {:.0} ms): {} reached the destination ({:.1} %), mean {:.1} roads, {:.0} s",
        s.n,
        s.seconds,
        s.trajectories_per_s,
        s.graph_encoding_ms,
        s.reached,
        100.0 * s.reached_share,
        s.mean_roads,
        s.mean_duration_s
    )?;
    let real_txt = if req.real.is_some() { format!(", {}", real_path.display()) } else { String::new() };
    outln!("wrote {}{real_txt} and {}", a.out.display(), summary_path.display())?;
    Ok(())
}
