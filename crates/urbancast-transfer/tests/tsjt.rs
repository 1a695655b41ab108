//! TSJT: the three gradient rules against hand computations, and the method end to end in the
//! grid runner (rows, sources, per-epoch gradient diagnostics, reproducibility).
mod common;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use common::tiny;
use urbancast_data::prep::Protocol;
use urbancast_transfer::tsjt::{Skew, SkewRule, combine, measure, skew};
use urbancast_transfer::{Experiment, Method, RunPlan, Settings, TrainConfig};

#[derive(Module, Debug)]
struct Two {
    l: Linear,
}

/// A model with a 2x1 weight and a bias, and gradients `w`, `b` for it.
fn model() -> Two {
    Two { l: LinearConfig::new(2, 1).init(&Device::flex()) }
}

fn grads(m: &Two, w: [f32; 2], b: Option<f32>) -> GradientsParams {
    let d = Device::flex();
    let mut g = GradientsParams::new();
    g.register(m.l.weight.id, Tensor::<2>::from_data(TensorData::new(w.to_vec(), [2, 1]), &d));
    if let (Some(b), Some(bias)) = (b, &m.l.bias) {
        g.register(bias.id, Tensor::<1>::from_data(TensorData::new(vec![b], [1]), &d));
    }
    g
}

/// (w0, w1, b) of combined gradients.
fn flat(m: &Two, g: &GradientsParams) -> Vec<f32> {
    let mut v = g.get::<2>(m.l.weight.id).unwrap().into_data().try_to_vec::<f32>().unwrap();
    let bias = m.l.bias.as_ref().unwrap();
    v.extend(g.get::<1>(bias.id).map_or(vec![f32::NAN], |t| t.into_data().try_to_vec::<f32>().unwrap()));
    v
}

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
    }
}

fn rule(r: SkewRule) -> Skew {
    Skew { rule: r, ..Skew::default() }
}

#[test]
fn global_rule_projects_a_conflicting_source_and_sums_an_agreeing_one() {
    let m = model();
    let gt = grads(&m, [1.0, 0.0], Some(0.0));
    // Conflict: g_s = (-1, 2, 0), ⟨g_s, g_t⟩ = -1, ‖g_t‖² = 1 → g_s⊥ = (0, 2, 0);
    // g = 1e-3·(0, 2, 0) + 0.2·(1, 0, 0).
    let gs = grads(&m, [-1.0, 2.0], Some(0.0));
    let (g, s) = combine(&m, &gs, &gt, &rule(SkewRule::Global));
    close(&flat(&m, &g), &[0.2, 0.002, 0.0]);
    assert!((s.cos - (-1.0 / 5f64.sqrt())).abs() < 1e-6, "{s:?}");
    assert_eq!(s.conflict, 1.0);
    assert!((s.norm_source - 5f64.sqrt()).abs() < 1e-6 && (s.norm_target - 1.0).abs() < 1e-6);
    // Agreement: g_s = (1, 2, 0) is kept whole: g = 1e-3·(1, 2, 0) + 0.2·(1, 0, 0).
    let gs = grads(&m, [1.0, 2.0], Some(0.0));
    let (g, s) = combine(&m, &gs, &gt, &rule(SkewRule::Global));
    close(&flat(&m, &g), &[0.201, 0.002, 0.0]);
    assert_eq!(s.conflict, 0.0);
    // The γ's are settings.
    let (g, _) = combine(&m, &gs, &gt, &Skew { rule: SkewRule::Global, gamma_target: 1.0, gamma_source: 0.5 });
    close(&flat(&m, &g), &[1.5, 1.0, 0.0]);
}

