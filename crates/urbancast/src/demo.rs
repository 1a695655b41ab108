//! `urbancast demo`: three synthetic cities, each the target of the other two
//! (`urbancast_transfer::protocols::leave_one_out`), then LightST on a synthetic sensor graph.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use urbancast_data::City;
use urbancast_eval::{table, write_results};
use urbancast_transfer::cities::synthetic_cities;
use urbancast_transfer::protocols::leave_one_out;
use urbancast_transfer::{Method, Settings};

use crate::args::{DeviceArg, OutFlags};
use crate::transfer::print_loo;
use urbancast_train::outdir::prepare;

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
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub reuse: OutFlags,
}

pub fn run(a: Args) -> Result<()> {
    let start = Instant::now();
    let device = a.device.get()?;
    let cities = cities(a.seed, a.city_days)?;
    let mut settings = Settings::default();
    // A short version of the regime: few epochs, no minimum before early stopping, and one model
    // for both channels (`transfer` trains one per channel by default) so the demo stays short.
    settings.pretrain.max_epochs = a.pretrain_epochs;
    settings.pretrain.patience = 3;
    settings.pretrain.min_steps = 0;
    settings.target_train.max_epochs = a.target_epochs;
    settings.joint_channels = true;
    settings.checkpoint_dir = Some(a.out.join("checkpoints"));
    let record = serde_json::json!({ "seed": a.seed, "city_days": a.city_days, "pretrain_epochs": a.pretrain_epochs,
        "target_epochs": a.target_epochs, "lightst_teacher_epochs": a.lightst_teacher_epochs, "lightst_student_epochs": a.lightst_student_epochs });
    prepare(&a.out, "demo", &[], &record, a.reuse.reuse())?;
    settings.train_dir = Some(a.out.join("train"));
    settings.resume = a.reuse.resume;
    let plan = urbancast_transfer::RunPlan { methods: &Method::ALL, days: &[3, 0], seeds: &[a.seed], settings: &settings, device: &device };
    let all = leave_one_out(&cities, &plan, &a.out, print_loo)?;
    let summary = write_results(&a.out, &all)?;
    outln!("\n== all targets (seed {}), {:.0} s\n{}", a.seed, start.elapsed().as_secs_f64(), table(&summary))?;
    // LightST on the synthetic sensor graph: MTGNN teacher, plain and distilled MLP students.
    let g =
        urbancast_data::graph::synthetic_sensor_graph(&urbancast_data::graph::SyntheticGraphConfig { seed: a.seed, ..Default::default() })?;
    let data = urbancast_data::graph::prepare_graph(&g, &urbancast_data::graph::GraphProtocol::default())?;
    let mut cfg = urbancast_distill::LightstConfig::default();
    cfg.teacher_train.max_epochs = a.lightst_teacher_epochs;
    cfg.student_train.max_epochs = a.lightst_student_epochs;
    crate::distill::run_all(&data, &cfg, a.seed, &a.device, &a.out.join("lightst"), 20, a.reuse.resume)?;
    outln!("demo finished in {:.0} s", start.elapsed().as_secs_f64())?;
    Ok(())
}

/// The three synthetic presets with `days` of data from `seed`, described on stderr.
pub fn cities(seed: u64, days: usize) -> Result<Vec<City>> {
    let cities = synthetic_cities(seed, days)?;
    for c in &cities {
        eprintln!("synthetic city {:<8} {} days, {}, {} active regions", c.name, days, c.layout.describe(), c.num_active());
    }
    Ok(cities)
}
