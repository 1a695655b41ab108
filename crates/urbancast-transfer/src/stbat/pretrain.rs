//! STBaT pre-training: the STBLM objective and its alternation with each city's RIAM.
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::{Int, TensorData};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use urbancast_nn::StNet;

use super::StbatConfig;
use super::losses::{DclOrder, regional_stats, simdcl, weighted_mse};
use super::riam::{Riam, cosine_similarity, inverse_density_weights, log_density, poi_cross_entropy, poi_distribution};
use urbancast_train::{BatchLoss, Direction, Objective, OptimConfig, RunDir, Stepper, Validation};

use crate::batch::{Task, masked_mse};
use crate::train::{GridBatch, GridData, TrainConfig, TrainLog};

/// STBLM: the ST-net (feature extractor + predictor) and the projector
/// `d_r = FC(ReLU(FC(mu_r || sigma_r)))` of regional feature statistics.
#[derive(Module, Debug)]
pub struct Stblm {
    /// The ST-net: feature extractor and predictor, kept after pre-training.
    pub net: StNet,
    proj1: Linear,
    proj2: Linear,
}

impl Stblm {
    /// Wraps `net` with a projector `2J -> proj_dim -> proj_dim` drawn from `seed`.
    pub fn new(net: StNet, proj_dim: usize, device: &Device, seed: u64) -> Stblm {
        let j = net.config().z_dim();
        seeded(device, seed, || Stblm {
            net,
            proj1: LinearConfig::new(2 * j, proj_dim).init(device),
            proj2: LinearConfig::new(proj_dim, proj_dim).init(device),
        })
    }

    /// `[R, J]` means and standard deviations -> `[R, proj_dim]`.
    pub fn project(&self, mu: Tensor<2>, sigma: Tensor<2>) -> Tensor<2> {
        self.proj2.forward(relu(self.proj1.forward(Tensor::cat(vec![mu, sigma], 1))))
    }
}

use urbancast_nn::seeded;

/// The density-based parts of STBaT (the weights of eq. 14 and SimDCL, which ranks by the RIAM's
/// similarities) switch on for a city once an estimate of its RIAM gives weights whose largest
/// is at least this multiple of the smallest. Before that — the first epoch of a city without
/// POI, whose RIAM has not seen any feature statistics yet, or a RIAM whose embeddings
/// collapsed — the plain loss is used and SimDCL is off.
pub const NON_UNIFORM_RATIO: f64 = 1.1;

/// Region densities and weights of one source city (all regions; NaN = inactive).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Balance {
    /// Name of the source city.
    pub city: String,
    /// Kernel density `rho_r` of the region's embedding.
    pub density: Vec<f64>,
    /// Prediction-loss weight `omega_r` (mean 1 over active regions).
    pub weight: Vec<f64>,
}

/// What STBaT pre-training reports beyond the training log.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StbatOutcome {
    /// Densities and weights per source city at the best epoch.
    pub balance: Vec<Balance>,
    /// `L_emb` after the POI warm-up (when any city has POI) and after each alternation (mean
    /// over cities).
    pub emb_loss: Vec<f64>,
    /// Mean SimDCL per epoch.
    pub dcl_loss: Vec<f64>,
    /// After each estimate of the densities: the smallest and largest loss weight ω over the
    /// active regions of every source city, and whether they were used (see
    /// [`NON_UNIFORM_RATIO`]).
    #[serde(default)]
    pub weight_range: Vec<(f64, f64, bool)>,
    /// Notices for the user (e.g. a city without POI).
    pub notes: Vec<String>,
}

/// The RIAM and the imbalance estimates of one source city.
struct CityRiam {
    name: String,
    regions: usize,
    active: Vec<usize>,
    active_idx: Tensor<1, Int>,
    riam: Riam,
    optim: Stepper,
    /// Encoder input per active region: POI distribution, or one-hot region identity.
    input: Tensor<2>,
    /// POI targets of the classifier (None = no classifier).
    poi: Option<Tensor<2>>,
    /// Sum of per-batch statistics since the last alternation, and their count.
    acc: Option<(Tensor<2>, Tensor<2>)>,
    acc_n: usize,
    stats: Option<(Tensor<2>, Tensor<2>)>,
    ready: bool,
    /// The densities are non-uniform: the weights and SimDCL apply.
    balanced: bool,
    log_rho: Vec<f64>,
    weights: Vec<f64>,
    weight_tensor: Option<Tensor<3>>,
    order: Option<DclOrder>,
}

