//! The command-line program end to end: transfer with a TOML config, predict from its
//! checkpoint, inspect, and clear errors (never a panic) on bad input.
use std::path::Path;

mod common;
use common::{fails_cleanly, text, urbancast};

const TINY: &str = r#"
sources = ["synthetic:metro?days=8"]
target = "synthetic:suburb?days=8"
methods = ["fine-tune", "zero-shot", "ha"]
days = [1]
seeds = [1]
out = "run"

[settings]
conv_channels = 8
res_units = 1
hidden = 16
[settings.protocol]
test_days = 2
val_days = 2
[settings.pretrain]
max_epochs = 1
batch = 16
[settings.target_train]
max_epochs = 1
batch = 16
"#;

#[test]
fn transfer_then_predict_from_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    let o = urbancast(&["transfer", "--config", "tiny.toml"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for m in ["fine-tune", "zero-shot", "ha", "RMSE", "MAE"] {
        assert!(stdout.contains(m), "table lacks {m}: {stdout}");
    }
    let run = dir.path().join("run");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    let csv = std::fs::read_to_string(run.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let png = run.join("error-map-suburb-fine-tune-n1.png");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");

    let ck = run.join("checkpoints").join("fine-tune-n1-seed1");
    let o = urbancast(
        &[
            "predict",
            "--checkpoint",
            ck.to_str().unwrap(),
            "--city",
            "synthetic:suburb?days=8",
            "--from",
            "100",
            "--to",
            "110",
            "--out",
            "pred.npy",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let pred: ndarray::Array3<f32> = ndarray_npy::read_npy(dir.path().join("pred.npy")).unwrap();
    assert_eq!(pred.dim(), (10, 120, 2));
    assert!(pred.iter().all(|v| v.is_finite() && *v >= 0.0));

    let o = urbancast(
        &["predict", "--checkpoint", ck.to_str().unwrap(), "--city", "synthetic:suburb?days=8", "--from", "2", "--out", "p.npy"],
        dir.path(),
    );
    fails_cleanly(&o, "earlier steps");

    // training curves from the run's logs
    let o = urbancast(
        &["curves", "--log", "pre=run/train/pretrain-seed1-pickup", "--log", "run/train/fine-tune-n1-seed1-pickup", "--out", "curves.png"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("pre: 1 epochs"), "{}", text(&o));
    assert_eq!(&std::fs::read(dir.path().join("curves.png")).unwrap()[1..4], b"PNG");
    fails_cleanly(&urbancast(&["curves", "--log", "run/train/none", "--out", "c.png"], dir.path()), "run/train/none");
    assert!(!dir.path().join("c.png").exists());
}

#[test]
fn inspect_describes_a_city() {
    let dir = tempfile::tempdir().unwrap();
    let o = urbancast(&["inspect", "synthetic:coastal?days=2", "--write-crosstres", "ct"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("grid 11x13") && t.contains("48 x 60 min"), "{t}");
    let o = urbancast(&["inspect", "crosstres:ct:coastal:Taxi"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fails_cleanly(&urbancast(&["transfer", "--target", "metast:/no/such/boston.npz"], p), "/no/such/boston.npz");
    fails_cleanly(&urbancast(&["transfer", "--target", "synthetic:suburb", "--method", "magic"], p), "target-only");
    fails_cleanly(&urbancast(&["transfer", "--source", "synthetic:metro"], p), "--target");
    fails_cleanly(&urbancast(&["transfer", "--target", "nope:x"], p), "unknown reader");
    fails_cleanly(
        &urbancast(&["transfer", "--target", "synthetic:suburb?days=8", "--channels", "bikes", "--out", "ch"], p),
        "`bikes` is not a channel",
    );
    fails_cleanly(
        &urbancast(&["transfer", "--target", "synthetic:suburb?days=8", "--output", "tanh", "--out", "o"], p),
        "linear or sigmoid",
    );
    fails_cleanly(
        &urbancast(&["transfer", "--target", "synthetic:suburb?days=8", "--method", "tsjt", "--tsjt-rule", "local", "--out", "t"], p),
        "global, per-tensor or elementwise",
    );
    fails_cleanly(
        &urbancast(&["transfer", "--target", "synthetic:suburb?days=8", "--method", "tsjt", "--tsjt-gamma-target", "0", "--out", "t"], p),
        "tsjt.skew.gamma_target",
    );
    std::fs::write(p.join("bad.toml"), "targett = 1").unwrap();
    fails_cleanly(&urbancast(&["transfer", "--config", "bad.toml"], p), "bad.toml");
    let mut nan = ndarray::Array4::<f64>::ones((10, 2, 2, 2));
    nan[[4, 1, 0, 1]] = f64::NAN;
    ndarray_npy::write_npy(p.join("nan.npy"), &nan).unwrap();
    fails_cleanly(&urbancast(&["inspect", "npy:nan.npy?axes=THWC"], p), "step 4");
    fails_cleanly(&urbancast(&["predict", "--checkpoint", "nowhere", "--city", "synthetic:metro", "--out", "x.npy"], p), "meta.json");
}

#[test]
fn config_typos_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("typo.toml"), "target = \"synthetic:suburb\"\n[settings.pretrain]\nmax_epoch = 3\n").unwrap();
    fails_cleanly(&urbancast(&["transfer", "--config", "typo.toml"], dir.path()), "max_epoch");
}

const TINY_STBAT: &str = r#"
sources = ["synthetic:metro?days=8", "synthetic:coastal?days=8"]
target = "synthetic:suburb?days=8"
methods = ["stbat", "stbat-no-wloss"]
days = [1, 0]
seeds = [1]
out = "run"

[settings]
conv_channels = 8
res_units = 1
hidden = 8
[settings.protocol]
test_days = 2
val_days = 2
[settings.pretrain]
max_epochs = 2
batch = 16
[settings.target_train]
max_epochs = 1
batch = 16
[settings.stbat]
riam_warmup = 10
riam_steps = 5
head_hidden = 16
proj_dim = 16
"#;

#[test]
fn stbat_runs_from_the_command_line_and_draws_its_weights() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stbat.toml"), TINY_STBAT).unwrap();
    let o = urbancast(&["transfer", "--config", "stbat.toml", "--alternate-every", "3", "--bandwidth", "1.2"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("stbat-no-wloss"), "{stdout}");
    let run = dir.path().join("run");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 4, "2 variants x N in {{1, 0}}");
    let settings: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["stbat"]["alternate_every"], 3);
    assert_eq!(settings["stbat"]["bandwidth"], 1.2);
    for m in ["stbat", "stbat-no-wloss"] {
        let png = std::fs::read(run.join(format!("stbat-balance-{m}-metro-seed1.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let b: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join(format!("stbat-balance-{m}-seed1.json"))).unwrap()).unwrap();
        let w: Vec<f64> = b["balance"][0]["weight"].as_array().unwrap().iter().filter_map(|v| v.as_f64()).collect();
        assert!(!w.is_empty() && (w.iter().sum::<f64>() / w.len() as f64 - 1.0).abs() < 1e-6);
    }
    // one model per channel (the default), each in its own checkpoint folder
    for ch in ["pickup", "dropoff"] {
        assert!(run.join("checkpoints").join("stbat-n0-seed1").join(ch).join("model.bpk").exists(), "{ch}");
    }
    fails_cleanly(&urbancast(&["transfer", "--config", "stbat.toml", "--bandwidth", "0"], dir.path()), "bandwidth");
    fails_cleanly(&urbancast(&["transfer", "--config", "stbat.toml", "--method", "stbat-no-magic"], dir.path()), "stbat-no-wloss");
}

/// STBaT on other readers' cities: the CrossTReS layout (with POI) and, when the shared data
/// is present, the NYC 69-zone graph (no POI).
#[test]
fn stbat_reads_crosstres_poi_and_zone_graphs() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for c in ["metro", "coastal", "suburb"] {
        let o = urbancast(&["inspect", &format!("synthetic:{c}?days=8"), "--write-crosstres", "ct"], p);
        assert!(o.status.success(), "{}", text(&o));
    }
    let settings = TINY_STBAT.split("[settings]").nth(1).unwrap().replace("max_epochs = 2", "max_epochs = 1");
    let toml = format!(
        "sources = [\"crosstres:ct:metro:Taxi\", \"crosstres:ct:coastal:Taxi\"]\ntarget = \"crosstres:ct:suburb:Taxi\"\nmethods = [\"stbat\"]\ndays = [1]\nout = \"ct-run\"\n[settings]{settings}"
    );
    std::fs::write(p.join("ct.toml"), toml).unwrap();
    let o = urbancast(&["transfer", "--config", "ct.toml", "--no-checkpoints"], p);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("has no POI"), "CrossTReS cities carry POI: {}", text(&o));

    let zones = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/zones/nyc-manhattan-69");
    if !zones.exists() {
        eprintln!("skipping the zone-graph part: {} is absent", zones.display());
        return;
    }
    let z = zones.to_str().unwrap();
    let toml = format!(
        "sources = [\"nyc69:{z}:taxi\"]\ntarget = \"nyc69:{z}:bike\"\nmethods = [\"stbat\"]\ndays = [0]\nout = \"zone-run\"\n[settings]{settings}"
    );
    std::fs::write(p.join("zones.toml"), toml).unwrap();
    let o = urbancast(&["transfer", "--config", "zones.toml", "--no-checkpoints"], p);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("has no POI") && t.contains("stbat"), "{t}");
    assert!(p.join("zone-run").join("stbat-balance-stbat-nyc69-taxi-seed1.png").exists());
}

#[test]
fn tsjt_runs_from_the_command_line_and_records_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = TINY_STBAT
        .replace("methods = [\"stbat\", \"stbat-no-wloss\"]", "methods = [\"tsjt\"]")
        .replace("[settings.stbat]", "[settings.tsjt.train]\nmax_epochs = 1\nbatch = 16\n[settings.stbat]");
    std::fs::write(dir.path().join("tsjt.toml"), cfg).unwrap();
    let o = urbancast(&["transfer", "--config", "tsjt.toml", "--tsjt-rule", "elementwise", "--tsjt-gamma-source", "0.01"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let run = dir.path().join("run");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "TSJT needs target days: N = 0 is skipped");
    assert_eq!(rows[0]["method"], "tsjt");
    let settings: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["tsjt"]["skew"]["rule"], "elementwise");
    assert!((settings["tsjt"]["skew"]["gamma_source"].as_f64().unwrap() - 0.01).abs() < 1e-9);
    assert!(run.join("train/tsjt-n1-seed1-pickup/train-log.jsonl").is_file());
}

const TINY_GRAPH: &str = r#"
sources = ["synthetic:a?nodes=6&days=6&interval=60&seed=1", "synthetic:b?nodes=8&days=6&interval=60&seed=2"]
target = "synthetic:t?nodes=5&days=6&interval=60&seed=3"
methods = ["persistence", "target-only", "tsjt"]
days = [1]
seeds = [1]
out = "g"

[settings.net]
residual_channels = 4
dilation_channels = 4
skip_channels = 8
end_channels = 8
blocks = 2
prompt_dim = 8
bank_size = 3
[settings.target_train]
max_epochs = 1
batch = 8
[settings.tsjt.train]
max_epochs = 1
batch = 8
min_steps = 0
"#;

#[test]
fn transfer_graph_runs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.toml"), TINY_GRAPH).unwrap();
    let o = urbancast(&["transfer-graph", "--config", "g.toml", "--tsjt-rule", "per-tensor"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("RMSE@6") && stdout.contains("tsjt"), "{stdout}");
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("g/results.json")).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["rule"], "per-tensor");
    assert_eq!(rows[2]["test"]["horizons"].as_array().unwrap().len(), 6);
    assert!(dir.path().join("g/summary.csv").is_file() && dir.path().join("g/train/tsjt-n1-seed1/train-log.jsonl").is_file());
    let p = dir.path();
    fails_cleanly(&urbancast(&["transfer-graph", "--config", "g.toml", "--method", "magic", "--out", "x"], p), "tsjt-no-npm");
    fails_cleanly(&urbancast(&["transfer-graph", "--target", "no/such/graph", "--out", "y"], p), "no such file or folder");
    fails_cleanly(&urbancast(&["transfer-graph", "--config", "g.toml", "--days", "9", "--out", "z"], p), "test block");
}

#[test]
fn bench_transfer_graph_times_fine_tune_and_tsjt_in_their_own_processes() {
    let dir = tempfile::tempdir().unwrap();
    let src = "synthetic:a?nodes=6&days=4&interval=60";
    let tgt = "synthetic:b?nodes=5&days=6&interval=60";
    let args = ["bench", "transfer-graph", "--source", src, "--target", tgt, "--method", "fine-tune,tsjt", "--json", "cost.json"];
    let o = urbancast(&args, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("tsjt / fine-tune:"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("cost.json")).unwrap()).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["phase"], "pretrain-seed1");
    assert_eq!(rows[1]["phase"], "tsjt-n3-seed1");
    for r in rows {
        assert_eq!(r["epochs"], 1);
        assert!(r["steps_per_epoch"].as_f64().unwrap() >= 1.0, "{r}");
        assert!(r["seconds_per_step"].as_f64().unwrap() > 0.0, "{r}");
    }
    fails_cleanly(
        &urbancast(&["bench", "transfer-graph", "--source", src, "--target", tgt, "--method", "ha"], dir.path()),
        "train on the sources",
    );
}
