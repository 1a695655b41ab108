//! STBaT: losses against direct computations, density and weights by hand, the alternation,
//! and the method end to end on tiny synthetic cities.
mod common;
use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::TensorData;
use common::tiny;
use ndarray::{Array2, array};
use urbancast_data::prep::{Prepared, Protocol};
use urbancast_nn::{SpatialKind, StNetConfig};
use urbancast_train::{Objective, OptimConfig, Stepper};
use urbancast_transfer::batch::{Task, masked_mse};
use urbancast_transfer::stbat::{
    self, DclOrder, DclSim, StbatConfig, StbatObjective, Stblm, Variant, cosine_similarity, gaussian_kl, inverse_density_weights,
    log_density, regional_stats, simdcl, simdcl_direct, weighted_mse,
};
use urbancast_transfer::train::{GridData, Split, TrainConfig};
use urbancast_transfer::{Experiment, Method, RunPlan, Settings};

fn tensor2(v: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().convert::<f32>().as_slice::<f32>().unwrap().to_vec()
}

/// A deterministic pseudo-random matrix.
fn pseudo(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 2000) as f32 / 1000.0 - 1.0
        })
        .collect()
}

#[test]
fn simdcl_fast_matches_the_direct_cubic_version_in_value_and_gradient() {
    let device = Device::flex().autodiff();
    let r = 7;
    let p = 5;
    let raw = pseudo(r * p, 3);
    // delta with ties: regions 1 and 2 have identical similarities to everyone.
    let phi = Array2::from_shape_vec((r, 3), pseudo(r * 3, 9).iter().map(|&v| v as f64).collect()).unwrap();
    let mut delta = cosine_similarity(&phi);
    for j in 0..r {
        delta[[2, j]] = delta[[1, j]];
        delta[[j, 2]] = delta[[j, 1]];
    }
    delta[[1, 2]] = 1.0;
    delta[[2, 1]] = 1.0;
    let order = DclOrder::new(&delta);
    for sim in [DclSim::NegL2, DclSim::Cosine] {
        for tau in [1.0, 0.5] {
            let d1 = tensor2(&raw, [r, p], &device).require_grad();
            let d2 = tensor2(&raw, [r, p], &device).require_grad();
            let fast = simdcl(d1.clone(), &order, tau, sim);
            let direct = simdcl_direct(d2.clone(), &delta, tau, sim);
            let (f, d) = (fast.clone().into_scalar::<f32>(), direct.clone().into_scalar::<f32>());
            assert!((f - d).abs() < 1e-5 * d.abs().max(1.0), "{sim:?} tau {tau}: fast {f} vs direct {d}");
            let g1 = d1.grad(&fast.backward()).unwrap();
            let g2 = d2.grad(&direct.backward()).unwrap();
            let (g1, g2) = (values(g1), values(g2));
            for (a, b) in g1.iter().zip(&g2) {
                assert!((a - b).abs() < 1e-5, "{sim:?} gradient {a} vs {b}");
            }
            assert!(g1.iter().any(|v| v.abs() > 1e-6), "SimDCL must have a gradient");
        }
    }
}

#[test]
fn simdcl_by_hand_on_three_regions() {
    // Cosine sim of d = e1, e2, (e1+e2)/sqrt2 with tau 1; delta ranks for anchor 0: 1 < 2.
    let device = Device::flex();
    let s = std::f32::consts::FRAC_1_SQRT_2;
    let d = tensor2(&[1.0, 0.0, 0.0, 1.0, s, s], [3, 2], &device);
    let delta = array![[1.0, 0.1, 0.5], [0.1, 1.0, 0.2], [0.5, 0.2, 1.0]];
    let loss = simdcl(d, &DclOrder::new(&delta), 1.0, DclSim::Cosine).into_scalar::<f32>() as f64;
    // s01 = 0, s02 = s12 = 0.7071.
    let c = std::f64::consts::FRAC_1_SQRT_2;
    let l = |num: f64, den: &[f64]| -(num.exp() / den.iter().map(|v| v.exp()).sum::<f64>()).ln();
    let pairs = [
        l(0.0, &[0.0]),  // anchor 0, k = 1 (lowest delta): only j = 1
        l(c, &[0.0, c]), // anchor 0, k = 2: j in {1, 2}
        l(0.0, &[0.0]),  // anchor 1, k = 0 (delta 0.1): only j = 0
        l(c, &[0.0, c]), // anchor 1, k = 2 (delta 0.2)
        l(c, &[c]),      // anchor 2, k = 1 (delta 0.2): only j = 1
        l(c, &[c, c]),   // anchor 2, k = 0 (delta 0.5)
    ];
    let want = pairs.iter().sum::<f64>() / 6.0;
    assert!((loss - want).abs() < 1e-5, "{loss} vs {want}");
}