impl CityRiam {
    fn new(task: &Task, cfg: &StbatConfig, j: usize, seed: u64, notes: &mut Vec<String>) -> Result<CityRiam> {
        let city = &task.prep.city;
        let device = &task.device;
        let active: Vec<usize> = (0..city.num_regions()).filter(|&r| city.mask[r]).collect();
        let ra = active.len();
        if ra == 0 {
            bail!("STBaT: source city `{}` has no active region", city.name);
        }
        let use_poi = !cfg.no_poi && city.poi.is_some();
        if !cfg.no_poi && city.poi.is_none() {
            notes.push(format!(
                "source `{}` has no POI: its RIAM runs without the POI classifier (as --no-poi), embedding region identities",
                city.name
            ));
        }
        if !use_poi && cfg.no_fdp {
            bail!(
                "STBaT: the RIAM of `{}` would have nothing to learn from (no POI classifier and no feature-distribution predictor): drop --no-fdp or give the city POI",
                city.name
            );
        }
        let (input, classes, poi) = match &city.poi {
            Some(counts) => {
                let p = poi_distribution(counts);
                let k = p.ncols();
                let rows: Vec<f32> = active.iter().flat_map(|&r| p.row(r).to_vec()).collect();
                let t = Tensor::<2>::from_data(TensorData::new(rows, [ra, k]), device);
                (t.clone(), k, if use_poi { Some(t) } else { None })
            }
            None => {
                let mut eye = vec![0f32; ra * ra];
                for i in 0..ra {
                    eye[i * ra + i] = 1.0;
                }
                (Tensor::<2>::from_data(TensorData::new(eye, [ra, ra]), device), 1, None)
            }
        };
        let riam = seeded(device, seed, || Riam::new(input.dims()[1], classes, cfg.embed_dim, j, device));
        let idx: Vec<i64> = active.iter().map(|&r| r as i64).collect();
        Ok(CityRiam {
            name: city.name.clone(),
            regions: city.num_regions(),
            active_idx: Tensor::from_data(TensorData::new(idx, [ra]), device),
            active,
            riam,
            optim: Stepper::new(&OptimConfig::adam(0.0), 0.0),
            input,
            poi,
            acc: None,
            acc_n: 0,
            stats: None,
            ready: false,
            balanced: false,
            log_rho: vec![],
            weights: vec![],
            weight_tensor: None,
            order: None,
        })
    }

    /// `steps` Adam steps on `L_emb = CE + beta * KLD` (terms that apply), then new densities,
    /// weights and similarities. Returns the last loss, or None when there is nothing to learn.
    fn update(&mut self, cfg: &StbatConfig, steps: usize) -> Result<Option<f64>> {
        if let Some((mu, sg)) = self.acc.take() {
            let n = self.acc_n.max(1) as f32;
            self.stats = Some((mu.div_scalar(n), sg.div_scalar(n)));
            self.acc_n = 0;
        }
        let use_stats = !cfg.no_fdp && self.stats.is_some();
        if self.poi.is_none() && !use_stats {
            return Ok(None);
        }
        let mut last = f64::NAN;
        for _ in 0..steps {
            let phi = self.riam.embed(self.input.clone());
            let mut loss: Option<Tensor<1>> = None;
            if let Some(p) = &self.poi {
                loss = Some(poi_cross_entropy(self.riam.poi_log_probs(phi.clone()), p.clone()));
            }
            if use_stats {
                let (mu, sg) = self.stats.clone().expect("checked");
                let (mh, sh) = self.riam.feature_dist(phi);
                let kl = super::gaussian_kl(mu, sg, mh, sh).mul_scalar(cfg.beta as f32);
                loss = Some(match loss {
                    Some(l) => l + kl,
                    None => kl,
                });
            }
            let loss = loss.expect("one term applies");
            let what = || format!("STBaT RIAM of `{}`", self.name);
            let (riam, info) = self.optim.step(self.riam.clone(), loss, cfg.riam_lr, &what)?;
            self.riam = riam;
            last = info.loss;
        }
        self.estimate(cfg);
        Ok(Some(last))
    }

