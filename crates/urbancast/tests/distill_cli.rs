//! `urbancast distill` end to end on a tiny synthetic graph (and on the LA loop data when
//! ../shared/data is present), plus clear errors on bad input.
use std::path::{Path, PathBuf};

mod common;
use common::{fails_cleanly, text, urbancast};

const TINY: &str = r#"
[teacher]
node_dim = 4
top_k = 3
conv_channels = 8
residual_channels = 8
skip_channels = 8
end_channels = 16
layers = 2
[student]
embed_dim = 8
node_dim = 4
tod_dim = 4
dow_dim = 4
[teacher_train]
batch = 16
[student_train]
batch = 16
[distill]
adaptive = "error"
"#;

const SMALL: [&str; 8] = ["--synthetic-nodes", "6", "--synthetic-days", "8", "--teacher-epochs", "1", "--student-epochs", "1"];

#[test]
fn distill_run_writes_checkpoints_results_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    let mut args = vec!["distill", "run", "--config", "tiny.toml", "--out", "lst", "--reps", "2"];
    args.extend(SMALL);
    let o = urbancast(&args, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.path().join("lst");
    for f in ["teacher.bpk", "student.bpk", "distilled.bpk", "results.json", "table.md", "series.png", "distilled-log.json"] {
        assert!(out.join(f).is_file(), "missing {f}: {}", text(&o));
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let models: Vec<&str> = json["results"].as_array().unwrap().iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["teacher", "student", "distilled"]);
    for r in json["results"].as_array().unwrap() {
        let h: Vec<u64> = r["test"]["horizons"].as_array().unwrap().iter().map(|h| h[0].as_u64().unwrap()).collect();
        assert_eq!(h, [3, 6, 12]);
        assert!(r["test"]["average"]["mae"].as_f64().unwrap() > 0.0);
        assert!(r["params"].as_u64().unwrap() > 0);
    }
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(table.contains("| distilled |") && table.contains("speed-up"), "{table}");

    // Stage by stage: evaluation alone re-reads the checkpoints and gives the same metrics.
    let mut args = vec!["distill", "eval", "--config", "tiny.toml", "--out", "lst", "--reps", "2"];
    args.extend(SMALL);
    let o = urbancast(&args, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let again: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    for k in 0..3 {
        assert_eq!(json["results"][k]["test"], again["results"][k]["test"]);
    }
}

#[test]
fn distill_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["distill", "train-student", "--out", "empty"];
    args.extend(SMALL);
    fails_cleanly(&urbancast(&args, dir.path()), "train-teacher");
    fails_cleanly(&urbancast(&["distill", "eval", "--out", "empty"], dir.path()), "no checkpoint");
    fails_cleanly(&urbancast(&["distill", "run", "--data", "/no/such/folder"], dir.path()), "/no/such/folder");
    fails_cleanly(&urbancast(&["distill", "run", "--adaptive", "sometimes"], dir.path()), "sometimes");
    fails_cleanly(&urbancast(&["distill", "run", "--teacher", "transformer"], dir.path()), "expected mtgnn or gwn");
    fails_cleanly(&urbancast(&["distill", "run", "--tau", "0"], dir.path()), "tau");
    fails_cleanly(&urbancast(&["distill", "run", "--split", "50/50"], dir.path()), "50/50");
    fails_cleanly(&urbancast(&["distill", "run", "--synthetic-days", "1"], dir.path()), "steps");
    // A PEMS file with a NaN names the file and the index.
    let npz = dir.path().join("PEMS99.npz");
    let mut a = ndarray::Array3::<f64>::from_elem((40, 3, 1), 1.0);
    a[[5, 1, 0]] = f64::NAN;
    let mut w = ndarray_npy::NpzWriter::new(std::fs::File::create(&npz).unwrap());
    w.add_array("data", &a).unwrap();
    w.finish().unwrap();
    std::fs::write(dir.path().join("PEMS99.csv"), "from,to,cost\n0,1,10\n1,2,20\n").unwrap();
    fails_cleanly(&urbancast(&["distill", "run", "--data", "PEMS99.npz"], dir.path()), "PEMS99.npz");
}

