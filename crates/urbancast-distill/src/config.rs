//! Settings of a LightST run (TOML-friendly; every field has a default).
use serde::{Deserialize, Serialize};

use crate::losses::{Adaptive, KdForm};
use crate::train::TrainConfig;

/// The teacher's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TeacherModel {
    /// MTGNN, LightST's teacher (the fields of [`TeacherSettings`] set its size).
    #[default]
    Mtgnn,
    /// Graph WaveNet at ST-GFSL's `meta_gwn` size (residual/dilation 32, skip 256, end 512,
    /// 4 blocks x 2 layers, diffusion order 2 over the double-transition supports of the given
    /// adjacency, plus the adaptive adjacency); of [`TeacherSettings`] only `dropout` applies.
    Gwn,
}

/// Teacher hyper-parameters (LightST's MTGNN: node embeddings 40, top-k 20, mix-hop depth 2,
/// residual/conv 32, skip 64, end 128, 3 layers, dropout 0.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeacherSettings {
    /// Architecture: `mtgnn` (default) or `gwn`.
    pub model: TeacherModel,
    /// Node-embedding width of the graph learner (≥ 1).
    pub node_dim: usize,
    /// Neighbours kept per node in the learned adjacency (≥ 1; clamped to the number of nodes).
    pub top_k: usize,
    /// Mix-hop propagation depth (≥ 1).
    pub gcn_depth: usize,
    /// Output channels of the dilated inception convolutions (a multiple of 4: one share per
    /// kernel size).
    pub conv_channels: usize,
    /// Residual channels between layers (≥ 1).
    pub residual_channels: usize,
    /// Skip-connection channels (≥ 1).
    pub skip_channels: usize,
    /// Width of the first output convolution, which is also the width `D` of the hidden node
    /// representation the student is distilled on (≥ 1).
    pub end_channels: usize,
    /// Temporal + graph convolution layers (≥ 1).
    pub layers: usize,
    /// Dropout probability during training, in `[0, 1)`.
    pub dropout: f64,
    /// Propagate over the given adjacency as well as the learned one.
    pub use_given_adj: bool,
}

impl Default for TeacherSettings {
    fn default() -> Self {
        TeacherSettings {
            model: TeacherModel::Mtgnn,
            node_dim: 40,
            top_k: 20,
            gcn_depth: 2,
            conv_channels: 32,
            residual_channels: 32,
            skip_channels: 64,
            end_channels: 128,
            layers: 3,
            dropout: 0.3,
            use_given_adj: true,
        }
    }
}

/// MLP student hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudentSettings {
    /// Width of the encoded input window (≥ 1).
    pub embed_dim: usize,
    /// Width of the learned node-identity embedding (≥ 1).
    pub node_dim: usize,
    /// Width of the time-of-day embedding (≥ 1).
    pub tod_dim: usize,
    /// Width of the day-of-week embedding (≥ 1).
    pub dow_dim: usize,
    /// Residual MLP layers (≥ 1); their width is the sum of the four widths above.
    pub layers: usize,
    /// Dropout probability inside the MLP layers during training, in `[0, 1)`.
    pub dropout: f64,
}

impl Default for StudentSettings {
    fn default() -> Self {
        StudentSettings { embed_dim: 32, node_dim: 32, tod_dim: 32, dow_dim: 32, layers: 3, dropout: 0.15 }
    }
}

/// Distillation terms and their weights (LightST: 10 for the prediction KL, 1 for the
/// spatio-temporal contrastive terms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistillConfig {
    /// Form of the prediction-distillation term (KL over nodes with a temperature, or MSE).
    pub kd: KdForm,
    /// Weight of the prediction-distillation term (≥ 0).
    pub kd_weight: f32,
    /// Weight of the representation terms (spatial + temporal InfoNCE).
    pub rep_weight: f32,
    /// Include the spatial InfoNCE term (contrasting the nodes of each sample).
    pub spatial: bool,
    /// Include the temporal InfoNCE term (contrasting the samples of a batch at each node).
    pub temporal: bool,
    /// InfoNCE temperature.
    pub tau: f32,
    /// Cosine similarity (between teacher representations) from which an item counts as a
    /// positive of the anchor, besides the anchor's own teacher representation.
    pub pos_threshold: f32,
    /// Per-node adaptive weighting of the distillation terms (teacher error, over-smoothing,
    /// both or off).
    pub adaptive: Adaptive,
    /// Temperature of the adaptive weights' softmax.
    pub adaptive_tau: f32,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            kd: KdForm::Kl { temperature: 1.0 },
            kd_weight: 10.0,
            rep_weight: 1.0,
            spatial: true,
            temporal: true,
            tau: 0.05,
            pos_threshold: 0.9,
            adaptive: Adaptive::Both,
            adaptive_tau: 1.0,
        }
    }
}

/// Everything about one LightST run except the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LightstConfig {
    /// Teacher architecture (MTGNN or Graph WaveNet).
    pub teacher: TeacherSettings,
    /// MLP student architecture.
    pub student: StudentSettings,
    /// Optimiser and schedule of the teacher.
    pub teacher_train: TrainConfig,
    /// Optimiser and schedule of both students (plain and distilled; lr 2e-3 by default).
    pub student_train: TrainConfig,
    /// Distillation terms, used by the distilled student only.
    pub distill: DistillConfig,
}

impl Default for LightstConfig {
    fn default() -> Self {
        LightstConfig {
            teacher: TeacherSettings::default(),
            student: StudentSettings::default(),
            teacher_train: TrainConfig::default(),
            student_train: TrainConfig { lr: 2e-3, ..TrainConfig::default() },
            distill: DistillConfig::default(),
        }
    }
}
