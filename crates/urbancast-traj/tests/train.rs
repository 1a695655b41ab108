//! The training loop on the built-in synthetic city: data preparation, the learning-rate
//! schedule by hand, learning beyond a uniform baseline, determinism, checkpoints.
use std::sync::{Mutex, MutexGuard, OnceLock};

use burn::tensor::Device;
use urbancast_roads::demand::{DemandConfig, synthesize};
use urbancast_roads::synthetic_city::synthetic_city;
use urbancast_roads::{RoadNetwork, Trajectory};
use urbancast_traj::bundle::load_bundle;
use urbancast_traj::data::{GraphTensors, Sample, TimeNorm, TrajBatch};
use urbancast_traj::model::HoserConfig;
use urbancast_traj::train::{
    Prepared, RunOpts, TrainConfig, TrainData, TrainLog, evaluate, fit, prepare_training, sized_config, split_indices, zones_for,
};

struct World {
    net: RoadNetwork,
    trips: Vec<Trajectory>,
    prep: Prepared,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let net = synthetic_city(&Default::default()).unwrap();
        let cfg = DemandConfig { trips: 400, zones: 8, anchors_per_zone: 4, seed: 3, ..Default::default() };
        let (trips, _) = synthesize(&net, &cfg, None).unwrap();
        let prep = prepare_training(&net, &trips, 16, 5, 0.15, 0.1).unwrap();
        World { net, trips, prep }
    })
}

/// The burn-flex RNG (model initialisation) is process-global: one training at a time.
fn serial() -> MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}

fn tiny() -> HoserConfig {
    HoserConfig {
        road_id_dim: 8,
        len_dim: 4,
        class_dim: 4,
        lon_dim: 4,
        lat_dim: 4,
        gat_layers: 1,
        gcn_layers: 1,
        traj_layers: 1,
        ffn_mult: 2,
        fusion_hidden: 8,
        nav_dim: 16,
        time_hidden: 8,
        ..HoserConfig::default()
    }
}

fn quick() -> TrainConfig {
    TrainConfig { epochs: 4, batch: 16, lr: 1e-2, max_batches_per_epoch: Some(6), seed: 11, ..Default::default() }
}

/// Next-step accuracy of picking a candidate uniformly at random (capped-away steps: 0).
fn uniform_baseline(w: &World, samples: &[Sample]) -> f64 {
    let refs: Vec<&Sample> = samples.iter().collect();
    let b = TrajBatch::build(&w.net, &w.prep.ctx, &refs, &w.prep.time_norm);
    let (mut sum, mut n) = (0.0, 0usize);
    for p in (0..b.b * b.l).filter(|&p| b.valid[p]) {
        n += 1;
        if b.target[p] >= 0 {
            sum += 1.0 / b.cand_mask[p * b.k..(p + 1) * b.k].iter().filter(|&&m| m).count() as f64;
        }
    }
    sum / n as f64
}

fn without_seconds(log: &TrainLog) -> TrainLog {
    let mut l = log.clone();
    l.seconds = 0.0;
    l.epochs.iter_mut().for_each(|e| (e.seconds, e.train_seconds) = (0.0, 0.0));
    l
}

