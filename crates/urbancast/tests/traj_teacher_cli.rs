//! `urbancast traj teacher` (LM-TAD training) and `urbancast traj anomalies` (LM-TAD's
//! anomaly-detection protocol) end to end on the built-in synthetic city with a tiny model, and
//! clear errors on bad input.
use std::path::Path;

use urbancast_roads::Trajectory;
use urbancast_roads::io::read_hoser_csv;
use urbancast_traj::train::split_indices;

mod common;
use common::{TINY_HOSER_MODEL, fails_cleanly, json, ok, tiny_hoser_toml, urbancast};

/// A tiny teacher (a few seconds on a CPU).
const TINY: [&str; 16] = [
    "--layers",
    "1",
    "--heads",
    "2",
    "--dim",
    "32",
    "--block",
    "128",
    "--epochs",
    "2",
    "--max-batches",
    "5",
    "--cell-deg",
    "0.002",
    "--batch",
    "32",
];

fn ids(p: &Path) -> Vec<String> {
    read_hoser_csv(p).unwrap().iter().map(|t| t.id.clone().unwrap()).collect()
}

/// `traj synth` of `trips` trips into `w/t.csv` and a tiny teacher (seed 3) in `w/<out>`.
fn synth_and_teacher(w: &Path, trips: &str, out: &str) -> String {
    ok(&urbancast(&["traj", "synth", "--trips", trips, "--zones", "8", "--out", "t.csv"], w));
    ok(&urbancast(&[&["traj", "teacher", "--train", "t.csv", "--seed", "3", "--out", out][..], &TINY[..]].concat(), w))
}

#[test]
fn teacher_writes_folder_log_curves_and_splits() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    let t = synth_and_teacher(w, "300", "tm");
    for s in ["vocabulary", "parameters", "s per step", "val loss", "best epoch"] {
        assert!(t.contains(s), "`{s}` missing: {t}");
    }
    let m = w.join("tm");
    for f in ["lmtad.bpk", "config.json", "grid.json", "meta.json", "train-log.json", "training.png", "train.csv", "val.csv", "test.csv"] {
        assert!(m.join(f).is_file(), "{f} missing: {t}");
    }
    // Log: 2 epochs of 5 batches, finite losses.
    let log = json(&m.join("train-log.json"));
    let epochs = log["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    assert_eq!(log["steps"], 10);
    assert_eq!(log["step_losses"].as_array().unwrap().len(), 10);
    for e in epochs {
        assert!(e["val_loss"].as_f64().is_some_and(f64::is_finite), "{e}");
        assert!(e["train_loss"].as_f64().is_some_and(f64::is_finite), "{e}");
    }
    // Meta and config.
    let meta = json(&m.join("meta.json"));
    assert_eq!(meta["network"]["name"], "synthetic-city");
    let tr = &meta["training"];
    assert_eq!(tr["split"], serde_json::json!({"train": 240, "val": 30, "test": 30}));
    assert_eq!(tr["seed"], 3);
    assert_eq!(tr["model_config"]["n_layer"], 1);
    assert_eq!(tr["train_config"]["max_batches_per_epoch"], 5);
    assert_eq!(tr["best_val_loss"], log["best_val_loss"]);
    let cfg = json(&m.join("config.json"));
    let grid = json(&m.join("grid.json"));
    assert_eq!((cfg["n_embd"].as_u64(), cfg["n_head"].as_u64(), cfg["block_size"].as_u64()), (Some(32), Some(2), Some(128)));
    let cells = grid["cols"].as_u64().unwrap() * grid["rows"].as_u64().unwrap();
    assert_eq!(cfg["vocab_size"].as_u64(), Some(cells + 3));
    assert_eq!(tr["vocab_size"], cfg["vocab_size"]);
    assert_eq!(grid["cell_deg"], 0.002);

    // The split is `split_indices` of the input, as in `traj train`.
    let input: Vec<Trajectory> = read_hoser_csv(w.join("t.csv")).unwrap();
    let (tr_ix, va_ix, te_ix) = split_indices(input.len(), 0.1, 0.1, 3).unwrap();
    for (f, ix) in [("train.csv", tr_ix), ("val.csv", va_ix), ("test.csv", te_ix)] {
        let want: Vec<String> = ix.iter().map(|&i| input[i].id.clone().unwrap()).collect();
        assert_eq!(ids(&m.join(f)), want, "{f}");
    }
    // ... and byte for byte the split `traj train` writes for the same seed.
    std::fs::write(w.join("hoser.toml"), TINY_HOSER_MODEL).unwrap();
    let gen_args = ["traj", "train", "--train", "t.csv", "--zones", "8", "--epochs", "1", "--max-batches", "1", "--seed", "3"];
    ok(&urbancast(&[&gen_args[..], &["--config", "hoser.toml", "--out", "gm"]].concat(), w));
    for f in ["train.csv", "val.csv", "test.csv"] {
        assert_eq!(std::fs::read(m.join(f)).unwrap(), std::fs::read(w.join("gm").join(f)).unwrap(), "{f} differs from traj train's");
    }

    // Same seed, same log (except timings).
    ok(&urbancast(&[&["traj", "teacher", "--train", "t.csv", "--seed", "3", "--out", "tm2"][..], &TINY[..]].concat(), w));
    let strip = |mut v: serde_json::Value| {
        v["seconds"] = 0.into();
        for e in v["epochs"].as_array_mut().unwrap() {
            e["seconds"] = 0.into();
        }
        v
    };
    assert_eq!(strip(log), strip(json(&w.join("tm2/train-log.json"))));
}

