//! `urbancast experiment lightst`: teacher, student and distilled student on the real sensor
//! and zone graphs, several seeds, one table (`urbancast_distill::experiment`).
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use urbancast_data::graph::prepare_graph;
use urbancast_distill::experiment::{collect_records, dataset_protocol, load_dataset, run_dir};
use urbancast_distill::report::{RunRecord, write_records};

use crate::args::DeviceArg;
use crate::distill::run_all;

#[derive(clap::Args, Debug)]
pub struct LightstArgs {
    /// Folder holding the shared datasets (sensors/, zones/).
    #[arg(long, default_value = "../shared/data")]
    pub data_root: PathBuf,
    /// Datasets: sz (Shenzhen taxi speed), la (LA loop speed), nyc69 (NYC 69-zone taxi in/out
    /// flows), synthetic.
    #[arg(long, value_delimiter = ',', default_values_t = ["sz".to_string(), "la".to_string(), "nyc69".to_string()])]
    pub datasets: Vec<String>,
    #[arg(long, value_delimiter = ',', default_values_t = [1u64, 2, 3])]
    pub seeds: Vec<u64>,
    /// Maximum epochs of the teacher and of each student (early stopping, patience 15).
    #[arg(long, default_value_t = 100)]
    pub teacher_epochs: usize,
    #[arg(long, default_value_t = 100)]
    pub student_epochs: usize,
    /// Days of the NYC series to use (the full series is two years of hours).
    #[arg(long)]
    pub nyc_days: Option<usize>,
    /// Chronological split (60/20/20 or 70/10/20).
    #[arg(long, default_value = "60/20/20")]
    pub split: String,
    #[arg(long, default_value = "runs/lightst-experiment")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 20)]
    pub reps: usize,
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub reuse: crate::args::OutFlags,
    /// Train nothing: rebuild table.md and records.json from the `results.json` of every
    /// `OUT/DATASET/seedS/` folder (e.g. after `urbancast distill eval` re-ran there, or to
    /// merge runs made separately).
    #[arg(long)]
    pub report_only: bool,
}

pub fn run(a: LightstArgs) -> Result<()> {
    let start = Instant::now();
    if a.report_only {
        let records = collect_records(&a.out, &a.datasets, &a.seeds)?;
        outln!("{}", write_records(&a.out, &records)?)?;
        return Ok(());
    }
    if a.seeds.is_empty() || a.datasets.is_empty() {
        bail!("give at least one dataset and one seed (--datasets, --seeds)");
    }
    let mut cfg = urbancast_distill::LightstConfig::default();
    cfg.teacher_train.max_epochs = a.teacher_epochs;
    cfg.student_train.max_epochs = a.student_epochs;
    cfg.validate()?;
    anyhow::ensure!(a.reps >= 1, "--reps must be at least 1 (got 0)");
    let record = serde_json::json!({ "datasets": a.datasets, "seeds": a.seeds, "nyc_days": a.nyc_days, "split": a.split, "config": cfg });
    urbancast_train::outdir::prepare(&a.out, "experiment lightst", std::slice::from_ref(&a.data_root), &record, a.reuse.reuse())?;
    urbancast_eval::write_json(&a.out.join("config.json"), &cfg)?;
    let mut records: Vec<RunRecord> = vec![];
    let mut table = String::new();
    for key in &a.datasets {
        let g = load_dataset(&a.data_root, key, a.nyc_days)?;
        let data = prepare_graph(&g, &dataset_protocol(key, &a.split)?)?;
        for &seed in &a.seeds {
            records.push(run_all(&data, &cfg, seed, &a.device, &run_dir(&a.out, key, seed), a.reps, a.reuse.resume)?);
            // Partial results survive an interrupted experiment.
            table = write_records(&a.out, &records)?;
        }
    }
    outln!("\n== LightST, seeds {:?}, {:.0} s\n{table}", a.seeds, start.elapsed().as_secs_f64())?;
    outln!("results written to {}", a.out.display())?;
    Ok(())
}
