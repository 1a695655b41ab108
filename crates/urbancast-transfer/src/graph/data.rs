//! Cities of the graph protocol on a device: batches, the loss, prediction and scores.
use anyhow::Result;
use burn::prelude::*;
use burn::tensor::TensorData;
use ndarray::{Array4, s};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::TransferGraph;
use urbancast_eval::horizon::{HorizonAccumulator, HorizonReport};
use urbancast_train::{BatchLoss, Direction, Objective, Validation, epoch_seed};

use super::net::{GraphNet, Supports};
use crate::tsjt::JointData;

/// The units of the training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossScale {
    /// MSE on de-normalised values, as the TSJT and ST-GFSL code (`y` raw, the output mapped
    /// back with the city's mean and std). TSJT's γ's were set under it, so it is the default.
    #[default]
    Raw,
    /// MSE on z-scored values (every city weighs the same whatever its spread).
    Scaled,
}

/// One city on the training device and its inference twin.
pub struct GraphTask<'a> {
    /// The prepared city.
    pub g: &'a TransferGraph,
    /// Its supports on the training device.
    pub sup: Supports,
    /// The same on the inference device.
    pub eval_sup: Supports,
    /// Input steps and horizon.
    pub input_len: usize,
    /// Output steps.
    pub horizon: usize,
    device: Device,
    eval_device: Device,
}

impl<'a> GraphTask<'a> {
    /// The city `g` with windows `input_len → horizon` on `device` (usually autodiff).
    pub fn new(g: &'a TransferGraph, input_len: usize, horizon: usize, device: &Device) -> Self {
        let n = g.num_nodes();
        let adj: Vec<f32> = g.adjacency.iter().copied().collect();
        let eval_device = device.clone().without_autodiff();
        GraphTask {
            g,
            sup: Supports::new(&adj, n, device),
            eval_sup: Supports::new(&adj, n, &eval_device),
            input_len,
            horizon,
            device: device.clone(),
            eval_device,
        }
    }

    /// Inputs `[B, T, N, C]` of the windows starting at `starts`.
    fn inputs(&self, starts: &[usize], device: &Device) -> Tensor<4> {
        let (_, n, c) = self.g.input.dim();
        let l = self.input_len;
        let mut x = Vec::with_capacity(starts.len() * l * n * c);
        for &t in starts {
            x.extend(self.g.input.slice(s![t..t + l, .., ..]).iter().copied());
        }
        Tensor::from_data(TensorData::new(x, [starts.len(), l, n, c]), device)
    }

    /// Raw truth `[B, H, N]` and its observation mask (0 where a zero means missing).
    fn truth(&self, starts: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let (l, h) = (self.input_len, self.horizon);
        let mut y = Vec::with_capacity(starts.len() * h * self.g.num_nodes());
        for &t in starts {
            y.extend(self.g.raw.slice(s![t + l..t + l + h, ..]).iter().copied());
        }
        let m = y.iter().map(|&v| if self.g.zero_is_missing && v == 0.0 { 0.0 } else { 1.0 }).collect();
        (y, m)
    }

    /// The masked MSE of `model` on the windows `starts` (autodiff), in `scale`'s units.
    pub fn loss(&self, model: &GraphNet, starts: &[usize], scale: LossScale) -> Result<Tensor<1>> {
        let pred = model.forward(self.inputs(starts, &self.device), &self.sup)?;
        let (y, m) = self.truth(starts);
        let shape = [starts.len(), self.horizon, self.g.num_nodes()];
        let count = m.iter().sum::<f32>().max(1.0);
        let y = Tensor::<3>::from_data(TensorData::new(y, shape), &self.device);
        let mask = Tensor::<3>::from_data(TensorData::new(m, shape), &self.device);
        let (mean, std) = (self.g.mean, self.g.std);
        let err = match scale {
            LossScale::Raw => pred.mul_scalar(std).add_scalar(mean) - y,
            LossScale::Scaled => pred - y.sub_scalar(mean).div_scalar(std),
        };
        Ok((err.square() * mask).sum().div_scalar(count))
    }

    /// Raw predictions `[S, H, N, 1]` of an inference model for the windows `starts`.
    pub fn predict(&self, model: &GraphNet, starts: &[usize], batch: usize) -> Result<Array4<f32>> {
        let (h, n) = (self.horizon, self.g.num_nodes());
        let mut out = Vec::with_capacity(starts.len() * h * n);
        for chunk in starts.chunks(batch.max(1)) {
            let p = model.forward(self.inputs(chunk, &self.eval_device), &self.eval_sup)?;
            let p = p.mul_scalar(self.g.std).add_scalar(self.g.mean);
            out.extend(p.into_data().iter::<f32>());
        }
        Ok(Array4::from_shape_vec((starts.len(), h, n, 1), out)?)
    }

