//! The engine on a tiny linear regression: schedules and Adam's ε by hand, clipping, the
//! non-finite error, selection with patience and `min_steps`, the per-epoch log, and a resumed
//! run that ends exactly where an uninterrupted one does.
use std::path::Path;

use anyhow::{Result, bail};
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_train::{BatchLoss, Direction, LrSchedule, Objective, OptimConfig, RunDir, Stepper, TrainSpec, Validation, fit};

#[derive(Module, Debug)]
struct Lin {
    l: Linear,
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn model(seed: u64) -> Lin {
    let d = device();
    urbancast_nn::seeded(&d, seed, || Lin { l: LinearConfig::new(3, 1).init(&d) })
}

/// y = 2·x0 − x1 + 0.5·x2 + 1 on 64 fixed points; batches of 8 in an epoch-dependent order.
struct Reg {
    x: Vec<[f32; 3]>,
    /// Fail with an error at the start of this 0-based epoch (a simulated crash).
    crash_at: Option<usize>,
    /// Lines of the log file seen at the start of each epoch.
    seen_lines: Vec<usize>,
    log_path: Option<std::path::PathBuf>,
    /// Validation scores to return instead of the real one (selection tests).
    scripted: Option<Vec<f64>>,
    calls: usize,
}

impl Reg {
    fn new() -> Reg {
        let x = (0..64).map(|i| [(i % 7) as f32 / 7.0, (i % 5) as f32 / 5.0, (i % 3) as f32 / 3.0]).collect();
        Reg { x, crash_at: None, seen_lines: vec![], log_path: None, scripted: None, calls: 0 }
    }

    fn tensors(&self, idx: &[usize], d: &Device) -> (Tensor<2>, Tensor<2>) {
        let xs: Vec<f32> = idx.iter().flat_map(|&i| self.x[i]).collect();
        let ys: Vec<f32> = idx.iter().map(|&i| 2.0 * self.x[i][0] - self.x[i][1] + 0.5 * self.x[i][2] + 1.0).collect();
        (Tensor::from_data(TensorData::new(xs, [idx.len(), 3]), d), Tensor::from_data(TensorData::new(ys, [idx.len(), 1]), d))
    }
}

impl Objective for Reg {
    type Model = Lin;
    type Batch = Vec<usize>;

    fn batches(&mut self, epoch: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
        if self.crash_at == Some(epoch) {
            bail!("simulated crash");
        }
        if let Some(p) = &self.log_path {
            self.seen_lines.push(std::fs::read_to_string(p).map(|t| t.lines().count()).unwrap_or(0));
        }
        let mut idx: Vec<usize> = (0..64).collect();
        let s = urbancast_train::epoch_seed(seed, epoch) as usize;
        idx.rotate_left(s % 64);
        Ok(idx.chunks(8).map(<[usize]>::to_vec).collect())
    }

    fn loss(&mut self, m: &Lin, b: &Vec<usize>) -> Result<BatchLoss> {
        let (x, y) = self.tensors(b, &device());
        let mse = (m.l.forward(x) - y).square().mean();
        Ok(BatchLoss { total: mse.clone(), terms: vec![("mse", mse)], weight: b.len() as f64, counters: vec![("ones", 1.0, 1.0)] })
    }

    fn validate(&mut self, m: &Lin) -> Result<Validation> {
        self.calls += 1;
        if let Some(s) = &self.scripted {
            return Ok(Validation::score(s[self.calls - 1]));
        }
        let idx: Vec<usize> = (0..64).collect();
        let (x, y) = self.tensors(&idx, &Device::flex());
        Ok(Validation::score((m.l.forward(x) - y).square().mean().into_scalar::<f32>() as f64))
    }