    /// Densities, weights and the SimDCL order from the current embeddings. The weights and
    /// the order are used only when the density is non-uniform ([`NON_UNIFORM_RATIO`]).
    fn estimate(&mut self, cfg: &StbatConfig) {
        let phi = self.riam.embed(self.input.clone()).detach();
        let [ra, d] = phi.dims();
        let data = phi.into_data().convert::<f32>();
        let v: Vec<f64> = data.as_slice::<f32>().map(|s| s.iter().map(|&x| f64::from(x)).collect()).unwrap_or_default();
        let phi = Array2::from_shape_vec((ra, d), v).expect("phi is [active regions, D]");
        self.log_rho = log_density(&phi, cfg.bandwidth);
        self.weights = inverse_density_weights(&self.log_rho);
        self.ready = true;
        let (lo, hi) = self.weight_range();
        self.balanced = hi >= NON_UNIFORM_RATIO * lo;
        if !self.balanced {
            self.weight_tensor = None;
            self.order = None;
            return;
        }
        let mut w = vec![0f32; self.regions];
        for (k, &r) in self.active.iter().enumerate() {
            w[r] = self.weights[k] as f32;
        }
        let device = self.input.device();
        self.weight_tensor = Some(Tensor::<1>::from_data(TensorData::new(w, [self.regions]), &device).reshape([1, self.regions, 1]));
        self.order = if ra >= 3 { Some(DclOrder::new(&cosine_similarity(&phi))) } else { None };
    }

    /// Smallest and largest weight over the active regions.
    fn weight_range(&self) -> (f64, f64) {
        self.weights.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &w| (lo.min(w), hi.max(w)))
    }

    fn balance(&self) -> Balance {
        let mut density = vec![f64::NAN; self.regions];
        let mut weight = vec![f64::NAN; self.regions];
        if self.ready {
            for (k, &r) in self.active.iter().enumerate() {
                density[r] = self.log_rho[k].exp();
                weight[r] = self.weights[k];
            }
        }
        Balance { city: self.name.clone(), density, weight }
    }
}

/// The STBLM objective with the RIAM alternation (see the module docs).
pub struct StbatObjective<'s, 't, 'a> {
    data: GridData<'s, 't, 'a>,
    cfg: StbatConfig,
    cities: Vec<CityRiam>,
    outcome: StbatOutcome,
    dcl_sum: f64,
    dcl_n: usize,
}

/// What a checkpoint keeps of a city's RIAM beyond its weights and optimiser.
#[derive(Serialize, Deserialize)]
struct CityState {
    acc: Option<(Vec<f32>, Vec<f32>, [usize; 2])>,
    acc_n: usize,
    stats: Option<(Vec<f32>, Vec<f32>, [usize; 2])>,
    ready: bool,
}

fn pair_data(p: &Option<(Tensor<2>, Tensor<2>)>) -> Option<(Vec<f32>, Vec<f32>, [usize; 2])> {
    p.as_ref().map(|(a, b)| {
        let v = |t: &Tensor<2>| t.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default();
        (v(a), v(b), a.dims())
    })
}

fn pair_tensors(p: Option<(Vec<f32>, Vec<f32>, [usize; 2])>, device: &Device) -> Option<(Tensor<2>, Tensor<2>)> {
    p.map(|(a, b, d)| (Tensor::from_data(TensorData::new(a, d), device), Tensor::from_data(TensorData::new(b, d), device)))
}

/// The STBaT report kept with a checkpoint.
#[derive(Serialize, Deserialize)]
struct ObjectiveState {
    cities: Vec<CityState>,
    outcome: StbatOutcome,
}

impl<'s, 't, 'a> StbatObjective<'s, 't, 'a> {
    /// One RIAM per training split (source city); POI-classifier warm-up before the first epoch.
    pub fn new(data: GridData<'s, 't, 'a>, cfg: &StbatConfig, z_dim: usize, seed: u64) -> Result<Self> {
        let mut notes = vec![];
        let mut cities = vec![];
        let mut warmup = vec![];
        for (k, s) in data.train.iter().enumerate() {
            let mut c = CityRiam::new(s.task, cfg, z_dim, seed.wrapping_add(1000 + k as u64), &mut notes)?;
            if c.poi.is_some() {
                warmup.extend(c.update(cfg, cfg.riam_warmup)?);
            }
            cities.push(c);
        }
        let emb_loss = if warmup.is_empty() { vec![] } else { vec![warmup.iter().sum::<f64>() / warmup.len() as f64] };
        let mut obj = StbatObjective {
            data,
            cfg: cfg.clone(),
            cities,
            outcome: StbatOutcome { notes, emb_loss, ..Default::default() },
            dcl_sum: 0.0,
            dcl_n: 0,
        };
        obj.record_range();
        Ok(obj)
    }

