//! `urbancast bench`: speed figures.
use anyhow::Result;

#[derive(clap::Subcommand, Debug)]
pub enum Which {
    /// ST-net training step and inference time at the seed papers' shape.
    Stnet(StnetArgs),
    /// Seconds per pre-training epoch and peak memory: plain (fine-tune) vs STBaT.
    Pretrain(PretrainArgs),
    /// Graph WaveNet training-step and inference time (`--compare`: against burn's own ops).
    Gwn(crate::bench_gwn::Args),
    /// Graph transfer cost: seconds per epoch / step and peak memory, fine-tune vs TSJT.
    TransferGraph(crate::bench_graph::Args),
    /// LightST: training-step and inference time of the MTGNN teacher and the MLP student.
    Distill(crate::bench_distill::DistillBenchArgs),
    /// Route generation: trajectories/s with beam search and next-step latency.
    Traj(crate::bench_traj::Args),
    /// Cross-task distillation: teacher-target build time and per-step cost, vanilla vs distilled.
    TrajKd(crate::bench_traj_kd::Args),
}

#[derive(clap::Args, Debug, Clone)]
pub struct PretrainArgs {
    /// Source city SPECs (repeatable).
    #[arg(long = "source", value_name = "SPEC", default_values_t = ["synthetic:metro".to_string(), "synthetic:suburb".to_string()])]
    pub sources: Vec<String>,
    /// Pre-training to time: fine-tune (plain), stbat, or both (each in its own process, so
    /// peak memory is measured separately).
    #[arg(long, default_value = "both")]
    pub method: String,
    /// Epochs to time.
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub conv_channels: usize,
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub device: crate::args::DeviceArg,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct StnetArgs {
    /// Channel counts to time.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2])]
    pub channels: Vec<usize>,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, default_value_t = 20)]
    pub height: usize,
    #[arg(long, default_value_t = 23)]
    pub width: usize,
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    #[arg(long, default_value_t = 20)]
    pub iters: usize,
    /// Also time the convolution part and the LSTM + head separately.
    #[arg(long)]
    pub profile: bool,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

pub fn run(w: Which) -> Result<()> {
    match w {
        Which::Stnet(a) => {
            let (channels, batch, height, width, warmup, iters) = (a.channels, a.batch, a.height, a.width, a.warmup, a.iters);
            let opts = urbancast_nn::BenchOpts { channels, batch, height, width, warmup, iters };
            opts.validate().map_err(anyhow::Error::msg)?;
            let report = urbancast_nn::bench_stnet(&opts);
            let profile = a.profile.then(|| urbancast_nn::profile_stnet(&opts));
            if let Some(p) = a.json {
                let json = serde_json::json!({ "bench": report, "profile": profile });
                urbancast_eval::write_json(&p, &json)?;
                eprintln!("figures written to {}", p.display());
            }
            Ok(())
        }
        Which::Pretrain(a) => crate::bench_pretrain::run(a),
        Which::Gwn(a) => crate::bench_gwn::run(a),
        Which::TransferGraph(a) => crate::bench_graph::run(a),
        Which::Distill(a) => crate::bench_distill::run(a),
        Which::Traj(a) => crate::bench_traj::run(a),
        Which::TrajKd(a) => crate::bench_traj_kd::run(a),
    }
}
