//! `urbancast traj train` / `traj distill`: trains the HOSER-style generator on trajectories
//! (HOSER CSV) with `urbancast_traj::pipeline::generator` and prints what it did.
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;
use urbancast_train::outdir::prepare;
use urbancast_traj::kd::KdConfig;
use urbancast_traj::model::HoserConfig;
use urbancast_traj::pipeline::generator::KdInputs;
use urbancast_traj::pipeline::{teacher_targets, train_generator};
use urbancast_traj::train::{TrainConfig, prepare_training, sized_config};

use super::common::{LoopArgs, TrajData};
use crate::args::{Overrides, merged, set};

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

impl Overrides<FileConfig> for Args {
    /// `[train]` under the loop flags; with `--teacher`, `[kd]` (or the preset) under the kd
    /// flags, checked.
    fn apply(&self, c: &mut FileConfig) -> Result<()> {
        let t = &mut c.train;
        self.run.apply(&mut t.epochs, &mut t.batch, &mut t.lr, &mut t.seed, &mut t.max_batches_per_epoch);
        c.model.validate_at("model.")?;
        c.train.validate_at("train.")?;
        if self.teacher.is_none() {
            if c.kd.is_some() || self.kd_lambda.is_some() || self.kd_tau.is_some() || self.kd_window.is_some() {
                bail!("distillation settings given without --teacher");
            }
            return Ok(());
        }
        let k = c
            .kd
            .get_or_insert_with(|| if matches!(self.kd_preset, Some(KdPreset::Beijing)) { KdConfig::beijing() } else { KdConfig::porto() });
        set(&mut k.lambda, &self.kd_lambda);
        set(&mut k.tau, &self.kd_tau);
        set(&mut k.window, &self.kd_window);
        k.all_positions &= !self.kd_last_only;
        k.scale_tau_sq &= !self.kd_no_tau_sq;
        k.validate_at("kd.")
    }
}

pub fn run(a: Args) -> Result<()> {
    let cfg: FileConfig = merged(a.config.as_deref(), "a training configuration (tables [model] and [train])", &a)?;
    let (net, all) = a.data.load()?;
    let tc = &cfg.train;
    let prep = prepare_training(&net, &all, a.zones, tc.seed, a.data.val_frac, a.data.test_frac)?;
    let model_cfg = sized_config(&cfg.model, &prep.ctx)?;
    let r = &prep.report;
    outln!(
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
    )?;
    let transitions: usize = all.iter().map(|t| t.roads.len().saturating_sub(1)).sum();
    if r.broken_transitions * 10 > transitions {
        eprintln!(
            "warning: {} of {transitions} transitions are not road → successor in `{}`: were the trajectories made on another network?",
            r.broken_transitions, net.name
        );
    }
    let dev = a.run.device.get()?;
    let targets = match (&a.teacher, &cfg.kd) {
        (Some(dir), Some(k)) => {
            let targets = teacher_targets(dir, &net, &prep, k)?;
            let st = &targets.stats;
            outln!(
                "teacher {}: {} distilled steps over {} distinct windows in {:.1} s (λ {}, τ {}, w {}, {}, {})",
                dir.display(),
                st.steps,
                st.windows,
                st.seconds,
                k.lambda,
                k.tau,
                k.window,
                if k.all_positions { "every position" } else { "last step only" },
                if k.scale_tau_sq { "τ²·KL" } else { "KL without τ²" }
            )?;
            Some(targets)
        }
        _ => None,
    };
    let kd = a.teacher.as_deref().zip(targets.as_ref()).zip(cfg.kd.as_ref()).map(|((teacher_dir, targets), cfg)| KdInputs {
        teacher_dir,
        targets,
        cfg,
    });
    let reuse = a.run.out.reuse();
    let settings = serde_json::json!({ "model": cfg.model, "train": cfg.train, "kd": cfg.kd, "zones": a.zones, "teacher": a.teacher,
        "val_frac": a.data.val_frac, "test_frac": a.data.test_frac, "network_seed": a.data.net.network_seed });
    prepare(&a.out, "traj train", &[a.data.input_paths(), a.config.iter().cloned().collect()].concat(), &settings, reuse)?;
    let mut inputs = a.data.inputs(&a.run.device);
    inputs.resume = reuse.resume;
    let data = urbancast_traj::pipeline::GeneratorData { net: &net, all: &all, prep: &prep, zones_requested: a.zones };
    let o = train_generator(data, &model_cfg, tc, &dev, &a.out, &inputs, kd)?;
    let log = &o.log;
    outln!("{}", log.table().trim_end())?;
    let test_txt = o.test.map_or(String::new(), |t| format!("; test acc {:.4}, time MAPE {:.4}", t.acc, t.time_mape));
    outln!(
        "best epoch {}: val acc {:.4}{test_txt}; {} steps, {:.3} s per training step, {:.1} s in all; {} parameters",
        log.best_epoch,
        log.best_val_acc,
        log.steps,
        log.epochs.iter().map(|e| e.train_seconds).sum::<f64>() / log.steps.max(1) as f64,
        log.seconds,
        o.model.num_params()
    )?;
    outln!("wrote {0}/model.bpk, context.json, meta.json, train-log.json, training.png, train.csv, val.csv, test.csv", a.out.display())?;
    Ok(())
}