#[test]
fn per_tensor_and_elementwise_rules_decide_in_smaller_units() {
    let m = model();
    // g_t = (w: 1, 0; b: 1), g_s = (w: 1, 1; b: -2): globally ⟨g_s, g_t⟩ = -1 < 0.
    let gt = grads(&m, [1.0, 0.0], Some(1.0));
    let gs = grads(&m, [1.0, 1.0], Some(-2.0));
    // Global: k = -1/2, g_s⊥ = g_s + g_t/2 = (1.5, 1, -1.5).
    let (g, s) = combine(&m, &gs, &gt, &rule(SkewRule::Global));
    close(&flat(&m, &g), &[0.2015, 0.001, 0.1985]);
    assert_eq!(s.conflict, 1.0);
    // Per tensor: the weight agrees (kept), the bias conflicts and projects to 0.
    let (g, s) = combine(&m, &gs, &gt, &rule(SkewRule::PerTensor));
    close(&flat(&m, &g), &[0.201, 0.001, 0.2]);
    assert_eq!(s.conflict, 0.5);
    // Element-wise: only w0 (1·1 > 0) survives; w1 (1·0) and b (-2·1) are dropped.
    let (g, s) = combine(&m, &gs, &gt, &rule(SkewRule::Elementwise));
    close(&flat(&m, &g), &[0.201, 0.0, 0.2]);
    assert!((s.conflict - 2.0 / 3.0).abs() < 1e-9);
    // Plain joint training sums; `measure` reports the global cosine.
    close(&flat(&m, &skew::sum(&m, &gs, &gt)), &[2.0, 1.0, -1.0]);
    let s = measure(&m, &gs, &gt);
    assert!((s.cos - (-1.0 / (6f64.sqrt() * 2f64.sqrt()))).abs() < 1e-6);
}

#[test]
fn a_parameter_with_one_gradient_follows_the_rules() {
    let m = model();
    // The target has no bias gradient: global keeps γ_s·g_s there, element-wise drops it.
    let gt = grads(&m, [1.0, 0.0], None);
    let gs = grads(&m, [1.0, 0.0], Some(3.0));
    let (g, _) = combine(&m, &gs, &gt, &rule(SkewRule::Global));
    close(&flat(&m, &g), &[0.201, 0.0, 0.003]);
    let (g, _) = combine(&m, &gs, &gt, &rule(SkewRule::Elementwise));
    close(&flat(&m, &g), &[0.201, 0.0, 0.0]);
    assert_eq!(SkewRule::parse("per-tensor").unwrap(), SkewRule::PerTensor);
    assert!(SkewRule::parse("local").unwrap_err().to_string().contains("global, per-tensor or elementwise"));
    let bad = Skew { gamma_target: 0.0, ..Skew::default() }.validate_at("tsjt.skew.").unwrap_err().to_string();
    assert!(bad.contains("tsjt.skew.gamma_target"), "{bad}");
}

fn settings() -> Settings {
    let mut s = Settings {
        protocol: Protocol { test_days: 2, val_days: 2, ..Protocol::default() },
        conv_channels: 8,
        res_units: 1,
        hidden: 16,
        ..Settings::default()
    };
    s.tsjt.train = TrainConfig { max_epochs: 2, batch: 16, patience: 0, ..TrainConfig::default() };
    s
}

#[test]
fn tsjt_runs_in_the_grid_runner_with_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let run = |sub: &str| {
        let exp = Experiment::new(vec![tiny("metro", 1), tiny("coastal", 1)], tiny("suburb", 1), &settings().protocol).unwrap();
        let mut s = settings();
        s.train_dir = Some(dir.path().join(sub));
        let mut skipped = vec![];
        let out = exp
            .run(
                &RunPlan { methods: &Method::TSJT, days: &[1, 0], seeds: &[3], settings: &s, device: &Device::flex() },
                |_| {},
                |m| skipped.push(m),
            )
            .unwrap();
        (out, skipped)
    };
    let (a, skipped) = run("a");
    let names: Vec<&str> = a.iter().map(|o| o.row.method.as_str()).collect();
    assert_eq!(names, ["tsjt", "joint-no-skew"]);
    assert_eq!(skipped.len(), 2, "TSJT needs target days: {skipped:?}");
    for o in &a {
        assert_eq!(o.row.sources, ["metro", "coastal"]);
        assert!(o.row.scores.mean.rmse.is_finite() && o.row.train_samples > 0);
        let log = o.log.as_ref().unwrap();
        assert_eq!(log.train_loss.len(), 2);
    }
    assert_ne!(a[0].row.scores, a[1].row.scores, "skewing changes the result");
    // Per-channel models: one run folder per channel, each with the gradient diagnostics.
    let text = std::fs::read_to_string(dir.path().join("a/tsjt-n1-seed3-pickup/train-log.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for k in ["cos", "conflict", "grad_ratio_s_t"] {
        let v = first["counters"][k].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite(), "{k} missing in {first}");
    }
    assert!(first["terms"]["source"].as_f64().unwrap() > 0.0 && first["terms"]["target"].as_f64().unwrap() > 0.0);
    // Same seed, same numbers.
    let (b, _) = run("b");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.row.scores, y.row.scores);
    }
}
