//! Cross-task distillation in the training loop: teacher windows by hand, cached teacher
//! targets are distributions over exactly the batch's candidates, λ = 0 reproduces vanilla
//! training, the teacher is never changed, and a strong λ pulls the student towards it.
use std::sync::{Mutex, MutexGuard, OnceLock};

use burn::tensor::{Device, Tensor, TensorData};
use urbancast_roads::RoadNetwork;
use urbancast_roads::demand::{DemandConfig, synthesize};
use urbancast_roads::synthetic_city::synthetic_city;
use urbancast_traj::data::{BatchTensors, GraphTensors, MAX_CANDIDATES, Sample, TrajBatch, candidates};
use urbancast_traj::kd::{KdConfig, TeacherTargets, kd_loss, window_tokens};
use urbancast_traj::lmtad::{self, CellGrid, LmTad, LmTadConfig, LmTadTrainConfig, Tokenizer};
use urbancast_traj::model::{GraphInputs, Hoser, HoserConfig};
use urbancast_traj::train::{Distill, Prepared, RunOpts, TrainConfig, TrainLog, fit, fit_distilled, prepare_training};

struct World {
    net: RoadNetwork,
    prep: Prepared,
    grid: CellGrid,
    teacher: LmTad,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let _g = serial();
        let net = synthetic_city(&Default::default()).unwrap();
        let cfg = DemandConfig { trips: 300, zones: 8, anchors_per_zone: 4, seed: 4, ..Default::default() };
        let (trips, _) = synthesize(&net, &cfg, None).unwrap();
        let prep = prepare_training(&net, &trips, 16, 5, 0.15, 0.1).unwrap();
        let grid = CellGrid::new(&net, 0.004).unwrap();
        let tcfg = LmTadConfig { n_layer: 1, n_head: 2, n_embd: 16, block_size: 32, dropout: 0.0, ..LmTadConfig::for_grid(&grid) };
        // A briefly trained teacher (a random one is nearly uniform over the candidates).
        let tok = Tokenizer::new(grid.clone(), &net).unwrap();
        let seqs = tok.encode_all(&net, &trips).unwrap();
        let (va, tr) = seqs.split_at(30);
        let lcfg = LmTadTrainConfig { epochs: 3, batch: 16, lr: 3e-3, min_lr: 3e-4, seed: 9, ..Default::default() };
        let (teacher, _) = lmtad::fit(tr, va, &tcfg, &lcfg, &Device::flex(), false).unwrap();
        World { net, prep, grid, teacher }
    })
}

/// burn's RNG is process-global: one model initialisation at a time.
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
    TrainConfig { epochs: 3, batch: 16, lr: 1e-2, max_batches_per_epoch: Some(5), seed: 7, ..Default::default() }
}

fn kd(lambda: f64) -> KdConfig {
    KdConfig { lambda, tau: 2.0, window: 4, ..KdConfig::porto() }
}

fn teacher_logits(w: &World) -> Vec<f32> {
    let t = Tensor::<2, burn::tensor::Int>::from_data(TensorData::new(vec![w.grid.sot() as i64, 3, 4, 5], [1, 4]), &Device::flex());
    w.teacher.forward(t).unwrap().into_data().iter::<f32>().collect()
}

#[test]
fn window_is_the_last_w_tokens_of_sot_and_cells() {
    let psi = [10u32, 11, 12, 13, 14];
    let roads = [0u32, 1, 2, 3, 4];
    let sot = 99;
    assert_eq!(window_tokens(&psi, sot, &roads, 0, 4), vec![99, 10]);
    assert_eq!(window_tokens(&psi, sot, &roads, 2, 4), vec![99, 10, 11, 12]);
    assert_eq!(window_tokens(&psi, sot, &roads, 3, 4), vec![10, 11, 12, 13]);
    assert_eq!(window_tokens(&psi, sot, &roads, 4, 2), vec![13, 14]);
    assert_eq!(window_tokens(&psi, sot, &roads, 4, 1), vec![14]);
}

