//! [`HoserScorer`]: the HOSER model behind the search algorithms' [`StepScorer`] interface.
//!
//! * The road and zone graphs are encoded **once** per scorer ([`Hoser::encode_graph`]); every
//!   step then only runs the cached transformer step ([`Hoser::step`]) and the navigator
//!   ([`Hoser::navigate`]).
//! * The state of `N` rows is the model's [`DecodeCache`] plus each row's last trajectory state
//!   `h [N, D]` (computed when a token is consumed: [`StepScorer::begin`] consumes the origins,
//!   [`StepScorer::advance`] reorders the cache to the parents and consumes the new tokens) and
//!   each row's trip start time (reordered with the rows).
//! * Token features are those of training ([`crate::data::TrajBatch`]): the minute of day and
//!   weekend flag of the token's own entry time, the road centroid `[lon, lat]`, and the seconds
//!   since the row's trip start.
//! * Scores: candidate features from [`candidate_features`] on the query's own candidate list,
//!   a log-softmax over the real candidates (in f64) and the time head denormalised to seconds
//!   ([`TimeNorm::denormalize`]).
//!
//! Inference never records an autodiff graph: a model living on an autodiff device is replaced
//! by its [`Module::valid`] copy and all inputs go to the plain (inner) device.
use std::borrow::Cow;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rayon::prelude::*;
use urbancast_roads::RoadNetwork;

use crate::data::{GraphTensors, RoadContext, TimeNorm, candidate_features, is_weekend, minute_of_day};
use crate::generate::{Query, StepScorer, Token};
use crate::model::{DecodeCache, Hoser, RoadEmb, StepTokens};

/// The HOSER generator as a [`StepScorer`] (see the module docs).
pub struct HoserScorer<'a> {
    net: &'a RoadNetwork,
    model: Cow<'a, Hoser>,
    emb: RoadEmb,
    ctx: &'a RoadContext,
    time_norm: TimeNorm,
    device: Device,
    encode_secs: f64,
}

/// Decoder state of [`HoserScorer`]: `n` rows.
#[derive(Clone, Debug)]
pub struct HoserState {
    cache: DecodeCache,
    /// `[n, D]` trajectory state after each row's last token (`None` when `n == 0`).
    h: Option<Tensor<2>>,
    /// Trip start time (Unix seconds) of each row.
    start: Vec<i64>,
}

impl HoserState {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.start.len()
    }
    /// True when there is no row left.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }
    /// Tokens consumed per row.
    pub fn positions(&self) -> usize {
        self.cache.len
    }
}

impl<'a> HoserScorer<'a> {
    /// Encodes the graph once and checks that network, context and model agree in size.
    pub fn new(net: &'a RoadNetwork, model: &'a Hoser, ctx: &'a RoadContext, time_norm: TimeNorm, device: &Device) -> Result<Self> {
        let cfg = model.config();
        if ctx.num_roads != net.len() {
            bail!("road context has {} roads but network `{}` has {}", ctx.num_roads, net.name, net.len());
        }
        if cfg.num_roads != ctx.num_roads || cfg.num_zones != ctx.num_zones || cfg.num_classes != ctx.num_classes {
            bail!(
                "model is for {} roads, {} zones, {} classes; the road context has {} roads, {} zones, {} classes",
                cfg.num_roads,
                cfg.num_zones,
                cfg.num_classes,
                ctx.num_roads,
                ctx.num_zones,
                ctx.num_classes
            );
        }
        let device = device.clone().inner();
        let model = if model.devices().iter().any(Device::is_autodiff) { Cow::Owned(model.valid()) } else { Cow::Borrowed(model) };
        let t0 = Instant::now();
        let g = GraphTensors::new(ctx, &device);
        let emb = model.encode_graph((&g).into());
        let _ = device.sync();
        let encode_secs = t0.elapsed().as_secs_f64();
        Ok(HoserScorer { net, model, emb, ctx, time_norm, device, encode_secs })
    }

    /// Wall-clock seconds the graph encoding took (once per scorer).
    pub fn encode_secs(&self) -> f64 {
        self.encode_secs
    }
    /// The model scoring the steps (an inference copy when the given one was on an autodiff
    /// device).
    pub fn model(&self) -> &Hoser {
        &self.model
    }
    /// The road and zone embeddings, encoded once by [`HoserScorer::new`].
    pub fn emb(&self) -> &RoadEmb {
        &self.emb
    }
    /// The plain (non-autodiff) device all inputs go to.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Appends `tokens[i]` to row `i` (trip start `start[i]`): the new cache and `h [n, D]`.
    fn consume(&self, cache: DecodeCache, tokens: &[Token], start: &[i64]) -> (Option<Tensor<2>>, DecodeCache) {
        let n = tokens.len();
        if n == 0 {
            return (None, cache);
        }
        let mut roads = Vec::with_capacity(n);
        let (mut minute, mut weekend, mut secs) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let mut lonlat = Vec::with_capacity(2 * n);
        for (t, &s) in tokens.iter().zip(start) {
            assert!(t.road < self.net.len(), "token road {} outside the network ({} roads)", t.road, self.net.len());
            roads.push(t.road as i64);
            minute.push(minute_of_day(t.time));
            weekend.push(if is_weekend(t.time) { 1.0f32 } else { 0.0 });
            secs.push((t.time - s) as f32);
            let c = self.ctx.centroids[t.road];
            lonlat.extend([c[0] as f32, c[1] as f32]);
        }
        let d = &self.device;
        let tokens = StepTokens {
            road: int(roads, [n], d),
            minute: float(minute, [n], d),
            weekend: float(weekend, [n], d),
            lonlat: float(lonlat, [n, 2], d),
            secs: float(secs, [n], d),
        };
        let (h, cache) = self.model.step(&self.emb, cache, tokens);
        (Some(h), cache)
    }
}