#[test]
fn kernel_density_matches_a_hand_computation_and_weights_have_mean_one() {
    let phi = array![[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]];
    let h: f64 = 0.85;
    let log_rho = log_density(&phi, h);
    let k = |sq: f64| (-sq / (2.0 * h * h)).exp() / (2.0 * std::f64::consts::PI);
    let norm = 1.0 / (h * 3.0);
    let want = [norm * (k(0.0) + k(1.0) + k(9.0)), norm * (k(1.0) + k(0.0) + k(10.0)), norm * (k(9.0) + k(10.0) + k(0.0))];
    for (got, w) in log_rho.iter().zip(want) {
        assert!((got.exp() - w).abs() < 1e-12, "density {} vs {w}", got.exp());
    }
    let w = inverse_density_weights(&log_rho);
    assert!((w.iter().sum::<f64>() / 3.0 - 1.0).abs() < 1e-12);
    // proportional to 1 / rho: the isolated region weighs most
    for i in 0..3 {
        assert!((w[i] * want[i] - w[0] * want[0]).abs() < 1e-9);
    }
    assert!(w[2] > w[0] && w[2] > w[1]);
    // far-apart 32-d embeddings do not underflow to NaN
    let far = Array2::from_shape_fn((4, 32), |(i, j)| (i * 40 + j) as f64);
    let wf = inverse_density_weights(&log_density(&far, h));
    assert!(wf.iter().all(|v| v.is_finite()) && (wf.iter().sum::<f64>() / 4.0 - 1.0).abs() < 1e-9);
}

#[test]
fn gaussian_kl_matches_a_hand_computation() {
    let device = Device::flex();
    // two regions, two dimensions
    let mu = [0.0f32, 1.0, -1.0, 0.5];
    let sg = [1.0f32, 0.5, 2.0, 1.0];
    let mh = [0.5f32, 1.0, 0.0, 0.5];
    let sh = [1.0f32, 1.0, 1.0, 2.0];
    let got = gaussian_kl(
        tensor2(&mu, [2, 2], &device),
        tensor2(&sg, [2, 2], &device),
        tensor2(&mh, [2, 2], &device),
        tensor2(&sh, [2, 2], &device),
    )
    .into_scalar::<f32>() as f64;
    // eq. 5 as printed: KL(N(mu_hat, sigma_hat^2) || N(mu, sigma^2)), the prediction first
    let kl = |m: f64, s: f64, mh: f64, sh: f64| (s / sh).ln() + (sh * sh + (mh - m) * (mh - m)) / (2.0 * s * s) - 0.5;
    let want = (0..4).map(|i| kl(mu[i] as f64, sg[i] as f64, mh[i] as f64, sh[i] as f64)).sum::<f64>() / 2.0;
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    // by hand, region 0 dim 0: ln(1/1) + (1 + 0.25)/2 - 0.5 = 0.125; dim 1: ln(0.5) + 1/(2*0.25) - 0.5
    let r0 = 0.125 + (0.5f64.ln() + 2.0 - 0.5);
    // region 1 dim 0: ln(2/1) + (1 + 1)/8 - 0.5; dim 1: ln(1/2) + 4/2 - 0.5
    let r1 = (2f64.ln() + 0.25 - 0.5) + (0.5f64.ln() + 2.0 - 0.5);
    assert!((got - (r0 + r1) / 2.0).abs() < 1e-5, "{got} vs {}", (r0 + r1) / 2.0);
    // the other direction is a different number: the direction is the paper's
    let other = (0..4).map(|i| kl(mh[i] as f64, sh[i] as f64, mu[i] as f64, sg[i] as f64)).sum::<f64>() / 2.0;
    assert!((got - other).abs() > 1e-3, "{got} vs reversed {other}");
    // the observed sigma is floored at 1e-3
    let floored = gaussian_kl(
        tensor2(&[0.0], [1, 1], &device),
        tensor2(&[0.0], [1, 1], &device),
        tensor2(&[0.0], [1, 1], &device),
        tensor2(&[1e-3], [1, 1], &device),
    )
    .into_scalar::<f32>();
    assert!(floored.abs() < 1e-5, "sigma = 0 is read as 1e-3: {floored}");
    // zero when the distributions agree
    let zero = gaussian_kl(
        tensor2(&mu, [2, 2], &device),
        tensor2(&sg, [2, 2], &device),
        tensor2(&mu, [2, 2], &device),
        tensor2(&sg, [2, 2], &device),
    )
    .into_scalar::<f32>();
    assert!(zero.abs() < 1e-6);
}

