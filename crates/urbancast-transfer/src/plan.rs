//! What a runner runs: every method for every N and every seed, under one settings value on
//! one device. The grid runner ([`crate::RunPlan`]) and the graph runner
//! ([`crate::graph::GraphPlan`]) share this one type.
use burn::tensor::Device;

/// Every method of `methods` for every N in `days` and every seed in `seeds`, under
/// `settings` on `device`.
#[derive(Debug)]
pub struct Plan<'a, M, S> {
    /// Methods to run, in order.
    pub methods: &'a [M],
    /// Numbers N of target training days.
    pub days: &'a [usize],
    /// Random seeds; each one repeats the whole grid of methods × days.
    pub seeds: &'a [u64],
    /// Model, training and protocol settings.
    pub settings: &'a S,
    /// Device to train and predict on (its autodiff version is used for training).
    pub device: &'a Device,
}

// Manual impls: a derive would ask `M: Clone, S: Clone`, which references do not need.
impl<M, S> Clone for Plan<'_, M, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, S> Copy for Plan<'_, M, S> {}
