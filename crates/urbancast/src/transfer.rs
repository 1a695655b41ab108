//! `urbancast transfer`: any methods on any (sources, target, N days, seeds), with
//! `urbancast_transfer`'s cities, experiment runner and report.
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use urbancast_data::City;
use urbancast_eval::{ResultRow, SummaryRow, table, write_json};
use urbancast_nn::Output;
use urbancast_transfer::cities::load_cities;
use urbancast_transfer::protocols::{LooEvent, parse_methods};
use urbancast_transfer::report::write_report;
use urbancast_transfer::stbat::{DclSim, StbatConfig};
use urbancast_transfer::{Experiment, Method, RunOutput, Settings};

use crate::args::{Overrides, merged, set, spec_path};
use crate::run_args::{RunArgs, RunConfig};
use crate::tsjt_args::TsjtArgs;
use urbancast_train::outdir::prepare;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// Keep only these channels, comma-separated (e.g. `pickup`); default: every channel the
    /// cities share.
    #[arg(long, value_delimiter = ',', value_name = "CH")]
    pub channels: Vec<String>,
    #[command(flatten)]
    pub regime: RegimeArgs,
    /// Do not save checkpoints.
    #[arg(long)]
    pub no_checkpoints: bool,
    #[command(flatten)]
    pub stbat: StbatArgs,
    #[command(flatten)]
    pub tsjt: TsjtArgs,
}

/// The training regime (defaults: CrossTReS's, see `Settings`).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RegimeArgs {
    /// Cap on pre-training epochs (default 500, a safety bound: early stopping with patience 5
    /// after 1,000 steps ends it).
    #[arg(long, value_name = "N")]
    pub pretrain_epochs: Option<usize>,
    /// Optimiser steps before pre-training's early stopping may act (default 1000).
    #[arg(long, value_name = "STEPS")]
    pub pretrain_min_steps: Option<usize>,
    /// Epochs without a better source validation RMSE before pre-training stops (default 5).
    #[arg(long, value_name = "N")]
    pub pretrain_patience: Option<usize>,
    /// Epochs on the target's few days (default 80; all run, the best validation epoch is kept).
    #[arg(long, value_name = "N")]
    pub target_epochs: Option<usize>,
    /// Early stopping on the target's validation days after this many epochs without
    /// improvement (default: none).
    #[arg(long, value_name = "N")]
    pub target_patience: Option<usize>,
    /// One model for all channels instead of one per channel (the papers' default).
    #[arg(long)]
    pub joint_channels: bool,
    /// Output of the plain methods' head: linear (default) or sigmoid (CrossTReS; plateaus on
    /// sparse targets).
    #[arg(long, value_name = "linear|sigmoid", value_parser = parse_output)]
    pub output: Option<Output>,
    /// Hidden width of the plain methods' head (CrossTReS: 64; STBaT's is 256).
    #[arg(long, value_name = "N")]
    pub head_hidden: Option<usize>,
}

fn parse_output(s: &str) -> Result<Output, String> {
    match s {
        "linear" => Ok(Output::Linear),
        "sigmoid" => Ok(Output::Sigmoid),
        _ => Err(format!("`{s}`: expected linear or sigmoid")),
    }
}

impl Overrides<Settings> for RegimeArgs {
    fn apply(&self, s: &mut Settings) -> Result<()> {
        set(&mut s.pretrain.max_epochs, &self.pretrain_epochs);
        set(&mut s.pretrain.min_steps, &self.pretrain_min_steps);
        set(&mut s.pretrain.patience, &self.pretrain_patience);
        set(&mut s.target_train.max_epochs, &self.target_epochs);
        set(&mut s.target_train.patience, &self.target_patience);
        s.joint_channels |= self.joint_channels;
        set(&mut s.output, &self.output);
        set(&mut s.head_hidden, &self.head_hidden);
        Ok(())
    }
}

/// STBaT options (they apply to `stbat` and to every ablation method).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct StbatArgs {
    /// STBaT: RIAM without the POI classifier (automatic for cities without POI).
    #[arg(long)]
    pub no_poi: bool,
    /// STBaT: RIAM without the feature-distribution predictor.
    #[arg(long)]
    pub no_fdp: bool,
    /// STBaT: no SimDCL contrastive loss.
    #[arg(long)]
    pub no_simdcl: bool,
    /// STBaT: unweighted prediction loss.
    #[arg(long)]
    pub no_wloss: bool,
    /// STBaT: RIAM embedding size D (default 32).
    #[arg(long, value_name = "D")]
    pub embed_dim: Option<usize>,
    /// STBaT: weight of the KL term in L_emb (default 0.01).
    #[arg(long)]
    pub beta: Option<f64>,
    /// STBaT: kernel bandwidth h of the density estimator (default 0.85).
    #[arg(long, value_name = "H")]
    pub bandwidth: Option<f64>,
    /// STBaT: SimDCL temperature (default 1).
    #[arg(long)]
    pub tau: Option<f64>,
    /// STBaT: alternate with the RIAM every this many batches (default: once per epoch).
    #[arg(long, value_name = "BATCHES")]
    pub alternate_every: Option<usize>,
    /// STBaT: similarity inside SimDCL, cosine (eq. 7, default) or neg-l2.
    #[arg(long, value_name = "cosine|neg-l2", value_parser = parse_dcl_sim)]
    pub dcl_sim: Option<DclSim>,
    /// STBaT: weight of SimDCL next to the prediction loss (default 1, as eq. 15's sum).
    #[arg(long, value_name = "W")]
    pub dcl_weight: Option<f64>,
}

