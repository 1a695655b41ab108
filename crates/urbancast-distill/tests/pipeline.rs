//! Teacher, student and distilled student on a tiny synthetic sensor graph.
use std::sync::Mutex;

use burn::module::Module;
use burn::tensor::Device;
use ndarray::Array2;
use urbancast_data::graph::{GraphPrepared, GraphProtocol, SyntheticGraphConfig, prepare_graph, synthetic_sensor_graph};
use urbancast_distill::batch::{Batch, Denorm};
use urbancast_distill::eval::evaluate;
use urbancast_distill::pipeline::{student_predictor, teacher_predictor};
use urbancast_distill::student::Distiller;
use urbancast_distill::teacher::adjacency_tensor;
use urbancast_distill::{LightstConfig, TeacherSettings, TrainConfig, assess_student, train_student, train_teacher};
use urbancast_nn::{load_stmlp, save_stmlp};

/// The burn-flex RNG is process-global: seeded runs must not interleave.
static LOCK: Mutex<()> = Mutex::new(());

fn tiny() -> GraphPrepared {
    let g = synthetic_sensor_graph(&SyntheticGraphConfig { nodes: 6, days: 8, interval_min: 60, seed: 3 }).unwrap();
    prepare_graph(&g, &GraphProtocol::default()).unwrap()
}

fn tiny_config(epochs: usize) -> LightstConfig {
    let train = TrainConfig { max_epochs: epochs, patience: 10, batch: 16, ..TrainConfig::default() };
    let mut cfg = LightstConfig {
        teacher: TeacherSettings {
            node_dim: 4,
            top_k: 3,
            conv_channels: 8,
            residual_channels: 8,
            skip_channels: 8,
            end_channels: 16,
            layers: 2,
            ..TeacherSettings::default()
        },
        teacher_train: train.clone(),
        student_train: train,
        ..LightstConfig::default()
    };
    cfg.student.embed_dim = 8;
    cfg.student.node_dim = 4;
    cfg.student.tod_dim = 4;
    cfg.student.dow_dim = 4;
    cfg
}

#[test]
fn student_ignores_the_adjacency_and_teacher_does_not() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let data = tiny();
    let dev = Device::flex().autodiff();
    let cfg = tiny_config(1);
    let (teacher, _) = train_teacher(&data, &cfg, 1, &dev).unwrap();
    let (student, log) = train_student(&data, &cfg, Some(&teacher), 1, &dev).unwrap();
    // The distillation terms were computed (and are finite).
    let names: Vec<&str> = log.loss_terms[0].iter().map(|t| t.0.as_str()).collect();
    // The engine logs terms by name (sorted), not in the order the objective lists them.
    assert_eq!(names, ["kd", "spatial", "task", "temporal"]);
    assert!(log.loss_terms[0].iter().all(|t| t.1.is_finite()));

    let mut other = data.clone();
    let n = data.num_nodes();
    other.adjacency = Array2::from_shape_fn((n, n), |(i, j)| if (i * 7 + j * 3) % 4 == 0 { 1.0 } else { 0.0 });
    let inner = Device::flex();
    let denorm = Denorm::new(&data);
    let score_student = |d: &GraphPrepared| {
        let s = student.valid();
        evaluate(student_predictor(&s), d, d.test.clone(), 8, &denorm, &inner).unwrap()
    };
    // Same predictions, whatever the adjacency: the student has no graph input at all.
    assert_eq!(score_student(&data), score_student(&other));
    let score_teacher = |d: &GraphPrepared| {
        let t = teacher.valid();
        evaluate(teacher_predictor(&t, adjacency_tensor(d, &inner)), d, d.test.clone(), 8, &denorm, &inner).unwrap()
    };
    assert_ne!(score_teacher(&data), score_teacher(&other), "the teacher should use the given graph");
}

#[test]
fn training_lowers_the_loss_and_is_reproducible() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let data = tiny();
    let dev = Device::flex().autodiff();
    let cfg = tiny_config(6);
    let (_, a) = train_student(&data, &cfg, None, 7, &dev).unwrap();
    assert!(a.train_loss.last().unwrap() < &a.train_loss[0], "{:?}", a.train_loss);
    assert!(a.val_mae.iter().all(|v| v.is_finite()));
    let (_, b) = train_student(&data, &cfg, None, 7, &dev).unwrap();
    assert_eq!(a.train_loss, b.train_loss);
    assert_eq!(a.val_mae, b.val_mae);
    let (_, c) = train_student(&data, &cfg, None, 8, &dev).unwrap();
    assert_ne!(a.train_loss, c.train_loss);
}

