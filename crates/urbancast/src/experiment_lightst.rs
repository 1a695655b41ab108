//! `urbancast experiment lightst`: teacher, student and distilled student on the real sensor
//! and zone graphs, several seeds, one table.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use urbancast_data::graph::{GraphProtocol, SyntheticGraphConfig, prepare_graph, read_nyc69_graph, read_sz_taxi, read_los_loop, synthetic_sensor_graph};

use crate::distill::run_all;
use crate::distill_report::{RunRecord, summary_table};

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
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Train nothing: rebuild table.md and records.json from the `results.json` of every
    /// `OUT/DATASET/seedS/` folder (e.g. after `urbancast distill eval` re-ran there, or to
    /// merge runs made separately).
    #[arg(long)]
    pub report_only: bool,
}

fn load(a: &LightstArgs, key: &str) -> Result<urbancast_data::graph::SensorGraph> {
    let root = &a.data_root;
    let g = match key {
        "sz" => read_sz_taxi(&root.join("sensors/shenzhen-taxi-speed"))?,
        "la" => read_los_loop(&root.join("sensors/la-loop-speed"))?,
        "nyc69" => {
            let mut g = read_nyc69_graph(&root.join("zones/nyc-manhattan-69"), "taxi")?;
            if let Some(days) = a.nyc_days {
                let steps = (days * g.steps_per_day()).min(g.num_steps());
                g.series = g.series.slice(ndarray::s![..steps, .., ..]).to_owned();
            }
            g
        }
        "synthetic" => synthetic_sensor_graph(&SyntheticGraphConfig::default())?,
        other => bail!("unknown dataset `{other}`: use sz, la, nyc69 or synthetic"),
    };
    Ok(g)
}

/// Every `results.json` under `out/<dataset>/seed<S>/`, datasets in the given order.
fn collect(a: &LightstArgs) -> Result<Vec<RunRecord>> {
    let mut records = vec![];
    for key in &a.datasets {
        for &seed in &a.seeds {
            let p = a.out.join(key).join(format!("seed{seed}")).join("results.json");
            if p.is_file() {
                let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
                records.push(serde_json::from_str(&text).with_context(|| format!("{}: not a LightST results file", p.display()))?);
            }
        }
    }
    if records.is_empty() {
        bail!("no results.json under {}/<dataset>/seed<S>/ for datasets {:?} and seeds {:?}", a.out.display(), a.datasets, a.seeds);
    }
    Ok(records)
}

pub fn run(a: LightstArgs) -> Result<()> {
    let start = Instant::now();
    if a.report_only {
        let records = collect(&a)?;
        std::fs::write(a.out.join("records.json"), serde_json::to_string_pretty(&records)?)?;
        let table = summary_table(&records);
        std::fs::write(a.out.join("table.md"), &table)?;
        println!("{table}");
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
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    std::fs::write(a.out.join("config.json"), serde_json::to_string_pretty(&cfg)?)?;
    let mut records: Vec<RunRecord> = vec![];
    for key in &a.datasets {
        let g = load(&a, key)?;
        let mut protocol = GraphProtocol::default().with_split(&a.split)?;
        if key == "nyc69" {
            protocol.targets = vec![0, 1];
        }
        let data = prepare_graph(&g, &protocol)?;
        for &seed in &a.seeds {
            let out = a.out.join(key).join(format!("seed{seed}"));
            records.push(run_all(&data, &cfg, seed, &a.device, &out, a.reps)?);
            // Partial results survive an interrupted experiment.
            std::fs::write(a.out.join("records.json"), serde_json::to_string_pretty(&records)?)?;
            std::fs::write(a.out.join("table.md"), summary_table(&records))?;
        }
    }
    let table = summary_table(&records);
    println!("\n== LightST, seeds {:?}, {:.0} s\n{table}", a.seeds, start.elapsed().as_secs_f64());
    println!("results written to {}", a.out.display());
    Ok(())
}
