//! Cross-city transfer on sensor graphs under ST-GFSL's protocol (which TSJT and its baselines
//! use): leave-one-city-out or given sources → a target with N days, Graph WaveNet backbone,
//! MAE / RMSE / MAPE per horizon step and averaged, mean ± std over seeds. One runner
//! ([`run`]) for every method; the baselines issue adds methods to it.
pub mod bench;
pub mod cities;
pub mod data;
pub mod net;
pub mod report;
mod runner;
pub mod simple;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::GraphTransferProtocol;
use urbancast_train::RunDir;

pub use data::{GraphData, GraphJoint, GraphMse, GraphTask, LossScale};
pub use net::{GraphNet, GraphNetConfig, Supports};
pub use report::{GraphRow, GraphSummary, summarize, summary_table, write_graph_report};
pub use runner::{GraphPlan, run};

use crate::train::TrainConfig;
use crate::tsjt::TsjtConfig;

/// A method of the graph runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GraphMethod {
    /// The last input step, repeated.
    Persistence,
    /// The node's mean at each time of day over the target's training days.
    Ha,
    /// Graph WaveNet on the target's N days only.
    TargetOnly,
    /// Pre-train on the sources (same backbone), then train on the target's N days.
    FineTune,
    /// TSJT: joint training with the target-skewed backward and the Node Prompting Module.
    Tsjt,
    /// TSJT without the Node Prompting Module.
    TsjtNoNpm,
    /// Plain joint training (gradients summed), with the Node Prompting Module.
    JointNoSkew,
}

impl GraphMethod {
    /// Every method, in table order.
    pub const ALL: [GraphMethod; 7] = [
        GraphMethod::Persistence,
        GraphMethod::Ha,
        GraphMethod::TargetOnly,
        GraphMethod::FineTune,
        GraphMethod::Tsjt,
        GraphMethod::TsjtNoNpm,
        GraphMethod::JointNoSkew,
    ];

    /// Name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            GraphMethod::Persistence => "persistence",
            GraphMethod::Ha => "ha",
            GraphMethod::TargetOnly => "target-only",
            GraphMethod::FineTune => "fine-tune",
            GraphMethod::Tsjt => "tsjt",
            GraphMethod::TsjtNoNpm => "tsjt-no-npm",
            GraphMethod::JointNoSkew => "joint-no-skew",
        }
    }

    /// Whether the method learns from the sources.
    pub fn uses_sources(self) -> bool {
        matches!(self, GraphMethod::FineTune | GraphMethod::Tsjt | GraphMethod::TsjtNoNpm | GraphMethod::JointNoSkew)
    }

    /// Whether the model has the Node Prompting Module.
    pub fn has_npm(self) -> bool {
        matches!(self, GraphMethod::Tsjt | GraphMethod::JointNoSkew)
    }
}

impl fmt::Display for GraphMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GraphMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        GraphMethod::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = GraphMethod::ALL.iter().map(|m| m.name()).collect();
            format!("unknown graph method `{s}`: expected one of {}", names.join(", "))
        })
    }
}

/// Everything configurable about a graph transfer experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphSettings {
    /// Windows, splits and scaling.
    pub protocol: GraphTransferProtocol,
    /// Backbone and prompting-module sizes.
    pub net: GraphNetConfig,
    /// Pre-training on the sources (fine-tune).
    pub pretrain: TrainConfig,
    /// Training on the target's days (target-only, fine-tune).
    pub target_train: TrainConfig,
    /// TSJT's rule and joint training.
    pub tsjt: TsjtConfig,
    /// Units of the training loss.
    pub loss: LossScale,
    /// Where every training keeps its log and checkpoints (set by the program).
    #[serde(skip)]
    pub train_dir: Option<PathBuf>,
    /// Continue every training from its checkpoint.
    #[serde(skip)]
    pub resume: bool,
}

/// Optimiser of the graph protocol: Adam lr 1e-3 without weight decay (the TSJT code), batch
/// 32, gradient clip 5 (gwnet's).
fn graph_train(max_epochs: usize, patience: usize, min_steps: usize) -> TrainConfig {
    TrainConfig { weight_decay: 0.0, clip_norm: 5.0, max_epochs, patience, min_steps, ..TrainConfig::default() }
}

impl Default for GraphSettings {
    fn default() -> Self {
        GraphSettings {
            protocol: GraphTransferProtocol::default(),
            net: GraphNetConfig::default(),
            pretrain: graph_train(100, 5, 0),
            target_train: graph_train(120, 0, 0),
            tsjt: TsjtConfig { train: graph_train(100, 5, 500), ..TsjtConfig::default() },
            loss: LossScale::Raw,
            train_dir: None,
            resume: false,
        }
    }
}

impl GraphSettings {
    /// Checks every range (keys prefixed by `prefix`, e.g. `"settings."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = urbancast_check::Checker::new(prefix);
        self.protocol.validate_at(&c.nested("protocol"))?;
        self.pretrain.validate_at(&c.nested("pretrain"))?;
        self.target_train.validate_at(&c.nested("target_train"))?;
        self.tsjt.train.validate_at(&c.nested("tsjt.train"))?;
        self.tsjt.skew.validate_at(&c.nested("tsjt.skew"))?;
        let n = &self.net;
        for (k, v) in [
            ("residual_channels", n.residual_channels),
            ("dilation_channels", n.dilation_channels),
            ("skip_channels", n.skip_channels),
            ("end_channels", n.end_channels),
            ("blocks", n.blocks),
            ("layers", n.layers),
            ("prompt_dim", n.prompt_dim),
            ("bank_size", n.bank_size),
        ] {
            c.at_least(&format!("net.{k}"), v, 1)?;
        }
        c.in_range("net.dropout", n.dropout, 0.0..1.0)?;
        Ok(())
    }

    /// The run folder of training phase `name`.
    pub fn run_dir(&self, name: &str) -> Option<RunDir> {
        self.train_dir.as_ref().map(|d| RunDir::new(d.join(name), self.resume))
    }
}
