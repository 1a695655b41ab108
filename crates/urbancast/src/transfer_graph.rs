//! `urbancast transfer-graph`: cross-city transfer on sensor graphs under ST-GFSL's protocol
//! (target-only, fine-tune, TSJT and its ablations, simple predictors), with
//! `urbancast_transfer::graph`'s loaders, runner and report.
use std::path::PathBuf;

use anyhow::{Result, bail};
use urbancast_transfer::graph::cities::{GRAPH_SPECS, load_graphs};
use urbancast_transfer::graph::{GraphMethod, GraphPlan, GraphRow, GraphSettings, LossScale, run as run_graph, write_graph_report};

use crate::args::{Overrides, merged, set, spec_path};
use crate::run_args::{RunArgs, RunConfig};
use crate::tsjt_args::TsjtArgs;
use urbancast_train::outdir::prepare;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
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
}

fn parse_loss(s: &str) -> Result<LossScale, String> {
    match s {
        "raw" => Ok(LossScale::Raw),
        "scaled" => Ok(LossScale::Scaled),
        _ => Err(format!("`{s}`: expected raw or scaled")),
    }
}

/// The TOML form of the arguments.
type FileConfig = RunConfig<GraphSettings>;

impl Overrides<FileConfig> for Args {
    fn apply(&self, f: &mut FileConfig) -> Result<()> {
        self.run.apply(f);
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
    let f: FileConfig = merged(a.run.config.as_deref(), "a transfer-graph configuration", &a)?;
    let r = f.resolve("transfer-graph", GRAPH_SPECS)?;
    let (target, days, seeds, out) = (&r.target, &r.days, &r.seeds, &r.out);
    if !f.channels.is_empty() {
        bail!("channels: transfer-graph has no channel selection (a graph's features are all used)");
    }
    let methods: Vec<GraphMethod> = if f.methods.is_empty() {
        GraphMethod::ALL.to_vec()
    } else {
        f.methods.iter().map(|m| m.parse::<GraphMethod>().map_err(anyhow::Error::msg)).collect::<Result<_>>()?
    };
    let mut settings = f.settings.clone();
    settings.validate_at("settings.")?;
    let device = a.run.device.get()?;
    let (sources, target_g) = load_graphs(&f.sources, target, f.interval, seeds[0], |m| eprintln!("note: {m}"))?;
    for g in sources.iter().chain([&target_g]) {
        eprintln!("{:<14} {} steps x {} min, {} nodes, features {:?}", g.name, g.num_steps(), g.interval_min, g.num_nodes(), g.features);
    }
    let inputs: Vec<PathBuf> = f.sources.iter().chain([target]).filter_map(|s| graph_path(s)).chain(a.run.config.clone()).collect();
    prepare(out, "transfer-graph", &inputs, &f.record(&r, &settings), a.run.reuse.reuse())?;
    settings.train_dir = Some(out.join("train"));
    settings.resume = a.run.reuse.resume;
    let plan = GraphPlan { methods: &methods, days, seeds, settings: &settings, device: &device };
    let rows = run_graph(&sources, &target_g, &plan, print_row)?;
    urbancast_eval::write_json(&out.join("settings.json"), &settings)?;
    let summary = write_graph_report(out, &rows)?;
    outln!("\n{}", urbancast_transfer::graph::summary_table(&summary))?;
    outln!("results written to {}", out.display())
}

fn print_row(r: &GraphRow) {
    let a = &r.test.average;
    eprintln!("{:<14} N={} seed={} MAE {:.3} RMSE {:.3} MAPE {:.2}% ({:.1} s)", r.method, r.days, r.seed, a.mae, a.rmse, a.mape, r.seconds);
}
