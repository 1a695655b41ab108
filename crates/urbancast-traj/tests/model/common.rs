//! Random tiny inputs for the model tests.
#![allow(dead_code)]

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use urbancast_traj::model::{CandInputs, GraphInputs, HoserConfig, TimeNorm, TokenInputs};

pub fn tiny_config(roads: usize, classes: usize, zones: usize) -> HoserConfig {
    HoserConfig {
        road_id_dim: 8,
        len_dim: 4,
        class_dim: 4,
        lon_dim: 4,
        lat_dim: 4,
        gat_heads: 2,
        fusion_hidden: 8,
        nav_dim: 16,
        time_hidden: 8,
        ..HoserConfig::new(roads, classes, zones)
    }
}

pub fn ft<const D: usize>(v: Vec<f32>, shape: [usize; D], d: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, shape), d)
}
pub fn it<const D: usize>(v: Vec<i64>, shape: [usize; D], d: &Device) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(v, shape), d)
}
pub fn bt<const D: usize>(v: Vec<bool>, shape: [usize; D], d: &Device) -> Tensor<D, Bool> {
    Tensor::from_data(TensorData::new(v, shape), d)
}
pub fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Population statistics of `ln(1 + dt)`.
pub fn fit_norm(dt: &[f32]) -> TimeNorm {
    let logs: Vec<f64> = dt.iter().map(|&d| (d as f64).ln_1p()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / logs.len() as f64;
    TimeNorm { mean, std: var.sqrt().max(1e-6) }
}

/// Owned graph tensors.
pub struct Graph {
    pub road_class: Tensor<1, Int>,
    pub len_z: Tensor<2>,
    pub lon_z: Tensor<2>,
    pub lat_z: Tensor<2>,
    pub edge_src: Tensor<1, Int>,
    pub edge_dst: Tensor<1, Int>,
    pub edge_feat: Tensor<2>,
    pub zone_of: Tensor<1, Int>,
    pub zone_adj: Tensor<2>,
    pub n_edges: usize,
}

impl Graph {
    pub fn random(r: usize, e: usize, classes: usize, z: usize, seed: u64, d: &Device) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal = |n: usize| (0..n).map(|_| rng.random_range(-1.5f32..1.5)).collect::<Vec<_>>();
        let (len, lon, lat) = (normal(r), normal(r), normal(r));
        let mut rng = StdRng::seed_from_u64(seed + 1);
        let (mut src, mut dst, mut feat) = (vec![], vec![], vec![]);
        while src.len() < e {
            let (a, b) = (rng.random_range(0..r), rng.random_range(0..r));
            if a != b {
                src.push(a as i64);
                dst.push(b as i64);
                feat.push(rng.random_range(0.0f32..1.0));
                feat.push(if rng.random_bool(0.5) { 1.0 } else { 0.0 });
            }
        }
        let mut adj: Vec<f32> = (0..z * z).map(|_| rng.random_range(0.0f32..1.0)).collect();
        for i in 0..z {
            let s: f32 = adj[i * z..(i + 1) * z].iter().sum();
            adj[i * z..(i + 1) * z].iter_mut().for_each(|v| *v /= s);
        }
        Self {
            road_class: it((0..r).map(|_| rng.random_range(0..classes) as i64).collect(), [r], d),
            len_z: ft(len, [r, 1], d),
            lon_z: ft(lon, [r, 1], d),
            lat_z: ft(lat, [r, 1], d),
            edge_src: it(src, [e], d),
            edge_dst: it(dst, [e], d),
            edge_feat: ft(feat, [e, 2], d),
            zone_of: it((0..r).map(|_| rng.random_range(0..z) as i64).collect(), [r], d),
            zone_adj: ft(adj, [z, z], d),
            n_edges: e,
        }
    }

    pub fn inputs(&self) -> GraphInputs<'_> {
        GraphInputs {
            road_class: &self.road_class,
            len_z: &self.len_z,
            lon_z: &self.lon_z,
            lat_z: &self.lat_z,
            edge_src: &self.edge_src,
            edge_dst: &self.edge_dst,
            edge_feat: &self.edge_feat,
            zone_of: &self.zone_of,
            zone_adj: &self.zone_adj,
        }
    }
}

/// A padded batch as host vectors (so tests can edit it) plus tensors.
#[derive(Clone)]
pub struct Batch {
    pub b: usize,
    pub l: usize,
    pub k: usize,
    pub lens: Vec<usize>,
    pub roads: Vec<i64>,
    pub minute: Vec<f32>,
    pub weekend: Vec<f32>,
    pub lonlat: Vec<f32>,
    pub secs: Vec<f32>,
    pub cand: Vec<i64>,
    pub cmask: Vec<bool>,
    pub cfeat: Vec<f32>,
    pub dest_zone: Vec<i64>,
    pub target: Vec<i64>,
    pub dt: Vec<f32>,
}

