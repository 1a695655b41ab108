//! `urbancast inspect`: what a city SPEC holds.
use std::path::PathBuf;

use anyhow::{Context, Result};
use urbancast_data::{spec, synthetic};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// City SPEC, e.g. `metast:../shared/data/grid/boston-taxi/boston.npz` or `synthetic:metro`.
    pub spec: String,
    /// Also write the city in the CrossTReS directory layout under this folder.
    #[arg(long, value_name = "DIR")]
    pub write_crosstres: Option<PathBuf>,
    /// Mode name for the CrossTReS files (Taxi or Bike).
    #[arg(long, default_value = "Taxi")]
    pub mode: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let c = spec::load(&a.spec, a.seed).with_context(|| format!("loading `{}`", a.spec))?;
    outln!("name       {}", c.name)?;
    outln!("steps      {} x {} min ({:.1} days)", c.num_steps(), c.interval_min, c.num_steps() as f64 / c.steps_per_day() as f64)?;
    outln!("layout     {}", c.layout.describe())?;
    outln!("regions    {} ({} active)", c.num_regions(), c.num_active())?;
    outln!("channels   {:?}", c.channels)?;
    for (i, ch) in c.channels.iter().enumerate() {
        let lane = c.flow.index_axis(ndarray::Axis(2), i);
        let max = lane.iter().copied().fold(0f32, f32::max);
        let mean = lane.iter().map(|&v| v as f64).sum::<f64>() / lane.len() as f64;
        outln!("  {:<8} mean {mean:.3} max {max}", ch.name())?;
    }
    outln!("POI        {}", c.poi.as_ref().map(|p| format!("{:?}", p.dim())).unwrap_or_else(|| "none".into()))?;
    if let Some(dir) = a.write_crosstres {
        synthetic::write_crosstres(&c, &dir, &a.mode)?;
        outln!("written in the CrossTReS layout under {}", dir.display())?;
    }
    Ok(())
}
