//! Settings of a LightST run (TOML-friendly; every field has a default).
use serde::{Deserialize, Serialize};

use crate::losses::{Adaptive, KdForm};
use crate::train::TrainConfig;

/// MTGNN teacher hyper-parameters (LightST's: node embeddings 40, top-k 20, mix-hop depth 2,
/// residual/conv 32, skip 64, end 128, 3 layers, dropout 0.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeacherSettings {
    pub node_dim: usize,
    pub top_k: usize,
    pub gcn_depth: usize,
    pub conv_channels: usize,
    pub residual_channels: usize,
    pub skip_channels: usize,
    pub end_channels: usize,
    pub layers: usize,
    pub dropout: f64,
    /// Propagate over the given adjacency as well as the learned one.
    pub use_given_adj: bool,
}

impl Default for TeacherSettings {
    fn default() -> Self {
        TeacherSettings {
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
    pub embed_dim: usize,
    pub node_dim: usize,
    pub tod_dim: usize,
    pub dow_dim: usize,
    pub layers: usize,
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
    pub kd: KdForm,
    pub kd_weight: f32,
    /// Weight of the representation terms (spatial + temporal InfoNCE).
    pub rep_weight: f32,
    pub spatial: bool,
    pub temporal: bool,
    /// InfoNCE temperature.
    pub tau: f32,
    /// Cosine similarity (between teacher representations) from which an item counts as a
    /// positive of the anchor, besides the anchor's own teacher representation.
    pub pos_threshold: f32,
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
    pub teacher: TeacherSettings,
    pub student: StudentSettings,
    pub teacher_train: TrainConfig,
    pub student_train: TrainConfig,
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
