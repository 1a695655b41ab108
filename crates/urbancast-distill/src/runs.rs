//! The stages of `urbancast distill` as library calls, each reading and writing one output
//! folder: train the teacher (`teacher.bpk`, `teacher-log.json`), train a student
//! (`student.bpk` or, distilled from `teacher.bpk`, `distilled.bpk`, and its log), evaluate
//! every checkpoint found ([`evaluate_dir`]), or all of it in order ([`run_all`]).
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use urbancast_data::graph::GraphPrepared;
use urbancast_eval::report::write_json;
use urbancast_nn::{load_stmlp, save_stmlp};

use crate::config::LightstConfig;
use crate::pipeline::{ModelResult, assess_student, assess_teacher, train_student_in, train_teacher_in};
use crate::report::{RunRecord, write_run};
use crate::teacher::{Teacher, load_teacher, save_teacher};
use crate::train::TrainLog;

/// Trains the teacher, the plain student and the distilled student on `data` (on `device`,
/// with autodiff), saves their checkpoints and logs in `out`, evaluates all three (`reps`
/// timing repetitions) and writes the evaluation ([`write_run`]). Returns the record and the
/// table.
///
/// Each training keeps its `train-log.jsonl` and checkpoints in `out/train/{teacher, student,
/// distilled}`; with `resume` they continue from there (finished ones are loaded).
pub fn run_all(
    data: &GraphPrepared,
    cfg: &LightstConfig,
    seed: u64,
    device: &Device,
    out: &Path,
    reps: usize,
    resume: bool,
) -> Result<(RunRecord, String)> {
    let ad = device.clone().autodiff();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (teacher, tlog) = train_teacher_in(data, cfg, seed, &ad, Some(&run_dir(out, "teacher", resume)))?;
    save_teacher(&teacher, &out.join("teacher.bpk"))?;
    let (plain, plog) = train_student_in(data, cfg, None, seed, &ad, Some(&run_dir(out, "student", resume)))?;
    save_stmlp(&plain, out.join("student.bpk"))?;
    let (distilled, dlog) = train_student_in(data, cfg, Some(&teacher), seed, &ad, Some(&run_dir(out, "distilled", resume)))?;
    save_stmlp(&distilled, out.join("distilled.bpk"))?;
    let mut results = vec![];
    let mut r = assess_teacher(&teacher, data, reps, device)?;
    r.train = Some(tlog);
    results.push(r);
    for (name, model, log) in [("student", &plain, plog), ("distilled", &distilled, dlog)] {
        let mut r = assess_student(model, name, data, reps, device)?;
        r.train = Some(log);
        results.push(r);
    }
    for r in &results {
        if let Some(log) = &r.train {
            write_json(&out.join(format!("{}-log.json", r.model)), log)?;
        }
    }
    let record = RunRecord { dataset: data.name.clone(), seed, results };
    let table = write_run(out, &record, Some(&teacher), &[("student", plain), ("distilled", distilled)], data, device)?;
    Ok((record, table))
}

/// Trains the teacher on an autodiff `device` and writes `out/teacher.bpk` and
/// `out/teacher-log.json`.
pub fn train_teacher_into(
    data: &GraphPrepared,
    cfg: &LightstConfig,
    seed: u64,
    device: &Device,
    out: &Path,
    resume: bool,
) -> Result<TrainLog> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (model, log) = train_teacher_in(data, cfg, seed, device, Some(&run_dir(out, "teacher", resume)))?;
    save_teacher(&model, &out.join("teacher.bpk"))?;
    write_json(&out.join("teacher-log.json"), &log)?;
    Ok(log)
}

/// The name of a student checkpoint: `distilled` or `student`.
pub fn student_name(distill: bool) -> &'static str {
    if distill { "distilled" } else { "student" }
}

/// Trains the MLP student on an autodiff `device`, distilled from `out/teacher.bpk` when
/// `distill`, and writes `out/<name>.bpk` and `out/<name>-log.json` ([`student_name`]).
pub fn train_student_into(
    data: &GraphPrepared,
    cfg: &LightstConfig,
    seed: u64,
    device: &Device,
    out: &Path,
    distill: bool,
    resume: bool,
) -> Result<TrainLog> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let teacher = if distill {
        let path = out.join("teacher.bpk");
        if !path.is_file() {
            bail!("{} not found: run `urbancast distill train-teacher` with the same --out first, or pass --no-distill", path.display());
        }
        Some(load_teacher(&path, data.num_nodes(), device)?)
    } else {
        None
    };
    let name = student_name(distill);
    let (model, log) = train_student_in(data, cfg, teacher.as_ref(), seed, device, Some(&run_dir(out, name, resume)))?;
    save_stmlp(&model, out.join(format!("{name}.bpk")))?;
    write_json(&out.join(format!("{name}-log.json")), &log)?;
    Ok(log)
}

/// The engine run folder of training `name` under `out`.
fn run_dir(out: &Path, name: &str, resume: bool) -> urbancast_train::RunDir {
    urbancast_train::RunDir::new(out.join("train").join(name), resume)
}

fn read_log(path: &Path) -> Option<TrainLog> {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok())
}

/// Evaluates every checkpoint found in `out` (teacher.bpk, student.bpk, distilled.bpk, with
/// their logs when present) and writes the evaluation ([`write_run`]). Returns the record and
/// the table; fails when there is no checkpoint.
pub fn evaluate_dir(data: &GraphPrepared, seed: u64, reps: usize, device: &Device, out: &Path) -> Result<(RunRecord, String)> {
    let mut results: Vec<ModelResult> = vec![];
    let tpath = out.join("teacher.bpk");
    let teacher: Option<Teacher> = if tpath.is_file() {
        let t = load_teacher(&tpath, data.num_nodes(), device)?;
        let mut r = assess_teacher(&t, data, reps, device)?;
        r.train = read_log(&out.join("teacher-log.json"));
        results.push(r);
        Some(t)
    } else {
        None
    };
    let mut students = vec![];
    for name in ["student", "distilled"] {
        let p = out.join(format!("{name}.bpk"));
        if p.is_file() {
            let s = load_stmlp(&p, device)?;
            let mut r = assess_student(&s, name, data, reps, device)?;
            r.train = read_log(&out.join(format!("{name}-log.json")));
            results.push(r);
            students.push((name, s));
        }
    }
    if results.is_empty() {
        bail!("no checkpoint in {} (teacher.bpk, student.bpk, distilled.bpk): train first", out.display());
    }
    let record = RunRecord { dataset: data.name.clone(), seed, results };
    let table = write_run(out, &record, teacher.as_ref(), &students, data, device)?;
    Ok((record, table))
}