#[test]
fn anomalies_report_every_kind_and_setting() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    synth_and_teacher(w, "300", "tm");
    let t = ok(&urbancast(&["traj", "anomalies", "--teacher", "tm", "--ratio", "0.5", "--seed", "1", "--out", "an"], w));
    let an = w.join("an");
    for f in ["results.json", "table.md", "scores.csv", "scores.png"] {
        assert!(an.join(f).is_file(), "{f} missing: {t}");
    }
    // One row per (kind, setting): 2 kinds × LM-TAD's 3 settings.
    let table = std::fs::read_to_string(an.join("table.md")).unwrap();
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| detour") || l.starts_with("| route-switch")).collect();
    assert_eq!(rows.len(), 6, "{table}");
    for (kind, setting) in [("detour", "| 3 | 0.1 |"), ("detour", "| 5 | 0.1 |"), ("route-switch", "| 3 | 0.3 |")] {
        assert!(rows.iter().any(|r| r.starts_with(&format!("| {kind} ")) && r.contains(setting)), "{kind} {setting}: {table}");
    }
    assert!(t.contains("| kind | level | prob |"), "table printed: {t}");
    let res = json(&an.join("results.json"));
    let rows = res["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let unit = |v: &serde_json::Value| v.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x));
    let mut scored = 0;
    for r in rows {
        assert_eq!(r["n"].as_u64().unwrap(), 30 + r["outliers"].as_u64().unwrap(), "originals kept: {r}");
        assert_eq!(r["summary"]["input"], 30);
        if r["outliers"].as_u64().unwrap() > 0 {
            let p = &r["report"];
            assert!(unit(&p["at_threshold"]["f1"]) && unit(&p["at_threshold"]["precision"]) && unit(&p["at_threshold"]["recall"]), "{r}");
            assert!(unit(&p["pr_auc"]) && unit(&p["roc_auc"]), "{r}");
            scored += 1;
        }
    }
    assert!(scored >= 3, "most settings should yield outliers: {res}");
    // Threshold = mean + 3σ of the calibration scores.
    let (thr, mean, std) =
        (res["threshold"].as_f64().unwrap(), res["calibration"]["mean"].as_f64().unwrap(), res["calibration"]["std"].as_f64().unwrap());
    assert!(thr.is_finite() && thr > mean && std > 0.0, "{res}");
    assert!((thr - (mean + 3.0 * std)).abs() < 1e-9 * thr.abs().max(1.0), "{res}");
    assert_eq!(res["calibration"]["n"], 30);
    // scores.csv: one line per scored trajectory of every row.
    let total: u64 = rows.iter().map(|r| r["n"].as_u64().unwrap()).sum();
    let csv = std::fs::read_to_string(an.join("scores.csv")).unwrap();
    assert_eq!(csv.lines().count() as u64, 1 + total);
    assert!(csv.lines().skip(1).all(|l| l.split(',').count() == 8), "{csv}");

    // --score: one row per input trajectory; the calibration set rescored gives the threshold back.
    let o = ok(&urbancast(&["traj", "anomalies", "--teacher", "tm", "--score", "tm/val.csv", "--out", "sc"], w));
    let csv = std::fs::read_to_string(w.join("sc/scores.csv")).unwrap();
    let scores: Vec<f64> = csv.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().parse().unwrap()).collect();
    assert_eq!(scores.len(), 30, "{o}");
    let n = scores.len() as f64;
    let m = scores.iter().sum::<f64>() / n;
    let s = (scores.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
    assert!((m + 3.0 * s - thr).abs() < 1e-6 * thr.abs().max(1.0), "recomputed {} vs {thr}", m + 3.0 * s);
    assert_eq!(json(&w.join("sc/summary.json"))["n"], 30);

    // One kind, one custom setting, another normal file.
    ok(&urbancast(
        &["traj", "anomalies", "--teacher", "tm", "--kinds", "detour", "--settings", "4:0.2", "--normal", "tm/train.csv", "--out", "one"],
        w,
    ));
    let res = json(&w.join("one/results.json"));
    assert_eq!(res["rows"].as_array().unwrap().len(), 1);
    assert_eq!((res["rows"][0]["kind"].as_str(), res["rows"][0]["level"].as_u64()), (Some("detour"), Some(4)));
    assert_eq!(res["normal"]["n"], 240);
}

