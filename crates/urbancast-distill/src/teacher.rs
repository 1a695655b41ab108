//! The teacher (MTGNN, LightST's, or Graph WaveNet) and its objective: the masked MAE in
//! original units.
use std::path::Path;

use anyhow::bail;
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_data::graph::GraphPrepared;
use urbancast_nn::gwn::{Gwn, GwnConfig, double_transition, load_gwn, read_gwn_config, save_gwn};
use urbancast_nn::mtgnn::{Mtgnn, MtgnnConfig, MtgnnOut, load_mtgnn, read_mtgnn_config, save_mtgnn};

use crate::batch::{Batch, Denorm};
use crate::config::{TeacherModel, TeacherSettings};
use crate::losses::masked_mae;
use crate::train::GraphLoss;

/// A teacher network: predictions `[B, H, N, C]` and a hidden node representation
/// `[B, N, D]` for the distillation.
// One teacher per run, never stored in bulk: the size difference of the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Teacher {
    /// MTGNN (LightST's teacher).
    Mtgnn(Mtgnn),
    /// Graph WaveNet (ST-GFSL's `meta_gwn` size).
    Gwn(Gwn),
}

impl Teacher {
    /// `mtgnn` or `gwn`.
    pub fn kind(&self) -> TeacherModel {
        match self {
            Teacher::Mtgnn(_) => TeacherModel::Mtgnn,
            Teacher::Gwn(_) => TeacherModel::Gwn,
        }
    }

    /// Width `D` of the hidden node representation.
    pub fn hidden_dim(&self) -> usize {
        match self {
            Teacher::Mtgnn(m) => m.config().end_channels,
            Teacher::Gwn(g) => g.config().end_channels,
        }
    }

    /// Nodes the teacher was built for.
    pub fn num_nodes(&self) -> usize {
        match self {
            Teacher::Mtgnn(m) => m.config().num_nodes,
            Teacher::Gwn(g) => g.config().num_nodes,
        }
    }
}

/// The given adjacency of `data` as a tensor on `device`.
pub fn adjacency_tensor(data: &GraphPrepared, device: &Device) -> Tensor<2> {
    let n = data.num_nodes();
    let v: Vec<f32> = data.adjacency.iter().copied().collect();
    Tensor::from_data(TensorData::new(v, [n, n]), device)
}

/// MTGNN configuration for `data`: `C` target channels plus time of day in, `C` out.
pub fn teacher_config(data: &GraphPrepared, s: &TeacherSettings) -> MtgnnConfig {
    let c = data.channels();
    let mut cfg = MtgnnConfig::new(data.num_nodes(), c + 1, c);
    cfg.seq_len = data.input_len;
    cfg.horizon = data.horizon;
    cfg.node_dim = s.node_dim;
    cfg.top_k = s.top_k.min(data.num_nodes());
    cfg.gcn_depth = s.gcn_depth;
    cfg.conv_channels = s.conv_channels;
    cfg.residual_channels = s.residual_channels;
    cfg.skip_channels = s.skip_channels;
    cfg.end_channels = s.end_channels;
    cfg.layers = s.layers;
    cfg.dropout = s.dropout;
    cfg.use_given_adj = s.use_given_adj;
    cfg
}

/// Graph WaveNet configuration for `data` (`meta_gwn` defaults, the adaptive adjacency on,
/// two double-transition supports from the given adjacency, `dropout` from the settings).
pub fn gwn_teacher_config(data: &GraphPrepared, s: &TeacherSettings) -> GwnConfig {
    let c = data.channels();
    GwnConfig {
        in_steps: data.input_len,
        out_steps: data.horizon,
        out_channels: c,
        dropout: s.dropout,
        adaptive_adj: true,
        num_supports: 2,
        ..GwnConfig::new(data.num_nodes(), c + 1)
    }
}

/// Teacher forward on a batch (inputs with the time-of-day channel) with the given adjacency.
pub fn teacher_forward(model: &Teacher, batch: &Batch, adj: Tensor<2>) -> anyhow::Result<MtgnnOut> {
    match model {
        Teacher::Mtgnn(m) => Ok(m.try_forward(batch.x_teacher.clone(), adj)?),
        Teacher::Gwn(g) => {
            let (pred, hidden) = g.try_forward_hidden(batch.x_teacher.clone(), &double_transition(&adj))?;
            Ok(MtgnnOut { pred, hidden })
        }
    }
}

/// Objective of the teacher: masked MAE of the de-normalised predictions.
pub struct TeacherObjective {
    /// Brings normalised predictions back to original units for the loss.
    pub denorm: Denorm,
    /// Given adjacency `[N, N]` on the training (autodiff) device.
    pub adj: Tensor<2>,
    /// The same adjacency on the inner (validation) device.
    pub adj_inner: Tensor<2>,
}

impl TeacherObjective {
    /// The objective for `data`, its adjacency placed on `device` and on its inner device.
    pub fn new(data: &GraphPrepared, device: &Device) -> Self {
        let adj = adjacency_tensor(data, device);
        TeacherObjective { denorm: Denorm::new(data), adj_inner: adj.clone().inner(), adj }
    }
}

impl GraphLoss for TeacherObjective {
    type Model = Teacher;
    fn loss(&mut self, model: &Teacher, b: &Batch) -> anyhow::Result<(Tensor<1>, Vec<(&'static str, Tensor<1>)>)> {
        let out = teacher_forward(model, b, self.adj.clone())?;
        let loss = masked_mae(self.denorm.apply(out.pred), b.y.clone(), b.mask.clone());
        Ok((loss, vec![]))
    }
    fn predict(&self, model: &Teacher, b: &Batch) -> anyhow::Result<Tensor<4>> {
        Ok(teacher_forward(model, b, self.adj_inner.clone())?.pred)
    }
}

/// Builds a seeded teacher of the settings' architecture for `data`.
pub fn new_teacher(data: &GraphPrepared, s: &TeacherSettings, device: &Device, seed: u64) -> anyhow::Result<Teacher> {
    Ok(match s.model {
        TeacherModel::Mtgnn => Teacher::Mtgnn(teacher_config(data, s).try_init_seeded(device, seed)?),
        TeacherModel::Gwn => Teacher::Gwn(gwn_teacher_config(data, s).try_init_seeded(device, seed)?),
    })
}

/// Writes the teacher (weights and configuration) to `path`.
pub fn save_teacher(model: &Teacher, path: &Path) -> anyhow::Result<()> {
    match model {
        Teacher::Mtgnn(m) => save_mtgnn(m, path)?,
        Teacher::Gwn(g) => save_gwn(g, path)?,
    }
    Ok(())
}

/// Reads a teacher checkpoint written by [`save_teacher`] (either architecture) for a graph of
/// `nodes` nodes.
pub fn load_teacher(path: &Path, nodes: usize, device: &Device) -> anyhow::Result<Teacher> {
    let teacher = match (read_mtgnn_config(path), read_gwn_config(path)) {
        (Ok(config), _) => Teacher::Mtgnn(load_mtgnn(&config, path, device)?),
        (Err(_), Ok(_)) => Teacher::Gwn(load_gwn(path, device)?),
        (Err(e), Err(_)) => {
            return Err(anyhow::Error::from(e).context(format!("{}: not a teacher checkpoint (MTGNN or Graph WaveNet)", path.display())));
        }
    };
    if teacher.num_nodes() != nodes {
        bail!("{}: the teacher was trained on {} nodes, the data has {nodes}", path.display(), teacher.num_nodes());
    }
    Ok(teacher)
}