fn parse_dcl_sim(s: &str) -> Result<DclSim, String> {
    match s {
        "cosine" => Ok(DclSim::Cosine),
        "neg-l2" => Ok(DclSim::NegL2),
        _ => Err(format!("`{s}`: expected cosine or neg-l2")),
    }
}

impl Overrides<StbatConfig> for StbatArgs {
    fn apply(&self, c: &mut StbatConfig) -> Result<()> {
        c.no_poi |= self.no_poi;
        c.no_fdp |= self.no_fdp;
        c.no_simdcl |= self.no_simdcl;
        c.no_wloss |= self.no_wloss;
        set(&mut c.embed_dim, &self.embed_dim);
        set(&mut c.beta, &self.beta);
        set(&mut c.bandwidth, &self.bandwidth);
        set(&mut c.tau, &self.tau);
        set(&mut c.alternate_every, &self.alternate_every);
        set(&mut c.dcl_sim, &self.dcl_sim);
        set(&mut c.dcl_weight, &self.dcl_weight);
        c.validate()
    }
}

/// The TOML form of the arguments.
type FileConfig = RunConfig<Settings>;

impl Overrides<FileConfig> for Args {
    fn apply(&self, f: &mut FileConfig) -> Result<()> {
        self.run.apply(f);
        set(&mut f.channels, &self.channels);
        self.regime.apply(&mut f.settings)?;
        self.stbat.apply(&mut f.settings.stbat)?;
        self.tsjt.apply(&mut f.settings.tsjt)
    }
}

pub fn run(a: Args) -> Result<()> {
    let f: FileConfig = merged(a.run.config.as_deref(), "a transfer configuration", &a)?;
    let r = f.resolve("transfer", "a city SPEC (see `urbancast transfer --help`)")?;
    let (target, days, seeds, out) = (&r.target, &r.days, &r.seeds, &r.out);
    let methods: Vec<Method> = if f.methods.is_empty() { Method::ALL.to_vec() } else { parse_methods(&f.methods)? };
    let mut settings = f.settings.clone();
    if !a.no_checkpoints {
        settings.checkpoint_dir = Some(out.join("checkpoints"));
    }
    settings.validate_at("settings.")?;
    let device = a.run.device.get()?;
    let (mut sources, mut target_city) = load_cities(&f.sources, target, f.interval, seeds[0])?;
    if !f.channels.is_empty() {
        let keep = f
            .channels
            .iter()
            .map(|n| {
                target_city.channels.iter().copied().find(|c| c.name() == n.as_str()).ok_or_else(|| {
                    let have: Vec<&str> = target_city.channels.iter().map(|c| c.name()).collect();
                    anyhow::anyhow!("--channels: `{n}` is not a channel of the aligned cities (they have: {})", have.join(", "))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        target_city = target_city.select_channels(&keep)?;
        sources = sources.into_iter().map(|c| c.select_channels(&keep)).collect::<Result<_, _>>()?;
    }
    for c in sources.iter().chain([&target_city]) {
        eprintln!(
            "{:<12} {} steps x {} min, {} ({} active), channels {:?}",
            c.name,
            c.num_steps(),
            c.interval_min,
            c.layout.describe(),
            c.num_active(),
            c.channels
        );
    }
    let exp = Experiment::new(sources, target_city, &settings.protocol)?;
    let inputs: Vec<PathBuf> = f.sources.iter().chain([target]).filter_map(|s| spec_path(s)).chain(a.run.config.clone()).collect();
    prepare(out, "transfer", &inputs, &f.record(&r, &settings), a.run.reuse.reuse())?;
    settings.train_dir = Some(out.join("train"));
    settings.resume = a.run.reuse.resume;
    let plan = urbancast_transfer::RunPlan { methods: &methods, days, seeds, settings: &settings, device: &device };
    let outputs = exp.run(&plan, |o| print_row(o, ""), |msg| eprintln!("note: {msg}"))?;
    if outputs.is_empty() {
        bail!("nothing was run: every method was skipped");
    }
    write_json(&out.join("settings.json"), &settings)?;
    let sources: Vec<&City> = exp.sources.iter().map(|p| &p.city).collect();
    let summary = write_report(out, &sources, &exp.target.city, &outputs)?;
    let rows: Vec<ResultRow> = outputs.into_iter().map(|o| o.row).collect();
    print_report(out, &summary, &rows)?;
    Ok(())
}

/// One finished (method, days, seed), indented by `indent`.
fn print_row(o: &RunOutput, indent: &str) {
    let (r, w) = (&o.row, if indent.is_empty() { 12 } else { 16 });
    let (rmse, mae) = (r.scores.mean.rmse, r.scores.mean.mae);
    eprintln!("{indent}{:<w$} N={} seed={} RMSE {rmse:.3} MAE {mae:.3} ({:.1} s)", r.method, r.days, r.seed, r.seconds);
}

/// The table of a written report, its first note and where it is.
pub fn print_report(out: &Path, summary: &[SummaryRow], rows: &[ResultRow]) -> Result<()> {
    outln!("\n{}", table(summary))?;
    if let Some(note) = rows.iter().find_map(|r| r.note.clone()) {
        outln!("note: {note}")?;
    }
    outln!("results written to {}", out.display())
}

/// Prints the progress of `urbancast_transfer::protocols::leave_one_out`.
pub fn print_loo(e: LooEvent<'_>) {
    match e {
        LooEvent::Target { target, sources } => {
            eprintln!("\n== target {} <- sources {}", target.name, sources.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))
        }
        LooEvent::Row(o) => print_row(o, "  "),
        LooEvent::Report { dir, summary, rows } => {
            // Best effort inside the loop; a closed stdout surfaces at the end of the command.
            let _ = print_report(dir, summary, rows);
        }
    }
}