    /// Current densities and weights per city.
    pub fn balance(&self) -> Vec<Balance> {
        self.cities.iter().map(CityRiam::balance).collect()
    }

    /// Step (2) of the iteration: every city's RIAM learns from the collected statistics and
    /// re-estimates densities, weights and similarities.
    pub fn alternate(&mut self) -> Result<()> {
        let steps = self.cfg.riam_steps;
        let mut losses = vec![];
        for c in &mut self.cities {
            losses.extend(c.update(&self.cfg, steps)?);
        }
        if !losses.is_empty() {
            self.outcome.emb_loss.push(losses.iter().sum::<f64>() / losses.len() as f64);
        }
        self.record_range();
        Ok(())
    }

    fn record_range(&mut self) {
        let ready: Vec<&CityRiam> = self.cities.iter().filter(|c| c.ready).collect();
        if ready.is_empty() {
            return;
        }
        let (lo, hi) = ready.iter().map(|c| c.weight_range()).fold((f64::INFINITY, f64::NEG_INFINITY), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        self.outcome.weight_range.push((lo, hi, ready.iter().any(|c| c.balanced)));
    }

    /// The report (densities and weights at the best epoch, losses, notes).
    pub fn into_outcome(self) -> StbatOutcome {
        self.outcome
    }

    /// The prediction loss (density-weighted once the city is balanced) and SimDCL (when it
    /// applies) of batch `b`; `collect` adds the batch's detached statistics to the city's
    /// accumulator for the next RIAM update.
    fn terms(&mut self, model: &Stblm, b: &GridBatch, collect: bool) -> Result<(Tensor<1>, Option<Tensor<1>>)> {
        let (task, x, y) = self.data.tensors(b);
        let out = model.net.forward(x, &task.space)?;
        let cfg = &self.cfg;
        let c = &mut self.cities[b.0];
        let pred = match (&c.weight_tensor, cfg.no_wloss) {
            (Some(w), false) => weighted_mse(out.pred, y, w.clone()),
            _ => masked_mse(out.pred, y, task),
        };
        if out.z.dims()[0] < 2 {
            return Ok((pred, None));
        }
        let (mu, sigma) = regional_stats(out.z);
        let mu = mu.select(0, c.active_idx.clone());
        let sigma = sigma.select(0, c.active_idx.clone());
        if collect && !cfg.no_fdp {
            let (m, s) = (mu.clone().detach(), sigma.clone().detach());
            c.acc = Some(match c.acc.take() {
                Some((am, asg)) => (am + m, asg + s),
                None => (m, s),
            });
            c.acc_n += 1;
        }
        let dcl = match (cfg.no_simdcl, &c.order) {
            (false, Some(order)) => Some(simdcl(model.project(mu, sigma), order, cfg.tau, cfg.dcl_sim)),
            _ => None,
        };
        Ok((pred, dcl))
    }
}

impl Objective for StbatObjective<'_, '_, '_> {
    type Model = Stblm;
    type Batch = GridBatch;

    fn batches(&mut self, epoch: usize, seed: u64) -> Result<Vec<GridBatch>> {
        Ok(self.data.batches(epoch, seed))
    }

    fn loss(&mut self, model: &Stblm, b: &GridBatch) -> Result<BatchLoss> {
        let (pred, dcl) = self.terms(model, b, true)?;
        let mut loss = pred.clone();
        let mut terms = vec![("pred", pred)];
        if let Some(dcl) = dcl {
            self.dcl_sum += dcl.clone().into_scalar::<f32>() as f64;
            self.dcl_n += 1;
            loss = loss + dcl.clone().mul_scalar(self.cfg.dcl_weight as f32);
            terms.push(("dcl", dcl));
        }
        Ok(BatchLoss { total: loss, terms, weight: 1.0, counters: vec![] })
    }

    /// Gradient norm of each loss term (`dcl` with its weight) on the ST-net's feature extractor.
    fn probe(&mut self, model: &Stblm, b: &GridBatch) -> Result<Vec<(String, f64)>> {
        let mut out = vec![];
        for which in ["pred", "dcl"] {
            let (pred, dcl) = self.terms(model, b, false)?;
            let term = match which {
                "pred" => pred,
                _ => match dcl {
                    Some(d) => d.mul_scalar(self.cfg.dcl_weight as f32),
                    None => continue,
                },
            };
            out.push((format!("grad_extractor_{which}"), crate::train::extractor_grad_norm(&model.net, term)));
        }
        Ok(out)
    }

