//! What the command-line tests share: running the binary, reading its output, checking that
//! bad input fails with a message (never a panic), reading JSON results.
#![allow(dead_code)]
use std::path::Path;
use std::process::{Command, Output};

/// Runs `urbancast ARGS` in `cwd`.
pub fn urbancast(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_urbancast")).args(args).current_dir(cwd).output().expect("run urbancast")
}

/// stdout then stderr.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Asserts success; the output.
pub fn ok(o: &Output) -> String {
    let t = text(o);
    assert!(o.status.success(), "should succeed: {t}");
    t
}

/// What an error message must mention: one string or several.
pub trait Needles {
    fn needles(&self) -> Vec<&str>;
}

impl Needles for &str {
    fn needles(&self) -> Vec<&str> {
        vec![self]
    }
}

impl<const N: usize> Needles for &[&str; N] {
    fn needles(&self) -> Vec<&str> {
        self.to_vec()
    }
}

/// Asserts a failure without a panic whose output mentions every needle.
pub fn fails_cleanly(o: &Output, must_contain: impl Needles) {
    let t = text(o);
    assert!(!o.status.success(), "should fail: {t}");
    assert!(!t.contains("panicked"), "must not panic: {t}");
    for m in must_contain.needles() {
        assert!(t.contains(m), "error should mention `{m}`: {t}");
    }
}

pub fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The model table of a tiny HOSER generator (a few seconds per epoch on a CPU).
pub const TINY_HOSER_MODEL: &str = "[model]
road_id_dim = 8
len_dim = 4
class_dim = 4
lon_dim = 4
lat_dim = 4
gat_layers = 1
gcn_layers = 1
traj_layers = 1
ffn_mult = 2
fusion_hidden = 8
nav_dim = 16
time_hidden = 8
";

/// A tiny generator configuration: [`TINY_HOSER_MODEL`] and a `[train]` table (batch 16,
/// lr 0.01).
pub fn tiny_hoser_toml() -> String {
    format!("{TINY_HOSER_MODEL}\n[train]\nbatch = 16\nlr = 0.01\n")
}
