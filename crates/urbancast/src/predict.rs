//! `urbancast predict`: a saved checkpoint on a city and a time range, to NPY or CSV
//! (`urbancast_transfer::predict::predict_city`).
use std::path::PathBuf;

use anyhow::Result;
use urbancast_transfer::predict::predict_city;

use crate::args::DeviceArg;

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
    #[command(flatten)]
    pub device: DeviceArg,
    /// Seed for a synthetic city SPEC.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let p = predict_city(&a.checkpoint, &a.city, a.seed, a.from, a.to, &a.device.get()?)?;
    p.write(&a.out)?;
    let (c, n) = (&p.prep.city, p.steps.len());
    let (from, to) = (p.steps[0], p.steps[n - 1] + 1);
    eprintln!(
        "wrote predictions for steps {from}..{to} of `{}` ({n} x {} x {}) to {}",
        c.name,
        c.num_regions(),
        c.num_channels(),
        a.out.display()
    );
    Ok(())
}
