//! Incremental decoding: one position at a time with cached keys/values, so generating a route
//! of length `T` costs `O(T²)` attention work in total instead of re-encoding every prefix.
//! All `N` rows of a cache (trips, or beams) always have the same length.

use burn::tensor::{Bool, Int, Tensor};

use super::traj::relative_features;
use super::{Hoser, RoadEmb};

/// Cached state of `N` partial trajectories of `len` positions.
#[derive(Clone, Debug)]
pub struct DecodeCache {
    /// Per transformer layer: keys and values `[N, H, len, d_head]` (empty before the first step).
    pub kv: Vec<(Tensor<4>, Tensor<4>)>,
    /// `[N, len, 2]` `[lon, lat]` of the past positions (`None` before the first step).
    pub lonlat: Option<Tensor<3>>,
    /// `[N, len]` seconds since the trip start of the past positions.
    pub secs: Option<Tensor<2>>,
    /// Rows.
    pub n: usize,
    /// Positions stored.
    pub len: usize,
}

/// One new position for each of the `N` rows of a [`DecodeCache`] ([`Hoser::step`]); the
/// features of [`super::TokenInputs`] at a single position.
#[derive(Clone, Debug)]
pub struct StepTokens {
    /// `[N]` road index.
    pub road: Tensor<1, Int>,
    /// `[N]` minute of day (`0..1440`, fractional allowed) of entering the road.
    pub minute: Tensor<1>,
    /// `[N]` 1.0 when the road was entered on a weekend, else 0.0.
    pub weekend: Tensor<1>,
    /// `[N, 2]` road centroid `[lon, lat]` in degrees.
    pub lonlat: Tensor<2>,
    /// `[N]` seconds since the trip start.
    pub secs: Tensor<1>,
}

impl Hoser {
    /// An empty cache for `n` trajectories.
    pub fn begin(&self, n: usize) -> DecodeCache {
        DecodeCache { kv: Vec::new(), lonlat: None, secs: None, n, len: 0 }
    }

    /// Appends one position per row (`tokens`) and returns its trajectory state
    /// `h [N, 2·hidden]` (equal to row `len` of [`Hoser::encode_tokens`] on the whole prefix)
    /// and the extended cache.
    pub fn step(&self, emb: &RoadEmb, cache: DecodeCache, tokens: StepTokens) -> (Tensor<2>, DecodeCache) {
        let StepTokens { road, minute, weekend, lonlat, secs } = tokens;
        let n = cache.n;
        assert_eq!(road.dims()[0], n, "step: {} roads for a cache of {n} rows", road.dims()[0]);
        let traj = &self.traj;
        let mut x = traj.tokens(emb, road.reshape([n, 1]), minute.reshape([n, 1]), weekend.reshape([n, 1]));
        let ll_new = lonlat.reshape([n, 1, 2]);
        let s_new = secs.reshape([n, 1]);
        let ll_all = match cache.lonlat {
            Some(p) => Tensor::cat(vec![p, ll_new.clone()], 1),
            None => ll_new.clone(),
        };
        let s_all = match cache.secs {
            Some(p) => Tensor::cat(vec![p, s_new.clone()], 1),
            None => s_new.clone(),
        };
        let (f0, f1) = relative_features(ll_new, s_new, ll_all.clone(), s_all.clone(), traj.dist_clip_km, traj.dt_clip_min);
        let mut past = cache.kv.into_iter();
        let mut kv = Vec::with_capacity(traj.blocks.len());
        for block in &traj.blocks {
            let (y, layer_kv) = block.forward(x, past.next(), &f0, &f1, None);
            x = y;
            kv.push(layer_kv);
        }
        let d = x.dims()[2];
        let cache = DecodeCache { kv, lonlat: Some(ll_all), secs: Some(s_all), n, len: cache.len + 1 };
        (x.reshape([n, d]), cache)
    }

    /// Candidate logits and times `[N, K]` from trajectory states `h [N, 2·hidden]`, destination
    /// zones `[N]`, candidates `cand [N, K]`, `cand_mask [N, K]`, `cand_feat [N, K, 2]`.
    pub fn navigate(
        &self,
        emb: &RoadEmb,
        h: Tensor<2>,
        dest_zone: Tensor<1, Int>,
        cand: Tensor<2, Int>,
        cand_mask: Tensor<2, Bool>,
        cand_feat: Tensor<3>,
    ) -> (Tensor<2>, Tensor<2>) {
        let dz = emb.zone.clone().select(0, dest_zone);
        self.nav.forward(emb, h, dz, cand, cand_mask, cand_feat)
    }

    /// Keeps rows `parents [N']` of the cache (in that order; repeats allowed), e.g. the parent
    /// beam of every surviving hypothesis.
    pub fn reorder(&self, cache: DecodeCache, parents: Tensor<1, Int>) -> DecodeCache {
        let n = parents.dims()[0];
        let sel4 = |t: Tensor<4>| t.select(0, parents.clone());
        DecodeCache {
            kv: cache.kv.into_iter().map(|(k, v)| (sel4(k), sel4(v))).collect(),
            lonlat: cache.lonlat.map(|t| t.select(0, parents.clone())),
            secs: cache.secs.map(|t| t.select(0, parents.clone())),
            n,
            len: cache.len,
        }
    }
}
