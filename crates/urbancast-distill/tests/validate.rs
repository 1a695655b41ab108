//! `validate()` of the LightST settings: defaults pass, every out-of-range key is an error naming
//! it, and training checks the whole configuration first.
use burn::tensor::Device;
use urbancast_data::graph::{GraphProtocol, SyntheticGraphConfig, prepare_graph, synthetic_sensor_graph};
use urbancast_distill::losses::KdForm;
use urbancast_distill::{DistillConfig, LightstConfig, StudentSettings, TeacherSettings, TrainConfig, train_student, train_teacher};

fn err(r: anyhow::Result<()>) -> String {
    r.err().map(|e| e.to_string()).unwrap_or_else(|| "no error".into())
}

#[test]
fn parts_name_their_keys() {
    let d = LightstConfig::default();
    d.validate().unwrap();
    let t = TeacherSettings::default();
    for (c, want) in [
        (TeacherSettings { top_k: 0, ..t.clone() }, "teacher.top_k must be at least 1 (got 0)"),
        (TeacherSettings { conv_channels: 0, ..t.clone() }, "teacher.conv_channels must be at least 1 (got 0)"),
        (
            TeacherSettings { conv_channels: 6, ..t.clone() },
            "teacher.conv_channels must be a multiple of 4, one share per inception kernel (got 6)",
        ),
        (TeacherSettings { layers: 0, ..t.clone() }, "teacher.layers must be at least 1 (got 0)"),
        (TeacherSettings { dropout: 1.0, ..t.clone() }, "teacher.dropout must lie in [0, 1) (got 1)"),
    ] {
        assert_eq!(err(LightstConfig { teacher: c, ..d.clone() }.validate()), want);
    }
    let s = StudentSettings::default();
    for (c, want) in [
        (StudentSettings { embed_dim: 0, ..s.clone() }, "student.embed_dim must be at least 1 (got 0)"),
        (StudentSettings { layers: 0, ..s.clone() }, "student.layers must be at least 1 (got 0)"),
        (StudentSettings { dropout: -0.1, ..s.clone() }, "student.dropout must lie in [0, 1) (got -0.1)"),
    ] {
        assert_eq!(err(LightstConfig { student: c, ..d.clone() }.validate()), want);
    }
    let tr = TrainConfig::default();
    for (c, want) in [
        (TrainConfig { lr: 0.0, ..tr.clone() }, "teacher_train.lr must be greater than 0 (got 0)"),
        (TrainConfig { batch: 0, ..tr.clone() }, "teacher_train.batch must be at least 1 (got 0)"),
        (TrainConfig { clip_norm: 0.0, ..tr.clone() }, "teacher_train.clip_norm must be greater than 0 (got 0)"),
        (TrainConfig { max_epochs: 0, ..tr.clone() }, "teacher_train.max_epochs must be at least 1 (got 0)"),
        (TrainConfig { patience: 0, ..tr.clone() }, "teacher_train.patience must be at least 1 (got 0)"),
        (TrainConfig { lr_decay: 0.0, ..tr.clone() }, "teacher_train.lr_decay must be greater than 0 (got 0)"),
        (TrainConfig { weight_decay: -1.0, ..tr.clone() }, "teacher_train.weight_decay must be at least 0 (got -1)"),
    ] {
        assert_eq!(err(LightstConfig { teacher_train: c, ..d.clone() }.validate()), want);
    }
    assert_eq!(
        err(LightstConfig { student_train: TrainConfig { max_epochs: 0, ..tr }, ..d.clone() }.validate()),
        "student_train.max_epochs must be at least 1 (got 0)"
    );
    let k = DistillConfig::default();
    for (c, want) in [
        (DistillConfig { kd: KdForm::Kl { temperature: 0.0 }, ..k.clone() }, "distill.kd.temperature must be greater than 0 (got 0)"),
        (DistillConfig { kd_weight: -1.0, ..k.clone() }, "distill.kd_weight must be at least 0 (got -1)"),
        (DistillConfig { rep_weight: f32::NAN, ..k.clone() }, "distill.rep_weight must be a finite number at least 0 (got NaN)"),
        (DistillConfig { tau: 0.0, ..k.clone() }, "distill.tau must be greater than 0 (got 0)"),
        (DistillConfig { pos_threshold: 1.5, ..k.clone() }, "distill.pos_threshold must lie in [-1, 1] (got 1.5)"),
        (DistillConfig { adaptive_tau: 0.0, ..k.clone() }, "distill.adaptive_tau must be greater than 0 (got 0)"),
    ] {
        assert_eq!(err(LightstConfig { distill: c, ..d.clone() }.validate()), want);
    }
    DistillConfig { kd: KdForm::Mse, ..k }.validate().unwrap();
}

#[test]
fn training_checks_the_configuration_first() {
    let g = synthetic_sensor_graph(&SyntheticGraphConfig { nodes: 6, days: 8, interval_min: 60, seed: 3 }).unwrap();
    let data = prepare_graph(&g, &GraphProtocol::default()).unwrap();
    let dev = Device::flex().autodiff();
    let mut cfg = LightstConfig::default();
    cfg.teacher_train.max_epochs = 0;
    assert_eq!(train_teacher(&data, &cfg, 1, &dev).err().unwrap().to_string(), "teacher_train.max_epochs must be at least 1 (got 0)");
    assert_eq!(train_student(&data, &cfg, None, 1, &dev).err().unwrap().to_string(), "teacher_train.max_epochs must be at least 1 (got 0)");
}
