//! `urbancast transfer`: any methods on any (sources, target, N days, seeds).
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use urbancast_data::{City, spec};
use urbancast_eval::plot::{MapLayout, region_map};
use urbancast_eval::{ResultRow, mean_std, table, write_results};
use urbancast_eval::plot::{Panel, region_maps};
use urbancast_transfer::stbat::StbatConfig;
use urbancast_transfer::{Experiment, Method, RunOutput, Settings, device};

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Source city SPEC (repeatable), e.g. `stdn:PATH`, `stssl:DIR`, `synthetic:metro`.
    #[arg(long = "source", value_name = "SPEC")]
    pub sources: Vec<String>,
    /// Target city SPEC.
    #[arg(long, value_name = "SPEC")]
    pub target: Option<String>,
    /// Methods, comma-separated: target-only, fine-tune, zero-shot, ha, stbat, and the STBaT
    /// ablations stbat-no-poi, stbat-no-fdp, stbat-no-simdcl, stbat-no-wloss.
    #[arg(long = "method", value_delimiter = ',', value_name = "M")]
    pub methods: Vec<String>,
    /// Days of target training data, comma-separated (3 = few-shot, 0 = zero-shot).
    #[arg(long, value_delimiter = ',', value_name = "N")]
    pub days: Vec<usize>,
    /// Seeds, comma-separated; results are reported as mean ± std over them.
    #[arg(long, value_delimiter = ',', value_name = "S")]
    pub seeds: Vec<u64>,
    /// Output folder for results.json/csv, summary, error maps and checkpoints.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// TOML file with the same fields (command-line values win) and a [settings] table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Resample every city to this interval in minutes (by summation). Default: the coarsest.
    #[arg(long, value_name = "MIN")]
    pub interval: Option<u32>,
    /// Maximum pre-training epochs (early stopping may end sooner).
    #[arg(long)]
    pub pretrain_epochs: Option<usize>,
    /// Maximum epochs on the target's few days.
    #[arg(long)]
    pub target_epochs: Option<usize>,
    /// Do not save checkpoints.
    #[arg(long)]
    pub no_checkpoints: bool,
    /// Compute device: cpu (default) or cuda[:N] with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    #[command(flatten)]
    pub stbat: StbatArgs,
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
}

impl StbatArgs {
    /// Applies the options on top of `c`, checking their ranges.
    pub fn apply(&self, c: &mut StbatConfig) -> Result<()> {
        c.no_poi |= self.no_poi;
        c.no_fdp |= self.no_fdp;
        c.no_simdcl |= self.no_simdcl;
        c.no_wloss |= self.no_wloss;
        if let Some(d) = self.embed_dim {
            c.embed_dim = d;
        }
        if let Some(b) = self.beta {
            c.beta = b;
        }
        if let Some(h) = self.bandwidth {
            c.bandwidth = h;
        }
        if let Some(t) = self.tau {
            c.tau = t;
        }
        if let Some(n) = self.alternate_every {
            c.alternate_every = n;
        }
        check_stbat(c)
    }
}

/// Rejects STBaT settings that cannot work.
pub fn check_stbat(c: &StbatConfig) -> Result<()> {
    if c.embed_dim == 0 {
        bail!("STBaT embedding size D must be at least 1");
    }
    if !(c.bandwidth > 0.0 && c.bandwidth.is_finite()) {
        bail!("STBaT bandwidth h must be a positive number, got {}", c.bandwidth);
    }
    if !(c.tau > 0.0 && c.tau.is_finite()) {
        bail!("STBaT temperature tau must be a positive number, got {}", c.tau);
    }
    if !(c.beta >= 0.0 && c.beta.is_finite()) {
        bail!("STBaT beta must be a non-negative number, got {}", c.beta);
    }
    Ok(())
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
    settings: Option<Settings>,
}

fn read_config(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid config", path.display()))
}

/// Loads the cities, aligns channels to the target's and resamples to a common interval.
pub fn load_cities(sources: &[String], target: &str, interval: Option<u32>, seed: u64) -> Result<(Vec<City>, City)> {
    let target = spec::load(target, seed).with_context(|| format!("loading target `{target}`"))?;
    let mut srcs = vec![];
    for s in sources {
        let c = spec::load(s, seed).with_context(|| format!("loading source `{s}`"))?;
        srcs.push(c.select_channels(&target.channels).with_context(|| format!("aligning source `{s}` to the target's channels"))?);
    }
    let common = interval.unwrap_or_else(|| srcs.iter().map(|c| c.interval_min).chain([target.interval_min]).max().unwrap_or(60));
    let resample = |c: City| -> Result<City> {
        if c.interval_min != common {
            eprintln!("note: resampling `{}` from {} to {common} min by summation", c.name, c.interval_min);
        }
        Ok(c.resample(common)?)
    };
    let target = resample(target)?;
    let srcs = srcs.into_iter().map(resample).collect::<Result<Vec<_>>>()?;
    Ok((srcs, target))
}

pub fn map_layout(city: &City) -> MapLayout {
    match &city.layout {
        urbancast_data::Layout::Grid { height, width } => MapLayout::Grid { height: *height, width: *width },
        urbancast_data::Layout::Graph { coords: Some(c), .. } => MapLayout::Points(c.clone()),
        urbancast_data::Layout::Graph { .. } => MapLayout::Tiles,
    }
}

