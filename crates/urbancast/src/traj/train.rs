//! `urbancast traj train`: trains the HOSER-style generator on trajectories (HOSER CSV) and
//! writes a model bundle, the training log and curves, and the data splits.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::Deserialize;
use serde_json::json;
use urbancast_eval::plot_series::{SeriesPanel, series_plot};
use urbancast_roads::Trajectory;
use urbancast_roads::io::write_hoser_csv;
use urbancast_traj::bundle::{BundleMeta, NetworkFingerprint, save_bundle};
use urbancast_traj::data::GraphTensors;
use urbancast_traj::kd::{KdConfig, TeacherTargets};
use urbancast_traj::model::HoserConfig;
use urbancast_traj::train::{Distill, TrainConfig, TrainLog, evaluate, fit_distilled, prepare_training, sized_config};
use urbancast_transfer::device;

use super::common::{LoopArgs, TrajData, write_json};
use super::teacher::load_teacher;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub data: TrajData,
    #[command(flatten)]
    pub run: LoopArgs,
    /// Zones (METIS partition of the roads; at most roads / 4 are used).
    #[arg(long, default_value_t = 300)]
    pub zones: usize,
    /// TOML with optional tables `[model]` (fields of HoserConfig: the generator, i.e. the
    /// student when distilling), `[train]` (fields of TrainConfig) and `[kd]` (fields of
    /// KdConfig); flags override it. `--student-config` is the same flag.
    #[arg(long, visible_alias = "student-config")]
    pub config: Option<PathBuf>,
    /// Output folder: model.bpk, context.json, meta.json, train-log.json, training.png,
    /// train.csv, val.csv, test.csv.
    #[arg(long, default_value = "runs/traj-model")]
    pub out: PathBuf,
    /// Distil from this LM-TAD teacher folder (written by `urbancast traj teacher`): the loss
    /// becomes CE + time + λ·τ²·KL(teacher ‖ student) over the candidates of every step.
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// Distillation defaults: the thesis's values for `porto` (λ 0.006, τ 2.5, w 4) or
    /// `beijing` (λ 0.0014, τ 4.37, w 7); the config file's `[kd]` table and the flags below
    /// override them.
    #[arg(long, value_enum)]
    pub kd_preset: Option<KdPreset>,
    /// Distillation weight λ.
    #[arg(long)]
    pub kd_lambda: Option<f64>,
    /// Distillation temperature τ.
    #[arg(long)]
    pub kd_tau: Option<f64>,
    /// Teacher window w (tokens of the prefix the teacher reads).
    #[arg(long)]
    pub kd_window: Option<usize>,
    /// Distil only each trajectory's last step (the public fork) instead of every position.
    #[arg(long)]
    pub kd_last_only: bool,
    /// Leave out the τ² factor of the KL term (the public fork).
    #[arg(long)]
    pub kd_no_tau_sq: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum KdPreset {
    Porto,
    Beijing,
}

/// The `--config` file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    model: HoserConfig,
    train: TrainConfig,
    kd: Option<KdConfig>,
}

