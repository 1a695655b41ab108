//! `urbancast bench distill`: training-step and inference time of LightST's MTGNN teacher and
//! MLP student (plain and distilled) on a synthetic sensor graph of a chosen size.
use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use urbancast_data::graph::{GraphPrepared, GraphProtocol, SyntheticGraphConfig, prepare_graph, synthetic_sensor_graph};
use urbancast_distill::batch::{Batch, Denorm};
use urbancast_distill::eval::time_inference;
use urbancast_distill::pipeline::{student_predictor, teacher_predictor};
use urbancast_distill::student::{Distiller, StudentObjective, Trainee, student_config};
use urbancast_distill::teacher::{TeacherObjective, adjacency_tensor, new_teacher};
use urbancast_distill::train::Objective;
use urbancast_distill::LightstConfig;

#[derive(clap::Args, Debug)]
pub struct DistillBenchArgs {
    /// Sensors of the synthetic graph (207 = METR-LA / LA loop, 156 = Shenzhen, 307 = PEMS04).
    #[arg(long, default_value_t = 207)]
    pub nodes: usize,
    /// Training batch size (LightST: 32).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    #[arg(long, default_value_t = 10)]
    pub iters: usize,
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median milliseconds of `iters` optimiser steps (after `warmup`) of `obj` on fixed batches.
fn time_steps<O: Objective>(mut model: O::Model, obj: &mut O, data: &GraphPrepared, a: &DistillBenchArgs, dev: &Device) -> Result<f64> {
    let mut optim = AdamConfig::new().init();
    let starts: Vec<usize> = data.train.clone().cycle().take(a.batch).collect();
    let batch = Batch::new(data, &starts, dev);
    let mut ms = vec![];
    for i in 0..a.warmup + a.iters {
        let t0 = Instant::now();
        let (loss, _) = obj.loss(&model, &batch)?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        if i >= a.warmup {
            ms.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(median(ms))
}

pub fn run(a: DistillBenchArgs) -> Result<()> {
    anyhow::ensure!(a.nodes > 0 && a.batch > 0 && a.iters > 0, "bench sizes must be > 0 (nodes, batch, iters)");
    let g = synthetic_sensor_graph(&SyntheticGraphConfig { nodes: a.nodes, days: 4, interval_min: 5, seed: 1 })?;
    let data = prepare_graph(&g, &GraphProtocol::default())?;
    let dev = urbancast_transfer::device::by_name(&a.device)?;
    let ad = dev.clone().autodiff();
    let cfg = LightstConfig::default();
    let teacher = new_teacher(&data, &cfg.teacher, &ad, 1)?;
    let student = student_config(&data, &cfg.student).init_seeded(&ad, 2);
    let teacher_step = time_steps(teacher.clone(), &mut TeacherObjective::new(&data, &ad), &data, &a, &ad)?;
    let mut plain = StudentObjective { denorm: Denorm::new(&data), distill: None };
    let student_step = time_steps(Trainee::new(student.clone(), None, &ad), &mut plain, &data, &a, &ad)?;
    let distiller = Distiller::new(&teacher, &data, cfg.distill.clone(), &ad)?;
    let mut distilled = StudentObjective { denorm: Denorm::new(&data), distill: Some(distiller) };
    let trainee = Trainee::new(student.clone(), Some(cfg.teacher.end_channels), &ad);
    let distilled_step = time_steps(trainee, &mut distilled, &data, &a, &ad)?;
    let tv = teacher.valid();
    let sv = student.valid();
    let t_inf = time_inference(teacher_predictor(&tv, adjacency_tensor(&data, &dev)), &data, a.iters, &dev)?;
    let s_inf = time_inference(student_predictor(&sv), &data, a.iters, &dev)?;
    println!("LightST bench: {} sensors, training batch {}, medians of {} runs", a.nodes, a.batch, a.iters);
    println!("{:<28} {:>12} {:>12}", "", "teacher", "student");
    println!("{:<28} {:>12} {:>12}", "parameters", teacher.num_params(), student.num_params());
    println!("{:<28} {:>12.1} {:>12.1}", "training step (ms)", teacher_step, student_step);
    println!("{:<28} {:>12} {:>12.1}", "distilled training step (ms)", "", distilled_step);
    println!("{:<28} {:>12.2} {:>12.2}", "inference, batch 64 (ms)", t_inf.batch64_ms, s_inf.batch64_ms);
    println!("{:<28} {:>12.3} {:>12.3}", "inference, 1 sample (ms)", t_inf.single_ms, s_inf.single_ms);
    println!(
        "student speed-up: {:.1}x (batch 64), {:.1}x (1 sample)",
        t_inf.batch64_ms / s_inf.batch64_ms,
        t_inf.single_ms / s_inf.single_ms
    );
    if let Some(p) = a.json {
        let json = serde_json::json!({
            "nodes": a.nodes, "batch": a.batch, "iters": a.iters,
            "teacher": { "params": teacher.num_params(), "train_step_ms": teacher_step, "inference": t_inf },
            "student": { "params": student.num_params(), "train_step_ms": student_step, "distilled_train_step_ms": distilled_step, "inference": s_inf },
        });
        std::fs::write(&p, serde_json::to_string_pretty(&json)?)?;
        eprintln!("figures written to {}", p.display());
    }
    Ok(())
}