/// Tensors of a [`Batch`].
pub struct BatchT {
    pub roads: Tensor<2, Int>,
    pub minute: Tensor<2>,
    pub weekend: Tensor<2>,
    pub lonlat: Tensor<3>,
    pub secs: Tensor<2>,
    pub valid: Tensor<2, Bool>,
    pub cand: Tensor<3, Int>,
    pub cmask: Tensor<3, Bool>,
    pub cfeat: Tensor<4>,
    pub dest_zone: Tensor<1, Int>,
    pub target: Tensor<2, Int>,
    pub dt: Tensor<2>,
}

impl Batch {
    pub fn random(lens: &[usize], l: usize, k: usize, r: usize, z: usize, seed: u64) -> Self {
        let b = lens.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut s = Self {
            b,
            l,
            k,
            lens: lens.to_vec(),
            roads: vec![0; b * l],
            minute: vec![0.0; b * l],
            weekend: vec![0.0; b * l],
            lonlat: vec![0.0; b * l * 2],
            secs: vec![0.0; b * l],
            cand: vec![0; b * l * k],
            cmask: vec![false; b * l * k],
            cfeat: vec![0.0; b * l * k * 2],
            dest_zone: (0..b).map(|_| rng.random_range(0..z) as i64).collect(),
            target: vec![-1; b * l],
            dt: vec![0.0; b * l],
        };
        for (i, &len) in lens.iter().enumerate() {
            let (start, we) = (rng.random_range(0.0f32..1400.0), if rng.random_bool(0.5) { 1.0 } else { 0.0 });
            let (mut lon, mut lat, mut t) = (10.7 + rng.random_range(-0.01f32..0.01), 69.6f32, 0.0f32);
            for p in 0..l {
                let ix = i * l + p;
                s.roads[ix] = rng.random_range(0..r) as i64;
                s.minute[ix] = (start + t / 60.0) % 1440.0;
                s.weekend[ix] = we;
                s.lonlat[2 * ix] = lon;
                s.lonlat[2 * ix + 1] = lat;
                s.secs[ix] = t;
                let dt = rng.random_range(5.0f32..200.0);
                s.dt[ix] = dt;
                t += dt;
                lon += rng.random_range(-0.004f32..0.004);
                lat += rng.random_range(-0.002f32..0.002);
                let nc = rng.random_range(1..=k);
                for c in 0..k {
                    let jx = ix * k + c;
                    s.cand[jx] = rng.random_range(0..r) as i64;
                    s.cmask[jx] = c < nc;
                    s.cfeat[2 * jx] = rng.random_range(0.0f32..3.0);
                    s.cfeat[2 * jx + 1] = rng.random_range(0.0f32..1.0);
                }
                if p < len {
                    s.target[ix] = rng.random_range(0..nc) as i64;
                }
            }
        }
        s
    }

    pub fn tensors(&self, d: &Device) -> BatchT {
        let (b, l, k) = (self.b, self.l, self.k);
        let valid = (0..b * l).map(|ix| ix % l < self.lens[ix / l]).collect();
        BatchT {
            roads: it(self.roads.clone(), [b, l], d),
            minute: ft(self.minute.clone(), [b, l], d),
            weekend: ft(self.weekend.clone(), [b, l], d),
            lonlat: ft(self.lonlat.clone(), [b, l, 2], d),
            secs: ft(self.secs.clone(), [b, l], d),
            valid: bt(valid, [b, l], d),
            cand: it(self.cand.clone(), [b, l, k], d),
            cmask: bt(self.cmask.clone(), [b, l, k], d),
            cfeat: ft(self.cfeat.clone(), [b, l, k, 2], d),
            dest_zone: it(self.dest_zone.clone(), [b], d),
            target: it(self.target.clone(), [b, l], d),
            dt: ft(self.dt.clone(), [b, l], d),
        }
    }
}

impl BatchT {
    pub fn tokens(&self) -> TokenInputs<'_> {
        TokenInputs {
            roads: &self.roads,
            minute: &self.minute,
            weekend: &self.weekend,
            lonlat: &self.lonlat,
            secs: &self.secs,
            valid: &self.valid,
        }
    }
    pub fn cands(&self) -> CandInputs<'_> {
        CandInputs { cand: &self.cand, mask: &self.cmask, feat: &self.cfeat, dest_zone: &self.dest_zone }
    }
}
