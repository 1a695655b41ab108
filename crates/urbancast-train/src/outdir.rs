//! Safe output folders: a command checks its `--out` before it writes anything (never one of
//! its inputs; never a folder holding a different run unless asked), then records what it runs
//! in `OUT/run.json`.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What to do with an `--out` folder that already holds something.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reuse {
    /// Write into a folder that holds a different run (or no run at all).
    pub overwrite: bool,
    /// Continue the run in the folder (its trainings resume from their checkpoints).
    pub resume: bool,
}

/// File name of the run record.
pub const RUN_FILE: &str = "run.json";

/// What `OUT/run.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The command (e.g. `transfer`).
    pub command: String,
    /// urbancast's version.
    pub version: String,
    /// The input paths as given.
    pub inputs: Vec<String>,
    /// The settings of the run.
    pub settings: serde_json::Value,
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Refuses an output path that is one of `inputs` (so nothing is ever written over an input).
pub fn check_not_input(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    if let Some(i) = inputs.iter().find(|i| same_file(out, i)) {
        bail!("--out {} is an input of this command ({}): choose another path", out.display(), i.display());
    }
    Ok(())
}

/// Checks the output folder `out` of `command` before any work (see the module docs) and, when
/// it may be used, creates it and writes `run.json`. A folder holding the same run (same
/// command, inputs and settings) may always be reused; a different run, or a non-empty folder
/// without a run record, needs `reuse.overwrite` or `reuse.resume`.
pub fn prepare(out: &Path, command: &str, inputs: &[PathBuf], settings: &serde_json::Value, reuse: Reuse) -> Result<()> {
    check_not_input(out, inputs)?;
    if out.exists() && !out.is_dir() {
        bail!("--out {} exists and is not a folder", out.display());
    }
    let record = RunRecord {
        command: command.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
        settings: serde_json::from_str(&serde_json::to_string(settings)?)?,
    };
    let run_file = out.join(RUN_FILE);
    let non_empty = out.is_dir() && std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?.next().is_some();
    if non_empty && !reuse.overwrite && !reuse.resume {
        match std::fs::read_to_string(&run_file).ok().and_then(|t| serde_json::from_str::<RunRecord>(&t).ok()) {
            Some(old) if old.command == record.command && old.inputs == record.inputs && old.settings == record.settings => {}
            Some(old) => bail!(
                "{} holds a different run (`{}` with other inputs or settings): pass --overwrite to replace it or --resume to continue it",
                out.display(),
                old.command
            ),
            None => bail!("{} is not empty and holds no urbancast run: pass --overwrite to write into it anyway", out.display()),
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    crate::fsio::write_json_atomic(&run_file, &record)
}
