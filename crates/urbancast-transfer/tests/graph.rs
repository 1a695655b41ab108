//! The graph runner (ST-GFSL protocol): every method end to end on three small synthetic
//! graphs of different sizes, the simple predictors by hand, reproducibility.
use burn::tensor::Device;
use ndarray::{Array2, Array3};
use urbancast_data::graph::{GraphTransferProtocol, SensorGraph, SyntheticGraphConfig, prepare_target, synthetic_sensor_graph};
use urbancast_transfer::TrainConfig;
use urbancast_transfer::graph::{GraphMethod, GraphNetConfig, GraphPlan, GraphSettings, run, simple, summarize, write_graph_report};

fn city(name: &str, nodes: usize, seed: u64) -> SensorGraph {
    let mut g = synthetic_sensor_graph(&SyntheticGraphConfig { nodes, days: 6, interval_min: 60, seed }).unwrap();
    g.name = name.into();
    g
}

fn tiny() -> GraphSettings {
    let tc = TrainConfig { max_epochs: 2, batch: 8, patience: 0, weight_decay: 0.0, clip_norm: 5.0, ..TrainConfig::default() };
    let mut s = GraphSettings {
        net: GraphNetConfig {
            residual_channels: 4,
            dilation_channels: 4,
            skip_channels: 8,
            end_channels: 8,
            blocks: 2,
            layers: 2,
            prompt_dim: 8,
            bank_size: 3,
            ..GraphNetConfig::default()
        },
        pretrain: tc.clone(),
        target_train: tc.clone(),
        ..GraphSettings::default()
    };
    s.tsjt.train = TrainConfig { min_steps: 0, ..tc };
    s
}

#[test]
fn every_graph_method_runs_on_cities_of_different_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let sources = [city("syn-a", 6, 1), city("syn-b", 8, 2)];
    let target = city("syn-t", 5, 3);
    let go = |sub: &str| {
        let mut s = tiny();
        s.train_dir = Some(dir.path().join(sub));
        let plan = GraphPlan { methods: &GraphMethod::ALL, days: &[1], seeds: &[4], settings: &s, device: &Device::flex() };
        run(&sources, &target, &plan, |_| {}).unwrap()
    };
    let rows = go("a");
    let names: Vec<&str> = rows.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(names, ["persistence", "ha", "target-only", "fine-tune", "tsjt", "tsjt-no-npm", "joint-no-skew"]);
    for r in &rows {
        assert_eq!(r.test.horizons.len(), 6, "{}: one entry per horizon step", r.method);
        assert!(r.test.average.rmse.is_finite() && r.test.average.mae <= r.test.average.rmse + 1e-9, "{r:?}");
        // 6 days of 24 steps: test block = steps 115..144 -> 29 - 18 + 1 = 12 windows.
        assert_eq!(r.test_windows, 12);
        assert_eq!(r.sources.is_empty(), !matches!(r.method.as_str(), "fine-tune" | "tsjt" | "tsjt-no-npm" | "joint-no-skew"));
    }
    assert_eq!(rows[4].rule.as_deref(), Some("global"));
    assert!(rows[6].rule.is_none(), "plain joint training has no rule");
    // TSJT logs its gradient diagnostics.
    let log = std::fs::read_to_string(dir.path().join("a/tsjt-n1-seed4/train-log.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert!(first["counters"]["cos"].as_f64().is_some(), "{first}");
    // Same seed, same numbers; the report has one summary row per method.
    let again = go("b");
    for (x, y) in rows.iter().zip(&again) {
        assert_eq!(x.test, y.test, "{} differs between identical runs", x.method);
    }
    let summary = write_graph_report(dir.path(), &rows).unwrap();
    assert_eq!(summary.len(), 7);
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("rmse@6"), "{csv}");
    assert_eq!(summarize(&[rows[0].clone(), again[0].clone()])[0].rmse.1, 0.0);
}

#[test]
fn simple_graph_predictors_by_hand() {
    // 3 days of 24 hourly steps on 2 nodes: node 0 = hour of day, node 1 = 10 + day.
    let series = Array3::<f32>::from_shape_fn((72 * 2, 2, 1), |(t, v, _)| if v == 0 { (t % 24) as f32 } else { 10.0 + (t / 24) as f32 });
    let g = SensorGraph::new("hand", 60, series, vec!["speed".into()], Array2::eye(2)).unwrap();
    let p = GraphTransferProtocol { val_days: 0, ..GraphTransferProtocol::default() };
    let t = prepare_target(&g, &p, 2).unwrap();
    let starts = [t.test[0]];
    let per = simple::persistence(&t, &starts, 12, 6).unwrap();
    // The last input step of the window starting at s is s + 11.
    let s = starts[0];
    assert_eq!(per[[0, 3, 0, 0]], ((s + 11) % 24) as f32);
    assert_eq!(per[[0, 5, 1, 0]], 10.0 + ((s + 11) / 24) as f32);
    // Time-of-day mean over the first 2 days: node 0 = its hour, node 1 = mean of 10 and 11.
    let ha = simple::time_of_day_mean(&t, 48, &starts, 12, 6).unwrap();
    assert_eq!(ha[[0, 2, 0, 0]], ((s + 14) % 24) as f32);
    assert_eq!(ha[[0, 2, 1, 0]], 10.5);
}

#[test]
fn graph_runner_errors_are_clear() {
    let s = tiny();
    let plan = GraphPlan { methods: &[GraphMethod::Tsjt], days: &[1], seeds: &[1], settings: &s, device: &Device::flex() };
    let e = run(&[], &city("t", 4, 1), &plan, |_| {}).unwrap_err().to_string();
    assert!(e.contains("at least one source"), "{e}");
    let mut two = city("two-features", 4, 2);
    two.series = ndarray::concatenate(ndarray::Axis(2), &[two.series.view(), two.series.view()]).unwrap();
    two.features.push("copy".into());
    let e = run(&[two], &city("t", 4, 1), &plan, |_| {}).unwrap_err().to_string();
    assert!(e.contains("input features"), "{e}");
    let e = "magic".parse::<GraphMethod>().unwrap_err();
    assert!(e.contains("tsjt-no-npm"), "{e}");
}
