//! TSJT (Zhang et al., AAAI 2025): one-stage target-skewed joint training. Sources and target
//! are trained together from scratch; every optimiser step takes one source batch and one
//! target batch, backpropagates each on its own, and combines the two gradients so that the
//! source's only adds what does not oppose the target's ([`skew`]). Backbone-agnostic: a
//! backbone and its data plug in through [`JointData`] ([`grid::GridJoint`] for the ST-net).
//!
//! As the public code (`zhangyudongUSTC/TSJT-main`, `train.py` and `datasets.py`): each source
//! batch comes from one city drawn uniformly among the sources and the target's few days, as
//! `batch` random samples of it; the target batch is `batch` random samples of the target's
//! days. Where the code leaves it open (its epoch is unbounded): an epoch here is as many steps
//! as the pooled training samples make batches, and selection is on the target's validation
//! days like every other grid method.
pub mod grid;
pub mod skew;

use anyhow::Result;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, index::sample};
use serde::{Deserialize, Serialize};
use urbancast_train::{BatchLoss, Direction, Objective, Validation, epoch_seed};

pub use skew::{Skew, SkewRule, SkewStats, combine, measure};

use crate::train::TrainConfig;

/// TSJT's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TsjtConfig {
    /// The gradient rule and its weights γ_t, γ_s.
    pub skew: Skew,
    /// The joint training (optimiser, batch, epochs; selection on the target's validation days).
    pub train: TrainConfig,
}

impl Default for TsjtConfig {
    fn default() -> Self {
        TsjtConfig {
            skew: Skew::default(),
            // Pre-training's stopping rule (patience 5 after 1,000 steps), on the target's
            // validation days; an epoch is a pass over the pooled source samples.
            train: TrainConfig { max_epochs: 100, patience: 5, min_steps: 1000, ..TrainConfig::default() },
        }
    }
}

/// A TSJT variant: the method and its ablation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Target-skewed combination ([`TsjtConfig::skew`]).
    Full,
    /// Plain joint training: the two gradients summed (g_s + g_t), no skewing.
    NoSkew,
}

impl Variant {
    /// Method name: `tsjt`, `joint-no-skew`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Full => "tsjt",
            Variant::NoSkew => "joint-no-skew",
        }
    }
}

/// What TSJT needs from a backbone and its data: the training samples of every city (the
/// target among them), the loss of a batch, and validation.
pub trait JointData {
    /// The trained model.
    type Model: Module;
    /// Number of training samples of each city, in a fixed order.
    fn pool(&self) -> Vec<usize>;
    /// Index of the target city in [`JointData::pool`].
    fn target(&self) -> usize;
    /// Samples per batch.
    fn batch_size(&self) -> usize;
    /// The loss (autodiff) of the samples at `positions` (indices below `pool()[city]`).
    fn loss(&mut self, model: &Self::Model, city: usize, positions: &[usize]) -> Result<Tensor<1>>;
    /// Validates an inference copy of the model on the target.
    fn validate(&mut self, model: &Self::Model) -> Result<Validation>;
}

/// One step's data: a source batch (city, positions) and a target batch (positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JointBatch {
    /// City of the source batch (may be the target itself, as in the code).
    pub city: usize,
    /// Its samples.
    pub source: Vec<usize>,
    /// Samples of the target.
    pub target: Vec<usize>,
}

/// The TSJT objective on the shared engine: it computes and combines the two gradients itself
/// and hands them over through [`Objective::take_gradients`].
pub struct Tsjt<D: JointData> {
    /// Backbone and data.
    pub data: D,
    /// The rule, or `None` for plain joint training ([`Variant::NoSkew`]).
    pub skew: Option<Skew>,
    pending: Option<GradientsParams>,
}

impl<D: JointData> Tsjt<D> {
    /// The objective of `variant` with `skew`'s rule and weights.
    pub fn new(data: D, variant: Variant, skew: Skew) -> Self {
        Tsjt { data, skew: (variant == Variant::Full).then_some(skew), pending: None }
    }
}

/// `b` distinct random positions below `n` (all of them, shuffled, when `n ≤ b`).
fn draw(rng: &mut StdRng, n: usize, b: usize) -> Vec<usize> {
    sample(rng, n, b.min(n)).into_vec()
}

fn value(t: &Tensor<1>) -> f64 {
    t.clone().into_scalar::<f32>() as f64
}

impl<D: JointData> Objective for Tsjt<D> {
    type Model = D::Model;
    type Batch = JointBatch;

    fn batches(&mut self, epoch: usize, seed: u64) -> Result<Vec<JointBatch>> {
        let pool = self.data.pool();
        let (t, b) = (self.data.target(), self.data.batch_size().max(1));
        if pool.get(t).copied().unwrap_or(0) == 0 {
            anyhow::bail!("TSJT needs target training samples (N > 0 days)");
        }
        let cities: Vec<usize> = (0..pool.len()).filter(|&c| pool[c] > 0).collect();
        let steps: usize = pool.iter().map(|n| n.div_ceil(b)).sum();
        let mut rng = StdRng::seed_from_u64(epoch_seed(seed, epoch));
        Ok((0..steps)
            .map(|_| {
                let city = *cities.choose(&mut rng).expect("the target has samples");
                let source = draw(&mut rng, pool[city], b);
                let target = draw(&mut rng, pool[t], b);
                JointBatch { city, source, target }
            })
            .collect())
    }

    fn loss(&mut self, model: &D::Model, b: &JointBatch) -> Result<BatchLoss> {
        let t = self.data.target();
        let ls = self.data.loss(model, b.city, &b.source)?;
        let (vs, device) = (value(&ls), ls.device());
        let gs = GradientsParams::from_grads(ls.backward(), model);
        let lt = self.data.loss(model, t, &b.target)?;
        let vt = value(&lt);
        let gt = GradientsParams::from_grads(lt.backward(), model);
        let (grads, stats, total) = match &self.skew {
            Some(skew) => {
                let (g, s) = combine(model, &gs, &gt, skew);
                (g, s, f64::from(skew.gamma_target) * vt + f64::from(skew.gamma_source) * vs)
            }
            None => (skew::sum(model, &gs, &gt), skew::measure(model, &gs, &gt), vs + vt),
        };
        self.pending = Some(grads);
        let scalar = |v: f64| Tensor::<1>::from_floats([v as f32], &device);
        let ratio = if stats.norm_target > 0.0 { stats.norm_source / stats.norm_target } else { 0.0 };
        Ok(BatchLoss {
            total: scalar(total),
            terms: vec![("source", scalar(vs)), ("target", scalar(vt))],
            weight: 1.0,
            counters: vec![("cos", stats.cos, 1.0), ("conflict", stats.conflict, 1.0), ("grad_ratio_s_t", ratio, 1.0)],
        })
    }

    fn take_gradients(&mut self) -> Option<GradientsParams> {
        self.pending.take()
    }

    fn validate(&mut self, model: &D::Model) -> Result<Validation> {
        self.data.validate(model)
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }
}
