//! urbancast: urban spatio-temporal learning when data is scarce or speed matters.

/// `println!` that returns an error instead of panicking when standard output is closed
/// (`| head`) or full (`> /dev/full`): use as `outln!(...)?`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, $($arg)*).and_then(|_| out.flush()).map_err(|e| anyhow::anyhow!("cannot write to standard output: {e}"))
    }};
}

mod args;
mod bench;
mod bench_distill;
mod bench_graph;
mod bench_gwn;
mod bench_pretrain;
mod bench_traj;
mod bench_traj_kd;
mod curves;
mod demo;
mod distill;
mod distill_args;
mod experiment;
mod experiment_lightst;
mod inspect;
mod predict;
mod run_args;
mod traj;
mod transfer;
mod transfer_graph;
mod tsjt_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "urbancast", version, about = "Urban spatio-temporal learning when data is scarce or speed matters")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Cross-city transfer: pre-train on source cities, predict a data-poor target.
    ///
    /// City SPECs: `metast:PATH`, `stdn:PATH`, `stssl:DIR`, `nyc69:DIR:taxi|bike`,
    /// `crosstres:DIR:CITY:MODE`, `npy:PATH?axes=..`, `npz:PATH?key=..`, `synthetic:NAME`.
    /// Methods: persistence, region-mean, ha, target-only, fine-tune, zero-shot,
    /// fine-tune-stbat-head (STBaT's control: plain pre-training with STBaT's head), stbat, the
    /// STBaT ablations stbat-no-poi, stbat-no-fdp, stbat-no-simdcl, stbat-no-wloss; tsjt
    /// (one-stage target-skewed joint training) and its ablation joint-no-skew. Days: 3 =
    /// few-shot, 0 = zero-shot. Cities are resampled to the common interval by summation.
    Transfer(transfer::Args),
    /// Cross-city transfer on sensor graphs (ST-GFSL protocol): TSJT, fine-tune, target-only.
    ///
    /// Graph SPECs: a sensor-graph folder or file, `stgfsl:DIR`, `nyc69-taxi:DIR`,
    /// `nyc69-bike:DIR`, `synthetic:NAME?nodes=N&days=D&seed=S`. Methods: persistence, ha,
    /// target-only, fine-tune, tsjt, tsjt-no-npm, joint-no-skew. Days: 3 (1 and 7 as in
    /// ST-GFSL). Graphs are brought to the common interval by averaging.
    TransferGraph(transfer_graph::Args),
    /// LightST: an MTGNN teacher distilled into a graph-free MLP student (train, evaluate).
    Distill(distill::Args),
    /// The built-in demo: three synthetic cities, each the target of the other two.
    Demo(demo::Args),
    /// Predict a city's flows with a saved checkpoint.
    Predict(predict::Args),
    /// Benchmarks (prints milliseconds).
    #[command(subcommand)]
    Bench(bench::Which),
    /// Published experiment protocols as single commands.
    #[command(subcommand)]
    Experiment(experiment::Which),
    /// Road networks and trajectories: inspect, map-match GPS, synthesise demand, zones, metrics.
    #[command(subcommand)]
    Traj(traj::Which),
    /// Read a city (any SPEC) and print what it holds; optionally write it in the CrossTReS layout.
    Inspect(inspect::Args),
    /// Plot training curves (loss, validation, gradient norms) from train-log.jsonl files.
    Curves(curves::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Keep large tensor buffers in the heap between training steps (see urbancast-nn).
    urbancast_nn::tune_allocator();
    // Subnormal floats (decayed Adam moments) slow x86 arithmetic several-fold in long runs.
    urbancast_nn::flush_denormals();
    let result = match cli.command {
        Command::Transfer(a) => transfer::run(a),
        Command::TransferGraph(a) => transfer_graph::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Distill(a) => distill::run(a),
        Command::Predict(a) => predict::run(a),
        Command::Bench(w) => bench::run(w),
        Command::Experiment(w) => experiment::run(w),
        Command::Inspect(a) => inspect::run(a),
        Command::Curves(a) => curves::run(a),
        Command::Traj(w) => traj::run(w),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