    fn validate(&mut self, model: &Stblm) -> Result<Validation> {
        self.data.validate(&model.net)
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }

    fn after_batch(&mut self, steps_this_epoch: usize) -> Result<()> {
        if self.cfg.alternate_every > 0 && steps_this_epoch.is_multiple_of(self.cfg.alternate_every) {
            self.alternate()?;
        }
        Ok(())
    }

    fn after_epoch(&mut self, _epoch: usize) -> Result<()> {
        if self.cfg.alternate_every == 0 {
            self.alternate()?;
        }
        self.outcome.dcl_loss.push(if self.dcl_n > 0 { self.dcl_sum / self.dcl_n as f64 } else { f64::NAN });
        self.dcl_sum = 0.0;
        self.dcl_n = 0;
        Ok(())
    }

    fn on_best(&mut self, _model: &Stblm, _epoch: usize) -> Result<()> {
        self.outcome.balance = self.balance();
        Ok(())
    }

    fn save_state(&self, dir: &Path) -> Result<()> {
        let mut cities = vec![];
        for (k, c) in self.cities.iter().enumerate() {
            urbancast_train::checkpoint::save_module(&c.riam, &dir.join(format!("riam-{k}.bpk")))?;
            urbancast_train::checkpoint::save_optim(c.optim.optimizer(), &dir.join(format!("riam-optim-{k}.bpk")))?;
            cities.push(CityState { acc: pair_data(&c.acc), acc_n: c.acc_n, stats: pair_data(&c.stats), ready: c.ready });
        }
        let state = ObjectiveState { cities, outcome: self.outcome.clone() };
        urbancast_train::fsio::write_json_atomic(&dir.join("stbat.json"), &state)
    }

    fn load_state(&mut self, dir: &Path) -> Result<()> {
        let p = dir.join("stbat.json");
        let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        let state: ObjectiveState = serde_json::from_str(&text).with_context(|| format!("{}: not an STBaT state", p.display()))?;
        if state.cities.len() != self.cities.len() {
            bail!("{}: the checkpoint has {} source cities, this run {}", p.display(), state.cities.len(), self.cities.len());
        }
        for (k, (c, s)) in self.cities.iter_mut().zip(state.cities).enumerate() {
            urbancast_train::checkpoint::load_module(&mut c.riam, &dir.join(format!("riam-{k}.bpk")))?;
            let op = dir.join(format!("riam-optim-{k}.bpk"));
            c.optim.set_optimizer(urbancast_train::checkpoint::load_optim_file(&op, OptimConfig::adam(0.0).init())?);
            let device = c.input.device();
            c.acc = pair_tensors(s.acc, &device);
            c.acc_n = s.acc_n;
            c.stats = pair_tensors(s.stats, &device);
            if s.ready {
                c.estimate(&self.cfg);
            }
        }
        self.outcome = state.outcome;
        Ok(())
    }
}

/// STBaT pre-training of `init` (an ST-net on an autodiff device, its head `256 -> 256 -> C`)
/// on the source splits of `data`, with early stopping on the source validation RMSE. Returns
/// the best ST-net (the projector and RIAMs are only needed during pre-training).
pub fn pretrain(
    init: StNet,
    mut data: GridData,
    tc: &TrainConfig,
    cfg: &StbatConfig,
    seed: u64,
    label: &str,
    run: Option<&RunDir>,
) -> Result<(StNet, TrainLog, StbatOutcome)> {
    let device =
        data.train.first().map(|s| s.task.device.clone()).ok_or_else(|| anyhow::anyhow!("STBaT needs at least one source city"))?;
    data.batch = tc.batch;
    let z_dim = init.config().z_dim();
    let mut obj = StbatObjective::new(data, cfg, z_dim, seed)?;
    let model = Stblm::new(init, cfg.proj_dim, &device, seed.wrapping_add(77));
    let fitted = urbancast_train::fit(model, &mut obj, &tc.spec(label, seed), run)?;
    Ok((fitted.best.net, TrainLog::from(&fitted.log), obj.into_outcome()))
}
