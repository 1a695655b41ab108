//! The three models of a LightST comparison, trained, tested and timed.
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};
use urbancast_data::graph::GraphPrepared;
use urbancast_eval::horizon::HorizonReport;
use urbancast_nn::StMlp;

use crate::batch::{Batch, Denorm};
use crate::config::LightstConfig;
use crate::eval::{InferenceTime, SeriesSample, SeriesSpec, evaluate, sample_series, time_inference};
use crate::student::{Distiller, StudentObjective, Trainee, student_config, student_forward};
use crate::teacher::{Teacher, TeacherObjective, adjacency_tensor, new_teacher, teacher_forward};
use crate::train::{TrainLog, fit};
use urbancast_train::RunDir;

/// A trained model's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelResult {
    /// `teacher`, `student` (no distillation) or `distilled`.
    pub model: String,
    /// Number of trainable parameters.
    pub params: usize,
    /// Masked MAE / RMSE / MAPE on the test windows, per reported horizon, original units.
    pub test: HorizonReport,
    /// Inference time of a 64-window batch and of a single window.
    pub time: InferenceTime,
    /// Training log, when the model was trained in this run (`None` from the `assess_*`
    /// functions; filled in by the caller).
    pub train: Option<TrainLog>,
}

/// Trains the teacher (MTGNN or Graph WaveNet, `cfg.teacher.model`; seeded with `seed`) on an autodiff `device`, after checking `cfg`
/// ([`LightstConfig::validate`]).
pub fn train_teacher(data: &GraphPrepared, cfg: &LightstConfig, seed: u64, device: &Device) -> anyhow::Result<(Teacher, TrainLog)> {
    train_teacher_in(data, cfg, seed, device, None)
}

/// [`train_teacher`] keeping its log and checkpoints in `run` (and resuming from them).
pub fn train_teacher_in(
    data: &GraphPrepared,
    cfg: &LightstConfig,
    seed: u64,
    device: &Device,
    run: Option<&RunDir>,
) -> anyhow::Result<(Teacher, TrainLog)> {
    cfg.validate()?;
    let model = new_teacher(data, &cfg.teacher, device, seed)?;
    let mut obj = TeacherObjective::new(data, device);
    fit(model, &mut obj, data, &cfg.teacher_train, (seed, "teacher", run), device)
}

/// Trains the student (seeded with `seed + 1`, so plain and distilled students start from the
/// same weights), distilled from `teacher` when given, after checking `cfg`
/// ([`LightstConfig::validate`]).
pub fn train_student(
    data: &GraphPrepared,
    cfg: &LightstConfig,
    teacher: Option<&Teacher>,
    seed: u64,
    device: &Device,
) -> anyhow::Result<(StMlp, TrainLog)> {
    train_student_in(data, cfg, teacher, seed, device, None)
}

/// [`train_student`] keeping its log and checkpoints in `run` (and resuming from them).
pub fn train_student_in(
    data: &GraphPrepared,
    cfg: &LightstConfig,
    teacher: Option<&Teacher>,
    seed: u64,
    device: &Device,
    run: Option<&RunDir>,
) -> anyhow::Result<(StMlp, TrainLog)> {
    cfg.validate()?;
    let student = student_config(data, &cfg.student).init_seeded(device, seed + 1);
    let distill = teacher.map(|t| Distiller::new(t, data, cfg.distill.clone(), device)).transpose()?;
    let teacher_dim = distill.as_ref().map(|d| d.teacher.hidden_dim());
    let model = Trainee::new(student, teacher_dim, device);
    let label = if distill.is_some() { "distilled" } else { "student" };
    let mut obj = StudentObjective { denorm: Denorm::new(data), distill };
    let (model, log) = fit(model, &mut obj, data, &cfg.student_train, (seed, label, run), device)?;
    Ok((model.student, log))
}

/// Normalised-prediction function of a teacher (validation copy) for [`evaluate`] and timing.
pub fn teacher_predictor<'a>(model: &'a Teacher, adj: Tensor<2>) -> impl FnMut(&Batch) -> anyhow::Result<Tensor<4>> + 'a {
    move |b| Ok(teacher_forward(model, b, adj.clone())?.pred)
}

/// Normalised-prediction function of a student (validation copy). It takes no adjacency.
pub fn student_predictor(model: &StMlp) -> impl FnMut(&Batch) -> anyhow::Result<Tensor<4>> + '_ {
    move |b| Ok(student_forward(model, b)?.pred)
}

/// Test metrics, parameter count and inference time of a teacher.
pub fn assess_teacher(model: &Teacher, data: &GraphPrepared, reps: usize, device: &Device) -> anyhow::Result<ModelResult> {
    let inner = device.clone().inner();
    let valid = model.valid();
    let adj = adjacency_tensor(data, &inner);
    let test = evaluate(teacher_predictor(&valid, adj.clone()), data, data.test.clone(), 64, &Denorm::new(data), device)?;
    let time = time_inference(teacher_predictor(&valid, adj), data, reps, device)?;
    Ok(ModelResult { model: "teacher".into(), params: model.num_params(), test, time, train: None })
}

/// Test metrics, parameter count and inference time of a student.
pub fn assess_student(model: &StMlp, name: &str, data: &GraphPrepared, reps: usize, device: &Device) -> anyhow::Result<ModelResult> {
    let valid = model.valid();
    let test = evaluate(student_predictor(&valid), data, data.test.clone(), 64, &Denorm::new(data), device)?;
    let time = time_inference(student_predictor(&valid), data, reps, device)?;
    Ok(ModelResult { model: name.into(), params: model.num_params(), test, time, train: None })
}

/// Series of `nodes` at horizon step 3 over the first `len` test windows for each model
/// (`(name, samples)`), for the predicted-vs-true plot.
pub fn series_for_plot(
    teacher: Option<&Teacher>,
    students: &[(&str, &StMlp)],
    data: &GraphPrepared,
    nodes: &[usize],
    len: usize,
    device: &Device,
) -> anyhow::Result<Vec<(String, Vec<SeriesSample>)>> {
    let denorm = Denorm::new(data);
    let spec = SeriesSpec { range: data.test.clone(), len, nodes, horizon_step: 3 };
    let mut out = vec![];
    if let Some(t) = teacher {
        let valid = t.valid();
        let adj = adjacency_tensor(data, &device.clone().inner());
        let s = sample_series(teacher_predictor(&valid, adj), data, &spec, &denorm, device)?;
        out.push(("teacher".to_string(), s));
    }
    for (name, m) in students {
        let valid = m.valid();
        let s = sample_series(student_predictor(&valid), data, &spec, &denorm, device)?;
        out.push((name.to_string(), s));
    }
    Ok(out)
}