#[test]
fn cosine_simdcl_matches_a_hand_computation() {
    let device = Device::flex();
    // d0 = (1, 0), d1 = (0, 1), d2 = (1, 1): cos(0,1) = 0, cos(0,2) = cos(1,2) = 1/sqrt(2)
    let d = tensor2(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], [3, 2], &device);
    let delta = array![[1.0, 0.9, 0.1], [0.9, 1.0, 0.5], [0.1, 0.5, 1.0]];
    let got = simdcl(d, &DclOrder::new(&delta), 1.0, DclSim::Cosine).into_scalar::<f32>() as f64;
    // (i, k) = (0, 1): denominator {1, 2} -> ln(e^0 + e^c) - 0; (0, 2): {2} -> 0
    // (1, 0): {0, 2} -> ln(e^0 + e^c); (1, 2): {2} -> 0; (2, 0): {0} -> 0; (2, 1): {0, 1} -> ln 2
    let c = std::f64::consts::FRAC_1_SQRT_2;
    let want = (2.0 * (1.0 + c.exp()).ln() + 2f64.ln()) / 6.0;
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    // the cosine is the default (eq. 7)
    assert_eq!(StbatConfig::default().dcl_sim, DclSim::Cosine);
}

#[test]
fn the_prediction_loss_sums_over_regions() {
    let device = Device::flex();
    // B = 2, R = 2, C = 1; errors 1 and 2 in region 0, 0 and 1 in region 1
    let pred = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 0.0, 2.0, 1.0], [2, 2, 1]), &device);
    let zero = Tensor::<3>::zeros([2, 2, 1], &device);
    let w = Tensor::<3>::from_data(TensorData::new(vec![0.5f32, 1.5], [1, 2, 1]), &device);
    // eq. 15: sum_r w_r * mean_b (p - y)^2 = 0.5 * (1 + 4) / 2 + 1.5 * (0 + 1) / 2 = 2.0
    let got = weighted_mse(pred.clone(), zero.clone(), w).into_scalar::<f32>();
    assert!((got - 2.0).abs() < 1e-6, "{got}");
    let ones = Tensor::<3>::ones([1, 2, 1], &device);
    let plain = weighted_mse(pred, zero, ones).into_scalar::<f32>();
    assert!((plain - 3.0).abs() < 1e-6, "(1 + 4 + 0 + 1) / 2 = 3, not the mean over regions (1.5): {plain}");
}

#[test]
fn regional_stats_are_batch_mean_and_unbiased_std() {
    let device = Device::flex();
    // B = 3, R = 1, J = 2
    let z = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 10.0, 2.0, 10.0, 6.0, 13.0], [3, 1, 2]), &device);
    let (mu, sg) = regional_stats(z);
    let (mu, sg) = (values(mu), values(sg));
    assert!((mu[0] - 3.0).abs() < 1e-6 && (mu[1] - 11.0).abs() < 1e-6);
    // unbiased: var(1,2,6) = (4+1+9)/2 = 7; var(10,10,13) = (1+1+4)/2 = 3
    assert!((sg[0] - 7f32.sqrt()).abs() < 1e-4 && (sg[1] - 3f32.sqrt()).abs() < 1e-4, "{sg:?}");
}

fn tiny_net() -> StNetConfig {
    StNetConfig { channels: 2, lags: 6, conv_channels: 8, res_units: 1, hidden: 8, head_hidden: 16, output: urbancast_nn::Output::Linear }
}

/// Flattened parameter values of a module.
fn params<M: Module>(m: &M) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(param.val().into_data().convert::<f32>().as_slice::<f32>().unwrap().iter().copied());
        }
    }
    let mut c = Collect(vec![]);
    m.visit(&mut c);
    c.0
}

