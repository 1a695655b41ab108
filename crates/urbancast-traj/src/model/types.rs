//! Model inputs (borrowed tensors) and outputs.

use burn::tensor::{Bool, Int, Tensor};

use crate::data::tensors::{BatchTensors, GraphTensors};

/// The road network and zones as tensors (on the model's device). Edges are directed
/// `src → dst` (messages flow to `dst`), must not contain self loops (they are added here).
pub struct GraphInputs<'a> {
    /// `[R]` road class index.
    pub road_class: &'a Tensor<1, Int>,
    /// `[R, 1]` standardised `ln(1 + length)`.
    pub len_z: &'a Tensor<2>,
    /// `[R, 1]` standardised centroid longitude.
    pub lon_z: &'a Tensor<2>,
    /// `[R, 1]` standardised centroid latitude.
    pub lat_z: &'a Tensor<2>,
    /// `[E]` source road of each edge.
    pub edge_src: &'a Tensor<1, Int>,
    /// `[E]` destination road of each edge.
    pub edge_dst: &'a Tensor<1, Int>,
    /// `[E, 2]`: `[|heading difference| / π, reachable (0/1)]`.
    pub edge_feat: &'a Tensor<2>,
    /// `[R]` zone of each road.
    pub zone_of: &'a Tensor<1, Int>,
    /// `[Z, Z]` normalised zone adjacency (applied as `A · X`).
    pub zone_adj: &'a Tensor<2>,
}

/// Graph-encoded embeddings, computed by [`super::Hoser::encode_graph`] once per training batch (with
/// gradients) or once per model at inference.
#[derive(Clone, Debug)]
pub struct RoadEmb {
    /// `[R, hidden]` GAT output (candidate keys of the navigator and time head).
    pub road: Tensor<2>,
    /// `[R, hidden]` road fused with its zone (trajectory tokens).
    pub spatial: Tensor<2>,
    /// `[Z, hidden]` GCN output (destination query of the navigator).
    pub zone: Tensor<2>,
}

/// Trajectory tokens of a padded batch (`B` trips, `L` positions).
pub struct TokenInputs<'a> {
    /// `[B, L]` road index of each position (padding: any valid index, e.g. 0).
    pub roads: &'a Tensor<2, Int>,
    /// `[B, L]` minute of day (0..1440, fractional allowed) of entering the road.
    pub minute: &'a Tensor<2>,
    /// `[B, L]` 1.0 on weekends (HOSER: weekday of the trip start), else 0.0.
    pub weekend: &'a Tensor<2>,
    /// `[B, L, 2]` road centroid `[lon, lat]` in degrees.
    pub lonlat: &'a Tensor<3>,
    /// `[B, L]` seconds since the trip start.
    pub secs: &'a Tensor<2>,
    /// `[B, L]` true at real positions (`t < len`); false keys are never attended.
    pub valid: &'a Tensor<2, Bool>,
}

/// Candidate next roads at every position.
pub struct CandInputs<'a> {
    /// `[B, L, K]` candidate road indices.
    pub cand: &'a Tensor<3, Int>,
    /// `[B, L, K]` true for real candidates.
    pub mask: &'a Tensor<3, Bool>,
    /// `[B, L, K, 2]`: `[distance feature, angle feature]` (HOSER: `ln(1 + (d − d_min)/100 m)`,
    /// `|Δ bearing to destination| / π`).
    pub feat: &'a Tensor<4>,
    /// `[B]` zone of the destination road.
    pub dest_zone: &'a Tensor<1, Int>,
}

/// Navigator outputs.
#[derive(Clone, Debug)]
pub struct NavOut {
    /// `[B, L, K]` candidate logits (−1e9 at padded candidates).
    pub logits: Tensor<3>,
    /// `[B, L, K]` predicted normalised `ln(1 + Δt)` of moving to each candidate.
    pub time: Tensor<3>,
}

impl<'a> From<&'a GraphTensors> for GraphInputs<'a> {
    fn from(g: &'a GraphTensors) -> Self {
        GraphInputs {
            road_class: &g.road_class,
            len_z: &g.len_z,
            lon_z: &g.lon_z,
            lat_z: &g.lat_z,
            edge_src: &g.edge_src,
            edge_dst: &g.edge_dst,
            edge_feat: &g.edge_feat,
            zone_of: &g.zone_of,
            zone_adj: &g.zone_adj,
        }
    }
}

impl<'a> From<&'a BatchTensors> for TokenInputs<'a> {
    fn from(b: &'a BatchTensors) -> Self {
        TokenInputs { roads: &b.roads, minute: &b.minute, weekend: &b.weekend, lonlat: &b.lonlat, secs: &b.secs, valid: &b.valid }
    }
}

impl<'a> From<&'a BatchTensors> for CandInputs<'a> {
    fn from(b: &'a BatchTensors) -> Self {
        CandInputs { cand: &b.cand, mask: &b.cand_mask, feat: &b.cand_feat, dest_zone: &b.dest_zone }
    }
}
