//! `urbancast demo`: three synthetic cities, each the target of the other two.
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use burn::tensor::Device;
use urbancast_data::City;
use urbancast_data::synthetic;
use urbancast_eval::{ResultRow, table, write_results};
use urbancast_transfer::{Experiment, Method, RunOutput, Settings, device};

use crate::transfer::{report, sanitize};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output folder (one sub-folder per target city plus an overall summary).
    #[arg(long, default_value = "runs/demo")]
    pub out: PathBuf,
    /// Seed for the synthetic cities and the models.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days of synthetic data per city.
    #[arg(long, default_value_t = 35)]
    pub city_days: usize,
    /// Maximum pre-training epochs.
    #[arg(long, default_value_t = 4)]
    pub pretrain_epochs: usize,
    /// Maximum epochs on the target's few days.
    #[arg(long, default_value_t = 12)]
    pub target_epochs: usize,
    /// Maximum epochs of LightST's MTGNN teacher and of each MLP student on the synthetic
    /// sensor graph.
    #[arg(long, default_value_t = 8)]
    pub lightst_teacher_epochs: usize,
    #[arg(long, default_value_t = 20)]
    pub lightst_student_epochs: usize,
    /// Compute device: cpu (default) or cuda[:N] with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

pub fn run(a: Args) -> Result<()> {
    let start = Instant::now();
    let device = device::by_name(&a.device)?;
    let cities = synthetic_cities(a.seed, a.city_days)?;
    let mut settings = Settings::default();
    settings.pretrain.max_epochs = a.pretrain_epochs;
    settings.target_train.max_epochs = a.target_epochs;
    settings.pretrain.patience = 3;
    settings.target_train.patience = 3;
    settings.checkpoint_dir = Some(a.out.join("checkpoints"));
    let all = leave_one_out(&cities, &Method::ALL, &[3, 0], &[a.seed], &settings, &device, &a.out)?;
    let summary = write_results(&a.out, &all)?;
    println!("\n== all targets (seed {}), {:.0} s\n{}", a.seed, start.elapsed().as_secs_f64(), table(&summary));
    lightst(&a)?;
    println!("demo finished in {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// LightST on the synthetic sensor graph: MTGNN teacher, plain and distilled MLP students.
fn lightst(a: &Args) -> Result<()> {
    let g = urbancast_data::graph::synthetic_sensor_graph(&urbancast_data::graph::SyntheticGraphConfig { seed: a.seed, ..Default::default() })?;
    let data = urbancast_data::graph::prepare_graph(&g, &urbancast_data::graph::GraphProtocol::default())?;
    let mut cfg = urbancast_distill::LightstConfig::default();
    cfg.teacher_train.max_epochs = a.lightst_teacher_epochs;
    cfg.student_train.max_epochs = a.lightst_student_epochs;
    crate::distill::run_all(&data, &cfg, a.seed, &a.device, &a.out.join("lightst"), 20)?;
    Ok(())
}

/// Each city in turn is the target of all the others: runs `methods` for every N and seed,
/// writes one report folder per target under `out`, returns every result row.
pub fn leave_one_out(
    cities: &[City],
    methods: &[Method],
    days: &[usize],
    seeds: &[u64],
    settings: &Settings,
    device: &Device,
    out: &Path,
) -> Result<Vec<ResultRow>> {
    let mut all: Vec<ResultRow> = vec![];
    for (i, target) in cities.iter().enumerate() {
        let sources: Vec<_> = cities.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c.clone()).collect();
        eprintln!("\n== target {} <- sources {}", target.name, sources.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "));
        let exp = Experiment::new(sources, target.clone(), &settings.protocol)?;
        let mut s = settings.clone();
        let dir = out.join(sanitize(&target.name));
        if s.checkpoint_dir.is_some() {
            s.checkpoint_dir = Some(dir.join("checkpoints"));
        }
        let outputs: Vec<RunOutput> = exp.run(
            methods,
            days,
            seeds,
            &s,
            device,
            |o| {
                eprintln!(
                    "  {:<16} N={} seed={} RMSE {:.3} MAE {:.3} ({:.1} s)",
                    o.row.method, o.row.days, o.row.seed, o.row.scores.mean.rmse, o.row.scores.mean.mae, o.row.seconds
                )
            },
            |_| {},
        )?;
        let srcs: Vec<&City> = exp.sources.iter().map(|p| &p.city).collect();
        report(&dir, &srcs, &exp.target.city, &outputs)?;
        all.extend(outputs.into_iter().map(|o| o.row));
    }
    Ok(all)
}

/// The three synthetic presets (metro, suburb, coastal) with `days` of data from `seed`.
pub fn synthetic_cities(seed: u64, days: usize) -> Result<Vec<City>> {
    let mut cities = vec![];
    for n in ["metro", "suburb", "coastal"] {
        let mut cfg = synthetic::preset(n, seed).ok_or_else(|| anyhow::anyhow!("no synthetic preset `{n}`"))?;
        cfg.days = days;
        let c = synthetic::generate(&cfg)?;
        eprintln!("synthetic city {:<8} {} days, {}, {} active regions", c.name, days, c.layout.describe(), c.num_active());
        cities.push(c);
    }
    Ok(cities)
}