#[test]
fn one_alternation_changes_both_modules() {
    let protocol = Protocol::default();
    let prep = Prepared::new(tiny("metro", 2), &protocol);
    let ad = Device::flex().autodiff();
    let task = Task::new(&prep, &ad);
    let steps: Vec<usize> = (6..38).collect();
    let train = [Split { task: &task, steps: &steps }];
    // a narrow kernel, so that the warm-up's embeddings give non-uniform densities
    let cfg = StbatConfig { riam_warmup: 20, riam_steps: 10, bandwidth: 0.05, ..StbatConfig::default() };
    let net = tiny_net().init_seeded(SpatialKind::Grid, &ad, 4);
    let model = Stblm::new(net, 16, &ad, 5);
    let mut obj = StbatObjective::new(GridData::new(&train, &train, 6), &cfg, tiny_net().z_dim(), 6).unwrap();
    let before = obj.balance();
    assert_eq!(before.len(), 1);
    let w: Vec<f64> = before[0].weight.iter().copied().filter(|v| v.is_finite()).collect();
    assert_eq!(w.len(), prep.city.num_active());
    assert!((w.iter().sum::<f64>() / w.len() as f64 - 1.0).abs() < 1e-9, "weights have mean 1 after warm-up");

    // (1) one STBLM step with L_pred + L_dcl
    let stblm_before = params(&model);
    let bl = obj.loss(&model, &(0, steps[..16].to_vec())).unwrap();
    let names: Vec<&str> = bl.terms.iter().map(|t| t.0).collect();
    assert_eq!(names, ["pred", "dcl"]);
    let mut stepper = Stepper::new(&OptimConfig::adam(0.0), 0.0);
    let (model, info) = stepper.step(model, bl.total, 1e-3, &|| "test".into()).unwrap();
    assert!(info.loss.is_finite() && info.loss > 0.0);
    let stblm_after = params(&model);
    assert_eq!(stblm_before.len(), stblm_after.len());
    let changed = |a: &[f32], b: &[f32]| a.iter().zip(b).filter(|(x, y)| x != y).count();
    // every projector and ST-net parameter tensor moved (both losses reach the backbone)
    assert!(changed(&stblm_before, &stblm_after) > stblm_before.len() / 2, "STBLM parameters changed");

    // (2) the RIAM learns from the collected statistics and re-estimates the weights
    obj.after_epoch(0).unwrap();
    let after = obj.balance();
    assert_ne!(before[0].density, after[0].density, "RIAM parameters (hence densities) changed");
    let w2: Vec<f64> = after[0].weight.iter().copied().filter(|v| v.is_finite()).collect();
    assert!((w2.iter().sum::<f64>() / w2.len() as f64 - 1.0).abs() < 1e-9);
    let outcome = obj.into_outcome();
    assert_eq!(outcome.weight_range.len(), 2, "after the warm-up and after the alternation");
    assert!(outcome.weight_range.iter().all(|&(lo, hi, used)| used && hi >= stbat::NON_UNIFORM_RATIO * lo), "{:?}", outcome.weight_range);
    assert_eq!(outcome.emb_loss.len(), 2, "warm-up and one alternation");
    assert_eq!(outcome.dcl_loss.len(), 1);
    assert!(outcome.dcl_loss[0].is_finite());
}

fn tiny_settings() -> Settings {
    Settings {
        protocol: Protocol { test_days: 2, val_days: 2, ..Protocol::default() },
        conv_channels: 8,
        res_units: 1,
        hidden: 8,
        pretrain: TrainConfig { max_epochs: 2, batch: 16, ..TrainConfig::default() },
        target_train: TrainConfig { max_epochs: 2, batch: 16, ..TrainConfig::default() },
        stbat: StbatConfig { riam_warmup: 20, riam_steps: 5, head_hidden: 16, proj_dim: 16, bandwidth: 0.05, ..StbatConfig::default() },
        ..Settings::default()
    }
}

#[test]
fn stbat_and_its_ablations_run_in_the_runner_and_reproduce() {
    let run = || {
        let exp = Experiment::new(vec![tiny("metro", 1), tiny("coastal", 1)], tiny("suburb", 1), &tiny_settings().protocol).unwrap();
        let mut notes = vec![];
        let methods: Vec<Method> = [Method::Stbat(Variant::Full)].into_iter().chain(Method::ABLATIONS).collect();
        let out = exp
            .run(
                &RunPlan { methods: &methods, days: &[1, 0], seeds: &[3], settings: &tiny_settings(), device: &Device::flex() },
                |_| {},
                |m| notes.push(m),
            )
            .unwrap();
        (out, notes)
    };
    let (a, notes) = run();
    assert_eq!(a.len(), 10, "5 variants x 2 N");
    assert!(notes.is_empty(), "{notes:?}");
    for o in &a {
        assert!(o.row.scores.mean.rmse.is_finite());
        let st = o.stbat.as_ref().expect("STBaT rows carry their pre-training report");
        assert_eq!(st.balance.len(), 2);
        assert_eq!(o.row.train_samples == 0, o.row.days == 0);
        let m = o.row.method.as_str();
        let w: Vec<f64> = st.balance[0].weight.iter().copied().filter(|v| v.is_finite()).collect();
        assert!((w.iter().sum::<f64>() / w.len() as f64 - 1.0).abs() < 1e-9, "{m}");
        if m == "stbat-no-simdcl" {
            assert!(st.dcl_loss.iter().all(|v| v.is_nan()));
        } else if m == "stbat-no-poi" {
            // no POI warm-up: similarities exist only after the first alternation
            assert!(st.dcl_loss[0].is_nan() && st.dcl_loss[1..].iter().all(|v| v.is_finite()), "{:?}", st.dcl_loss);
        } else {
            assert!(st.dcl_loss.iter().all(|v| v.is_finite()), "{m}: {:?}", st.dcl_loss);
        }
    }
    let (b, _) = run();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.row.scores.mean.rmse, y.row.scores.mean.rmse, "same seed, same numbers ({})", x.row.method);
    }
}

