//! `urbancast distill`: LightST — train an MTGNN teacher, train the MLP student with and
//! without distillation, evaluate all three (metrics per horizon, parameters, inference time),
//! with the stages of `urbancast_distill::runs`.
use std::path::Path;

use anyhow::Result;
use urbancast_data::graph::GraphPrepared;
use urbancast_distill::LightstConfig;
use urbancast_distill::report::RunRecord;
use urbancast_distill::runs::{evaluate_dir, student_name, train_student_into, train_teacher_into};

use crate::args::DeviceArg;
pub use crate::distill_args::Common;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub stage: Stage,
}

#[derive(clap::Subcommand, Debug)]
pub enum Stage {
    /// Train the MTGNN teacher; writes OUT/teacher.bpk and OUT/teacher-log.json.
    TrainTeacher(Common),
    /// Train the MLP student; distilled from OUT/teacher.bpk unless --no-distill. Writes
    /// OUT/distilled.bpk (or OUT/student.bpk) and its log.
    TrainStudent(StudentArgs),
    /// Evaluate every checkpoint in OUT (teacher.bpk, student.bpk, distilled.bpk): results.json,
    /// table.md and series.png (predicted vs true series of a few nodes).
    Eval(Common),
    /// All stages in order: teacher, plain student, distilled student, evaluation.
    Run(Common),
}

#[derive(clap::Args, Debug)]
pub struct StudentArgs {
    #[command(flatten)]
    pub common: Common,
    /// Train the student on the data alone (no teacher).
    #[arg(long)]
    pub no_distill: bool,
}

pub fn run(a: Args) -> Result<()> {
    match a.stage {
        Stage::TrainTeacher(c) => {
            let (cfg, data) = (c.lightst_config()?, c.data()?);
            let dev = c.device.get()?.autodiff();
            eprintln!("teacher: MTGNN on `{}` ({} nodes, {} training windows)", data.name, data.num_nodes(), data.train.len());
            c.prepare()?;
            let log = train_teacher_into(&data, &cfg, c.seed, &dev, &c.out, c.reuse.resume)?;
            eprintln!("teacher: best validation MAE {:.4} at epoch {} ({:.0} s)", log.best_val_mae, log.best_epoch, log.seconds);
        }
        Stage::TrainStudent(s) => {
            let c = &s.common;
            let (cfg, data) = (c.lightst_config()?, c.data()?);
            let dev = c.device.get()?.autodiff();
            c.prepare()?;
            let log = train_student_into(&data, &cfg, c.seed, &dev, &c.out, !s.no_distill, c.reuse.resume)?;
            let name = student_name(!s.no_distill);
            eprintln!("{name}: best validation MAE {:.4} at epoch {} ({:.0} s)", log.best_val_mae, log.best_epoch, log.seconds);
        }
        Stage::Eval(c) => {
            let data = c.data()?;
            let (record, table) = evaluate_dir(&data, c.seed, c.reps, &c.device.get()?, &c.out)?;
            print_run(&record, &table, &c.out)?;
        }
        Stage::Run(c) => {
            let (cfg, data) = (c.lightst_config()?, c.data()?);
            c.prepare()?;
            run_all(&data, &cfg, c.seed, &c.device, &c.out, c.reps, c.reuse.resume)?;
        }
    }
    Ok(())
}

/// [`urbancast_distill::run_all`] with its progress and table printed.
pub fn run_all(
    data: &GraphPrepared,
    cfg: &LightstConfig,
    seed: u64,
    device: &DeviceArg,
    out: &Path,
    reps: usize,
    resume: bool,
) -> Result<RunRecord> {
    anyhow::ensure!(reps >= 1, "--reps must be at least 1 (got 0)");
    let dev = device.get()?;
    eprintln!(
        "LightST on `{}`: {} nodes, {} channel(s), {} / {} / {} windows, seed {seed}",
        data.name,
        data.num_nodes(),
        data.channels(),
        data.train.len(),
        data.val.len(),
        data.test.len()
    );
    let (record, table) = urbancast_distill::run_all(data, cfg, seed, &dev, out, reps, resume)?;
    print_run(&record, &table, out)?;
    Ok(record)
}

fn print_run(record: &RunRecord, table: &str, dir: &Path) -> Result<()> {
    outln!("\n== LightST on `{}`, seed {}\n{table}", record.dataset, record.seed)?;
    outln!("results written to {}", dir.display())
}