#[test]
fn schedule_warmup_then_cosine_by_hand() {
    let c = TrainConfig { lr: 1e-3, warmup_frac: 0.1, ..Default::default() };
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    // 100 steps: warm-up over 10 steps (step 1 = lr/10), peak at step 10, half at 55, 0 at 100.
    close(c.lr_at(1, 100), 1e-4);
    close(c.lr_at(5, 100), 5e-4);
    close(c.lr_at(9, 100), 9e-4);
    close(c.lr_at(10, 100), 1e-3);
    close(c.lr_at(55, 100), 5e-4);
    close(c.lr_at(32, 100), 1e-3 * 0.5 * (1.0 + (std::f64::consts::PI * 22.0 / 90.0).cos()));
    close(c.lr_at(100, 100), 0.0);
    close(c.lr_at(101, 100), 0.0);
    // A fractional warm-up (HOSER keeps `total · ratio` as a float): 25 steps → 2.5.
    close(c.lr_at(2, 25), 1e-3 * 2.0 / 2.5);
    close(c.lr_at(3, 25), 1e-3 * 0.5 * (1.0 + (std::f64::consts::PI * 0.5 / 22.5).cos()));
    // No warm-up: pure cosine from the peak; all warm-up: linear to the peak.
    let c0 = TrainConfig { lr: 2.0, warmup_frac: 0.0, ..Default::default() };
    close(c0.lr_at(0, 4), 2.0);
    close(c0.lr_at(2, 4), 1.0);
    let c1 = TrainConfig { lr: 2.0, warmup_frac: 1.0, ..Default::default() };
    close(c1.lr_at(2, 4), 1.0);
    close(c1.lr_at(4, 4), 2.0);
    assert_eq!(quick().batches_per_epoch(3), 3);
    assert_eq!(quick().batches_per_epoch(100), 6);
    // Defaults are HOSER's.
    let d = TrainConfig::default();
    assert_eq!((d.lr, d.weight_decay, d.warmup_frac, d.clip_norm, d.batch), (1e-3, 0.1, 0.1, 1.0, 64));
    let t: TrainConfig = serde_json::from_str(r#"{"epochs": 3, "max_batches_per_epoch": 5}"#).unwrap();
    assert_eq!((t.epochs, t.max_batches_per_epoch, t.batch), (3, Some(5), 64));
    assert!(serde_json::from_str::<TrainConfig>(r#"{"epoch": 3}"#).is_err(), "unknown fields are errors");
}

#[test]
fn prepare_training_splits_trajectories_and_counts_train_transitions_only() {
    let w = world();
    let p = &w.prep;
    let n = w.trips.len();
    let mut all: Vec<usize> = p.train_ix.iter().chain(&p.val_ix).chain(&p.test_ix).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>(), "the splits partition the trajectories");
    assert_eq!((p.val_ix.len(), p.test_ix.len()), (60, 40));
    assert_eq!(split_indices(n, 0.15, 0.1, 5).unwrap(), (p.train_ix.clone(), p.val_ix.clone(), p.test_ix.clone()));
    assert_eq!(p.transitions.trajectories, p.train_ix.len(), "zone transitions come from the training split");
    assert_eq!((p.zones.k, p.ctx.num_zones), (16, 16));
    assert_eq!(p.report.input, n);
    assert_eq!(p.report.samples, p.train.len() + p.val.len() + p.test.len());
    assert!(p.train.len() >= 290 && !p.val.is_empty() && !p.test.is_empty(), "{}", p.train.len());
    assert_eq!(p.time_norm, TimeNorm::fit(&p.train));
    // Zones are clamped on tiny networks.
    assert_eq!((zones_for(10, 300), zones_for(3, 300), zones_for(10_000, 300), zones_for(100, 0)), (2, 1, 300, 1));
    // Errors: nothing to train on, an unknown road id names the trajectory.
    assert!(prepare_training(&w.net, &[], 16, 5, 0.1, 0.1).is_err());
    let mut bad = w.trips[..20].to_vec();
    bad[7].roads[2] = u64::MAX;
    let e = format!("{:#}", prepare_training(&w.net, &bad, 16, 5, 0.1, 0.1).unwrap_err());
    assert!(e.contains("(#7)") && e.contains(&u64::MAX.to_string()), "{e}");
}

#[test]
fn training_learns_is_deterministic_and_checkpoints_the_best_model() {
    let w = world();
    let p = &w.prep;
    let dir = tempfile::tempdir().unwrap();
    let dev = Device::flex();
    let (best, log) = {
        let _g = serial();
        fit(p.data(&w.net), &tiny(), &quick(), &dev, RunOpts { out_dir: Some(dir.path()), ..RunOpts::default() }).unwrap()
    };
    assert_eq!(log.epochs.len(), 4);
    assert_eq!((log.steps, log.planned_steps), (24, 24));
    let first = &log.epochs[0];
    let last = log.epochs.last().unwrap();
    assert!(last.train_loss < first.train_loss, "training loss should fall: {log:#?}");
    assert!(last.train_ce < first.train_ce, "{log:#?}");
    assert!(last.lr_end.abs() < 1e-15, "the schedule ends at 0: {}", last.lr_end);
    let baseline = uniform_baseline(w, &p.val);
    assert!(log.best_val_acc > baseline + 0.05, "val accuracy {} vs uniform {baseline}", log.best_val_acc);
    let b = log.epochs.iter().max_by(|a, b| a.val_acc.total_cmp(&b.val_acc).then(b.epoch.cmp(&a.epoch))).unwrap();
    assert_eq!((log.best_epoch, log.best_val_acc), (b.epoch, b.val_acc), "the first best epoch is kept");
    assert!(log.epochs.iter().all(|e| e.val_time_mape.is_some_and(|m| m.is_finite() && m >= 0.0)));

    // The returned model is the best one: its accuracy is the logged one.
    let graph = GraphTensors::new(&p.ctx, &dev);
    let ev = evaluate(&best, &w.net, &p.ctx, &graph, &p.val, &p.time_norm, 32).unwrap();
    assert!((ev.acc - log.best_val_acc).abs() < 1e-9, "{ev:?} vs {}", log.best_val_acc);
    assert!(ev.steps >= ev.targets && ev.targets > 0 && ev.ce.is_finite());

    // The checkpoint reloads as a bundle with the same accuracy.
    for f in ["model.bpk", "context.json", "meta.json"] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let bundle = load_bundle(dir.path(), &w.net, &dev).unwrap();
    assert_eq!(bundle.meta.time_norm, p.time_norm);
    assert_eq!(bundle.meta.training["best_epoch"], log.best_epoch);
    let g2 = GraphTensors::new(&bundle.ctx, &dev);
    let ev2 = evaluate(&bundle.model, &w.net, &bundle.ctx, &g2, &p.val, &p.time_norm, 32).unwrap();
    assert_eq!(ev2, ev);

    // Same seed, same numbers; another seed, other numbers.
    let (_, again) = {
        let _g = serial();
        fit(p.data(&w.net), &tiny(), &quick(), &dev, RunOpts::default()).unwrap()
    };
    assert_eq!(without_seconds(&again), without_seconds(&log));
    let other_cfg = TrainConfig { seed: 12, epochs: 1, ..quick() };
    let (_, other) = {
        let _g = serial();
        fit(p.data(&w.net), &tiny(), &other_cfg, &dev, RunOpts::default()).unwrap()
    };
    assert_ne!(other.epochs[0].train_loss, log.epochs[0].train_loss);
}

#[test]
fn bad_settings_are_errors() {
    let w = world();
    let p = &w.prep;
    let dev = Device::flex();
    let run = |model: &HoserConfig, cfg: &TrainConfig, val: &[Sample]| {
        let _g = serial();
        fit(TrainData { val, ..p.data(&w.net) }, model, cfg, &dev, RunOpts::default()).err().map(|e| format!("{e:#}"))
    };
    let e = run(&tiny(), &quick(), &[]).unwrap();
    assert!(e.contains("validation"), "{e}");
    let e = run(&tiny(), &TrainConfig { batch: 0, ..quick() }, &p.val).unwrap();
    assert!(e.contains("batch"), "{e}");
    let wrong = HoserConfig { num_roads: 7, ..tiny() };
    let e = run(&wrong, &quick(), &p.val).unwrap();
    assert!(e.contains("num_roads"), "{e}");
    let sized = sized_config(&tiny(), &p.ctx).unwrap();
    assert_eq!((sized.num_roads, sized.num_classes, sized.num_zones), (w.net.len(), p.ctx.num_classes, 16));
}
