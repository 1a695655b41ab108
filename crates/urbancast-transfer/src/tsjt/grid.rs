//! TSJT on the grid ST-net (the CrossTReS / STBaT protocol): the sources' training days and the
//! target's few days form the pool, the loss is the grid methods' [`masked_mse`], selection is
//! on the target's validation days. TSJT's Node Prompting Module is a graph module; the grid
//! backbone runs without it (the paper's backbone-agnostic claim is the skewed backward).
use anyhow::Result;
use burn::prelude::*;
use urbancast_nn::StNet;
use urbancast_train::{RunDir, Validation};

use super::{JointData, Tsjt, TsjtConfig, Variant};
use crate::batch::masked_mse;
use crate::train::{GridData, TrainLog};

/// The ST-net and grid cities as TSJT's [`JointData`]: `data.train` holds the sources and the
/// target (at index `target`), `data.val` the target's validation days.
pub struct GridJoint<'s, 't, 'a> {
    /// Splits and batching.
    pub data: GridData<'s, 't, 'a>,
    /// Index of the target in `data.train`.
    pub target: usize,
}

impl JointData for GridJoint<'_, '_, '_> {
    type Model = StNet;

    fn pool(&self) -> Vec<usize> {
        self.data.train.iter().map(|s| s.steps.len()).collect()
    }

    fn target(&self) -> usize {
        self.target
    }

    fn batch_size(&self) -> usize {
        self.data.batch
    }

    fn loss(&mut self, model: &StNet, city: usize, positions: &[usize]) -> Result<Tensor<1>> {
        let steps: Vec<usize> = positions.iter().map(|&p| self.data.train[city].steps[p]).collect();
        let (task, x, y) = self.data.tensors(&(city, steps));
        let out = model.forward(x, &task.space)?;
        Ok(masked_mse(out.pred, y, task))
    }

    fn validate(&mut self, model: &StNet) -> Result<Validation> {
        self.data.validate(model)
    }
}

/// Trains `model` (autodiff device) by TSJT `variant` on `data` (sources and target in
/// `data.train`, the target at `target`) for `cfg.train`, in the engine run labelled `label`
/// with `seed`; returns the best model on the target's validation days and the log (per-epoch
/// `cos`, `conflict` and `grad_ratio_s_t` in `train-log.jsonl`).
pub fn train(
    model: StNet,
    mut data: GridData,
    target: usize,
    (cfg, variant): (&TsjtConfig, Variant),
    (label, seed): (&str, u64),
    run: Option<&RunDir>,
) -> Result<(StNet, TrainLog)> {
    cfg.skew.validate()?;
    data.batch = cfg.train.batch;
    let mut obj = Tsjt::new(GridJoint { data, target }, variant, cfg.skew);
    let fitted = urbancast_train::fit(model, &mut obj, &cfg.train.spec(label, seed), run)?;
    Ok((fitted.best, TrainLog::from(&fitted.log)))
}
