//! Settings out of range fail before any work: exit code ≠ 0, no panic, a message naming the
//! key, and nothing written where the output would go.
use std::path::Path;
use std::process::Output;

mod common;
use common::{fails_cleanly, ok, urbancast};

/// Fails cleanly naming `key`, and `out` (under `w`) is missing or empty.
fn refused(o: &Output, w: &Path, out: &str, key: &str) {
    fails_cleanly(o, &[key]);
    let p = w.join(out);
    let empty = !p.exists() || (p.is_dir() && std::fs::read_dir(&p).unwrap().next().is_none());
    assert!(empty, "{out} written although `{key}` is out of range");
}

/// A run file on tiny synthetic cities with `extra` appended (a `[settings...]` table).
fn run_file(extra: &str) -> String {
    format!(
        "sources = [\"synthetic:metro?days=8\"]\ntarget = \"synthetic:suburb?days=8\"\nmethods = [\"fine-tune\"]\ndays = [1]\nseeds = [1]\n{extra}\n"
    )
}

#[test]
fn transfer_settings_out_of_range() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    for (table, key) in [
        ("[settings.protocol]\nlags = 0", "settings.protocol.lags must be at least 1 (got 0)"),
        ("[settings.pretrain]\nbatch = 0", "settings.pretrain.batch must be at least 1 (got 0)"),
        ("[settings]\nconv_channels = 0", "settings.conv_channels must be at least 1 (got 0)"),
        ("[settings.protocol]\npercentile = -0.5", "settings.protocol.percentile must lie in (0, 1] (got -0.5)"),
        ("[settings.protocol]\nsource_train_frac = 1.0", "settings.protocol.source_train_frac must lie in (0, 1) (got 1)"),
        ("[settings.target_train]\nmax_epochs = 0", "settings.target_train.max_epochs must be at least 1 (got 0)"),
    ] {
        std::fs::write(w.join("run.toml"), run_file(table)).unwrap();
        refused(&urbancast(&["transfer", "--config", "run.toml", "--out", "run"], w), w, "run", key);
    }
    refused(
        &urbancast(&["transfer", "--config", "run.toml", "--pretrain-epochs", "0", "--out", "run"], w),
        w,
        "run",
        "pretrain.max_epochs",
    );
}

#[test]
fn traj_training_refuses_zero_epochs_and_batches() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    ok(&urbancast(&["traj", "synth", "--trips", "120", "--zones", "8", "--out", "t.csv"], w));
    let base = ["--train", "t.csv", "--out", "m"];
    for cmd in ["train", "teacher"] {
        let run = |flags: &[&str]| urbancast(&[&["traj", cmd][..], &base[..], flags].concat(), w);
        refused(&run(&["--epochs", "0"]), w, "m", "train.epochs must be at least 1 (got 0)");
        refused(&run(&["--max-batches", "0"]), w, "m", "train.max_batches_per_epoch must be at least 1 (got 0)");
        refused(&run(&["--batch", "0"]), w, "m", "train.batch must be at least 1 (got 0)");
        refused(&run(&["--lr=-1"]), w, "m", "train.lr must be greater than 0 (got -1)");
    }
    // 0 zones used to become 1 zone.
    refused(&urbancast(&[&["traj", "train", "--zones", "0"][..], &base[..]].concat(), w), w, "m", "zones must be at least 1 (got 0)");
    std::fs::write(w.join("model.toml"), "[model]\ntraj_heads = 3\n").unwrap();
    let o = urbancast(&[&["traj", "train", "--config", "model.toml"][..], &base[..]].concat(), w);
    refused(&o, w, "m", "model.traj_heads must divide the model width 256 (got 3)");
    std::fs::write(w.join("teacher.toml"), "[train]\nbeta2 = 1.0\n").unwrap();
    let o = urbancast(&[&["traj", "teacher", "--config", "teacher.toml"][..], &base[..]].concat(), w);
    refused(&o, w, "m", "train.beta2 must lie in [0, 1) (got 1)");
    // Demand: 0 zones is refused before the trips file is written.
    refused(
        &urbancast(&["traj", "synth", "--trips", "10", "--zones", "0", "--out", "z.csv"], w),
        w,
        "z.csv",
        "demand: zones must lie in [1, ",
    );
}

#[test]
fn lightst_refuses_empty_graphs_and_zero_epochs() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    // 0 nodes used to become 1 node.
    refused(
        &urbancast(&["distill", "run", "--synthetic-nodes", "0", "--out", "l"], w),
        w,
        "l",
        "synthetic graph: nodes must be at least 1 (got 0)",
    );
    refused(
        &urbancast(&["distill", "run", "--synthetic-days", "0", "--out", "l"], w),
        w,
        "l",
        "synthetic graph: days must be at least 1 (got 0)",
    );
    refused(
        &urbancast(&["distill", "train-teacher", "--teacher-epochs", "0", "--out", "l"], w),
        w,
        "l",
        "teacher_train.max_epochs must be at least 1 (got 0)",
    );
    refused(&urbancast(&["distill", "run", "--tau", "0", "--out", "l"], w), w, "l", "distill.tau must be greater than 0 (got 0)");
}

#[test]
fn lightst_refuses_zero_timing_repetitions() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    refused(&urbancast(&["distill", "run", "--reps", "0", "--out", "l"], w), w, "l", "--reps must be at least 1 (got 0)");
}
