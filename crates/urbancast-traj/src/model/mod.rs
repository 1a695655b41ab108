//! The HOSER-style generator (Cao et al., AAAI 2025), following the public implementation
//! (`models/road_network_encoder.py`, `models/trajectory_encoder.py`, `models/navigator.py`,
//! `train.py`, `dataset.py`):
//!
//! * **road encoder** ([`graph`]): road features `id ‖ len ‖ class ‖ lon ‖ lat` (64+16+16+16+16)
//!   through 2 GATv2 layers with 2-d edge features (PyG `GAT(v2=True, edge_dim=2)`: 1 head,
//!   ReLU between the layers, none after the last, self loops whose edge feature is the mean of
//!   the node's incoming edge features, PyG's `fill_value="mean"`);
//! * **zone encoder**: zone embedding through a 2-layer GCN over the (given, normalised) dense
//!   zone adjacency;
//! * **fusion**: `spatial = road + σ(MLP[road ‖ zone(road)]) · zone(road)` with a *scalar* gate
//!   (`Linear(256, 64) → GELU → Linear(64, 1)`); HOSER fuses the trajectory tokens only — the
//!   navigator scores candidates with the plain GAT output ([`RoadEmb::road`]);
//! * **temporal encoder**: `cos(Linear(1, 128)(±minute/1440))`, negative on weekends;
//! * **trajectory encoder** ([`traj`]): 2 pre-LN causal blocks (256 wide, 2 heads, GELU FFN 4×)
//!   with Shaw-style relative keys/values `Linear(2, d_head)([min(dist_km, 1), min(|Δt| min,
//!   5)/5])` shared by the heads;
//! * **navigator** ([`navigator`]): additive attention over candidates + time head;
//! * **loss** ([`loss`]): cross entropy over candidates + HOSER's time MAPE in `ln(1+Δt)` space.
//!
//! Incremental (KV-cached) decoding lives in [`decode`]. Padding conventions: padded candidate
//! slots may hold any index (they are replaced by 0 before the lookup) and get logit −1e9.
pub mod decode;
pub mod graph;
pub mod loss;
pub mod navigator;
pub mod traj;
mod types;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};
use urbancast_nn::checkpoint::{load_weights, read_config, save_module};

pub use decode::{DecodeCache, StepTokens};
pub use graph::{GatLayer, RoadEncoder, ZoneEncoder, segment_softmax};
pub use loss::{LossParts, TimeNorm};
pub use navigator::Navigator;
pub use traj::{TrajEncoder, haversine_km_pairs, relative_features};
pub use types::{CandInputs, GraphInputs, NavOut, RoadEmb, TokenInputs};

const KEY_CONFIG: &str = "urbancast.hoser.config";

/// `Linear` over the last axis as one `[rows, d_in] @ [d_in, d_out]` product. (For some shapes
/// burn's `Linear` on rank > 2 runs a broadcast batched matmul whose backward materialises a
/// `[d_in, d_out]` weight gradient per leading row — seconds per step at training sizes.)
pub(crate) fn lin<const D: usize>(layer: &burn::nn::Linear, x: Tensor<D>) -> Tensor<D> {
    let mut dims = x.dims();
    let d_in = dims[D - 1];
    let rows = dims.iter().product::<usize>() / d_in.max(1);
    let y = layer.forward(x.reshape([rows, d_in]));
    dims[D - 1] = y.dims()[1];
    y.reshape(dims)
}

/// Hyper-parameters (HOSER's defaults, `config/Beijing.yaml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HoserConfig {
    /// Roads of the network (rows of the road-id embedding); 0 = take it from the data.
    pub num_roads: usize,
    /// Number of road classes (highway types).
    pub num_classes: usize,
    /// Zones of the road partition (rows of the zone embedding); 0 = take it from the data.
    pub num_zones: usize,
    /// Width of the road-id embedding (HOSER: 64).
    pub road_id_dim: usize,
    /// Width of the projected road length feature (HOSER: 16).
    pub len_dim: usize,
    /// Width of the road-class embedding (HOSER: 16).
    pub class_dim: usize,
    /// Width of the projected centroid longitude (HOSER: 16).
    pub lon_dim: usize,
    /// Width of the projected centroid latitude (HOSER: 16).
    pub lat_dim: usize,
    /// GATv2 heads (concatenated; `hidden` must be divisible). HOSER: PyG default 1.
    pub gat_heads: usize,
    /// GATv2 layers of the road encoder (HOSER: 2).
    pub gat_layers: usize,
    /// GCN layers of the zone encoder (HOSER: 2).
    pub gcn_layers: usize,
    /// Hidden width of the fusion gate MLP.
    pub fusion_hidden: usize,
    /// Attention heads of the trajectory encoder (`2·hidden` must be divisible; HOSER: 2).
    pub traj_heads: usize,
    /// Transformer blocks of the trajectory encoder (HOSER: 2).
    pub traj_layers: usize,
    /// FFN width = `ffn_mult × 2·hidden`.
    pub ffn_mult: usize,
    /// Width of the navigator's additive attention.
    pub nav_dim: usize,
    /// Width of each half of the time head's hidden layer.
    pub time_hidden: usize,
    /// Distance clip of the relative bias (km); HOSER: 1 km.
    pub dist_clip_km: f32,
    /// Time-gap clip of the relative bias (minutes); HOSER: 5 min.
    pub dt_clip_min: f32,
    /// Weight of the time loss in the total; HOSER: 1.
    pub time_weight: f32,
}

