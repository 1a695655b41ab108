//! End-to-end behaviour of training, the methods and the runner on tiny synthetic cities.
mod common;
use burn::prelude::*;
use common::tiny;
use ndarray::Array3;
use urbancast_data::prep::{Prepared, Protocol};
use urbancast_data::{Channel, City, Layout};
use urbancast_transfer::batch::Task;
use urbancast_transfer::train::{GridData, Split, TrainConfig, train};
use urbancast_transfer::{Experiment, Method, RunPlan, Settings, checkpoint, ha, predict};

fn tiny_settings() -> Settings {
    Settings {
        protocol: Protocol { test_days: 2, val_days: 2, ..Protocol::default() },
        conv_channels: 8,
        res_units: 1,
        hidden: 16,
        pretrain: TrainConfig { max_epochs: 2, batch: 16, ..TrainConfig::default() },
        target_train: TrainConfig { max_epochs: 2, batch: 16, ..TrainConfig::default() },
        ..Settings::default()
    }
}

#[test]
fn training_loss_falls_on_a_tiny_city() {
    let city = tiny("metro", 3);
    let protocol = Protocol::default();
    let prep = Prepared::new(city, &protocol);
    let device = Device::flex();
    let ad = device.clone().autodiff();
    let task = Task::new(&prep, &ad);
    let steps: Vec<usize> = (6..6 + 64).collect();
    let val: Vec<usize> = (100..132).collect();
    let cfg = urbancast_nn::StNetConfig {
        channels: 2,
        lags: 6,
        conv_channels: 8,
        res_units: 1,
        hidden: 16,
        head_hidden: 16,
        output: urbancast_nn::Output::Linear,
    };
    let model = cfg.init_seeded(urbancast_nn::SpatialKind::Grid, &ad, 7);
    let tc = TrainConfig { max_epochs: 12, patience: 100, batch: 16, lr: 3e-3, ..TrainConfig::default() };
    let (_, log) = train(
        model,
        GridData::new(&[Split { task: &task, steps: &steps }], &[Split { task: &task, steps: &val }], 6),
        &tc,
        7,
        "test",
        None,
    )
    .unwrap();
    assert_eq!(log.train_loss.len(), 12);
    let first = log.train_loss[0];
    let last = *log.train_loss.last().unwrap();
    assert!(last < 0.7 * first, "training loss should fall: {:?}", log.train_loss);
    assert!(log.best_val_rmse.is_finite());
    assert_eq!(log.val_rmse[log.best_epoch - 1], log.best_val_rmse);
}

#[test]
fn runner_produces_every_method_and_is_reproducible() {
    let run = || {
        let exp = Experiment::new(vec![tiny("metro", 1), tiny("coastal", 1)], tiny("suburb", 1), &tiny_settings().protocol).unwrap();
        let mut skipped = vec![];
        let out = exp
            .run(
                &RunPlan { methods: &Method::ALL, days: &[1, 0], seeds: &[5], settings: &tiny_settings(), device: &Device::flex() },
                |_| {},
                |m| skipped.push(m),
            )
            .unwrap();
        (out, skipped)
    };
    let (a, skipped) = run();
    let names: Vec<(String, usize)> = a.iter().map(|o| (o.row.method.clone(), o.row.days)).collect();
    assert_eq!(
        names,
        vec![
            ("persistence".into(), 1),
            ("region-mean".into(), 1),
            ("ha".into(), 1),
            ("target-only".into(), 1),
            ("fine-tune".into(), 1),
            ("zero-shot".into(), 1),
            ("fine-tune-stbat-head".into(), 1),
            ("stbat".into(), 1),
            ("persistence".into(), 0),
            ("zero-shot".into(), 0),
            ("fine-tune-stbat-head".into(), 0),
            ("stbat".into(), 0)
        ]
    );
    assert_eq!(skipped.len(), 4, "region-mean, ha, target-only and fine-tune cannot run with N = 0: {skipped:?}");
    for o in &a {
        let s = &o.row.scores;
        assert_eq!(s.per_channel.len(), 2);
        assert!(s.mean.rmse.is_finite() && s.mean.rmse > 0.0 && s.mean.mae <= s.mean.rmse + 1e-9, "{:?}", o.row);
        assert_eq!(o.row.test_samples, 48);
        assert_eq!(o.region_rmse.len(), 20);
    }
    // zero-shot and persistence do not depend on N; the same seed gives the same numbers.
    assert_eq!(a[5].row.scores, a[9].row.scores);
    assert_eq!(a[0].row.scores, a[8].row.scores);
    let (b, _) = run();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.row.scores, y.row.scores, "{} differs between identical runs", x.row.method);
    }
}

#[test]
fn mismatched_cities_are_refused_with_a_reason() {
    let a = tiny("metro", 1);
    let b = tiny("suburb", 1).resample(120).unwrap();
    let e = Experiment::new(vec![b], a.clone(), &Protocol::default()).err().unwrap().to_string();
    assert!(e.contains("120 min") && e.contains("resample"), "{e}");
    let c = a.select_channels(&[Channel::Dropoff, Channel::Pickup]).unwrap();
    let e = Experiment::new(vec![c], a, &Protocol::default()).err().unwrap().to_string();
    assert!(e.contains("channels"), "{e}");
}