#[test]
fn checkpoint_round_trip_and_assessment() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let data = tiny();
    let dev = Device::flex().autodiff();
    let (student, _) = train_student(&data, &tiny_config(1), None, 2, &dev).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.bpk");
    save_stmlp(&student, &path).unwrap();
    let inner = Device::flex();
    let loaded = load_stmlp(&path, &inner).unwrap();
    let a = assess_student(&student, "student", &data, 2, &inner).unwrap();
    let b = assess_student(&loaded, "student", &data, 2, &inner).unwrap();
    assert_eq!(a.test, b.test);
    assert_eq!(a.params, loaded.num_params());
    assert_eq!(a.test.horizons.iter().map(|h| h.0).collect::<Vec<_>>(), [3, 6, 12]);
    assert!(a.time.batch64_ms > 0.0 && a.time.single_ms > 0.0);
    // A missing checkpoint is an error, not a panic.
    assert!(load_stmlp(dir.path().join("none.bpk"), &inner).is_err());
}

#[test]
fn cached_teacher_outputs_equal_a_fresh_forward() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let data = tiny();
    let dev = Device::flex().autodiff();
    let cfg = tiny_config(1);
    let (teacher, _) = train_teacher(&data, &cfg, 4, &dev).unwrap();
    let d = Distiller::new(&teacher, &data, cfg.distill.clone(), &dev).unwrap();
    assert!(d.is_cached());
    let starts = [data.train.start + 3, data.train.end - 1, data.train.start];
    let b = Batch::new(&data, &starts, &Device::flex());
    let (p1, h1) = d.outputs(&b).unwrap();
    let d = d.without_cache();
    let (p2, h2) = d.outputs(&b).unwrap();
    let max = |a: Vec<f32>, b: Vec<f32>| a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    let v = |t: burn::tensor::TensorData| t.try_into_vec::<f32>().unwrap();
    assert!(max(v(p1.into_data()), v(p2.into_data())) < 1e-5);
    assert!(max(v(h1.into_data()), v(h2.into_data())) < 1e-5);
}

#[test]
fn graph_wavenet_teacher_trains_distills_and_round_trips() {
    use urbancast_distill::TeacherModel;
    use urbancast_distill::teacher::{Teacher, load_teacher, save_teacher};
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let data = tiny();
    let dev = Device::flex().autodiff();
    let mut cfg = tiny_config(4);
    cfg.teacher.model = TeacherModel::Gwn;
    let (teacher, log) = train_teacher(&data, &cfg, 5, &dev).unwrap();
    assert!(matches!(teacher, Teacher::Gwn(_)));
    assert_eq!(teacher.kind(), TeacherModel::Gwn);
    // meta_gwn's end width is the representation the student is distilled on
    assert_eq!(teacher.hidden_dim(), 512);
    assert!(log.train_loss.last().unwrap() < &log.train_loss[0], "{:?}", log.train_loss);
    let mut one = cfg.clone();
    one.student_train.max_epochs = 1;
    let (_, slog) = train_student(&data, &one, Some(&teacher), 5, &dev).unwrap();
    let names: Vec<&str> = slog.loss_terms[0].iter().map(|t| t.0.as_str()).collect();
    assert_eq!(names, ["kd", "spatial", "task", "temporal"]);
    assert!(slog.loss_terms[0].iter().all(|t| t.1.is_finite()));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("teacher.bpk");
    save_teacher(&teacher, &path).unwrap();
    let inner = Device::flex();
    let loaded = load_teacher(&path, data.num_nodes(), &inner).unwrap();
    assert_eq!(loaded.kind(), TeacherModel::Gwn);
    let denorm = Denorm::new(&data);
    let score = |t: &Teacher| {
        let t = t.valid();
        evaluate(teacher_predictor(&t, adjacency_tensor(&data, &inner)), &data, data.test.clone(), 8, &denorm, &inner).unwrap()
    };
    assert_eq!(score(&teacher), score(&loaded));
    let e = load_teacher(&path, data.num_nodes() + 1, &inner).unwrap_err().to_string();
    assert!(e.contains("trained on 6 nodes, the data has 7"), "{e}");
    let (student, _) = train_student(&data, &one, None, 5, &dev).unwrap();
    let spath = dir.path().join("student.bpk");
    save_stmlp(&student, &spath).unwrap();
    let e = format!("{:#}", load_teacher(&spath, data.num_nodes(), &inner).unwrap_err());
    assert!(e.contains("not a teacher checkpoint"), "{e}");
}
