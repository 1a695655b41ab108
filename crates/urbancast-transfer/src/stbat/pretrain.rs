//! STBaT pre-training: the STBLM objective and its alternation with each city's RIAM.
use anyhow::{Result, bail};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::{Int, TensorData};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use urbancast_nn::StNet;

use super::StbatConfig;
use super::losses::{DclOrder, regional_stats, simdcl, weighted_mse};
use super::riam::{Riam, cosine_similarity, inverse_density_weights, log_density, poi_cross_entropy, poi_distribution};
use crate::batch::{Task, masked_mse};
use crate::train::{Objective, Split, TrainConfig, TrainLog, fit};

/// STBLM: the ST-net (feature extractor + predictor) and the projector
/// `d_r = FC(ReLU(FC(mu_r || sigma_r)))` of regional feature statistics.
#[derive(Module, Debug)]
pub struct Stblm {
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

/// Region densities and weights of one source city (all regions; NaN = inactive).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Balance {
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
    optim: ModuleOptimizer,
    /// Encoder input per active region: POI distribution, or one-hot region identity.
    input: Tensor<2>,
    /// POI targets of the classifier (None = no classifier).
    poi: Option<Tensor<2>>,
    /// Sum of per-batch statistics since the last alternation, and their count.
    acc: Option<(Tensor<2>, Tensor<2>)>,
    acc_n: usize,
    stats: Option<(Tensor<2>, Tensor<2>)>,
    ready: bool,
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
            optim: AdamConfig::new().init(),
            input,
            poi,
            acc: None,
            acc_n: 0,
            stats: None,
            ready: false,
            log_rho: vec![],
            weights: vec![],
            weight_tensor: None,
            order: None,
        })
    }

    /// `steps` Adam steps on `L_emb = CE + beta * KLD` (terms that apply), then new densities,
    /// weights and similarities. Returns the last loss, or None when there is nothing to learn.
    fn update(&mut self, cfg: &StbatConfig, steps: usize) -> Option<f64> {
        if let Some((mu, sg)) = self.acc.take() {
            let n = self.acc_n.max(1) as f32;
            self.stats = Some((mu.div_scalar(n), sg.div_scalar(n)));
            self.acc_n = 0;
        }
        let use_stats = !cfg.no_fdp && self.stats.is_some();
        if self.poi.is_none() && !use_stats {
            return None;
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
            let grads = GradientsParams::from_grads(loss.backward(), &self.riam);
            last = loss.into_scalar::<f32>() as f64;
            self.riam = self.optim.step(cfg.riam_lr, self.riam.clone(), grads);
        }
        self.estimate(cfg);
        Some(last)
    }

    /// Densities, weights and the SimDCL order from the current embeddings.
    fn estimate(&mut self, cfg: &StbatConfig) {
        let phi = self.riam.embed(self.input.clone()).detach();
        let [ra, d] = phi.dims();
        let data = phi.into_data().convert::<f32>();
        let v: Vec<f64> = data.as_slice::<f32>().map(|s| s.iter().map(|&x| f64::from(x)).collect()).unwrap_or_default();
        let phi = Array2::from_shape_vec((ra, d), v).expect("phi is [active regions, D]");
        self.log_rho = log_density(&phi, cfg.bandwidth);
        self.weights = inverse_density_weights(&self.log_rho);
        let mut w = vec![0f32; self.regions];
        for (k, &r) in self.active.iter().enumerate() {
            w[r] = self.weights[k] as f32;
        }
        let device = self.input.device();
        self.weight_tensor = Some(Tensor::<1>::from_data(TensorData::new(w, [self.regions]), &device).reshape([1, self.regions, 1]));
        self.order = if ra >= 3 { Some(DclOrder::new(&cosine_similarity(&phi))) } else { None };
        self.ready = true;
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
pub struct StbatObjective {
    cfg: StbatConfig,
    cities: Vec<CityRiam>,
    outcome: StbatOutcome,
    dcl_sum: f64,
    dcl_n: usize,
}

impl StbatObjective {
    /// One RIAM per training split (source city); POI-classifier warm-up before the first epoch.
    pub fn new(train: &[Split], cfg: &StbatConfig, z_dim: usize, seed: u64) -> Result<StbatObjective> {
        let mut notes = vec![];
        let mut cities = vec![];
        let mut warmup = vec![];
        for (k, s) in train.iter().enumerate() {
            let mut c = CityRiam::new(s.task, cfg, z_dim, seed.wrapping_add(1000 + k as u64), &mut notes)?;
            if c.poi.is_some() {
                warmup.extend(c.update(cfg, cfg.riam_warmup));
            }
            cities.push(c);
        }
        let emb_loss = if warmup.is_empty() { vec![] } else { vec![warmup.iter().sum::<f64>() / warmup.len() as f64] };
        Ok(StbatObjective {
            cfg: cfg.clone(),
            cities,
            outcome: StbatOutcome { notes, emb_loss, ..Default::default() },
            dcl_sum: 0.0,
            dcl_n: 0,
        })
    }

    /// Current densities and weights per city.
    pub fn balance(&self) -> Vec<Balance> {
        self.cities.iter().map(CityRiam::balance).collect()
    }

    /// Step (2) of the iteration: every city's RIAM learns from the collected statistics and
    /// re-estimates densities, weights and similarities.
    pub fn alternate(&mut self) {
        let steps = self.cfg.riam_steps;
        let losses: Vec<f64> = self.cities.iter_mut().filter_map(|c| c.update(&self.cfg, steps)).collect();
        if !losses.is_empty() {
            self.outcome.emb_loss.push(losses.iter().sum::<f64>() / losses.len() as f64);
        }
    }

    pub fn into_outcome(self) -> StbatOutcome {
        self.outcome
    }
}

impl Objective for StbatObjective {
    type Model = Stblm;

    fn loss(&mut self, model: &Stblm, city: usize, task: &Task, x: Tensor<4>, y: Tensor<3>) -> Result<Tensor<1>> {
        let out = model.net.forward(x, &task.space)?;
        let cfg = &self.cfg;
        let c = &mut self.cities[city];
        let mut loss = match (&c.weight_tensor, cfg.no_wloss) {
            (Some(w), false) => weighted_mse(out.pred, y, w.clone(), task.n_active),
            _ => masked_mse(out.pred, y, task),
        };
        let b = out.z.dims()[0];
        if b >= 2 {
            let (mu, sigma) = regional_stats(out.z);
            let mu = mu.select(0, c.active_idx.clone());
            let sigma = sigma.select(0, c.active_idx.clone());
            if !cfg.no_fdp {
                let (m, s) = (mu.clone().detach(), sigma.clone().detach());
                c.acc = Some(match c.acc.take() {
                    Some((am, asg)) => (am + m, asg + s),
                    None => (m, s),
                });
                c.acc_n += 1;
            }
            if let (false, Some(order)) = (cfg.no_simdcl, &c.order) {
                let dcl = simdcl(model.project(mu, sigma), order, cfg.tau, cfg.dcl_sim);
                self.dcl_sum += dcl.clone().into_scalar::<f32>() as f64;
                self.dcl_n += 1;
                loss = loss + dcl.mul_scalar(cfg.dcl_weight as f32);
            }
        }
        Ok(loss)
    }

    fn net<'m>(&self, model: &'m Stblm) -> &'m StNet {
        &model.net
    }

    fn after_batch(&mut self, steps_this_epoch: usize) -> Result<()> {
        if self.cfg.alternate_every > 0 && steps_this_epoch.is_multiple_of(self.cfg.alternate_every) {
            self.alternate();
        }
        Ok(())
    }

    fn after_epoch(&mut self) -> Result<()> {
        if self.cfg.alternate_every == 0 {
            self.alternate();
        }
        self.outcome.dcl_loss.push(if self.dcl_n > 0 { self.dcl_sum / self.dcl_n as f64 } else { f64::NAN });
        self.dcl_sum = 0.0;
        self.dcl_n = 0;
        Ok(())
    }

    fn on_best(&mut self) {
        self.outcome.balance = self.balance();
    }
}

/// STBaT pre-training of `init` (an ST-net on an autodiff device, its head `256 -> 256 -> C`)
/// on the source splits, with early stopping on the source validation RMSE. Returns the best
/// ST-net (the projector and RIAMs are only needed during pre-training).
#[allow(clippy::too_many_arguments)]
pub fn pretrain(
    init: StNet,
    train: &[Split],
    val: &[Split],
    lags: usize,
    tc: &TrainConfig,
    cfg: &StbatConfig,
    seed: u64,
    label: &str,
) -> Result<(StNet, TrainLog, StbatOutcome)> {
    let device = train.first().map(|s| s.task.device.clone()).ok_or_else(|| anyhow::anyhow!("STBaT needs at least one source city"))?;
    let z_dim = init.config().z_dim();
    let mut obj = StbatObjective::new(train, cfg, z_dim, seed)?;
    let model = Stblm::new(init, cfg.proj_dim, &device, seed.wrapping_add(77));
    let (best, log) = fit(model, &mut obj, train, val, lags, tc, seed, label)?;
    Ok((best.net, log, obj.into_outcome()))
}