fn load_config(a: &Args) -> Result<FileConfig> {
    let mut c: FileConfig = match &a.config {
        Some(p) => toml::from_str(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
            .with_context(|| format!("{}: not a training configuration (tables [model] and [train])", p.display()))?,
        None => FileConfig::default(),
    };
    let t = &mut c.train;
    a.run.apply(&mut t.epochs, &mut t.batch, &mut t.lr, &mut t.seed, &mut t.max_batches_per_epoch);
    c.model.validate_at("model.")?;
    c.train.validate_at("train.")?;
    if a.teacher.is_some() {
        kd_config(a, c.kd.as_ref())?;
    }
    Ok(c)
}

/// The distillation settings: preset, then the config file's `[kd]`, then the flags.
fn kd_config(a: &Args, file: Option<&KdConfig>) -> Result<KdConfig> {
    let mut k = match (a.kd_preset, file) {
        (_, Some(f)) => f.clone(),
        (Some(KdPreset::Beijing), None) => KdConfig::beijing(),
        _ => KdConfig::porto(),
    };
    k.lambda = a.kd_lambda.unwrap_or(k.lambda);
    k.tau = a.kd_tau.unwrap_or(k.tau);
    k.window = a.kd_window.unwrap_or(k.window);
    if a.kd_last_only {
        k.all_positions = false;
    }
    if a.kd_no_tau_sq {
        k.scale_tau_sq = false;
    }
    k.validate_at("kd.")?;
    Ok(k)
}

pub fn run(a: Args) -> Result<()> {
    let cfg = load_config(&a)?;
    let (net, all) = a.data.load()?;
    let tc = &cfg.train;
    let prep = prepare_training(&net, &all, a.zones, tc.seed, a.data.val_frac, a.data.test_frac)?;
    let model_cfg = sized_config(&cfg.model, &prep.ctx)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    for (name, ix) in [("train.csv", &prep.train_ix), ("val.csv", &prep.val_ix), ("test.csv", &prep.test_ix)] {
        let part: Vec<Trajectory> = ix.iter().map(|&i| all[i].clone()).collect();
        let p = a.out.join(name);
        write_hoser_csv(&p, &part).with_context(|| format!("writing {}", p.display()))?;
    }
    let r = &prep.report;
    println!(
        "`{}`: {} roads, {} zones; {} trajectories from {} file(s) → {} / {} / {} (train / val / test) → {} / {} / {} samples \
         ({} broken transitions, {} too short, {} steps capped away)",
        net.name,
        net.len(),
        prep.zones.k,
        all.len(),
        a.data.train.len(),
        prep.train_ix.len(),
        prep.val_ix.len(),
        prep.test_ix.len(),
        prep.train.len(),
        prep.val.len(),
        prep.test.len(),
        r.broken_transitions,
        r.too_short,
        r.capped_steps
    );
    let transitions: usize = all.iter().map(|t| t.roads.len().saturating_sub(1)).sum();
    if r.broken_transitions * 10 > transitions {
        eprintln!(
            "warning: {} of {transitions} transitions are not road → successor in `{}`: were the trajectories made on another network?",
            r.broken_transitions, net.name
        );
    }
    let dev = device::by_name(&a.run.device)?;
    let kd = match &a.teacher {
        None => {
            if cfg.kd.is_some() || a.kd_lambda.is_some() || a.kd_tau.is_some() || a.kd_window.is_some() {
                bail!("distillation settings given without --teacher");
            }
            None
        }
        Some(dir) => {
            let kcfg = kd_config(&a, cfg.kd.as_ref())?;
            let (teacher, tok, _) = load_teacher(dir, &net, &Device::flex())?;
            let grid = tok.grid;
            let targets = TeacherTargets::build(&net, &teacher, &grid, &prep.train, &kcfg, true)?;
            let st = &targets.stats;
            println!(
                "teacher {}: {} distilled steps over {} distinct windows in {:.1} s (λ {}, τ {}, w {}, {}, {})",
                dir.display(),
                st.steps,
                st.windows,
                st.seconds,
                kcfg.lambda,
                kcfg.tau,
                kcfg.window,
                if kcfg.all_positions { "every position" } else { "last step only" },
                if kcfg.scale_tau_sq { "τ²·KL" } else { "KL without τ²" }
            );
            Some((targets, kcfg))
        }
    };
    let distill = kd.as_ref().map(|(targets, cfg)| Distill { targets, cfg: cfg.clone() });
    let (best, log) = fit_distilled(
        &net,
        &prep.ctx,
        &prep.train,
        &prep.val,
        &prep.time_norm,
        &model_cfg,
        tc,
        &dev,
        Some(&a.out),
        true,
        distill.as_ref(),
    )?;
    let test = if prep.test.is_empty() {
        None
    } else {
        let graph = GraphTensors::new(&prep.ctx, &dev.clone().without_autodiff());
        Some(evaluate(&best, &net, &prep.ctx, &graph, &prep.test, &prep.time_norm, tc.batch)?)
    };
    let training = json!({
        "train_files": a.data.files(),
        "trajectories": all.len(),
        "val_frac": a.data.val_frac,
        "test_frac": a.data.test_frac,
        "zones_requested": a.zones,
        "zones": prep.zones.k,
        "split": {
            "train": {"trajectories": prep.train_ix.len(), "samples": prep.train.len()},
            "val": {"trajectories": prep.val_ix.len(), "samples": prep.val.len()},
            "test": {"trajectories": prep.test_ix.len(), "samples": prep.test.len()},
        },
        "prepare_report": prep.report,
        "train_config": tc,
        "model_config": model_cfg,
        "parameters": best.num_params(),
        "device": a.run.device,
        "best_epoch": log.best_epoch,
        "best_val_acc": log.best_val_acc,
        "test": test,
        "steps": log.steps,
        "seconds": log.seconds,
        "distillation": kd.as_ref().map(|(t, c)| json!({"teacher": a.teacher, "config": c, "targets": t.stats})),
    });
    let meta = BundleMeta { network: NetworkFingerprint::of(&net), time_norm: prep.time_norm, training };
    save_bundle(&a.out, &best, &prep.ctx, &meta)?;
    write_json(&a.out.join("train-log.json"), &log)?;
    let png = a.out.join("training.png");
    if let Err(e) = plot(&png, &log) {
        eprintln!("warning: no training curves: {e:#}");
    }
    print_table(&log);
    let test_txt = test.map_or(String::new(), |t| format!("; test acc {:.4}, time MAPE {:.4}", t.acc, t.time_mape));
    println!(
        "best epoch {}: val acc {:.4}{test_txt}; {} steps, {:.3} s per training step, {:.1} s in all; {} parameters",
        log.best_epoch,
        log.best_val_acc,
        log.steps,
        log.epochs.iter().map(|e| e.train_seconds).sum::<f64>() / log.steps.max(1) as f64,
        log.seconds,
        best.num_params()
    );
    println!("wrote {0}/model.bpk, context.json, meta.json, train-log.json, training.png, train.csv, val.csv, test.csv", a.out.display());
    Ok(())
}

fn print_table(log: &TrainLog) {
    println!(
        "{:>5} {:>9} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>9} | {:>9} {:>7}",
        "epoch", "loss", "ce", "time", "acc", "val acc", "val ce", "val MAPE", "lr end", "secs"
    );
    for e in &log.epochs {
        let best = if e.epoch == log.best_epoch { " *" } else { "" };
        println!(
            "{:>5} {:>9.4} {:>8.4} {:>8.4} {:>8.4} | {:>8.4} {:>8.4} {:>9.4} | {:>9.2e} {:>7.1}{best}",
            e.epoch,
            e.train_loss,
            e.train_ce,
            e.train_time_loss,
            e.train_acc,
            e.val_acc,
            e.val_ce,
            e.val_time_mape.unwrap_or(f64::NAN),
            e.lr_end,
            e.seconds
        );
    }
}

fn plot(path: &Path, log: &TrainLog) -> Result<()> {
    let col = |f: &dyn Fn(&urbancast_traj::train::EpochLog) -> f64| log.epochs.iter().map(|e| f(e) as f32).collect::<Vec<_>>();
    let panels = [
        SeriesPanel {
            title: "loss, epoch means (black: training total = ce + time [+ λ·kd])".into(),
            truth: col(&|e| e.train_loss),
            preds: vec![
                ("train ce".into(), col(&|e| e.train_ce)),
                ("train time".into(), col(&|e| e.train_time_loss)),
                ("val ce".into(), col(&|e| e.val_ce)),
                ("val time MAPE".into(), col(&|e| e.val_time_mape.unwrap_or(f64::NAN))),
                ("train kd (before λ)".into(), col(&|e| e.train_kd.unwrap_or(f64::NAN))),
            ],
        },
        SeriesPanel {
            title: "next-step accuracy (black: validation)".into(),
            truth: col(&|e| e.val_acc),
            preds: vec![("train".into(), col(&|e| e.train_acc))],
        },
    ];
    series_plot(path, "urbancast traj train", &panels, "epoch − 1", "")
}