    /// Raw truths `[S, H, N, 1]` of the windows `starts`.
    pub fn truths(&self, starts: &[usize]) -> Result<Array4<f32>> {
        let (y, _) = self.truth(starts);
        Ok(Array4::from_shape_vec((starts.len(), self.horizon, self.g.num_nodes(), 1), y)?)
    }

    /// MAE, RMSE and MAPE per horizon step (all steps) and averaged, raw units, missing zeros
    /// left out, of an inference model on the windows `starts`.
    pub fn score(&self, model: &GraphNet, starts: &[usize]) -> Result<HorizonReport> {
        let mut acc = HorizonAccumulator::new(self.horizon, self.g.zero_is_missing);
        for chunk in starts.chunks(64) {
            acc.add(self.predict(model, chunk, 64)?.view(), self.truths(chunk)?.view())?;
        }
        acc.finish(&(1..=self.horizon).collect::<Vec<_>>())
    }
}

/// Training and validation windows of some cities, batching and validation (the graph
/// counterpart of the grid methods' data).
pub struct GraphData<'s, 'a> {
    /// The cities.
    pub tasks: &'s [GraphTask<'a>],
    /// Training windows per city (index into `tasks`, window starts).
    pub train: Vec<(usize, &'s [usize])>,
    /// Validation windows per city; the score is the mean of their RMSEs.
    pub val: Vec<(usize, &'s [usize])>,
    /// Samples per batch.
    pub batch: usize,
    /// Units of the loss.
    pub scale: LossScale,
}

/// A batch: position in [`GraphData::train`] and window starts.
pub type GraphBatch = (usize, Vec<usize>);

impl GraphData<'_, '_> {
    /// Batches of one city each, shuffled within and across cities with the epoch's stream.
    pub fn batches(&self, epoch: usize, seed: u64) -> Vec<GraphBatch> {
        let mut rng = StdRng::seed_from_u64(epoch_seed(seed, epoch));
        let mut out = vec![];
        for (k, (_, starts)) in self.train.iter().enumerate() {
            let mut s = starts.to_vec();
            s.shuffle(&mut rng);
            out.extend(s.chunks(self.batch.max(1)).map(|c| (k, c.to_vec())));
        }
        out.shuffle(&mut rng);
        out
    }

    /// The loss of a batch.
    pub fn loss(&self, model: &GraphNet, b: &GraphBatch) -> Result<Tensor<1>> {
        let task = &self.tasks[self.train[b.0].0];
        task.loss(model, &b.1, self.scale)
    }

    /// Mean validation RMSE (raw units) of an inference model.
    pub fn validate(&self, model: &GraphNet) -> Result<Validation> {
        let mut total = 0.0;
        for (t, starts) in &self.val {
            total += self.tasks[*t].score(model, starts)?.average.rmse;
        }
        Ok(Validation::score(total / self.val.len().max(1) as f64))
    }
}

/// The plain objective (target-only, fine-tune and its pre-training): masked MSE.
pub struct GraphMse<'s, 'a> {
    /// Windows and batching.
    pub data: GraphData<'s, 'a>,
}

impl Objective for GraphMse<'_, '_> {
    type Model = GraphNet;
    type Batch = GraphBatch;

    fn batches(&mut self, epoch: usize, seed: u64) -> Result<Vec<GraphBatch>> {
        Ok(self.data.batches(epoch, seed))
    }

    fn loss(&mut self, model: &GraphNet, b: &GraphBatch) -> Result<BatchLoss> {
        Ok(BatchLoss::plain(self.data.loss(model, b)?))
    }

    fn validate(&mut self, model: &GraphNet) -> Result<Validation> {
        self.data.validate(model)
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }
}

/// TSJT's view of the graph cities: `data.train` holds the sources and the target (at
/// `target`), `data.val` the target's validation windows.
pub struct GraphJoint<'s, 'a> {
    /// Windows and batching.
    pub data: GraphData<'s, 'a>,
    /// Position of the target in `data.train`.
    pub target: usize,
}

impl JointData for GraphJoint<'_, '_> {
    type Model = GraphNet;

    fn pool(&self) -> Vec<usize> {
        self.data.train.iter().map(|(_, s)| s.len()).collect()
    }

    fn target(&self) -> usize {
        self.target
    }

    fn batch_size(&self) -> usize {
        self.data.batch
    }

    fn loss(&mut self, model: &GraphNet, city: usize, positions: &[usize]) -> Result<Tensor<1>> {
        let (t, starts) = self.data.train[city];
        let chosen: Vec<usize> = positions.iter().map(|&p| starts[p]).collect();
        self.data.tasks[t].loss(model, &chosen, self.data.scale)
    }

    fn validate(&mut self, model: &GraphNet) -> Result<Validation> {
        self.data.validate(model)
    }
}
