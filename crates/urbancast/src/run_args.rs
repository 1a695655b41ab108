//! What the transfer commands (`transfer`, `transfer-graph`) share: the flags naming sources,
//! target, methods, days, seeds, output and configuration file, their TOML form, and the
//! defaults and run record derived from them.
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::args::{DeviceArg, OutFlags, set};

/// The flags of a transfer run.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Source SPEC (repeatable); the kinds are listed in the command's help.
    #[arg(long = "source", value_name = "SPEC")]
    pub sources: Vec<String>,
    /// Target SPEC.
    #[arg(long, value_name = "SPEC")]
    pub target: Option<String>,
    /// Methods, comma-separated (default: all; the command's help lists them).
    #[arg(long = "method", value_delimiter = ',', value_name = "M")]
    pub methods: Vec<String>,
    /// Days of target training data, comma-separated (default 3).
    #[arg(long, value_delimiter = ',', value_name = "N")]
    pub days: Vec<usize>,
    /// Seeds, comma-separated (default 1); tables report mean ± std over them.
    #[arg(long, value_delimiter = ',', value_name = "S")]
    pub seeds: Vec<u64>,
    /// Output folder (default runs/<command>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// TOML file with the same fields and a [settings] table (command-line values win).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bring every city to this interval in minutes (default: the coarsest of them).
    #[arg(long, value_name = "MIN")]
    pub interval: Option<u32>,
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub reuse: OutFlags,
}

/// The TOML form of a transfer run: the fields of [`RunArgs`] plus `channels` (grid runs
/// only) and the command's `[settings]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig<S> {
    /// Source SPECs.
    pub sources: Vec<String>,
    /// Target SPEC.
    pub target: Option<String>,
    /// Method names.
    pub methods: Vec<String>,
    /// Numbers N of target days.
    pub days: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Output folder.
    pub out: Option<PathBuf>,
    /// Common interval in minutes.
    pub interval: Option<u32>,
    /// Channels to keep (grid runs).
    pub channels: Vec<String>,
    /// The command's settings.
    pub settings: S,
}

/// A run's target, days, seeds and output folder with the defaults filled in.
pub struct Resolved {
    /// Target SPEC.
    pub target: String,
    /// Numbers N of target days (default `[3]`).
    pub days: Vec<usize>,
    /// Seeds (default `[1]`).
    pub seeds: Vec<u64>,
    /// Output folder (default `runs/<command>`).
    pub out: PathBuf,
}

impl RunArgs {
    /// Writes the flags given over the fields of `f`.
    pub fn apply<S>(&self, f: &mut RunConfig<S>) {
        set(&mut f.sources, &self.sources);
        set(&mut f.methods, &self.methods);
        set(&mut f.days, &self.days);
        set(&mut f.seeds, &self.seeds);
        f.target = self.target.clone().or(f.target.take());
        f.out = self.out.clone().or(f.out.take());
        f.interval = self.interval.or(f.interval);
    }
}

impl<S: Serialize> RunConfig<S> {
    /// Target, days, seeds and output of `command`; an error names the missing target and
    /// what a SPEC may be (`specs`).
    pub fn resolve(&self, command: &str, specs: &str) -> Result<Resolved> {
        let Some(target) = self.target.clone() else { bail!("no target: give --target SPEC (or `target` in --config); a SPEC is {specs}") };
        Ok(Resolved {
            target,
            days: if self.days.is_empty() { vec![3] } else { self.days.clone() },
            seeds: if self.seeds.is_empty() { vec![1] } else { self.seeds.clone() },
            out: self.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{command}"))),
        })
    }

    /// What the output folder records about the run (with `settings` as they will run).
    pub fn record(&self, r: &Resolved, settings: &S) -> serde_json::Value {
        serde_json::json!({ "sources": self.sources, "target": r.target, "methods": self.methods, "days": r.days,
            "seeds": r.seeds, "interval": self.interval, "channels": self.channels, "settings": settings })
    }
}