#[test]
fn distill_with_a_graph_wavenet_teacher_stage_by_stage() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    let stage = |extra: &[&str]| {
        let mut args = vec!["distill"];
        args.extend(extra);
        args.extend(["--config", "tiny.toml", "--teacher", "gwn", "--out", "g", "--reps", "2"]);
        args.extend(SMALL);
        let o = urbancast(&args, dir.path());
        assert!(o.status.success(), "{extra:?}: {}", text(&o));
    };
    stage(&["train-teacher"]);
    stage(&["train-student", "--no-distill"]);
    stage(&["train-student"]);
    stage(&["eval"]);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("g/results.json")).unwrap()).unwrap();
    let models: Vec<&str> = json["results"].as_array().unwrap().iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["teacher", "student", "distilled"]);
    // meta_gwn at 6 nodes has far more parameters than the tiny MTGNN of TINY
    assert!(json["results"][0]["params"].as_u64().unwrap() > 200_000, "{}", json["results"][0]);
}

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/data not found");
        None
    }
}

#[test]
fn student_on_the_la_loop_data() {
    let Some(root) = shared_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    let data = root.join("sensors/la-loop-speed");
    let data = data.to_str().unwrap();
    let common = ["--config", "tiny.toml", "--out", "la", "--data", data, "--student-epochs", "1", "--reps", "2"];
    let mut args = vec!["distill", "train-student", "--no-distill"];
    args.extend(common);
    let o = urbancast(&args, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let mut args = vec!["distill", "eval"];
    args.extend(common);
    let o = urbancast(&args, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("la/results.json")).unwrap()).unwrap();
    assert_eq!(json["dataset"], "la-loop");
    let mae = json["results"][0]["test"]["average"]["mae"].as_f64().unwrap();
    // Speeds in mph: one epoch of the MLP is far from perfect but far better than nothing.
    assert!(mae > 0.5 && mae < 20.0, "MAE {mae}");
}

#[test]
fn pems_file_trains_with_each_adjacency_kind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    // 3 sensors, 3 features (flow, occupancy, speed), 2 days at 5 minutes.
    let t = 576;
    let a = ndarray::Array3::<f64>::from_shape_fn((t, 3, 3), |(s, n, f)| {
        let day = (s % 288) as f64 / 288.0;
        (100.0 + 50.0 * (std::f64::consts::TAU * day).sin() + 10.0 * n as f64) * [1.0, 0.01, 0.5][f]
    });
    let mut w = ndarray_npy::NpzWriter::new(std::fs::File::create(dir.path().join("PEMS98.npz")).unwrap());
    w.add_array("data", &a).unwrap();
    w.finish().unwrap();
    std::fs::write(dir.path().join("PEMS98.csv"), "from,to,cost\n0,1,400.5\n1,2,812.0\n").unwrap();
    for kind in ["binary", "gaussian:0.05", "distance"] {
        let o = urbancast(
            &[
                "distill",
                "train-student",
                "--no-distill",
                "--data",
                "PEMS98.npz",
                "--adjacency",
                kind,
                "--config",
                "tiny.toml",
                "--student-epochs",
                "1",
                "--out",
                "p",
                "--overwrite",
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{kind}: {}", text(&o));
    }
    assert!(dir.path().join("p/student.bpk").is_file());
    fails_cleanly(
        &urbancast(&["distill", "train-student", "--no-distill", "--data", "PEMS98.npz", "--adjacency", "gaussian:7"], dir.path()),
        "gaussian:7",
    );
}

#[test]
fn bench_distill_prints_both_models() {
    let dir = tempfile::tempdir().unwrap();
    let o =
        urbancast(&["bench", "distill", "--nodes", "5", "--batch", "4", "--warmup", "0", "--iters", "1", "--json", "b.json"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("student speed-up"), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("b.json")).unwrap()).unwrap();
    assert!(json["teacher"]["params"].as_u64().unwrap() > json["student"]["params"].as_u64().unwrap() / 100);
    assert!(json["student"]["inference"]["batch64_ms"].as_f64().unwrap() > 0.0);
    fails_cleanly(&urbancast(&["bench", "distill", "--nodes", "0"], dir.path()), "must be > 0");
}