#[test]
fn uniform_densities_keep_the_plain_loss_and_simdcl_off() {
    let protocol = Protocol::default();
    let prep = Prepared::new(tiny("metro", 2), &protocol);
    let ad = Device::flex().autodiff();
    let task = Task::new(&prep, &ad);
    let steps: Vec<usize> = (6..38).collect();
    let train = [Split { task: &task, steps: &steps }];
    // a kernel far wider than the embeddings' spread: every density is the same
    let cfg = StbatConfig { riam_warmup: 20, riam_steps: 5, bandwidth: 1e4, ..StbatConfig::default() };
    let net = tiny_net().init_seeded(SpatialKind::Grid, &ad, 4);
    let model = Stblm::new(net.clone(), 16, &ad, 5);
    let mut obj = StbatObjective::new(GridData::new(&train, &train, 6), &cfg, tiny_net().z_dim(), 6).unwrap();
    let batch = (0, steps[..16].to_vec());
    let bl = obj.loss(&model, &batch).unwrap();
    assert_eq!(bl.terms.iter().map(|t| t.0).collect::<Vec<_>>(), ["pred"], "no SimDCL on a uniform density");
    // and the prediction loss is the plain one: squared error summed over regions, batch mean
    let (x, y) = task.batch(&batch.1, 6);
    let plain = masked_mse(net.forward(x, &task.space).unwrap().pred, y, &task).into_scalar::<f32>();
    assert!((bl.total.into_scalar::<f32>() - plain).abs() < 1e-5 * plain.abs().max(1.0));
    let outcome = obj.into_outcome();
    let (lo, hi, used) = outcome.weight_range[0];
    assert!(!used && hi < stbat::NON_UNIFORM_RATIO * lo, "{:?}", outcome.weight_range);
}

#[test]
fn a_source_without_poi_is_noticed_and_still_balanced() {
    let mut without_poi = tiny("coastal", 1);
    without_poi.poi = None;
    let exp = Experiment::new(vec![tiny("metro", 1), without_poi], tiny("suburb", 1), &tiny_settings().protocol).unwrap();
    let mut notes = vec![];
    let out = exp
        .run(
            &RunPlan {
                methods: &[Method::Stbat(Variant::Full)],
                days: &[0],
                seeds: &[2],
                settings: &tiny_settings(),
                device: &Device::flex(),
            },
            |_| {},
            |m| notes.push(m),
        )
        .unwrap();
    assert!(notes.iter().any(|n| n.contains("`coastal` has no POI")), "{notes:?}");
    let st = out[0].stbat.as_ref().unwrap();
    // the POI-less city gets its densities from the feature-distribution predictor alone
    let w: Vec<f64> = st.balance[1].weight.iter().copied().filter(|v| v.is_finite()).collect();
    assert_eq!(w.len(), exp.sources[1].city.num_active());
    assert!(out[0].row.scores.mean.rmse.is_finite());
}

#[test]
fn a_riam_with_nothing_to_learn_is_a_clear_error() {
    let mut city = tiny("metro", 1);
    city.poi = None;
    let protocol = Protocol::default();
    let prep = Prepared::new(city, &protocol);
    let ad = Device::flex().autodiff();
    let task = Task::new(&prep, &ad);
    let steps: Vec<usize> = (6..30).collect();
    let cfg = StbatConfig { no_fdp: true, ..StbatConfig::default() };
    let net = tiny_net().init_seeded(SpatialKind::Grid, &ad, 1);
    let split = [Split { task: &task, steps: &steps }];
    let err = stbat::pretrain(net, GridData::new(&split, &split, 6), &TrainConfig::default(), &cfg, 1, "t", None).unwrap_err().to_string();
    assert!(err.contains("nothing to learn") && err.contains("metro"), "{err}");
}
