//! `urbancast transfer-graph`: cross-city transfer on sensor graphs under ST-GFSL's protocol
//! (target-only, fine-tune, TSJT and its ablations, simple predictors), with
//! `urbancast_transfer::graph`'s loaders, runner and report.
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;
use urbancast_transfer::graph::cities::{GRAPH_SPECS, load_graphs};
use urbancast_transfer::graph::{GraphMethod, GraphPlan, GraphRow, GraphSettings, LossScale, run as run_graph, write_graph_report};

use crate::args::{DeviceArg, OutFlags, Overrides, merged, set, spec_path};
use crate::tsjt_args::TsjtArgs;
use urbancast_train::outdir::prepare;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Source graph SPEC (repeatable): a sensor-graph folder or file, `stgfsl:DIR`,
    /// `nyc69-taxi:DIR`, `nyc69-bike:DIR`, or `synthetic:NAME?nodes=N&days=D&seed=S`.
    #[arg(long = "source", value_name = "SPEC")]
    pub sources: Vec<String>,
    /// Target graph SPEC.
    #[arg(long, value_name = "SPEC")]
    pub target: Option<String>,
    /// Methods, comma-separated: persistence, ha, target-only, fine-tune, tsjt, tsjt-no-npm,
    /// joint-no-skew (default: all).
    #[arg(long = "method", value_delimiter = ',', value_name = "M")]
    pub methods: Vec<String>,
    /// Days of target training data, comma-separated (default 3; 1 and 7 as in ST-GFSL).
    #[arg(long, value_delimiter = ',', value_name = "N")]
    pub days: Vec<usize>,
    /// Seeds, comma-separated (default 1); tables report mean ± std over them.
    #[arg(long, value_delimiter = ',', value_name = "S")]
    pub seeds: Vec<u64>,
    /// Output folder (default runs/transfer-graph).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// TOML file with the same fields and a [settings] table (command-line values win).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bring every graph to this interval in minutes by averaging (default: the coarsest).
    #[arg(long, value_name = "MIN")]
    pub interval: Option<u32>,
    /// Output steps per window (default 6; ST-GFSL's option: 12).
    #[arg(long, value_name = "H")]
    pub horizon: Option<usize>,
    /// Units of the training loss: raw (de-normalised, as the TSJT code; default) or scaled.
    #[arg(long, value_name = "raw|scaled", value_parser = parse_loss)]
    pub loss: Option<LossScale>,
    /// Cap on source pre-training epochs (fine-tune; default 100, patience 5).
    #[arg(long, value_name = "N")]
    pub pretrain_epochs: Option<usize>,
    /// Epochs on the target's days (target-only, fine-tune; default 120, best validation kept).
    #[arg(long, value_name = "N")]
    pub target_epochs: Option<usize>,
    #[command(flatten)]
    pub tsjt: TsjtArgs,
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub reuse: OutFlags,
}

fn parse_loss(s: &str) -> Result<LossScale, String> {
    match s {
        "raw" => Ok(LossScale::Raw),
        "scaled" => Ok(LossScale::Scaled),
        _ => Err(format!("`{s}`: expected raw or scaled")),
    }
}

/// The TOML form of the arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    sources: Vec<String>,
    target: Option<String>,
    methods: Vec<String>,
    days: Vec<usize>,
    seeds: Vec<u64>,
    out: Option<PathBuf>,
    interval: Option<u32>,
    settings: GraphSettings,
}

impl Overrides<FileConfig> for Args {
    fn apply(&self, f: &mut FileConfig) -> Result<()> {
        set(&mut f.sources, &self.sources);
        set(&mut f.methods, &self.methods);
        set(&mut f.days, &self.days);
        set(&mut f.seeds, &self.seeds);
        f.target = self.target.clone().or(f.target.take());
        f.out = self.out.clone().or(f.out.take());
        f.interval = self.interval.or(f.interval);
        set(&mut f.settings.protocol.horizon, &self.horizon);
        set(&mut f.settings.loss, &self.loss);
        set(&mut f.settings.pretrain.max_epochs, &self.pretrain_epochs);
        set(&mut f.settings.target_train.max_epochs, &self.target_epochs);
        self.tsjt.apply(&mut f.settings.tsjt)
    }
}

/// The file or folder a graph SPEC reads, if any.
fn graph_path(spec: &str) -> Option<PathBuf> {
    if spec.starts_with("synthetic:") {
        return None;
    }
    spec_path(spec).or_else(|| Some(PathBuf::from(spec.split('?').next().unwrap_or(spec))))
}

pub fn run(a: Args) -> Result<()> {
    let f: FileConfig = merged(a.config.as_deref(), "a transfer-graph configuration", &a)?;
    let Some(target) = f.target.clone() else {
        bail!("no target graph: give --target SPEC (or `target` in --config); a SPEC is {GRAPH_SPECS}")
    };
    let methods: Vec<GraphMethod> = if f.methods.is_empty() {
        GraphMethod::ALL.to_vec()
    } else {
        f.methods.iter().map(|m| m.parse::<GraphMethod>().map_err(anyhow::Error::msg)).collect::<Result<_>>()?
    };
    let days = if f.days.is_empty() { vec![3] } else { f.days.clone() };
    let seeds = if f.seeds.is_empty() { vec![1] } else { f.seeds.clone() };
    let out = f.out.clone().unwrap_or_else(|| PathBuf::from("runs/transfer-graph"));
    let mut settings = f.settings;
    settings.validate_at("settings.")?;
    let device = a.device.get()?;
    let (sources, target_g) = load_graphs(&f.sources, &target, f.interval, seeds[0], |m| eprintln!("note: {m}"))?;
    for g in sources.iter().chain([&target_g]) {
        eprintln!("{:<14} {} steps x {} min, {} nodes, features {:?}", g.name, g.num_steps(), g.interval_min, g.num_nodes(), g.features);
    }
    let inputs: Vec<PathBuf> = f.sources.iter().chain([&target]).filter_map(|s| graph_path(s)).chain(a.config.clone()).collect();
    let record = serde_json::json!({ "sources": f.sources, "target": target, "methods": f.methods, "days": days, "seeds": seeds,
        "interval": f.interval, "settings": settings });
    prepare(&out, "transfer-graph", &inputs, &record, a.reuse.reuse())?;
    settings.train_dir = Some(out.join("train"));
    settings.resume = a.reuse.resume;
    let plan = GraphPlan { methods: &methods, days: &days, seeds: &seeds, settings: &settings, device: &device };
    let rows = run_graph(&sources, &target_g, &plan, print_row)?;
    urbancast_eval::write_json(&out.join("settings.json"), &settings)?;
    let summary = write_graph_report(&out, &rows)?;
    outln!("\n{}", urbancast_transfer::graph::summary_table(&summary))?;
    outln!("results written to {}", out.display())
}

fn print_row(r: &GraphRow) {
    let a = &r.test.average;
    eprintln!("{:<14} N={} seed={} MAE {:.3} RMSE {:.3} MAPE {:.2}% ({:.1} s)", r.method, r.days, r.seed, a.mae, a.rmse, a.mape, r.seconds);
}
