//! `urbancast predict`: a saved checkpoint on a city and a time range, to NPY or CSV.
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use urbancast_data::prep::{Prepared, Protocol};
use urbancast_data::spec;
use urbancast_transfer::batch::Task;
use urbancast_transfer::{checkpoint, device, predict::predict};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Checkpoint folder (holds model.bpk and meta.json), e.g. runs/transfer/checkpoints/fine-tune-n3-seed1.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// City SPEC to predict.
    #[arg(long, value_name = "SPEC")]
    pub city: String,
    /// First target step to predict (default: the first with enough history).
    #[arg(long)]
    pub from: Option<usize>,
    /// One past the last target step (default: the end of the series).
    #[arg(long)]
    pub to: Option<usize>,
    /// Output file: .npy ([N, R, C] in original units) or .csv (step,region,channel,prediction,truth).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Seed for a synthetic city SPEC.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let device = device::by_name(&a.device)?;
    let (model, meta) = checkpoint::load(&a.checkpoint, &device)?;
    let city = spec::load(&a.city, a.seed).with_context(|| format!("loading `{}`", a.city))?;
    let city = city.select_channels(&meta.channels)?.resample(meta.interval_min)?;
    let lags = meta.model.lags;
    let t = city.num_steps();
    let from = a.from.unwrap_or(lags);
    let to = a.to.unwrap_or(t);
    if from < lags || to > t || from >= to {
        bail!("time range [{from}, {to}) is invalid for `{}`: it has {t} steps and each prediction needs {lags} earlier steps, so use {lags} <= from < to <= {t}", city.name);
    }
    let protocol = Protocol { percentile: meta.percentile, ..Protocol::default() };
    let prep = Prepared::new(city, &protocol);
    let task = Task::new(&prep, &device);
    let steps: Vec<usize> = (from..to).collect();
    let pred = predict(&model.valid(), &task, &steps, lags, 64)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    match a.out.extension().and_then(|e| e.to_str()) {
        Some("npy") => ndarray_npy::write_npy(&a.out, &pred).with_context(|| format!("cannot write {}", a.out.display()))?,
        Some("csv") => {
            use std::fmt::Write as _;
            let mut s = String::from("step,region,channel,prediction,truth\n");
            for (k, &st) in steps.iter().enumerate() {
                for r in 0..prep.city.num_regions() {
                    for (c, ch) in prep.city.channels.iter().enumerate() {
                        let _ = writeln!(s, "{st},{r},{},{:.4},{}", ch.name(), pred[[k, r, c]], prep.city.flow[[st, r, c]]);
                    }
                }
            }
            std::fs::write(&a.out, s).with_context(|| format!("cannot write {}", a.out.display()))?;
        }
        _ => bail!("{}: the output must end in .npy or .csv", a.out.display()),
    }
    eprintln!("wrote predictions for steps {from}..{to} of `{}` ({} x {} x {}) to {}", prep.city.name, steps.len(), prep.city.num_regions(), prep.city.num_channels(), a.out.display());
    Ok(())
}
