//! `urbancast distill`: LightST — train an MTGNN teacher, train the MLP student with and
//! without distillation, evaluate all three (metrics per horizon, parameters, inference time).
use std::path::Path;

use anyhow::{Context, Result, bail};
use urbancast_data::graph::GraphPrepared;
use urbancast_distill::{LightstConfig, ModelResult, assess_student, assess_teacher, train_student, train_teacher};
use urbancast_nn::{load_stmlp, save_stmlp};
use urbancast_nn::mtgnn::{load_mtgnn, read_mtgnn_config, save_mtgnn};
use urbancast_transfer::device;

pub use crate::distill_args::Common;
use crate::distill_report::{RunRecord, write_run};

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
        Stage::TrainTeacher(c) => stage_teacher(&c),
        Stage::TrainStudent(s) => stage_student(&s.common, !s.no_distill),
        Stage::Eval(c) => stage_eval(&c),
        Stage::Run(c) => {
            let cfg = c.lightst_config()?;
            let data = c.data()?;
            run_all(&data, &cfg, c.seed, &c.device, &c.out, c.reps).map(|_| ())
        }
    }
}

/// Trains the teacher, the plain student and the distilled student on `data`, saves their
/// checkpoints and logs in `out`, and writes the evaluation (results.json, table.md,
/// series.png).
pub fn run_all(data: &GraphPrepared, cfg: &LightstConfig, seed: u64, device: &str, out: &Path, reps: usize) -> Result<RunRecord> {
    anyhow::ensure!(reps >= 1, "--reps must be at least 1 (got 0)");
    let dev = device::by_name(device)?;
    let ad = dev.clone().autodiff();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    eprintln!(
        "LightST on `{}`: {} nodes, {} channel(s), {} / {} / {} windows, seed {seed}",
        data.name,
        data.num_nodes(),
        data.channels(),
        data.train.len(),
        data.val.len(),
        data.test.len()
    );
    let (teacher, tlog) = train_teacher(data, cfg, seed, &ad)?;
    save_mtgnn(&teacher, out.join("teacher.bpk"))?;
    let (plain, plog) = train_student(data, cfg, None, seed, &ad)?;
    save_stmlp(&plain, out.join("student.bpk"))?;
    let (distilled, dlog) = train_student(data, cfg, Some(&teacher), seed, &ad)?;
    save_stmlp(&distilled, out.join("distilled.bpk"))?;
    let mut results = vec![];
    let mut r = assess_teacher(&teacher, data, reps, &dev)?;
    r.train = Some(tlog);
    results.push(r);
    for (name, model, log) in [("student", &plain, plog), ("distilled", &distilled, dlog)] {
        let mut r = assess_student(model, name, data, reps, &dev)?;
        r.train = Some(log);
        results.push(r);
    }
    for r in &results {
        if let Some(log) = &r.train {
            write_json(&out.join(format!("{}-log.json", r.model)), log)?;
        }
    }
    let record = RunRecord { dataset: data.name.clone(), seed, results };
    write_run(out, &record, Some(&teacher), &[("student", plain), ("distilled", distilled)], data, &dev)?;
    Ok(record)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)?).with_context(|| format!("cannot write {}", path.display()))
}

fn stage_teacher(c: &Common) -> Result<()> {
    let cfg = c.lightst_config()?;
    let data = c.data()?;
    let dev = device::by_name(&c.device)?.autodiff();
    std::fs::create_dir_all(&c.out).with_context(|| format!("cannot create {}", c.out.display()))?;
    eprintln!("teacher: MTGNN on `{}` ({} nodes, {} training windows)", data.name, data.num_nodes(), data.train.len());
    let (model, log) = train_teacher(&data, &cfg, c.seed, &dev)?;
    save_mtgnn(&model, c.out.join("teacher.bpk"))?;
    write_json(&c.out.join("teacher-log.json"), &log)?;
    eprintln!("teacher: best validation MAE {:.4} at epoch {} ({:.0} s)", log.best_val_mae, log.best_epoch, log.seconds);
    Ok(())
}

fn stage_student(c: &Common, distill: bool) -> Result<()> {
    let cfg = c.lightst_config()?;
    let data = c.data()?;
    let dev = device::by_name(&c.device)?.autodiff();
    std::fs::create_dir_all(&c.out).with_context(|| format!("cannot create {}", c.out.display()))?;
    let teacher = if distill {
        let path = c.out.join("teacher.bpk");
        if !path.is_file() {
            bail!("{} not found: run `urbancast distill train-teacher` with the same --out first, or pass --no-distill", path.display());
        }
        let config = read_mtgnn_config(&path)?;
        if config.num_nodes != data.num_nodes() {
            bail!("{}: the teacher was trained on {} nodes, the data has {}", path.display(), config.num_nodes, data.num_nodes());
        }
        Some(load_mtgnn(&config, &path, &dev)?)
    } else {
        None
    };
    let name = if distill { "distilled" } else { "student" };
    let (model, log) = train_student(&data, &cfg, teacher.as_ref(), c.seed, &dev)?;
    save_stmlp(&model, c.out.join(format!("{name}.bpk")))?;
    write_json(&c.out.join(format!("{name}-log.json")), &log)?;
    eprintln!("{name}: best validation MAE {:.4} at epoch {} ({:.0} s)", log.best_val_mae, log.best_epoch, log.seconds);
    Ok(())
}

fn read_log(path: &Path) -> Option<urbancast_distill::TrainLog> {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok())
}

/// Evaluates every checkpoint found in `c.out`.
pub fn stage_eval(c: &Common) -> Result<()> {
    let data = c.data()?;
    let dev = device::by_name(&c.device)?;
    let mut results: Vec<ModelResult> = vec![];
    let tpath = c.out.join("teacher.bpk");
    let teacher = if tpath.is_file() {
        let config = read_mtgnn_config(&tpath)?;
        let t = load_mtgnn(&config, &tpath, &dev)?;
        let mut r = assess_teacher(&t, &data, c.reps, &dev)?;
        r.train = read_log(&c.out.join("teacher-log.json"));
        results.push(r);
        Some(t)
    } else {
        None
    };
    let mut students = vec![];
    for name in ["student", "distilled"] {
        let p = c.out.join(format!("{name}.bpk"));
        if p.is_file() {
            let s = load_stmlp(&p, &dev)?;
            let mut r = assess_student(&s, name, &data, c.reps, &dev)?;
            r.train = read_log(&c.out.join(format!("{name}-log.json")));
            results.push(r);
            students.push((name, s));
        }
    }
    if results.is_empty() {
        bail!("no checkpoint in {} (teacher.bpk, student.bpk, distilled.bpk): train first", c.out.display());
    }
    let record = RunRecord { dataset: data.name.clone(), seed: c.seed, results };
    write_run(&c.out, &record, teacher.as_ref(), &students, &data, &dev)?;
    Ok(())
}
