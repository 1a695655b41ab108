//! Road encoder (GATv2 with edge features over road-graph edge lists) and zone encoder (GCN over
//! a dense normalised zone adjacency), as HOSER's `RoadNetworkEncoder` (PyG `GAT(v2=True,
//! edge_dim=2, num_layers=2)` and `GCN(num_layers=2)`).
//!
//! Message passing uses gathers (`select`) and scatter-adds (`select_assign` with `Add`); burn
//! has no sparse tensors.

use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::{Device, IndexingUpdateOp, Int, Tensor};

use super::{GraphInputs, HoserConfig};

/// Softmax of `scores [E, H]` over the edges sharing a destination (`dst [E]`, values in
/// `0..num_nodes`), per head. Numerically stable: the per-destination maximum (computed with a
/// scatter-max on detached scores; the shift does not change the result, so no gradient flows
/// through it) is subtracted before `exp`. Every destination that appears gets weights summing
/// to 1.
pub fn segment_softmax(scores: Tensor<2>, dst: Tensor<1, Int>, num_nodes: usize) -> Tensor<2> {
    let [_, h] = scores.dims();
    let device = scores.device();
    let max =
        Tensor::<2>::full([num_nodes, h], -1.0e30, &device).select_assign(0, dst.clone(), scores.clone().detach(), IndexingUpdateOp::Max);
    let ex = (scores - max.select(0, dst.clone())).exp();
    let denom = Tensor::<2>::zeros([num_nodes, h], &device).select_assign(0, dst.clone(), ex.clone(), IndexingUpdateOp::Add);
    ex / denom.select(0, dst)
}

/// One GATv2 layer with edge features, as PyG `GATv2Conv(edge_dim, concat=True,
/// negative_slope=0.2, share_weights=False)`: for an edge `j → i`
/// `e_ij = aᵀ LeakyReLU(W_l h_j + W_r h_i + W_e f_ij)`, `α = softmax_j(e_ij)` per destination,
/// `h'_i = Σ_j α_ij W_l h_j + b` (heads concatenated).
#[derive(Module, Debug)]
pub struct GatLayer {
    lin_l: Linear,
    lin_r: Linear,
    lin_edge: Linear,
    /// `[H, C]` attention vectors.
    att: Param<Tensor<2>>,
    /// `[H · C]` output bias.
    bias: Param<Tensor<1>>,
    #[module(skip)]
    heads: usize,
}

impl GatLayer {
    /// `d_in → heads × (d_out / heads)` (concatenated).
    pub fn new(d_in: usize, d_out: usize, heads: usize, edge_dim: usize, device: &Device) -> Self {
        let c = d_out / heads;
        let glorot = Initializer::XavierUniform { gain: 1.0 };
        let lin = |i, o, b| LinearConfig::new(i, o).with_bias(b).with_initializer(glorot.clone()).init(device);
        Self {
            lin_l: lin(d_in, d_out, true),
            lin_r: lin(d_in, d_out, true),
            lin_edge: lin(edge_dim, d_out, false),
            att: glorot.init_with([heads, c], Some(c), Some(heads), device),
            bias: Param::from_tensor(Tensor::zeros([d_out], device)),
            heads,
        }
    }

    /// `x [N, d_in]`, edges `src, dst [E]` (self loops included by the caller), `feat [E, F]`
    /// → (`[N, d_out]`, attention weights `[E, H]`).
    pub fn forward(&self, x: Tensor<2>, src: Tensor<1, Int>, dst: Tensor<1, Int>, feat: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let n = x.dims()[0];
        let e = src.dims()[0];
        let xl = self.lin_l.forward(x.clone());
        let xr = self.lin_r.forward(x);
        let d_out = xl.dims()[1];
        let (h, c) = (self.heads, d_out / self.heads);
        let xj = xl.select(0, src);
        let xi = xr.select(0, dst.clone());
        let z = leaky_relu(xj.clone() + xi + self.lin_edge.forward(feat), 0.2).reshape([e, h, c]);
        let scores = (z * self.att.val().unsqueeze_dim::<3>(0)).sum_dim(2).reshape([e, h]);
        let alpha = segment_softmax(scores, dst.clone(), n);
        let msg = (xj.reshape([e, h, c]) * alpha.clone().unsqueeze_dim::<3>(2)).reshape([e, d_out]);
        let out = Tensor::<2>::zeros([n, d_out], &msg.device()).select_assign(0, dst, msg, IndexingUpdateOp::Add);
        (out + self.bias.val().unsqueeze_dim::<2>(0), alpha)
    }
}

/// Road features and the GATv2 stack.
#[derive(Module, Debug)]
pub struct RoadEncoder {
    road_id: Embedding,
    len: Linear,
    class: Embedding,
    lon: Linear,
    lat: Linear,
    layers: Vec<GatLayer>,
}

