//! `urbancast traj train` end to end on the built-in synthetic city with a tiny model, and
//! clear errors on bad input.
use urbancast_roads::Trajectory;
use urbancast_roads::io::{read_hoser_csv, write_hoser_csv};

mod common;
use common::{fails_cleanly, json, ok, tiny_hoser_toml, urbancast};

#[test]
fn train_writes_bundle_log_curves_and_splits() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    ok(&urbancast(&["traj", "synth", "--trips", "300", "--zones", "8", "--out", "t.csv"], w));
    std::fs::write(w.join("tiny.toml"), tiny_hoser_toml()).unwrap();
    let args = ["traj", "train", "--train", "t.csv", "--zones", "16", "--epochs", "2", "--max-batches", "3", "--config", "tiny.toml"];
    let t = ok(&urbancast(&[&args[..], &["--out", "m"]].concat(), w));
    assert!(t.contains("best epoch") && t.contains("val acc"), "{t}");
    let m = w.join("m");
    for f in ["model.bpk", "context.json", "meta.json", "train-log.json", "training.png", "train.csv", "val.csv", "test.csv"] {
        assert!(m.join(f).is_file(), "{f} missing: {t}");
    }
    // The splits partition the input trajectories.
    let input = read_hoser_csv(w.join("t.csv")).unwrap();
    let parts: Vec<Vec<Trajectory>> = ["train.csv", "val.csv", "test.csv"].iter().map(|f| read_hoser_csv(m.join(f)).unwrap()).collect();
    assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), vec![240, 30, 30]);
    let mut ids: Vec<String> = parts.iter().flatten().map(|t| t.id.clone().unwrap()).collect();
    ids.sort();
    let mut want: Vec<String> = input.iter().map(|t| t.id.clone().unwrap()).collect();
    want.sort();
    assert_eq!(ids, want);
    // Log and meta.
    let log = json(&m.join("train-log.json"));
    assert_eq!(log["epochs"].as_array().unwrap().len(), 2);
    assert_eq!(log["steps"], 6);
    let meta = json(&m.join("meta.json"));
    assert_eq!(meta["network"]["name"], "synthetic-city");
    let tr = &meta["training"];
    assert_eq!((tr["zones"].as_u64(), tr["train_config"]["epochs"].as_u64()), (Some(16), Some(2)));
    assert_eq!(tr["train_config"]["max_batches_per_epoch"], 3);
    assert_eq!(tr["model_config"]["road_id_dim"], 8);
    assert_eq!(tr["best_val_acc"], log["best_val_acc"]);
    assert!(tr["test"]["acc"].as_f64().is_some_and(|a| a > 0.0), "{tr}");
    assert_eq!(tr["train_files"][0], "t.csv");

    // Same seed, same log (except timings).
    ok(&urbancast(&[&args[..], &["--out", "m2"]].concat(), w));
    let strip = |mut v: serde_json::Value| {
        v["seconds"] = 0.into();
        for e in v["epochs"].as_array_mut().unwrap() {
            e["seconds"] = 0.into();
            e["train_seconds"] = 0.into();
        }
        v
    };
    assert_eq!(strip(log), strip(json(&w.join("m2/train-log.json"))));
}

#[test]
fn bad_input_fails_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    let train = |f: &str| urbancast(&["traj", "train", "--train", f, "--epochs", "1", "--out", "m"], w);
    fails_cleanly(&train("missing.csv"), &["missing.csv", "no such"]);
    std::fs::write(w.join("empty.csv"), "").unwrap();
    fails_cleanly(&train("empty.csv"), &["empty.csv"]);
    std::fs::write(w.join("header.csv"), "mm_id,user_id,traj_id,rid_list,time_list\n").unwrap();
    fails_cleanly(&train("header.csv"), &["header.csv", "no trajectories"]);
    let bogus = Trajectory::new(Some("bogus-7".into()), None, vec![u64::MAX - 1, u64::MAX], vec![0, 10]).unwrap();
    write_hoser_csv(w.join("other.csv"), &[bogus]).unwrap();
    fails_cleanly(&train("other.csv"), &["other.csv", "bogus-7", "not in network", "another network"]);
    std::fs::write(w.join("bad.toml"), "[train]\nepoch = 3\n").unwrap();
    let o = urbancast(&["traj", "train", "--train", "other.csv", "--config", "bad.toml", "--out", "m"], w);
    fails_cleanly(&o, &["bad.toml"]);
    assert!(!w.join("m").exists(), "nothing written on bad input");
}