impl Default for HoserConfig {
    fn default() -> Self {
        Self {
            num_roads: 0,
            num_classes: 0,
            num_zones: 0,
            road_id_dim: 64,
            len_dim: 16,
            class_dim: 16,
            lon_dim: 16,
            lat_dim: 16,
            gat_heads: 1,
            gat_layers: 2,
            gcn_layers: 2,
            fusion_hidden: 64,
            traj_heads: 2,
            traj_layers: 2,
            ffn_mult: 4,
            nav_dim: 128,
            time_hidden: 64,
            dist_clip_km: 1.0,
            dt_clip_min: 5.0,
            time_weight: 1.0,
        }
    }
}

impl HoserConfig {
    /// Defaults for a graph of `num_roads` roads, `num_classes` road classes, `num_zones` zones.
    pub fn new(num_roads: usize, num_classes: usize, num_zones: usize) -> Self {
        Self { num_roads, num_classes, num_zones, ..Self::default() }
    }

    /// Road / zone embedding width (128 by default).
    pub fn hidden(&self) -> usize {
        self.road_id_dim + self.len_dim + self.class_dim + self.lon_dim + self.lat_dim
    }

    /// Token width of the trajectory encoder (`2 · hidden`, 256 by default).
    pub fn model_dim(&self) -> usize {
        2 * self.hidden()
    }

    /// Builds the model on `device` (use `device.autodiff()` for training).
    pub fn init(&self, device: &Device) -> Hoser {
        assert!(self.hidden().is_multiple_of(self.gat_heads), "hidden width not divisible by gat_heads");
        assert!(self.model_dim().is_multiple_of(self.traj_heads), "model width not divisible by traj_heads");
        Hoser {
            road: RoadEncoder::new(self, device),
            zone: ZoneEncoder::new(self, device),
            traj: TrajEncoder::new(self, device),
            nav: Navigator::new(self, device),
            config: self.clone(),
        }
    }

    /// Seeds the device RNG and materialises every parameter in a fixed order (same seed, same
    /// weights). The burn-flex RNG is process-global: do not initialise concurrently.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Hoser {
        urbancast_nn::seeded(device, seed, || self.init(device))
    }
}

/// The whole generator.
#[derive(Module, Debug)]
pub struct Hoser {
    /// Road features through GATv2 ([`RoadEmb::road`]).
    pub road: RoadEncoder,
    /// Zone embeddings through GCN ([`RoadEmb::zone`]).
    pub zone: ZoneEncoder,
    /// Fusion, temporal encoding and the causal transformer over the route so far.
    pub traj: TrajEncoder,
    /// Candidate scores and travel times.
    pub nav: Navigator,
    #[module(skip)]
    config: HoserConfig,
}

impl Hoser {
    /// The hyper-parameters the model was built with.
    pub fn config(&self) -> &HoserConfig {
        &self.config
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        Module::num_params(self)
    }

    /// Road (`[R, hidden]`, plain and zone-fused) and zone (`[Z, hidden]`) embeddings.
    pub fn encode_graph(&self, g: GraphInputs) -> RoadEmb {
        let road = self.road.forward(&g);
        let zone = self.zone.forward(g.zone_adj.clone());
        let spatial = self.traj.fuse(road.clone(), zone.clone().select(0, g.zone_of.clone()));
        RoadEmb { road, spatial, zone }
    }

    /// Trajectory encoding `[B, L, 2·hidden]` of whole (padded) sequences.
    pub fn encode_tokens(&self, emb: &RoadEmb, t: &TokenInputs) -> Tensor<3> {
        self.traj.forward(emb, t)
    }

    /// Candidate logits and times at every position (teacher forcing).
    pub fn forward(&self, emb: &RoadEmb, t: &TokenInputs, c: &CandInputs) -> NavOut {
        let h = self.encode_tokens(emb, t);
        let [b, l, d] = h.dims();
        let k = c.cand.dims()[2];
        let dz = emb.zone.clone().select(0, c.dest_zone.clone()); // [B, hidden]
        let dz = dz.unsqueeze_dim::<3>(1).expand([b, l, self.config.hidden()]);
        let hid = self.config.hidden();
        let (logits, time) = self.nav.forward(
            emb,
            h.reshape([b * l, d]),
            dz.reshape([b * l, hid]),
            c.cand.clone().reshape([b * l, k]),
            c.mask.clone().reshape([b * l, k]),
            c.feat.clone().reshape([b * l, k, 2]),
        );
        NavOut { logits: logits.reshape([b, l, k]), time: time.reshape([b, l, k]) }
    }
}

/// Writes the model and its configuration to `path` (burnpack, overwritten).
pub fn save_hoser(model: &Hoser, path: impl AsRef<Path>) -> urbancast_nn::Result<()> {
    save_module(model, KEY_CONFIG, model.config(), path)
}

/// Reads the configuration stored by [`save_hoser`].
pub fn read_hoser_config(path: impl AsRef<Path>) -> urbancast_nn::Result<HoserConfig> {
    read_config(path, KEY_CONFIG, "HOSER")
}

/// Rebuilds the model stored at `path` on `device`.
pub fn load_hoser(path: impl AsRef<Path>, device: &Device) -> urbancast_nn::Result<Hoser> {
    let path = path.as_ref();
    let mut model = read_hoser_config(path)?.init(device);
    load_weights(&mut model, path)?;
    Ok(model)
}
