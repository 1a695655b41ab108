//! `urbancast experiment lightst` as library calls: the real sensor and zone graphs of the
//! LightST comparison by key, and the records of runs made earlier.
use std::path::Path;

use anyhow::{Context, Result, bail};
use urbancast_data::graph::{
    GraphProtocol, SensorGraph, SyntheticGraphConfig, read_los_loop, read_nyc69_graph, read_sz_taxi, synthetic_sensor_graph,
};

use crate::report::RunRecord;

/// The dataset keys [`load_dataset`] knows.
pub const DATASETS: [&str; 4] = ["sz", "la", "nyc69", "synthetic"];

/// The dataset `key` under `root` (the shared data folder): `sz` (Shenzhen taxi speed), `la`
/// (LA loop speed), `nyc69` (NYC 69-zone taxi in/out flows; only its first `nyc_days` days
/// when given) or `synthetic`.
pub fn load_dataset(root: &Path, key: &str, nyc_days: Option<usize>) -> Result<SensorGraph> {
    let g = match key {
        "sz" => read_sz_taxi(&root.join("sensors/shenzhen-taxi-speed"))?,
        "la" => read_los_loop(&root.join("sensors/la-loop-speed"))?,
        "nyc69" => {
            let mut g = read_nyc69_graph(&root.join("zones/nyc-manhattan-69"), "taxi")?;
            if let Some(days) = nyc_days {
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

/// The protocol of dataset `key` with the chronological `split`: NYC predicts in and out
/// flows together, the others their first feature.
pub fn dataset_protocol(key: &str, split: &str) -> Result<GraphProtocol> {
    let mut protocol = GraphProtocol::default().with_split(split)?;
    if key == "nyc69" {
        protocol.targets = vec![0, 1];
    }
    Ok(protocol)
}

/// The folder of one run: `out/<dataset>/seed<S>`.
pub fn run_dir(out: &Path, dataset: &str, seed: u64) -> std::path::PathBuf {
    out.join(dataset).join(format!("seed{seed}"))
}

/// Every `results.json` under [`run_dir`]`(out, dataset, seed)`, datasets in the given order;
/// fails when there is none.
pub fn collect_records(out: &Path, datasets: &[String], seeds: &[u64]) -> Result<Vec<RunRecord>> {
    let mut records = vec![];
    for key in datasets {
        for &seed in seeds {
            let p = run_dir(out, key, seed).join("results.json");
            if p.is_file() {
                let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
                records.push(serde_json::from_str(&text).with_context(|| format!("{}: not a LightST results file", p.display()))?);
            }
        }
    }
    if records.is_empty() {
        bail!("no results.json under {}/<dataset>/seed<S>/ for datasets {datasets:?} and seeds {seeds:?}", out.display());
    }
    Ok(records)
}
