//! `urbancast experiment`: the published protocols as single commands.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use urbancast_eval::{table, write_json, write_results, write_text};
use urbancast_transfer::protocols::{leave_one_out, parse_methods, stbat_paper_methods};
use urbancast_transfer::{Method, Settings};

use crate::args::{DeviceArg, Overrides};
use crate::transfer::{StbatArgs, print_loo};

#[derive(clap::Subcommand, Debug)]
pub enum Which {
    /// STBaT on the three synthetic cities (each the target of the other two): target-only,
    /// fine-tune, zero-shot, HA, fine-tune with STBaT's head, STBaT and its four ablations, N = 3
    /// and 0 days, 5 seeds.
    StbatSynthetic(StbatSyntheticArgs),
    /// LightST on Shenzhen taxi speed, LA loop speed and NYC 69-zone taxi flows: MTGNN teacher,
    /// MLP student without and with distillation, 3 seeds; metrics at horizons 3/6/12,
    /// parameters and inference time in one table.
    Lightst(crate::experiment_lightst::LightstArgs),
}

#[derive(clap::Args, Debug)]
pub struct StbatSyntheticArgs {
    /// Output folder (one sub-folder per target plus the overall summary and table.md).
    #[arg(long, default_value = "runs/stbat-synthetic")]
    pub out: PathBuf,
    /// Seeds (models); the cities are generated from the first.
    #[arg(long, value_delimiter = ',', default_values_t = [1u64, 2, 3, 4, 5])]
    pub seeds: Vec<u64>,
    /// Days of target training data.
    #[arg(long, value_delimiter = ',', default_values_t = [3usize, 0])]
    pub days: Vec<usize>,
    /// Methods (default: target-only, fine-tune, zero-shot, ha, fine-tune-stbat-head, stbat and
    /// the four ablations).
    #[arg(long = "method", value_delimiter = ',', value_name = "M")]
    pub methods: Vec<String>,
    /// Days of synthetic data per city.
    #[arg(long, default_value_t = 35)]
    pub city_days: usize,
    /// Feature maps of the ST-net's spatial block (paper: 64).
    #[arg(long, default_value_t = 64)]
    pub conv_channels: usize,
    /// LSTM hidden size (paper: 128; the feature z is twice as wide).
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    #[command(flatten)]
    pub regime: crate::transfer::RegimeArgs,
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub reuse: crate::args::OutFlags,
    #[command(flatten)]
    pub stbat: StbatArgs,
}

pub fn run(w: Which) -> Result<()> {
    match w {
        Which::StbatSynthetic(a) => stbat_synthetic(a),
        Which::Lightst(a) => crate::experiment_lightst::run(a),
    }
}

fn stbat_synthetic(a: StbatSyntheticArgs) -> Result<()> {
    let start = Instant::now();
    if a.seeds.is_empty() || a.days.is_empty() {
        bail!("give at least one seed and one N (--seeds, --days)");
    }
    let methods: Vec<Method> = if a.methods.is_empty() { stbat_paper_methods() } else { parse_methods(&a.methods)? };
    let device = a.device.get()?;
    let cities = crate::demo::cities(a.seeds[0], a.city_days)?;
    let mut settings = Settings { conv_channels: a.conv_channels, hidden: a.hidden, ..Settings::default() };
    a.regime.apply(&mut settings)?;
    a.stbat.apply(&mut settings.stbat)?;
    settings.validate()?;
    let record =
        serde_json::json!({ "methods": a.methods, "days": a.days, "seeds": a.seeds, "city_days": a.city_days, "settings": settings });
    urbancast_train::outdir::prepare(&a.out, "experiment stbat-synthetic", &[], &record, a.reuse.reuse())?;
    (settings.train_dir, settings.resume) = (Some(a.out.join("train")), a.reuse.resume);
    write_json(&a.out.join("settings.json"), &settings)?;
    let plan = urbancast_transfer::RunPlan { methods: &methods, days: &a.days, seeds: &a.seeds, settings: &settings, device: &device };
    let rows = leave_one_out(&cities, &plan, &a.out, print_loo)?;
    let summary = write_results(&a.out, &rows)?;
    let text = table(&summary);
    write_text(&a.out.join("table.md"), &format!("```\n{text}\n```\n"))?;
    outln!("\n== STBaT on synthetic cities, seeds {:?}, {:.0} s\n{text}", a.seeds, start.elapsed().as_secs_f64())?;
    outln!("results written to {}", a.out.display())?;
    Ok(())
}