/// Edge lists with one self loop per node appended (PyG `add_self_loops(fill_value="mean")`:
/// the loop's feature is the mean feature of the node's incoming edges, 0 without any).
pub fn with_self_loops(
    src: &Tensor<1, Int>,
    dst: &Tensor<1, Int>,
    feat: &Tensor<2>,
    n: usize,
) -> (Tensor<1, Int>, Tensor<1, Int>, Tensor<2>) {
    let device = feat.device();
    let [e, f] = feat.dims();
    let sum = Tensor::<2>::zeros([n, f], &device).select_assign(0, dst.clone(), feat.clone(), IndexingUpdateOp::Add);
    let cnt = Tensor::<2>::zeros([n, 1], &device).select_assign(0, dst.clone(), Tensor::ones([e, 1], &device), IndexingUpdateOp::Add);
    let loop_feat = sum / cnt.clamp_min(1.0);
    let nodes = Tensor::<1, Int>::arange(0..n as i64, &device);
    (
        Tensor::cat(vec![src.clone(), nodes.clone()], 0),
        Tensor::cat(vec![dst.clone(), nodes], 0),
        Tensor::cat(vec![feat.clone(), loop_feat], 0),
    )
}

impl RoadEncoder {
    /// A randomly initialised encoder of `cfg`'s sizes (`cfg.gat_layers` GATv2 layers of
    /// `cfg.hidden()` width) on `device`.
    pub fn new(cfg: &HoserConfig, device: &Device) -> Self {
        let hid = cfg.hidden();
        Self {
            road_id: EmbeddingConfig::new(cfg.num_roads, cfg.road_id_dim).init(device),
            len: LinearConfig::new(1, cfg.len_dim).init(device),
            class: EmbeddingConfig::new(cfg.num_classes.max(1), cfg.class_dim).init(device),
            lon: LinearConfig::new(1, cfg.lon_dim).init(device),
            lat: LinearConfig::new(1, cfg.lat_dim).init(device),
            layers: (0..cfg.gat_layers).map(|_| GatLayer::new(hid, hid, cfg.gat_heads, 2, device)).collect(),
        }
    }

    /// Initial road features `[R, hidden]` = `id ‖ len ‖ class ‖ lon ‖ lat`.
    pub fn features(&self, g: &GraphInputs) -> Tensor<2> {
        Tensor::cat(
            vec![
                self.road_id.weight.val(),
                self.len.forward(g.len_z.clone()),
                self.class.weight.val().select(0, g.road_class.clone()),
                self.lon.forward(g.lon_z.clone()),
                self.lat.forward(g.lat_z.clone()),
            ],
            1,
        )
    }

    /// GAT output `[R, hidden]` and each layer's attention weights `[E + R, H]` over the edges
    /// of [`with_self_loops`] (the given edges first, then one loop per road).
    pub fn forward_with_attention(&self, g: &GraphInputs) -> (Tensor<2>, Vec<Tensor<2>>) {
        let mut x = self.features(g);
        let n = x.dims()[0];
        let (src, dst, feat) = with_self_loops(g.edge_src, g.edge_dst, g.edge_feat, n);
        let mut alphas = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let (y, a) = layer.forward(x, src.clone(), dst.clone(), feat.clone());
            alphas.push(a);
            x = if i + 1 < self.layers.len() { relu(y) } else { y };
        }
        (x, alphas)
    }

    /// GAT output `[R, hidden]`.
    pub fn forward(&self, g: &GraphInputs) -> Tensor<2> {
        self.forward_with_attention(g).0
    }
}

/// Zone embedding + GCN (`X ← A X W + b`, ReLU between layers, none after the last).
#[derive(Module, Debug)]
pub struct ZoneEncoder {
    zone_id: Embedding,
    weights: Vec<Linear>,
    biases: Vec<Param<Tensor<1>>>,
}

impl ZoneEncoder {
    /// A randomly initialised encoder of `cfg`'s sizes (`cfg.num_zones` zone embeddings,
    /// `cfg.gcn_layers` Glorot-initialised GCN layers, zero biases) on `device`.
    pub fn new(cfg: &HoserConfig, device: &Device) -> Self {
        let hid = cfg.hidden();
        let glorot = Initializer::XavierUniform { gain: 1.0 };
        Self {
            zone_id: EmbeddingConfig::new(cfg.num_zones.max(1), hid).init(device),
            weights: (0..cfg.gcn_layers)
                .map(|_| LinearConfig::new(hid, hid).with_bias(false).with_initializer(glorot.clone()).init(device))
                .collect(),
            biases: (0..cfg.gcn_layers).map(|_| Param::from_tensor(Tensor::zeros([hid], device))).collect(),
        }
    }

    /// `adj [Z, Z]` (normalised) → zone embeddings `[Z, hidden]`.
    pub fn forward(&self, adj: Tensor<2>) -> Tensor<2> {
        let mut x = self.zone_id.weight.val();
        let n = self.weights.len();
        for (i, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let y = adj.clone().matmul(w.forward(x)) + b.val().unsqueeze_dim::<2>(0);
            x = if i + 1 < n { relu(y) } else { y };
        }
        x
    }
}