#[test]
fn bad_input_fails_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    let teacher =
        |f: &str, extra: &[&str]| urbancast(&[&["traj", "teacher", "--train", f, "--epochs", "1", "--out", "m"][..], extra].concat(), w);
    fails_cleanly(&teacher("missing.csv", &[]), &["missing.csv", "no such"]);
    std::fs::write(w.join("empty.csv"), "").unwrap();
    fails_cleanly(&teacher("empty.csv", &[]), &["empty.csv"]);
    std::fs::write(w.join("header.csv"), "mm_id,user_id,traj_id,rid_list,time_list\n").unwrap();
    fails_cleanly(&teacher("header.csv", &[]), &["header.csv", "no trajectories"]);
    assert!(!w.join("m").exists(), "nothing written on bad input");

    ok(&urbancast(&["traj", "synth", "--trips", "120", "--zones", "8", "--out", "t.csv"], w));
    fails_cleanly(&teacher("t.csv", &["--heads", "3", "--dim", "32"]), &["model.n_head must divide n_embd = 32 (got 3)"]);
    fails_cleanly(&teacher("t.csv", &["--cell-deg", "0"]), &["cell"]);
    std::fs::write(w.join("vocab.toml"), "[model]\nvocab_size = 50\n").unwrap();
    fails_cleanly(&teacher("t.csv", &["--config", "vocab.toml"]), &["vocab.toml", "vocab_size"]);
    std::fs::write(w.join("bad.toml"), "[train]\nepoch = 3\n").unwrap();
    fails_cleanly(&teacher("t.csv", &["--config", "bad.toml"]), &["bad.toml"]);
    fails_cleanly(&teacher("t.csv", &["--val-frac", "0"]), &["validation"]);
    assert!(!w.join("m").exists(), "nothing written on bad input");

    // A real (tiny) teacher for the `anomalies` errors.
    ok(&urbancast(&[&["traj", "teacher", "--train", "t.csv", "--out", "tm"][..], &TINY[..]].concat(), w));
    let anomalies = |extra: &[&str]| urbancast(&[&["traj", "anomalies", "--out", "an"][..], extra].concat(), w);
    fails_cleanly(&anomalies(&["--teacher", "nowhere"]), &["nowhere", "no such teacher folder"]);
    fails_cleanly(&anomalies(&["--teacher", "."]), &["meta.json", "not a teacher folder"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--network-seed", "8"]), &["tm", "the teacher was trained on network", "synthetic-city"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--k", "-1"]), &["--k -1", "k must be"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--settings", "3x"]), &["3x", "LEVEL:PROB"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--settings", "3:1.5"]), &["3:1.5", "LEVEL:PROB"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--kinds", "teleport"]), &["teleport"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--ratio", "0"]), &["--ratio"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--normal", "empty.csv"]), &["empty.csv"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--normal", "missing.csv"]), &["missing.csv", "no such"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--calibrate", "header.csv"]), &["header.csv", "no trajectories"]);
    fails_cleanly(&anomalies(&["--teacher", "tm", "--score", "empty.csv"]), &["empty.csv"]);
    assert!(!w.join("an").exists(), "nothing written on bad input");
}

