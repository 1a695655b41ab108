//! Options shared by the `urbancast distill` stages: data, protocol and LightST settings.
use std::path::PathBuf;

use anyhow::{Result, bail};
use urbancast_data::graph::GraphPrepared;
use urbancast_distill::LightstConfig;
use urbancast_distill::config::TeacherModel;
use urbancast_distill::data::DataSpec;
use urbancast_distill::losses::{Adaptive, KdForm};

use crate::args::{DeviceArg, OutFlags, Overrides, merged, set};

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
    /// Teacher architecture: mtgnn (LightST's, default) or gwn (Graph WaveNet, ST-GFSL's
    /// `meta_gwn` size).
    #[arg(long, value_name = "mtgnn|gwn", value_parser = parse_teacher)]
    pub teacher: Option<TeacherModel>,
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
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub reuse: OutFlags,
}

fn parse_teacher(s: &str) -> Result<TeacherModel, String> {
    match s {
        "mtgnn" => Ok(TeacherModel::Mtgnn),
        "gwn" => Ok(TeacherModel::Gwn),
        _ => Err(format!("`{s}`: expected mtgnn or gwn")),
    }
}

impl Overrides<LightstConfig> for Common {
    fn apply(&self, cfg: &mut LightstConfig) -> Result<()> {
        set(&mut cfg.teacher.model, &self.teacher);
        set(&mut cfg.teacher_train.max_epochs, &self.teacher_epochs);
        set(&mut cfg.student_train.max_epochs, &self.student_epochs);
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
        set(&mut d.kd_weight, &self.kd_weight);
        set(&mut d.rep_weight, &self.rep_weight);
        d.spatial &= !self.no_spatial;
        d.temporal &= !self.no_temporal;
        set(&mut d.tau, &self.tau);
        if let Some(a) = &self.adaptive {
            d.adaptive = Adaptive::parse(a)?;
        }
        cfg.validate()?;
        Ok(())
    }
}

impl Common {
    /// Checks `--out` and records the run there (all stages of one run share the folder).
    pub fn prepare(&self) -> Result<()> {
        anyhow::ensure!(self.reps >= 1, "--reps must be at least 1 (got 0)");
        let record = serde_json::json!({ "data": self.data, "adjacency": self.adjacency, "synthetic_nodes": self.synthetic_nodes,
            "synthetic_days": self.synthetic_days, "days": self.days, "targets": self.targets, "split": self.split, "seed": self.seed,
            "config": self.lightst_config()? });
        let inputs: Vec<PathBuf> = self.data.iter().cloned().chain(self.config.iter().cloned()).collect();
        urbancast_train::outdir::prepare(&self.out, "distill", &inputs, &record, self.reuse.reuse())
    }

    /// The LightST configuration: `--config` under the flags.
    pub fn lightst_config(&self) -> Result<LightstConfig> {
        merged(self.config.as_deref(), "a valid LightST configuration", self)
    }

    /// Reads (or generates) the graph and prepares the 12 -> 12 protocol.
    pub fn data(&self) -> Result<GraphPrepared> {
        let spec = DataSpec {
            data: self.data.clone(),
            adjacency: self.adjacency.clone(),
            synthetic_nodes: self.synthetic_nodes,
            synthetic_days: self.synthetic_days,
            days: self.days,
            targets: self.targets.clone(),
            split: self.split.clone(),
            seed: self.seed,
        };
        spec.load()
    }
}
