//! Loading the cities of a transfer experiment: any SPEC (`urbancast_data::spec`), aligned to
//! the target's channels and resampled to one interval; the three synthetic presets.
use anyhow::{Context, Result};
use urbancast_data::{City, spec, synthetic};

/// Loads the cities, aligns channels to the target's and resamples every city to `interval`
/// minutes (by summation; default: the coarsest interval), with a note on stderr for each city
/// resampled. `seed` seeds synthetic SPECs.
pub fn load_cities(sources: &[String], target: &str, interval: Option<u32>, seed: u64) -> Result<(Vec<City>, City)> {
    let target = spec::load(target, seed).with_context(|| format!("loading target `{target}`"))?;
    let mut srcs = vec![];
    for s in sources {
        let c = spec::load(s, seed).with_context(|| format!("loading source `{s}`"))?;
        srcs.push(c.select_channels(&target.channels).with_context(|| format!("aligning source `{s}` to the target's channels"))?);
    }
    let common = interval.unwrap_or_else(|| srcs.iter().map(|c| c.interval_min).chain([target.interval_min]).max().unwrap_or(60));
    let resample = |c: City| -> Result<City> {
        if c.interval_min != common {
            eprintln!("note: resampling `{}` from {} to {common} min by summation", c.name, c.interval_min);
        }
        Ok(c.resample(common)?)
    };
    let target = resample(target)?;
    let srcs = srcs.into_iter().map(resample).collect::<Result<Vec<_>>>()?;
    Ok((srcs, target))
}

/// Names of the synthetic presets [`synthetic_cities`] generates.
pub const SYNTHETIC_PRESETS: [&str; 3] = ["metro", "suburb", "coastal"];

/// The three synthetic presets (metro, suburb, coastal) with `days` of data from `seed`.
pub fn synthetic_cities(seed: u64, days: usize) -> Result<Vec<City>> {
    let mut cities = vec![];
    for n in SYNTHETIC_PRESETS {
        let mut cfg = synthetic::preset(n, seed).ok_or_else(|| anyhow::anyhow!("no synthetic preset `{n}`"))?;
        cfg.days = days;
        cities.push(synthetic::generate(&cfg)?);
    }
    Ok(cities)
}
