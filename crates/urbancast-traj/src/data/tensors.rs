//! Plain data → burn tensors on a device.
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::batch::TrajBatch;
use super::context::RoadContext;

fn int<const D: usize>(v: Vec<i64>, shape: [usize; D], device: &Device) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

fn float<const D: usize>(v: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

fn boolean<const D: usize>(v: Vec<bool>, shape: [usize; D], device: &Device) -> Tensor<D, Bool> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

/// The road and zone graphs of a [`RoadContext`] as tensors (`R` roads, `E` edges, `Z` zones).
#[derive(Debug, Clone)]
pub struct GraphTensors {
    /// `[R]` class index of each road.
    pub road_class: Tensor<1, Int>,
    /// `[R, 1]` z-scored `log1p(length_m)`.
    pub len_z: Tensor<2>,
    /// `[R, 1]` z-scored centroid longitude.
    pub lon_z: Tensor<2>,
    /// `[R, 1]` z-scored centroid latitude.
    pub lat_z: Tensor<2>,
    /// `[E]` source road of each edge.
    pub edge_src: Tensor<1, Int>,
    /// `[E]` destination road of each edge.
    pub edge_dst: Tensor<1, Int>,
    /// `[E, 2]` `[angle/π, reachable]`
    pub edge_feat: Tensor<2>,
    /// `[R]` zone of each road.
    pub zone_of: Tensor<1, Int>,
    /// `[Z, Z]` dense GCN operator (`H' = zone_adj · H · W`).
    pub zone_adj: Tensor<2>,
}

impl GraphTensors {
    /// The tensors of `ctx` on `device`.
    pub fn new(ctx: &RoadContext, device: &Device) -> Self {
        let (r, e, z) = (ctx.num_roads, ctx.num_edges(), ctx.num_zones);
        GraphTensors {
            road_class: int(ctx.road_class.clone(), [r], device),
            len_z: float(ctx.len_z.clone(), [r, 1], device),
            lon_z: float(ctx.lon_z.clone(), [r, 1], device),
            lat_z: float(ctx.lat_z.clone(), [r, 1], device),
            edge_src: int(ctx.edge_src.clone(), [e], device),
            edge_dst: int(ctx.edge_dst.clone(), [e], device),
            edge_feat: float(ctx.edge_feat.iter().flatten().copied().collect(), [e, 2], device),
            zone_of: int(ctx.zone_of.clone(), [r], device),
            zone_adj: float(ctx.zone_adj.clone(), [z, z], device),
        }
    }
}

/// A [`TrajBatch`] as tensors (`B` trajectories, `L` steps, `K` candidates); the fields mean
/// what they mean there.
#[derive(Debug, Clone)]
pub struct BatchTensors {
    /// Trajectories (`B`).
    pub b: usize,
    /// Padded steps per trajectory (`L`).
    pub l: usize,
    /// Candidate slots per step (`K`).
    pub k: usize,
    /// `[B, L]`
    pub roads: Tensor<2, Int>,
    /// `[B, L]`
    pub minute: Tensor<2>,
    /// `[B, L]`
    pub weekend: Tensor<2>,
    /// `[B, L, 2]` `[lon, lat]` degrees
    pub lonlat: Tensor<3>,
    /// `[B, L]`
    pub secs: Tensor<2>,
    /// `[B, L]`
    pub valid: Tensor<2, Bool>,
    /// `[B]`
    pub dest_road: Tensor<1, Int>,
    /// `[B]`
    pub dest_zone: Tensor<1, Int>,
    /// `[B, L, K]`
    pub cand: Tensor<3, Int>,
    /// `[B, L, K]`
    pub cand_mask: Tensor<3, Bool>,
    /// `[B, L, K, 2]` `[distance, angle]`
    pub cand_feat: Tensor<4>,
    /// `[B, L]` (−1: no target)
    pub target: Tensor<2, Int>,
    /// `[B, L]`
    pub time_target: Tensor<2>,
    /// `[B, L]`
    pub dt_secs: Tensor<2>,
}

impl BatchTensors {
    /// The tensors of `batch` on `device`.
    pub fn new(batch: &TrajBatch, device: &Device) -> Self {
        let (b, l, k) = (batch.b, batch.l, batch.k);
        let bl = [b, l];
        BatchTensors {
            b,
            l,
            k,
            roads: int(batch.roads.clone(), bl, device),
            minute: float(batch.minute.clone(), bl, device),
            weekend: float(batch.weekend.clone(), bl, device),
            lonlat: float(batch.lonlat.clone(), [b, l, 2], device),
            secs: float(batch.secs.clone(), bl, device),
            valid: boolean(batch.valid.clone(), bl, device),
            dest_road: int(batch.dest_road.clone(), [b], device),
            dest_zone: int(batch.dest_zone.clone(), [b], device),
            cand: int(batch.cand.clone(), [b, l, k], device),
            cand_mask: boolean(batch.cand_mask.clone(), [b, l, k], device),
            cand_feat: float(batch.cand_feat.clone(), [b, l, k, 2], device),
            target: int(batch.target.clone(), bl, device),
            time_target: float(batch.time_target.clone(), bl, device),
            dt_secs: float(batch.dt_secs.clone(), bl, device),
        }
    }
}