#[test]
fn teacher_targets_are_distributions_over_the_batch_candidates() {
    let w = world();
    let samples = &w.prep.train[..40];
    let all = TeacherTargets::build(&w.net, &w.teacher, &w.grid, samples, &kd(0.1), false).unwrap();
    let steps: usize = samples.iter().map(Sample::steps).sum();
    assert_eq!(all.stats.steps, steps);
    assert!(all.stats.windows <= steps && all.stats.windows > 0);
    for (i, s) in samples.iter().enumerate() {
        for t in 0..s.steps() {
            let q = all.step(i, t).expect("every step distilled");
            let c = candidates(&w.net, s.roads[t] as usize, s.dest(), MAX_CANDIDATES);
            assert_eq!(q.len(), c.len(), "sample {i} step {t}");
            assert!(q.iter().all(|&x| x >= 0.0));
            assert!((q.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{q:?}");
        }
    }
    // The fork's variant: only the last step of each trajectory.
    let last = TeacherTargets::build(&w.net, &w.teacher, &w.grid, samples, &KdConfig { all_positions: false, ..kd(0.1) }, false).unwrap();
    assert_eq!(last.stats.steps, samples.len());
    for (i, s) in samples.iter().enumerate() {
        assert!(last.step(i, s.steps() - 1).is_some());
        assert!((0..s.steps() - 1).all(|t| last.step(i, t).is_none()));
        assert_eq!(last.step(i, s.steps() - 1), all.step(i, s.steps() - 1), "same window, same distribution");
    }
    // Batch view: distilled rows sum to 1, padding and padded candidates are 0.
    let idx: Vec<usize> = (5..13).collect();
    let refs: Vec<&Sample> = idx.iter().map(|&i| &samples[i]).collect();
    let tb = TrajBatch::build(&w.net, &w.prep.ctx, &refs, &w.prep.time_norm);
    let (q, wt) = all.batch(&tb, &idx).unwrap();
    for row in 0..tb.b * tb.l {
        let r = &q[row * tb.k..(row + 1) * tb.k];
        let m = &tb.cand_mask[row * tb.k..(row + 1) * tb.k];
        assert_eq!(wt[row] == 1.0, tb.valid[row], "row {row}");
        if tb.valid[row] {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        assert!(r.iter().zip(m).all(|(&x, &real)| real || x == 0.0));
    }
    let err = all.batch(&tb, &idx[1..]).unwrap_err().to_string();
    assert!(err.contains("sample indices"), "{err}");
    // A teacher whose vocabulary does not match the grid is refused.
    let other = CellGrid::new(&w.net, 0.002).unwrap();
    let err = TeacherTargets::build(&w.net, &w.teacher, &other, samples, &kd(0.1), false).unwrap_err().to_string();
    assert!(err.contains("vocabulary"), "{err}");
    let err = TeacherTargets::build(&w.net, &w.teacher, &w.grid, samples, &KdConfig { tau: 0.0, ..kd(0.1) }, false).unwrap_err();
    assert!(err.to_string().contains("tau"), "{err}");
}

fn strip(log: &TrainLog) -> TrainLog {
    let mut l = log.clone();
    l.seconds = 0.0;
    l.epochs.iter_mut().for_each(|e| (e.seconds, e.train_seconds, e.train_kd) = (0.0, 0.0, None));
    l
}

fn train(w: &World, kd_cfg: Option<KdConfig>) -> (Hoser, TrainLog) {
    let p = &w.prep;
    let d = Device::flex();
    let targets = kd_cfg.as_ref().map(|c| TeacherTargets::build(&w.net, &w.teacher, &w.grid, &p.train, c, false).unwrap());
    let distill = kd_cfg.zip(targets.as_ref()).map(|(cfg, targets)| Distill { targets, cfg });
    let _g = serial();
    match &distill {
        None => fit(p.data(&w.net), &tiny(), &quick(), &d, RunOpts::default()).unwrap(),
        Some(k) => fit_distilled(p.data(&w.net), &tiny(), &quick(), &d, RunOpts::default(), Some(k)).unwrap(),
    }
}

/// Mean τ-KL between the teacher's targets and `model` over the validation samples.
fn kl_to_teacher(w: &World, model: &Hoser) -> f32 {
    let p = &w.prep;
    let d = Device::flex();
    let cfg = kd(1.0);
    let t = TeacherTargets::build(&w.net, &w.teacher, &w.grid, &p.val, &cfg, false).unwrap();
    let idx: Vec<usize> = (0..p.val.len()).collect();
    let refs: Vec<&Sample> = p.val.iter().collect();
    let tb = TrajBatch::build(&w.net, &p.ctx, &refs, &p.time_norm);
    let bt = BatchTensors::new(&tb, &d);
    let g = GraphTensors::new(&p.ctx, &d);
    let emb = model.encode_graph(GraphInputs::from(&g));
    let out = model.forward(&emb, &(&bt).into(), &(&bt).into());
    let (q, wt) = t.batch(&tb, &idx).unwrap();
    let (m, k) = (tb.b * tb.l, tb.k);
    let loss = kd_loss(
        out.logits.reshape([m, k]),
        bt.cand_mask.clone().reshape([m, k]),
        Tensor::from_data(TensorData::new(q, [m, k]), &d),
        cfg.tau,
        false,
        Some(Tensor::from_data(TensorData::new(wt, [m]), &d)),
    )
    .unwrap();
    loss.into_scalar::<f32>()
}

#[test]
fn lambda_zero_is_vanilla_training_and_the_teacher_is_never_changed() {
    let w = world();
    let before = teacher_logits(w);
    let (vanilla, log_v) = train(w, None);
    let (zero, log_0) = train(w, Some(kd(0.0)));
    assert_eq!(strip(&log_v), strip(&log_0));
    assert!(log_0.epochs.iter().all(|e| e.train_kd.is_some_and(f64::is_finite)), "{log_0:?}");
    assert!(log_v.epochs.iter().all(|e| e.train_kd.is_none()));
    let a: Vec<f32> =
        vanilla.encode_graph(GraphInputs::from(&GraphTensors::new(&w.prep.ctx, &Device::flex()))).road.into_data().iter::<f32>().collect();
    let b: Vec<f32> =
        zero.encode_graph(GraphInputs::from(&GraphTensors::new(&w.prep.ctx, &Device::flex()))).road.into_data().iter::<f32>().collect();
    assert_eq!(a, b, "λ = 0 must give the vanilla weights");
    // A strong λ pulls the student's candidate distribution towards the teacher's.
    let (strong, log_s) = train(w, Some(kd(3.0)));
    assert!(log_s.epochs.iter().all(|e| e.train_kd.is_some_and(|x| x.is_finite() && x > 0.0)), "{log_s:?}");
    let (kl_v, kl_s) = (kl_to_teacher(w, &vanilla), kl_to_teacher(w, &strong));
    eprintln!("KL to the teacher: vanilla {kl_v}, distilled {kl_s}");
    assert!(kl_s < kl_v, "distilled student KL {kl_s} should be below the vanilla student's {kl_v}");
    assert_eq!(teacher_logits(w), before, "the teacher must not change");
}