#[test]
fn distill_trains_the_generator_with_the_teacher() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    synth_and_teacher(w, "300", "tm");
    std::fs::write(w.join("tiny.toml"), tiny_hoser_toml()).unwrap();
    let base = ["--train", "t.csv", "--config", "tiny.toml", "--epochs", "2", "--max-batches", "3", "--seed", "3"];
    // `--student-config` (the name) is `--config`.
    let student: Vec<&str> = base.iter().map(|&a| if a == "--config" { "--student-config" } else { a }).collect();
    let t = ok(&urbancast(
        &[&["traj", "distill", "--teacher", "tm", "--kd-lambda", "0.5", "--kd-tau", "2", "--out", "dm"][..], &student[..]].concat(),
        w,
    ));
    assert!(t.contains("distinct windows") && t.contains("every position") && t.contains("τ²·KL"), "{t}");
    let meta = json(&w.join("dm/meta.json"));
    let kd = &meta["training"]["distillation"];
    assert_eq!(kd["config"]["lambda"], 0.5, "{meta}");
    assert_eq!(kd["config"]["window"], 4, "Porto preset window: {meta}");
    assert_eq!(meta["training"]["model_config"]["road_id_dim"], 8, "the student config was read: {meta}");
    assert!(kd["targets"]["steps"].as_u64().unwrap() > kd["targets"]["windows"].as_u64().unwrap());
    let log = json(&w.join("dm/train-log.json"));
    for e in log["epochs"].as_array().unwrap() {
        assert!(e["train_kd"].as_f64().is_some_and(|x| x.is_finite() && x >= 0.0), "{e}");
    }
    // The fork's variant: last step only, no τ²; the Beijing preset's window.
    let t = ok(&urbancast(
        &[
            &["traj", "train", "--teacher", "tm", "--kd-preset", "beijing", "--kd-last-only", "--kd-no-tau-sq", "--out", "dl"][..],
            &base[..],
        ]
        .concat(),
        w,
    ));
    assert!(t.contains("last step only") && t.contains("without τ²"), "{t}");
    let kd = &json(&w.join("dl/meta.json"))["training"]["distillation"];
    assert_eq!((kd["config"]["window"].as_u64(), kd["config"]["lambda"].as_f64()), (Some(7), Some(0.0014)));
    // Without a teacher there is no distillation, and asking for it is an error.
    let vanilla = json(&{
        ok(&urbancast(&[&["traj", "train", "--out", "vm"][..], &base[..]].concat(), w));
        w.join("vm/meta.json")
    });
    assert!(vanilla["training"]["distillation"].is_null());
    fails_cleanly(&urbancast(&[&["traj", "distill", "--out", "x"][..], &base[..]].concat(), w), &["--teacher"]);
    fails_cleanly(&urbancast(&[&["traj", "train", "--kd-lambda", "0.1", "--out", "x"][..], &base[..]].concat(), w), &["without --teacher"]);
    fails_cleanly(&urbancast(&[&["traj", "distill", "--teacher", "nope", "--out", "x"][..], &base[..]].concat(), w), &["nope"]);
    fails_cleanly(
        &urbancast(&[&["traj", "distill", "--teacher", "tm", "--kd-tau", "0", "--out", "x"][..], &base[..]].concat(), w),
        &["kd.tau"],
    );
    // A teacher of another network.
    ok(&urbancast(&["traj", "synth", "--network-seed", "8", "--trips", "200", "--zones", "8", "--out", "o.csv"], w));
    ok(&urbancast(&[&["traj", "teacher", "--network-seed", "8", "--train", "o.csv", "--out", "to"][..], &TINY[..]].concat(), w));
    fails_cleanly(&urbancast(&[&["traj", "distill", "--teacher", "to", "--out", "x"][..], &base[..]].concat(), w), &["to"]);
}

#[test]
fn bench_traj_kd_times_vanilla_and_distilled_steps() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    let args = ["bench", "traj-kd", "--trips", "200", "--batch", "16", "--steps", "2", "--repeats", "2", "--json", "k.json"];
    let t = ok(&urbancast(&args, w));
    assert!(t.contains("ms/step") && t.contains("step overhead") && t.contains("teacher targets"), "{t}");
    let v = json(&w.join("k.json"));
    assert_eq!(v["vanilla_s_per_step"].as_array().unwrap().len(), 2);
    assert_eq!(v["distilled_s_per_step"].as_array().unwrap().len(), 2);
    assert!(v["step_ratio"].as_f64().unwrap() > 0.0);
    // every position of every training sample is distilled: steps = Σ (len − 1) > samples
    let (steps, samples) = (v["targets"]["steps"].as_u64().unwrap(), v["training_samples"].as_u64().unwrap());
    assert!(steps > samples && v["targets"]["windows"].as_u64().unwrap() > 0, "{v}");
    // more steps than batches: a clear error, no panic
    fails_cleanly(&urbancast(&["bench", "traj-kd", "--trips", "40", "--batch", "16", "--steps", "50"], w), &["batches of 16", "--steps"]);
}
