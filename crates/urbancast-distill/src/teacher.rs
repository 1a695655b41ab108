//! Training the MTGNN teacher on the masked MAE in original units.
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_data::graph::GraphPrepared;
use urbancast_nn::mtgnn::{Mtgnn, MtgnnConfig, MtgnnOut};

use crate::batch::{Batch, Denorm};
use crate::config::TeacherSettings;
use crate::losses::masked_mae;
use crate::train::GraphLoss;

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

/// Teacher forward on a batch (inputs with the time-of-day channel).
pub fn teacher_forward(model: &Mtgnn, batch: &Batch, adj: Tensor<2>) -> anyhow::Result<MtgnnOut> {
    Ok(model.try_forward(batch.x_teacher.clone(), adj)?)
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
    type Model = Mtgnn;
    fn loss(&mut self, model: &Mtgnn, b: &Batch) -> anyhow::Result<(Tensor<1>, Vec<(&'static str, Tensor<1>)>)> {
        let out = teacher_forward(model, b, self.adj.clone())?;
        let loss = masked_mae(self.denorm.apply(out.pred), b.y.clone(), b.mask.clone());
        Ok((loss, vec![]))
    }
    fn predict(&self, model: &Mtgnn, b: &Batch) -> anyhow::Result<Tensor<4>> {
        Ok(teacher_forward(model, b, self.adj_inner.clone())?.pred)
    }
}

/// Builds a seeded teacher for `data`.
pub fn new_teacher(data: &GraphPrepared, s: &TeacherSettings, device: &Device, seed: u64) -> anyhow::Result<Mtgnn> {
    Ok(teacher_config(data, s).try_init_seeded(device, seed)?)
}