#[test]
fn historical_average_matches_hand_computation() {
    // 1 region, 1 channel, hourly; 2 weeks + a bit. Value = hour index.
    let t = 24 * 15;
    let flow = Array3::from_shape_fn((t, 1, 1), |(i, _, _)| (i % 7 + 1) as f32);
    let city = City::new("ha", 60, flow, vec![Channel::Other], Layout::Grid { height: 1, width: 1 }).unwrap();
    let week = 168;
    // Available: the first week fully and step 168 + 5 (same slot as step 5).
    let mut avail: Vec<usize> = (0..week).collect();
    avail.push(week + 5);
    let pred = ha::predict(&city, &avail, &[2 * week + 5, 2 * week + 6]);
    let v = |i: usize| city.flow[[i, 0, 0]];
    assert_eq!(pred[[0, 0, 0]], (v(5) + v(week + 5)) / 2.0);
    assert_eq!(pred[[1, 0, 0]], v(6));
    // Only one day available: unseen week slots fall back to the same hour of day.
    let day: Vec<usize> = (0..24).collect();
    let p = ha::predict(&city, &day, &[24 + 3]);
    assert_eq!(p[[0, 0, 0]], v(3));
}

#[test]
fn checkpoints_reload_to_identical_predictions() {
    for joint in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut s = tiny_settings();
        s.checkpoint_dir = Some(dir.path().to_path_buf());
        s.joint_channels = joint;
        let exp = Experiment::new(vec![tiny("metro", 2)], tiny("suburb", 2), &s.protocol).unwrap();
        let methods = [Method::FineTune, Method::FineTuneStbatHead, Method::Stbat(urbancast_transfer::stbat::Variant::Full)];
        let out = exp
            .run(&RunPlan { methods: &methods, days: &[1], seeds: &[3], settings: &s, device: &Device::flex() }, |_| {}, |_| {})
            .unwrap();
        let splits = s.protocol.target_splits(&exp.target.city, 1).unwrap();
        let names = vec!["pickup".to_string(), "dropoff".to_string()];
        for (k, m) in methods.iter().enumerate() {
            let ckpt = dir.path().join(format!("{m}-n1-seed3"));
            // per channel (the default): one single-channel checkpoint per channel in subfolders
            assert_eq!(ckpt.join("pickup").is_dir(), !joint);
            let models = checkpoint::load_set(&ckpt, &Device::flex()).unwrap();
            assert_eq!(models.len(), if joint { 1 } else { 2 });
            let mut parts = vec![];
            for (i, (model, meta)) in models.iter().enumerate() {
                assert_eq!(meta.method, m.name());
                assert_eq!(meta.trained_on, vec!["metro".to_string(), "suburb".to_string()]);
                // STBaT and its control have STBaT's head (eq. 9): its width, no sigmoid
                let want_hidden = if m.has_stbat_head() { s.stbat.head_hidden } else { s.head_hidden };
                assert_eq!((meta.model.head_hidden, meta.model.output), (want_hidden, urbancast_nn::Output::Linear));
                let prep = if joint { exp.target.clone() } else { exp.target.channel(1 - i) }; // subfolders in name order: dropoff, pickup
                assert_eq!(meta.channels, prep.city.channels);
                let task = Task::new(&prep, &Device::flex());
                parts.push(predict::predict(model, &task, &splits.test, 6, 64).unwrap());
            }
            if !joint {
                parts.reverse();
            }
            let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
            let pred = ndarray::concatenate(ndarray::Axis(2), &views).unwrap();
            let task = Task::new(&exp.target, &Device::flex());
            let truth = predict::truth(&task, &splits.test);
            let scores = urbancast_eval::score(pred.view(), truth.view(), &exp.target.city.mask, &names);
            assert_eq!(scores, out[k].row.scores, "{m}, joint {joint}: reloaded checkpoints must reproduce the run's predictions");
        }
    }
    let e = checkpoint::load(&std::path::PathBuf::from("/nonexistent/missing"), &Device::flex()).err().unwrap().to_string();
    assert!(e.contains("meta.json"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = checkpoint::load_set(empty.path(), &Device::flex()).err().unwrap().to_string();
    assert!(e.contains("not a checkpoint folder"), "{e}");
}

#[test]
fn simple_predictors_match_hand_computations() {
    // 2 regions, 1 channel; region 0 = step index, region 1 = 2 * step index
    let flow = Array3::from_shape_fn((30, 2, 1), |(t, r, _)| (t * (r + 1)) as f32);
    let city = City::new("simple", 60, flow, vec![Channel::Other], Layout::Grid { height: 1, width: 2 }).unwrap();
    let p = ha::persistence(&city, &[10, 20]);
    assert_eq!(p.as_slice().unwrap(), &[9.0, 18.0, 19.0, 38.0]);
    let m = ha::region_mean(&city, &[2, 3, 4], &[25]);
    assert_eq!(m.as_slice().unwrap(), &[3.0, 6.0]);
}
