//! Killed with `kill -9` mid-training and resumed with `--resume`, a run ends with exactly the
//! metrics of an uninterrupted run with the same seed: the ST-net (`transfer`) and the route
//! generator (`traj train`). Also: run folders are safe (a different run is refused, `--out`
//! may not be an input, settings are checked before anything is written).
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{fails_cleanly, json, ok, tiny_hoser_toml, urbancast};

const TRANSFER: &str = r#"
sources = ["synthetic:metro?days=16"]
target = "synthetic:suburb?days=10"
methods = ["fine-tune"]
days = [1]
seeds = [1]

[settings]
conv_channels = 8
res_units = 1
hidden = 16
[settings.protocol]
test_days = 2
val_days = 2
[settings.pretrain]
max_epochs = 10
patience = 20
batch = 16
[settings.target_train]
max_epochs = 3
batch = 16
"#;

/// Lines of `path` (0 when absent).
fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0)
}

/// Starts `urbancast ARGS` in `cwd`, waits until `log` has `at_least` lines, kills it with
/// SIGKILL and asserts it had not finished.
fn kill_during(args: &[&str], cwd: &Path, log: &Path, at_least: usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_urbancast"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start urbancast");
    let start = Instant::now();
    while lines(log) < at_least {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        assert!(start.elapsed() < Duration::from_secs(600), "no progress in {}", log.display());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
    child.kill().expect("kill -9");
    child.wait().unwrap();
}

fn scores(v: &serde_json::Value) -> Vec<(f64, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["scores"]["mean"]["rmse"].as_f64().unwrap(), r["scores"]["mean"]["mae"].as_f64().unwrap()))
        .collect()
}

#[test]
fn transfer_killed_and_resumed_matches_an_uninterrupted_run() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    std::fs::write(w.join("t.toml"), TRANSFER).unwrap();
    ok(&urbancast(&["transfer", "--config", "t.toml", "--out", "full"], w));
    let full_log = w.join("full/train/pretrain-seed1-pickup/train-log.jsonl");
    assert_eq!(lines(&full_log), 10, "one line per pre-training epoch");

    let args = ["transfer", "--config", "t.toml", "--out", "cut"];
    kill_during(&args, w, &w.join("cut/train/pretrain-seed1-pickup/train-log.jsonl"), 3);
    // Without --resume the half-done folder is the same run: allowed, but it starts over;
    // with --resume it continues.
    ok(&urbancast(&[&args[..], &["--resume"]].concat(), w));
    assert_eq!(scores(&json(&w.join("full/results.json"))), scores(&json(&w.join("cut/results.json"))));
    assert_eq!(lines(&w.join("cut/train/pretrain-seed1-pickup/train-log.jsonl")), 10);
    let val = |p: &Path| -> Vec<f64> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["val_score"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(val(&full_log), val(&w.join("cut/train/pretrain-seed1-pickup/train-log.jsonl")));

    // A different run into the same folder is refused, and nothing in it changes.
    let before = std::fs::read(w.join("full/results.json")).unwrap();
    fails_cleanly(&urbancast(&["transfer", "--config", "t.toml", "--out", "full", "--seeds", "2"], w), &["full", "--overwrite"]);
    assert_eq!(before, std::fs::read(w.join("full/results.json")).unwrap());
    // --out may not be one of the inputs.
    fails_cleanly(&urbancast(&["transfer", "--config", "t.toml", "--out", "t.toml"], w), "input");
}

#[test]
fn traj_train_killed_and_resumed_matches_an_uninterrupted_run() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    ok(&urbancast(&["traj", "synth", "--trips", "400", "--zones", "8", "--out", "t.csv"], w));
    std::fs::write(w.join("tiny.toml"), tiny_hoser_toml()).unwrap();
    let base = ["traj", "train", "--train", "t.csv", "--zones", "16", "--epochs", "8", "--max-batches", "6", "--config", "tiny.toml"];
    ok(&urbancast(&[&base[..], &["--out", "full"]].concat(), w));
    let cut = [&base[..], &["--out", "cut"]].concat();
    kill_during(&cut, w, &w.join("cut/train/train-log.jsonl"), 2);
    ok(&urbancast(&[&cut[..], &["--resume"]].concat(), w));
    let strip = |mut v: serde_json::Value| {
        v["seconds"] = 0.into();
        for e in v["epochs"].as_array_mut().unwrap() {
            e["seconds"] = 0.into();
            e["train_seconds"] = 0.into();
        }
        v
    };
    let (a, b) = (json(&w.join("full/train-log.json")), json(&w.join("cut/train-log.json")));
    assert_eq!(a["epochs"].as_array().unwrap().len(), 8);
    assert_eq!(strip(a), strip(b));
    let (ma, mb) = (json(&w.join("full/meta.json")), json(&w.join("cut/meta.json")));
    assert_eq!(ma["training"]["test"], mb["training"]["test"], "same test metrics");
}
