//! `validate()` of the transfer settings: defaults pass, every out-of-range key is an error
//! naming it, and the experiment checks before it trains or writes anything.
mod common;
use burn::prelude::*;
use common::tiny;
use urbancast_data::prep::Protocol;
use urbancast_transfer::stbat::StbatConfig;
use urbancast_transfer::{Experiment, Method, RunPlan, Settings, TrainConfig};

fn err(r: anyhow::Result<()>) -> String {
    r.err().map(|e| e.to_string()).unwrap_or_else(|| "no error".into())
}

#[test]
fn settings_keys_are_named_with_their_table() {
    let d = Settings::default();
    d.validate().unwrap();
    let mut cases: Vec<(Settings, &str)> = vec![];
    let mut s = d.clone();
    s.protocol.lags = 0;
    cases.push((s, "settings.protocol.lags must be at least 1 (got 0)"));
    let mut s = d.clone();
    s.protocol.percentile = -0.5;
    cases.push((s, "settings.protocol.percentile must lie in (0, 1] (got -0.5)"));
    let mut s = d.clone();
    s.protocol.source_train_frac = 1.0;
    cases.push((s, "settings.protocol.source_train_frac must lie in (0, 1) (got 1)"));
    let mut s = d.clone();
    s.pretrain.batch = 0;
    cases.push((s, "settings.pretrain.batch must be at least 1 (got 0)"));
    let mut s = d.clone();
    s.target_train.max_epochs = 0;
    cases.push((s, "settings.target_train.max_epochs must be at least 1 (got 0)"));
    cases.push((Settings { conv_channels: 0, ..d.clone() }, "settings.conv_channels must be at least 1 (got 0)"));
    cases.push((Settings { hidden: 0, ..d.clone() }, "settings.hidden must be at least 1 (got 0)"));
    cases.push((Settings { head_hidden: 0, ..d.clone() }, "settings.head_hidden must be at least 1 (got 0)"));
    let mut s = d.clone();
    s.stbat.bandwidth = 0.0;
    cases.push((s, "settings.stbat.bandwidth must be greater than 0 (got 0)"));
    for (s, want) in cases {
        assert_eq!(err(s.validate_at("settings.")), want);
    }
}

#[test]
fn train_and_stbat_configs() {
    let d = TrainConfig::default();
    d.validate().unwrap();
    let cases = [
        (TrainConfig { lr: 0.0, ..d.clone() }, "pretrain.lr must be greater than 0 (got 0)"),
        (TrainConfig { lr: f64::INFINITY, ..d.clone() }, "pretrain.lr must be a finite number greater than 0 (got inf)"),
        (TrainConfig { weight_decay: -1.0, ..d.clone() }, "pretrain.weight_decay must be at least 0 (got -1)"),
        (TrainConfig { batch: 0, ..d.clone() }, "pretrain.batch must be at least 1 (got 0)"),
        (TrainConfig { clip_norm: 0.0, ..d.clone() }, "pretrain.clip_norm must be greater than 0 (got 0)"),
        (TrainConfig { max_epochs: 0, ..d.clone() }, "pretrain.max_epochs must be at least 1 (got 0)"),
        (TrainConfig { eps: 0.0, ..d.clone() }, "pretrain.eps must be greater than 0 (got 0)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate_at("pretrain.")), want);
    }
    // patience 0 = no early stopping
    TrainConfig { patience: 0, ..d.clone() }.validate().unwrap();
    assert_eq!(TrainConfig { patience: 0, ..d.clone() }.spec("t", 1).patience, None);
    assert_eq!(TrainConfig { patience: 4, ..d.clone() }.spec("t", 1).patience, Some(4));
    let d = StbatConfig::default();
    d.validate().unwrap();
    let cases = [
        (StbatConfig { embed_dim: 0, ..d.clone() }, "stbat.embed_dim must be at least 1 (got 0)"),
        (StbatConfig { beta: -0.1, ..d.clone() }, "stbat.beta must be at least 0 (got -0.1)"),
        (StbatConfig { tau: 0.0, ..d.clone() }, "stbat.tau must be greater than 0 (got 0)"),
        (StbatConfig { dcl_weight: f64::NAN, ..d.clone() }, "stbat.dcl_weight must be a finite number at least 0 (got NaN)"),
        (StbatConfig { proj_dim: 0, ..d.clone() }, "stbat.proj_dim must be at least 1 (got 0)"),
        (StbatConfig { riam_lr: 0.0, ..d.clone() }, "stbat.riam_lr must be greater than 0 (got 0)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate_at("stbat.")), want);
    }
}

#[test]
fn the_experiment_checks_before_it_trains_or_writes() {
    let bad = Protocol { percentile: 0.0, ..Protocol::default() };
    let e = Experiment::new(vec![tiny("metro", 1)], tiny("suburb", 1), &bad).err().unwrap().to_string();
    assert_eq!(e, "protocol.percentile must lie in (0, 1] (got 0)");
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("checkpoints");
    let mut s = Settings { checkpoint_dir: Some(ckpt.clone()), ..Settings::default() };
    s.pretrain.max_epochs = 0;
    let exp = Experiment::new(vec![tiny("metro", 1)], tiny("suburb", 1), &s.protocol).unwrap();
    let r = exp.run(
        &RunPlan { methods: &[Method::FineTune], days: &[1], seeds: &[1], settings: &s, device: &Device::flex() },
        |_| panic!("no row expected"),
        |_| {},
    );
    assert_eq!(r.err().unwrap().to_string(), "pretrain.max_epochs must be at least 1 (got 0)");
    assert!(!ckpt.exists());
}
