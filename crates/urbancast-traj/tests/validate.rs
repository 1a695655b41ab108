//! `validate()` of the traj crate's settings: defaults pass, every out-of-range key is an error
//! naming it (with the caller's table prefix).
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};
use urbancast_traj::kd::KdConfig;
use urbancast_traj::lmtad::{LmTadConfig, LmTadTrainConfig};
use urbancast_traj::model::HoserConfig;
use urbancast_traj::train::{TrainConfig, prepare_training};

fn err(r: anyhow::Result<()>) -> String {
    r.err().map(|e| e.to_string()).unwrap_or_else(|| "no error".into())
}

#[test]
fn hoser_config() {
    let d = HoserConfig::default();
    d.validate().unwrap();
    HoserConfig::new(10, 2, 3).validate().unwrap();
    let cases = [
        (HoserConfig { road_id_dim: 0, ..d.clone() }, "model.road_id_dim must be at least 1 (got 0)"),
        (HoserConfig { gat_layers: 0, ..d.clone() }, "model.gat_layers must be at least 1 (got 0)"),
        (HoserConfig { traj_heads: 0, ..d.clone() }, "model.traj_heads must be at least 1 (got 0)"),
        (HoserConfig { gat_heads: 3, ..d.clone() }, "model.gat_heads must divide the hidden width 128 (got 3)"),
        (HoserConfig { traj_heads: 3, ..d.clone() }, "model.traj_heads must divide the model width 256 (got 3)"),
        (HoserConfig { dist_clip_km: 0.0, ..d.clone() }, "model.dist_clip_km must be greater than 0 (got 0)"),
        (HoserConfig { time_weight: -1.0, ..d.clone() }, "model.time_weight must be at least 0 (got -1)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate_at("model.")), want);
    }
}

#[test]
fn train_config() {
    let d = TrainConfig::default();
    d.validate().unwrap();
    TrainConfig { max_batches_per_epoch: Some(1), val_batches: Some(1), patience: Some(1), clip_norm: 0.0, ..d.clone() }
        .validate()
        .unwrap();
    let cases = [
        (TrainConfig { epochs: 0, ..d.clone() }, "train.epochs must be at least 1 (got 0)"),
        (TrainConfig { batch: 0, ..d.clone() }, "train.batch must be at least 1 (got 0)"),
        (TrainConfig { lr: 0.0, ..d.clone() }, "train.lr must be greater than 0 (got 0)"),
        (TrainConfig { lr: f64::NAN, ..d.clone() }, "train.lr must be a finite number greater than 0 (got NaN)"),
        (TrainConfig { weight_decay: -0.1, ..d.clone() }, "train.weight_decay must be at least 0 (got -0.1)"),
        (TrainConfig { warmup_frac: 1.5, ..d.clone() }, "train.warmup_frac must lie in [0, 1] (got 1.5)"),
        (TrainConfig { clip_norm: -1.0, ..d.clone() }, "train.clip_norm must be at least 0 (got -1)"),
        (TrainConfig { max_batches_per_epoch: Some(0), ..d.clone() }, "train.max_batches_per_epoch must be at least 1 (got 0)"),
        (TrainConfig { val_batches: Some(0), ..d.clone() }, "train.val_batches must be at least 1 (got 0)"),
        (TrainConfig { patience: Some(0), ..d.clone() }, "train.patience must be at least 1 (got 0)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate_at("train.")), want);
    }
}

#[test]
fn lmtad_configs() {
    let m = LmTadConfig { vocab_size: 20, pad_token: 19, ..LmTadConfig::default() };
    m.validate().unwrap();
    let cases = [
        (LmTadConfig::default(), "model.vocab_size must be at least 1 (got 0): take it from the grid"),
        (LmTadConfig { pad_token: 20, ..m.clone() }, "model.pad_token must lie in [0, 20) (got 20)"),
        (LmTadConfig { n_layer: 0, ..m.clone() }, "model.n_layer must be at least 1 (got 0)"),
        (LmTadConfig { n_head: 3, ..m.clone() }, "model.n_head must divide n_embd = 128 (got 3)"),
        (LmTadConfig { block_size: 0, ..m.clone() }, "model.block_size must be at least 1 (got 0)"),
        (LmTadConfig { dropout: 1.0, ..m.clone() }, "model.dropout must lie in [0, 1) (got 1)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate_at("model.")), want);
    }
    let t = LmTadTrainConfig::default();
    t.validate().unwrap();
    let cases = [
        (LmTadTrainConfig { epochs: 0, ..t.clone() }, "train.epochs must be at least 1 (got 0)"),
        (LmTadTrainConfig { batch: 0, ..t.clone() }, "train.batch must be at least 1 (got 0)"),
        (LmTadTrainConfig { lr: -1.0, ..t.clone() }, "train.lr must be greater than 0 (got -1)"),
        (LmTadTrainConfig { min_lr: 1.0, ..t.clone() }, "train.min_lr must lie in [0, 0.0003] (got 1)"),
        (LmTadTrainConfig { warmup_frac: -0.1, ..t.clone() }, "train.warmup_frac must lie in [0, 1] (got -0.1)"),
        (LmTadTrainConfig { beta2: 1.0, ..t.clone() }, "train.beta2 must lie in [0, 1) (got 1)"),
        (LmTadTrainConfig { max_batches_per_epoch: Some(0), ..t.clone() }, "train.max_batches_per_epoch must be at least 1 (got 0)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate_at("train.")), want);
    }
}

#[test]
fn kd_config() {
    KdConfig::porto().validate().unwrap();
    KdConfig::beijing().validate().unwrap();
    let d = KdConfig::default();
    let cases = [
        (KdConfig { lambda: -1.0, ..d.clone() }, "kd.lambda must be at least 0 (got -1)"),
        (KdConfig { tau: 0.0, ..d.clone() }, "kd.tau must be greater than 0 (got 0)"),
        (KdConfig { window: 0, ..d.clone() }, "kd.window must be at least 1 (got 0)"),
        (KdConfig { teacher_batch: 0, ..d.clone() }, "kd.teacher_batch must be at least 1 (got 0)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate_at("kd.")), want);
    }
}

#[test]
fn zero_zones_are_an_error_not_one_zone() {
    let net = synthetic_city(&SyntheticCityConfig { blocks_x: 2, blocks_y: 2, ..Default::default() }).unwrap();
    let e = prepare_training(&net, &[], 0, 0, 0.1, 0.1).unwrap_err().to_string();
    assert_eq!(e, "zones must be at least 1 (got 0)");
}