    fn direction(&self) -> Direction {
        Direction::Lower
    }
}

fn spec(epochs: usize) -> TrainSpec {
    TrainSpec {
        label: "test".into(),
        lr: 0.05,
        optim: OptimConfig::adam(1e-4),
        schedule: LrSchedule::WarmupCosine { warmup: 3.0, min_lr: 0.001 },
        clip_norm: 1.0,
        max_epochs: epochs,
        max_batches_per_epoch: None,
        patience: None,
        min_steps: 0,
        seed: 7,
        progress: false,
    }
}

fn weights(m: &Lin) -> Vec<f32> {
    let mut v = m.l.weight.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    v.extend(m.l.bias.as_ref().unwrap().val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
    v
}

#[test]
fn schedules_by_hand() {
    let wc = LrSchedule::WarmupCosine { warmup: 10.0, min_lr: 0.0 };
    assert!((wc.lr_at(1e-3, 1, 100, 0) - 1e-4).abs() < 1e-12);
    assert!((wc.lr_at(1e-3, 10, 100, 0) - 1e-3).abs() < 1e-12);
    assert!((wc.lr_at(1e-3, 55, 100, 0) - 5e-4).abs() < 1e-12);
    assert!(wc.lr_at(1e-3, 100, 100, 0).abs() < 1e-12);
    let wm = LrSchedule::WarmupCosine { warmup: 0.0, min_lr: 1e-4 };
    assert!((wm.lr_at(1e-3, 1, 11, 0) - (1e-4 + 0.5 * 9e-4 * (1.0 + (std::f64::consts::PI / 11.0).cos()))).abs() < 1e-12);
    let st = LrSchedule::Step { gamma: 0.5, every: 20 };
    assert_eq!(st.lr_at(3e-3, 1, 1, 19), 3e-3);
    assert_eq!(st.lr_at(3e-3, 1, 1, 20), 1.5e-3);
    assert_eq!(st.lr_at(3e-3, 1, 1, 45), 0.75e-3);
    assert_eq!(LrSchedule::Constant.lr_at(0.1, 5, 10, 3), 0.1);
}

/// One Adam step on a gradient of 1e-6: the update is lr·g/(|g| + ε), which tells ε = 1e-8
/// (PyTorch's, the default) from burn's 1e-5.
#[test]
fn adam_eps_is_pytorch_default() {
    #[derive(Module, Debug)]
    struct P {
        w: Param<Tensor<1>>,
    }
    let d = device();
    let step = |eps: f32| {
        let p = P { w: Param::from_tensor(Tensor::from_data(TensorData::new(vec![1.0f32], [1]), &d)) };
        let cfg = OptimConfig { eps, ..OptimConfig::adam(0.0) };
        let loss = p.w.val().mul_scalar(1e-6).sum();
        let mut s = Stepper::new(&cfg, 0.0);
        let (p, _) = s.step(p, loss, 0.1, &|| "t".into()).unwrap();
        1.0 - p.w.val().into_scalar::<f32>() as f64
    };
    assert_eq!(OptimConfig::default().eps, 1e-8);
    let d8 = step(1e-8);
    let d5 = step(1e-5);
    assert!((d8 - 0.1 * 1e-6 / (1e-6 + 1e-8)).abs() < 1e-5, "{d8}");
    assert!((d5 - 0.1 * 1e-6 / (1e-6 + 1e-5)).abs() < 1e-5, "{d5}");
}

#[test]
fn clipping_reports_the_norm_and_caps_the_step() {
    let m = model(1);
    let (x, y) = Reg::new().tensors(&[0, 1, 2, 3], &device());
    let loss = (m.l.forward(x) - y.mul_scalar(100.0)).square().mean();
    let mut s = Stepper::new(&OptimConfig::adam(0.0), 0.5);
    let (_, info) = s.step(m, loss, 1e-3, &|| "t".into()).unwrap();
    assert!(info.grad_norm > 0.5 && info.clipped, "{info:?}");
}

#[test]
fn non_finite_loss_names_phase_epoch_and_step() {
    struct Bad(Reg);
    impl Objective for Bad {
        type Model = Lin;
        type Batch = Vec<usize>;
        fn batches(&mut self, e: usize, s: u64) -> Result<Vec<Vec<usize>>> {
            self.0.batches(e, s)
        }
        fn loss(&mut self, m: &Lin, b: &Vec<usize>) -> Result<BatchLoss> {
            let mut l = self.0.loss(m, b)?;
            l.total = l.total.div_scalar(0.0);
            Ok(l)
        }
        fn validate(&mut self, m: &Lin) -> Result<Validation> {
            self.0.validate(m)
        }
        fn direction(&self) -> Direction {
            Direction::Lower
        }
    }
    let err = fit(model(1), &mut Bad(Reg::new()), &spec(2), None).err().expect("must fail").to_string();
    assert!(err.contains("test: epoch 1, step 1") && err.contains("inf"), "{err}");
}

#[test]
fn loss_falls_and_log_has_terms_rates_and_norms() {
    let f = fit(model(1), &mut Reg::new(), &spec(6), None).unwrap();
    let l = &f.log;
    assert_eq!(l.epochs.len(), 6);
    assert_eq!(l.steps, 48);
    assert!(l.epochs[5].loss < 0.5 * l.epochs[0].loss, "{:?}", l.losses());
    let e = &l.epochs[0];
    assert!((e.terms["mse"] - e.loss).abs() < 1e-9);
    assert_eq!(e.counters["ones"], 1.0);
    assert!(e.grad_norm > 0.0 && e.grad_norm_max >= e.grad_norm && (0.0..=1.0).contains(&e.clipped));
    assert!((l.epochs[5].lr - spec(6).schedule.lr_at(0.05, 48, 48, 5)).abs() < 1e-12);
}

#[test]
fn patience_keeps_the_best_and_waits_for_min_steps() {
    let scores = vec![5.0, 4.0, 4.5, 4.6, 4.7, 4.8, 4.9, 5.0];
    let mut s = spec(8);
    s.patience = Some(2);
    let mut o = Reg { scripted: Some(scores.clone()), ..Reg::new() };
    let f = fit(model(1), &mut o, &s, None).unwrap();
    assert_eq!((f.log.best_epoch, f.log.best_score, f.log.epochs.len(), f.log.stopped_early), (2, 4.0, 4, true));
    s.min_steps = 6 * 8;
    let mut o = Reg { scripted: Some(scores), ..Reg::new() };
    let f = fit(model(1), &mut o, &s, None).unwrap();
    assert_eq!((f.log.best_epoch, f.log.epochs.len()), (2, 6), "stops only once 48 steps are taken");
}

#[test]
fn validation_errors_name_the_setting() {
    for (edit, needle) in [
        (Box::new(|s: &mut TrainSpec| s.max_epochs = 0) as Box<dyn Fn(&mut TrainSpec)>, "at least one epoch"),
        (Box::new(|s: &mut TrainSpec| s.max_batches_per_epoch = Some(0)), "at least one batch"),
        (Box::new(|s: &mut TrainSpec| s.lr = -1.0), "learning rate"),
        (Box::new(|s: &mut TrainSpec| s.optim.beta2 = 1.0), "beta2"),
        (Box::new(|s: &mut TrainSpec| s.optim.eps = 0.0), "eps"),
    ] {
        let mut s = spec(2);
        edit(&mut s);
        let err = fit(model(1), &mut Reg::new(), &s, None).err().expect("invalid").to_string();
        assert!(err.contains(needle), "{err}");
    }
}

fn run_dir(dir: &Path, resume: bool) -> RunDir {
    RunDir { dir: dir.to_path_buf(), checkpoint_every: 1, resume }
}

/// A run that crashes after its epoch-3 checkpoint and is resumed ends with exactly the
/// weights, scores and log of an uninterrupted run; `train-log.jsonl` grows during the run.
#[test]
fn resume_after_a_crash_is_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    let mut o = Reg { log_path: Some(full.join("train-log.jsonl")), ..Reg::new() };
    let a = fit(model(3), &mut o, &spec(6), Some(&run_dir(&full, false))).unwrap();
    assert_eq!(o.seen_lines, vec![0, 1, 2, 3, 4, 5], "the log grows by one line per epoch");
    let lines = urbancast_train::log::read_jsonl(&full.join("train-log.jsonl")).unwrap();
    assert_eq!(lines.len(), 6);

    let cut = tmp.path().join("cut");
    let mut o = Reg { crash_at: Some(3), ..Reg::new() };
    assert!(fit(model(3), &mut o, &spec(6), Some(&run_dir(&cut, false))).is_err());
    assert_eq!(urbancast_train::log::read_jsonl(&cut.join("train-log.jsonl")).unwrap().len(), 3);
    // Resume from a differently initialised model: everything comes from the checkpoint.
    let b = fit(model(99), &mut Reg::new(), &spec(6), Some(&run_dir(&cut, true))).unwrap();
    assert_eq!(b.log.resumed_after, Some(3));
    assert_eq!(weights(&a.best), weights(&b.best));
    assert_eq!(a.log.val_scores(), b.log.val_scores());
    assert_eq!(a.log.losses(), b.log.losses());
    assert_eq!((a.log.best_epoch, a.log.steps), (b.log.best_epoch, b.log.steps));
    let relog = urbancast_train::log::read_jsonl(&cut.join("train-log.jsonl")).unwrap();
    assert_eq!(relog.iter().map(|e| e.val_score).collect::<Vec<_>>(), a.log.val_scores());

    // A finished run resumes to its result without training.
    let mut o = Reg { crash_at: Some(0), ..Reg::new() };
    let c = fit(model(5), &mut o, &spec(6), Some(&run_dir(&cut, true))).unwrap();
    assert_eq!(weights(&c.best), weights(&a.best));

    // Other settings are refused.
    let mut other = spec(6);
    other.lr = 0.01;
    let err = fit(model(3), &mut Reg::new(), &other, Some(&run_dir(&cut, true))).err().unwrap().to_string();
    assert!(err.contains("other training settings"), "{err}");
}
