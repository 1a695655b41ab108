//! Where output goes wrong: a closed standard output (`| head -1`), a full device
//! (`/dev/full`), an `--out` that is one of the inputs. Each ends with a one-line error and a
//! non-zero exit, never a panic, and writes nothing.
use std::fs::OpenOptions;
use std::process::{Command, Stdio};

mod common;
use common::{fails_cleanly, ok, urbancast};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_urbancast"))
}

#[test]
fn closed_stdout_is_an_error_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args(["inspect", "synthetic:metro?days=2"])
        .current_dir(d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader went away, as `head -1` does after its line
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("standard output"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn full_device_is_an_error_not_a_panic() {
    let Ok(full) = OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full on this machine");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let o = bin().args(["inspect", "synthetic:metro?days=2"]).current_dir(d.path()).stdout(full).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && !err.contains("panicked") && err.contains("No space left"), "{err}");
    // A file output on the full device: refused with the device named, and the device is
    // still a device afterwards (never replaced by a renamed temporary file).
    let o = urbancast(&["traj", "synth", "--trips", "20", "--zones", "4", "--out", "/dev/full"], d.path());
    fails_cleanly(&o, "/dev/full");
    let meta = std::fs::metadata("/dev/full").unwrap();
    assert!(!meta.is_file(), "/dev/full must stay a device");
}

#[test]
fn out_equal_to_an_input_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    ok(&urbancast(&["traj", "synth", "--trips", "60", "--zones", "4", "--out", "t.csv"], w));
    let before = std::fs::read(w.join("t.csv")).unwrap();
    let o = urbancast(&["traj", "train", "--train", "t.csv", "--epochs", "1", "--max-batches", "1", "--out", "t.csv"], w);
    fails_cleanly(&o, &["t.csv", "input"]);
    assert_eq!(before, std::fs::read(w.join("t.csv")).unwrap(), "the input is untouched");
}