/// Writes results, summary, one error map per (method, days) and, for STBaT, one map of region
/// densities and weights of the first source city per pre-training; prints the table.
pub fn report(out: &Path, sources: &[&City], target: &City, outputs: &[RunOutput]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut drawn = std::collections::HashSet::new();
    for o in outputs {
        let (Some(st), Some(src)) = (&o.stbat, sources.first()) else { continue };
        let Some(b) = st.balance.iter().find(|b| b.city == src.name) else { continue };
        if !drawn.insert((o.row.method.clone(), o.row.seed)) {
            continue;
        }
        let path = out.join(format!("stbat-balance-{}-{}-seed{}.png", o.row.method, sanitize(&src.name), o.row.seed));
        let t1 = format!("{}: region density rho ({}, seed {})", src.name, o.row.method, o.row.seed);
        let t2 = format!("{}: loss weight omega (mean 1)", src.name);
        let panels = [Panel { title: &t1, label: "density", values: &b.density }, Panel { title: &t2, label: "weight", values: &b.weight }];
        if let Err(e) = region_maps(&path, &map_layout(src), &panels) {
            eprintln!("warning: {e:#}");
        }
        let json = out.join(format!("stbat-balance-{}-seed{}.json", o.row.method, o.row.seed));
        std::fs::write(&json, serde_json::to_string_pretty(st)?).with_context(|| format!("cannot write {}", json.display()))?;
    }
    let rows: Vec<ResultRow> = outputs.iter().map(|o| o.row.clone()).collect();
    let summary = write_results(out, &rows)?;
    let mut groups: Vec<((String, usize), Vec<&RunOutput>)> = vec![];
    for o in outputs {
        let k = (o.row.method.clone(), o.row.days);
        match groups.iter_mut().find(|g| g.0 == k) {
            Some(g) => g.1.push(o),
            None => groups.push((k, vec![o])),
        }
    }
    for ((method, days), g) in groups {
        let r = g[0].region_rmse.len();
        let avg: Vec<f64> = (0..r).map(|i| mean_std(&g.iter().map(|o| o.region_rmse[i]).collect::<Vec<_>>()).0).collect();
        let path = out.join(format!("error-map-{}-{method}-n{days}.png", sanitize(&target.name)));
        let title = format!("{}: test RMSE per region, {method}, N = {days} days", target.name);
        if let Err(e) = region_map(&path, &title, &map_layout(target), &avg) {
            eprintln!("warning: {e:#}");
        }
    }
    println!("\n{}", table(&summary));
    if let Some(note) = rows.iter().find_map(|r| r.note.clone()) {
        println!("note: {note}");
    }
    println!("results written to {}", out.display());
    Ok(())
}

pub fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

pub fn run(mut a: Args) -> Result<()> {
    let mut settings = Settings::default();
    if let Some(p) = &a.config {
        let f = read_config(p)?;
        if a.sources.is_empty() {
            a.sources = f.sources;
        }
        a.target = a.target.or(f.target);
        if a.methods.is_empty() {
            a.methods = f.methods;
        }
        if a.days.is_empty() {
            a.days = f.days;
        }
        if a.seeds.is_empty() {
            a.seeds = f.seeds;
        }
        a.out = a.out.or(f.out);
        a.interval = a.interval.or(f.interval);
        if let Some(s) = f.settings {
            settings = s;
        }
    }
    let Some(target) = a.target.clone() else { bail!("no target city: give --target SPEC (or `target` in --config)") };
    let methods: Vec<Method> = if a.methods.is_empty() {
        Method::ALL.to_vec()
    } else {
        a.methods.iter().map(|m| m.parse::<Method>().map_err(anyhow::Error::msg)).collect::<Result<_>>()?
    };
    let days = if a.days.is_empty() { vec![3] } else { a.days.clone() };
    let seeds = if a.seeds.is_empty() { vec![1] } else { a.seeds.clone() };
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("runs/transfer"));
    if let Some(e) = a.pretrain_epochs {
        settings.pretrain.max_epochs = e;
    }
    if let Some(e) = a.target_epochs {
        settings.target_train.max_epochs = e;
    }
    if !a.no_checkpoints {
        settings.checkpoint_dir = Some(out.join("checkpoints"));
    }
    a.stbat.apply(&mut settings.stbat)?;
    settings.validate_at("settings.")?;
    let device = device::by_name(&a.device)?;
    let (sources, target_city) = load_cities(&a.sources, &target, a.interval, seeds[0])?;
    for c in sources.iter().chain([&target_city]) {
        eprintln!(
            "{:<12} {} steps x {} min, {} ({} active), channels {:?}",
            c.name, c.num_steps(), c.interval_min, c.layout.describe(), c.num_active(), c.channels
        );
    }
    let exp = Experiment::new(sources, target_city, &settings.protocol)?;
    let outputs = exp.run(
        &methods,
        &days,
        &seeds,
        &settings,
        &device,
        |o| {
            eprintln!(
                "{:<12} N={} seed={} RMSE {:.3} MAE {:.3} ({:.1} s)",
                o.row.method, o.row.days, o.row.seed, o.row.scores.mean.rmse, o.row.scores.mean.mae, o.row.seconds
            )
        },
        |msg| eprintln!("note: {msg}"),
    )?;
    if outputs.is_empty() {
        bail!("nothing was run: every method was skipped");
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(out.join("settings.json"), serde_json::to_string_pretty(&settings)?)?;
    let sources: Vec<&City> = exp.sources.iter().map(|p| &p.city).collect();
    report(&out, &sources, &exp.target.city, &outputs)
}
