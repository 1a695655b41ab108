//! Timing LightST (`urbancast bench distill`): training-step and inference time of the MTGNN
//! teacher and the MLP student (plain and distilled) on a synthetic sensor graph.
use std::time::Instant;

use anyhow::{Result, ensure};
use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use urbancast_data::graph::{GraphPrepared, GraphProtocol, SyntheticGraphConfig, prepare_graph, synthetic_sensor_graph};

use crate::batch::{Batch, Denorm};
use crate::config::LightstConfig;
use crate::eval::{InferenceTime, time_inference};
use crate::pipeline::{student_predictor, teacher_predictor};
use crate::student::{Distiller, StudentObjective, Trainee, student_config};
use crate::teacher::{TeacherObjective, adjacency_tensor, new_teacher};
use crate::train::GraphLoss;
use urbancast_train::Stepper;

/// Figures of one model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelBench {
    /// Parameters.
    pub params: usize,
    /// Median milliseconds of one optimiser step.
    pub train_step_ms: f64,
    /// The same with distillation (students only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distilled_train_step_ms: Option<f64>,
    /// Inference time.
    pub inference: InferenceTime,
}

/// What [`bench_lightst`] measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LightstBench {
    /// Sensors of the synthetic graph.
    pub nodes: usize,
    /// Training batch size.
    pub batch: usize,
    /// Timed repetitions (medians reported).
    pub iters: usize,
    /// The MTGNN teacher.
    pub teacher: ModelBench,
    /// The MLP student.
    pub student: ModelBench,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median milliseconds of `iters` optimiser steps (after `warmup`) of `obj` on fixed batches.
fn time_steps<O: GraphLoss>(
    mut model: O::Model,
    obj: &mut O,
    data: &GraphPrepared,
    batch: usize,
    warmup: usize,
    iters: usize,
    dev: &Device,
) -> Result<f64> {
    let mut stepper = Stepper::new(&LightstConfig::default().teacher_train.spec("bench", 0).optim, 5.0);
    let starts: Vec<usize> = data.train.clone().cycle().take(batch).collect();
    let batch = Batch::new(data, &starts, dev);
    let mut ms = vec![];
    for i in 0..warmup + iters {
        let t0 = Instant::now();
        let (loss, _) = obj.loss(&model, &batch)?;
        model = stepper.step(model, loss, 1e-3, &|| "bench".into())?.0;
        if i >= warmup {
            ms.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(median(ms))
}

/// Times the default LightST models on a synthetic graph of `nodes` sensors (4 days of 5
/// minutes): `warmup` + `iters` training steps of `batch` windows and `iters` inference runs.
pub fn bench_lightst(nodes: usize, batch: usize, warmup: usize, iters: usize, dev: &Device) -> Result<LightstBench> {
    ensure!(nodes > 0 && batch > 0 && iters > 0, "bench sizes must be > 0 (nodes, batch, iters)");
    let g = synthetic_sensor_graph(&SyntheticGraphConfig { nodes, days: 4, interval_min: 5, seed: 1 })?;
    let data = prepare_graph(&g, &GraphProtocol::default())?;
    let ad = dev.clone().autodiff();
    let cfg = LightstConfig::default();
    let teacher = new_teacher(&data, &cfg.teacher, &ad, 1)?;
    let student = student_config(&data, &cfg.student).init_seeded(&ad, 2);
    let teacher_step = time_steps(teacher.clone(), &mut TeacherObjective::new(&data, &ad), &data, batch, warmup, iters, &ad)?;
    let mut plain = StudentObjective { denorm: Denorm::new(&data), distill: None };
    let student_step = time_steps(Trainee::new(student.clone(), None, &ad), &mut plain, &data, batch, warmup, iters, &ad)?;
    let distiller = Distiller::new(&teacher, &data, cfg.distill.clone(), &ad)?;
    let mut distilled = StudentObjective { denorm: Denorm::new(&data), distill: Some(distiller) };
    let trainee = Trainee::new(student.clone(), Some(teacher.hidden_dim()), &ad);
    let distilled_step = time_steps(trainee, &mut distilled, &data, batch, warmup, iters, &ad)?;
    let tv = teacher.valid();
    let sv = student.valid();
    let t_inf = time_inference(teacher_predictor(&tv, adjacency_tensor(&data, dev)), &data, iters, dev)?;
    let s_inf = time_inference(student_predictor(&sv), &data, iters, dev)?;
    Ok(LightstBench {
        nodes,
        batch,
        iters,
        teacher: ModelBench { params: teacher.num_params(), train_step_ms: teacher_step, distilled_train_step_ms: None, inference: t_inf },
        student: ModelBench {
            params: student.num_params(),
            train_step_ms: student_step,
            distilled_train_step_ms: Some(distilled_step),
            inference: s_inf,
        },
    })
}
