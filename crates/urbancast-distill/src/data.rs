//! The sensor-graph data of a LightST run: read (or generate) a graph, cut it to a number of
//! days, choose the features to predict and prepare the 12 → 12 protocol.
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use urbancast_data::graph::{
    AdjacencyKind, GraphPrepared, GraphProtocol, SyntheticGraphConfig, prepare_graph, read_graph_auto, read_pems, synthetic_sensor_graph,
};

/// Where the data comes from and how it is prepared (the data flags of `urbancast distill`).
#[derive(Debug, Clone)]
pub struct DataSpec {
    /// A folder with SZ_taxi.npz, a folder with los_speed.csv, the nyc-manhattan-69 folder, or
    /// an ASTGCN PEMS .npz (with `<stem>.csv` distances); `None`: the synthetic sensor graph.
    pub data: Option<PathBuf>,
    /// Adjacency of a PEMS distance CSV: `binary`, `gaussian[:THRESHOLD]` or `distance`.
    pub adjacency: String,
    /// Nodes of the synthetic graph.
    pub synthetic_nodes: usize,
    /// Days of the synthetic graph.
    pub synthetic_days: usize,
    /// Use only the first N days of the series.
    pub days: Option<usize>,
    /// Features to predict: `auto` / `None`, `all`, or indices like `0,2`.
    pub targets: Option<String>,
    /// Chronological split, e.g. `60/20/20`.
    pub split: String,
    /// Seed of the synthetic graph.
    pub seed: u64,
}

impl DataSpec {
    /// Reads (or generates) the graph and prepares the 12 → 12 protocol.
    pub fn load(&self) -> Result<GraphPrepared> {
        let mut g = match &self.data {
            Some(p) if is_pems(p) => {
                let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let parent = p.parent().unwrap_or(Path::new("."));
                let ids = parent.join(format!("{stem}.txt"));
                let ids = ids.is_file().then_some(ids);
                read_pems(p, &parent.join(format!("{stem}.csv")), adjacency_kind(&self.adjacency)?, ids.as_deref())?
            }
            Some(p) => read_graph_auto(p)?,
            None => synthetic_sensor_graph(&SyntheticGraphConfig {
                nodes: self.synthetic_nodes,
                days: self.synthetic_days,
                interval_min: 15,
                seed: self.seed,
            })?,
        };
        if let Some(days) = self.days {
            let steps = days * g.steps_per_day();
            if steps == 0 || steps > g.num_steps() {
                bail!("--days {days}: `{}` holds {} days", g.name, g.num_steps() / g.steps_per_day());
            }
            g.series = g.series.slice(ndarray::s![..steps, .., ..]).to_owned();
        }
        let mut protocol = GraphProtocol::default().with_split(&self.split)?;
        protocol.targets = match self.targets.as_deref() {
            None | Some("auto") => default_targets(&g.features),
            Some("all") => (0..g.num_features()).collect(),
            Some(list) => list
                .split(',')
                .map(|t| {
                    t.trim()
                        .parse::<usize>()
                        .map_err(|_| anyhow::anyhow!("--targets: `{t}` is not a feature index (features: {:?})", g.features))
                })
                .collect::<Result<_>>()?,
        };
        Ok(prepare_graph(&g, &protocol)?)
    }
}

fn is_pems(p: &Path) -> bool {
    p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz")) && p.file_name().is_some_and(|f| f != "SZ_taxi.npz")
}

/// `binary`, `distance`, `gaussian` (threshold 0.1) or `gaussian:THRESHOLD`.
pub fn adjacency_kind(s: &str) -> Result<AdjacencyKind> {
    Ok(match s.split_once(':') {
        None if s == "binary" => AdjacencyKind::Binary,
        None if s == "distance" => AdjacencyKind::Distance,
        None if s == "gaussian" => AdjacencyKind::Gaussian { threshold: 0.1 },
        Some(("gaussian", t)) => match t.parse::<f32>() {
            Ok(threshold) if (0.0..1.0).contains(&threshold) => AdjacencyKind::Gaussian { threshold },
            _ => bail!("--adjacency gaussian:{t}: the threshold must be a number in [0, 1)"),
        },
        _ => bail!("unknown --adjacency `{s}`: use binary, gaussian[:THRESHOLD] or distance"),
    })
}

/// In/out flow pairs are predicted together; otherwise the first feature (the flow of the
/// PEMS files, as in ASTGCN and LightST).
pub fn default_targets(features: &[String]) -> Vec<usize> {
    if features.len() == 2 && features.iter().all(|f| f.ends_with("flow")) { vec![0, 1] } else { vec![0] }
}
