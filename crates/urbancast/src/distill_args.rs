//! Options shared by the `urbancast distill` stages: data, protocol and LightST settings.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use urbancast_data::graph::{
    AdjacencyKind, GraphPrepared, GraphProtocol, SyntheticGraphConfig, prepare_graph, read_graph_auto, read_pems, synthetic_sensor_graph,
};
use urbancast_distill::LightstConfig;
use urbancast_distill::losses::{Adaptive, KdForm};

#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Sensor-graph data: a folder with SZ_taxi.npz, a folder with los_speed.csv, the
    /// nyc-manhattan-69 folder, or an ASTGCN PEMS .npz (with <stem>.csv distances). Default: the
    /// built-in synthetic sensor graph.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Adjacency of a PEMS distance CSV: binary (default, as ASTGCN), gaussian[:THRESHOLD]
    /// (DCRNN kernel, threshold 0.1 by default) or distance.
    #[arg(long, default_value = "binary")]
    pub adjacency: String,
    /// Nodes and days of the synthetic graph (when --data is not given).
    #[arg(long, default_value_t = 40)]
    pub synthetic_nodes: usize,
    #[arg(long, default_value_t = 14)]
    pub synthetic_days: usize,
    /// Use only the first N days of the series (default: all).
    #[arg(long)]
    pub days: Option<usize>,
    /// Features to predict: `auto` (default: both for in/out flows, else the first, e.g. PEMS
    /// flow), `all`, or indices like `0,2`.
    #[arg(long)]
    pub targets: Option<String>,
    /// Chronological split: 60/20/20 (default) or 70/10/20.
    #[arg(long, default_value = "60/20/20")]
    pub split: String,
    /// Output folder for checkpoints and results.
    #[arg(long, default_value = "runs/lightst")]
    pub out: PathBuf,
    /// TOML file with a LightST configuration (tables teacher, student, teacher_train,
    /// student_train, distill); the flags below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Maximum epochs of the teacher / the students (early stopping may end sooner).
    #[arg(long)]
    pub teacher_epochs: Option<usize>,
    #[arg(long)]
    pub student_epochs: Option<usize>,
    /// Prediction distillation: kl (softmax over nodes, LightST) or mse.
    #[arg(long)]
    pub kd: Option<String>,
    #[arg(long)]
    pub kd_temperature: Option<f32>,
    #[arg(long)]
    pub kd_weight: Option<f32>,
    /// Weight of the spatial + temporal contrastive terms.
    #[arg(long)]
    pub rep_weight: Option<f32>,
    #[arg(long)]
    pub no_spatial: bool,
    #[arg(long)]
    pub no_temporal: bool,
    /// InfoNCE temperature (default 0.05).
    #[arg(long)]
    pub tau: Option<f32>,
    /// Adaptive per-node weights: off, error, smooth or both (default).
    #[arg(long)]
    pub adaptive: Option<String>,
    /// Timing repetitions per measurement (median reported).
    #[arg(long, default_value_t = 20)]
    pub reps: usize,
    /// Compute device: cpu (default) or cuda[:N] with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

impl Common {
    /// The LightST configuration: defaults, then --config, then the flags.
    pub fn lightst_config(&self) -> Result<LightstConfig> {
        let mut cfg = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("{}: not a valid LightST configuration", p.display()))?
            }
            None => LightstConfig::default(),
        };
        if let Some(e) = self.teacher_epochs {
            cfg.teacher_train.max_epochs = e;
        }
        if let Some(e) = self.student_epochs {
            cfg.student_train.max_epochs = e;
        }
        let d = &mut cfg.distill;
        match self.kd.as_deref() {
            Some("kl") => d.kd = KdForm::Kl { temperature: self.kd_temperature.unwrap_or(1.0) },
            Some("mse") => d.kd = KdForm::Mse,
            Some(other) => bail!("unknown --kd `{other}`: use kl or mse"),
            None => {
                if let (Some(t), KdForm::Kl { .. }) = (self.kd_temperature, d.kd) {
                    d.kd = KdForm::Kl { temperature: t };
                }
            }
        }
        if let Some(w) = self.kd_weight {
            d.kd_weight = w;
        }
        if let Some(w) = self.rep_weight {
            d.rep_weight = w;
        }
        d.spatial &= !self.no_spatial;
        d.temporal &= !self.no_temporal;
        if let Some(t) = self.tau {
            d.tau = t;
        }
        if let Some(a) = &self.adaptive {
            d.adaptive = Adaptive::parse(a)?;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads (or generates) the graph and prepares the 12 -> 12 protocol.
    pub fn data(&self) -> Result<GraphPrepared> {
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
                .map(|t| t.trim().parse::<usize>().map_err(|_| anyhow::anyhow!("--targets: `{t}` is not a feature index (features: {:?})", g.features)))
                .collect::<Result<_>>()?,
        };
        Ok(prepare_graph(&g, &protocol)?)
    }
}

fn is_pems(p: &Path) -> bool {
    p.is_file()
        && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"))
        && p.file_name().is_some_and(|f| f != "SZ_taxi.npz")
}

fn adjacency_kind(s: &str) -> Result<AdjacencyKind> {
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
fn default_targets(features: &[String]) -> Vec<usize> {
    if features.len() == 2 && features.iter().all(|f| f.ends_with("flow")) { vec![0, 1] } else { vec![0] }
}