fn int<const D: usize>(v: Vec<i64>, shape: [usize; D], device: &Device) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(v, shape), device)
}
fn float<const D: usize>(v: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, shape), device)
}
fn boolean<const D: usize>(v: Vec<bool>, shape: [usize; D], device: &Device) -> Tensor<D, Bool> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

/// `log_softmax` of `logits` (f64 accumulation).
fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let lse = m + logits.iter().map(|&l| (l as f64 - m).exp()).sum::<f64>().ln();
    logits.iter().map(|&l| (l as f64 - lse) as f32).collect()
}

impl StepScorer for HoserScorer<'_> {
    type State = HoserState;

    fn begin(&self, rows: &[Token]) -> HoserState {
        let start: Vec<i64> = rows.iter().map(|t| t.time).collect();
        let (h, cache) = self.consume(self.model.begin(rows.len()), rows, &start);
        HoserState { cache, h, start }
    }

    fn score(&self, state: &HoserState, queries: &[Query<'_>]) -> Vec<Vec<(f32, f32)>> {
        let live: Vec<usize> = (0..queries.len()).filter(|&i| !queries[i].candidates.is_empty()).collect();
        let mut out: Vec<Vec<(f32, f32)>> = vec![Vec::new(); queries.len()];
        let Some(h) = state.h.as_ref().filter(|_| !live.is_empty()) else { return out };
        let (q, k) = (live.len(), live.iter().map(|&i| queries[i].candidates.len()).max().unwrap());
        let feats: Vec<Vec<[f32; 2]>> = live
            .par_iter()
            .map(|&i| {
                let x = &queries[i];
                assert!(x.row < state.len(), "query for row {} of a {}-row state", x.row, state.len());
                candidate_features(self.net, x.current, x.dest, x.candidates)
            })
            .collect();
        let (mut rows, mut dz) = (Vec::with_capacity(q), Vec::with_capacity(q));
        let (mut cand, mut mask, mut feat) = (vec![0i64; q * k], vec![false; q * k], vec![0f32; q * k * 2]);
        for (j, (&i, f)) in live.iter().zip(&feats).enumerate() {
            let x = &queries[i];
            rows.push(x.row as i64);
            dz.push(self.ctx.zone_of[x.dest]);
            for (c, (&r, fc)) in x.candidates.iter().zip(f).enumerate() {
                let p = j * k + c;
                cand[p] = r as i64;
                mask[p] = true;
                feat[2 * p] = fc[0];
                feat[2 * p + 1] = fc[1];
            }
        }
        let d = &self.device;
        let hq = h.clone().select(0, int(rows, [q], d));
        let (logits, time) =
            self.model.navigate(&self.emb, hq, int(dz, [q], d), int(cand, [q, k], d), boolean(mask, [q, k], d), float(feat, [q, k, 2], d));
        let logits: Vec<f32> = logits.into_data().iter::<f32>().collect();
        let time: Vec<f32> = time.into_data().iter::<f32>().collect();
        for (j, &i) in live.iter().enumerate() {
            let m = queries[i].candidates.len();
            let lp = log_softmax(&logits[j * k..j * k + m]);
            let secs = time[j * k..j * k + m].iter().map(|&z| self.time_norm.denormalize(z as f64) as f32);
            out[i] = lp.into_iter().zip(secs).collect();
        }
        out
    }

    fn advance(&self, state: HoserState, parents: &[usize], tokens: &[Token]) -> HoserState {
        assert_eq!(parents.len(), tokens.len(), "advance: {} parents for {} tokens", parents.len(), tokens.len());
        let n_old = state.len();
        assert!(parents.iter().all(|&p| p < n_old), "advance: a parent row is outside the {n_old}-row state");
        if parents.is_empty() {
            return self.begin(&[]);
        }
        let start: Vec<i64> = parents.iter().map(|&p| state.start[p]).collect();
        let ix = int(parents.iter().map(|&p| p as i64).collect(), [parents.len()], &self.device);
        let cache = self.model.reorder(state.cache, ix);
        let (h, cache) = self.consume(cache, tokens, &start);
        HoserState { cache, h, start }
    }
}
