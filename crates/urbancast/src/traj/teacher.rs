//! `urbancast traj teacher`: trains the LM-TAD teacher (a causal transformer over grid-cell
//! tokens, `urbancast_traj::lmtad`) on trajectories (HOSER CSV) and writes the teacher folder
//! (weights, `config.json`, `grid.json`, `meta.json`), the training log and curves, and the data
//! splits — the same split as `urbancast traj train` for the same files, fractions and seed.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::json;
use urbancast_eval::plot_series::{SeriesPanel, series_plot};
use urbancast_roads::io::write_hoser_csv;
use urbancast_roads::{RoadNetwork, Trajectory};
use urbancast_traj::bundle::NetworkFingerprint;
use urbancast_traj::lmtad::{
    CONFIG_FILE, CellGrid, GRID_FILE, LmTad, LmTadConfig, LmTadTrainConfig, LmTadTrainLog, Tokenizer, WEIGHTS_FILE, fit, load_lmtad_dir,
    save_lmtad_dir,
};
use urbancast_traj::train::split_indices;
use urbancast_transfer::device;

use super::common::{LoopArgs, TrajData, write_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub data: TrajData,
    #[command(flatten)]
    pub run: LoopArgs,
    /// Grid cell side in degrees (the vocabulary: one token per cell, plus PAD / SOT / EOT).
    #[arg(long, default_value_t = urbancast_traj::lmtad::DEFAULT_CELL_DEG)]
    pub cell_deg: f64,
    /// Transformer blocks (overrides the config file).
    #[arg(long)]
    pub layers: Option<usize>,
    /// Attention heads; must divide --dim (overrides the config file).
    #[arg(long)]
    pub heads: Option<usize>,
    /// Model width (overrides the config file).
    #[arg(long)]
    pub dim: Option<usize>,
    /// Most positions attended over; longer training sequences are truncated (overrides the
    /// config file).
    #[arg(long)]
    pub block: Option<usize>,
    /// Dropout probability during training (overrides the config file).
    #[arg(long)]
    pub dropout: Option<f64>,
    /// TOML with optional tables `[model]` (fields of LmTadConfig but vocab_size / pad_token,
    /// which come from the grid) and `[train]` (fields of LmTadTrainConfig); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output folder: lmtad.bpk, config.json, grid.json, meta.json, train-log.json,
    /// training.png, train.csv, val.csv, test.csv.
    #[arg(long, default_value = "runs/lmtad")]
    pub out: PathBuf,
}

/// The `--config` file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    model: LmTadConfig,
    train: LmTadTrainConfig,
}

/// `meta.json` of a teacher folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TeacherMeta {
    pub network: NetworkFingerprint,
    /// Free-form facts about the training run (files, split, configs, losses, timings).
    pub training: serde_json::Value,
}

/// Loads a teacher folder written by `traj teacher` and checks that `net` is the network it
/// was trained on.
pub(crate) fn load_teacher(dir: &Path, net: &RoadNetwork, device: &Device) -> Result<(LmTad, Tokenizer, TeacherMeta)> {
    let expect = format!("{WEIGHTS_FILE}, {CONFIG_FILE}, {GRID_FILE}, meta.json written by `urbancast traj teacher`");
    if !dir.is_dir() {
        bail!("{}: no such teacher folder (expected {expect})", dir.display());
    }
    let mp = dir.join("meta.json");
    let text = std::fs::read_to_string(&mp)
        .with_context(|| format!("{}: cannot read: not a teacher folder? (expected {expect})", mp.display()))?;
    let meta: TeacherMeta = serde_json::from_str(&text).with_context(|| format!("{}: not a teacher meta file", mp.display()))?;
    meta.network.ensure_matches(net, dir, "the teacher")?;
    let (model, grid) = load_lmtad_dir(dir, device).with_context(|| format!("loading the LM-TAD teacher {}", dir.display()))?;
    let tok = Tokenizer::new(grid, net).with_context(|| format!("{}: grid vs network `{}`", dir.display(), net.name))?;
    Ok((model, tok, meta))
}

fn load_config(a: &Args) -> Result<FileConfig> {
    let mut c: FileConfig = match &a.config {
        Some(p) => toml::from_str(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
            .with_context(|| format!("{}: not an LM-TAD configuration (tables [model] and [train])", p.display()))?,
        None => FileConfig::default(),
    };
    if c.model.vocab_size != 0 || c.model.pad_token != 0 {
        let p = a.config.as_deref().unwrap_or(Path::new("--config")).display();
        bail!("{p}: [model] vocab_size and pad_token come from the grid (--cell-deg); remove them");
    }
    let m = &mut c.model;
    m.n_layer = a.layers.unwrap_or(m.n_layer);
    m.n_head = a.heads.unwrap_or(m.n_head);
    m.n_embd = a.dim.unwrap_or(m.n_embd);
    m.block_size = a.block.unwrap_or(m.block_size);
    m.dropout = a.dropout.unwrap_or(m.dropout);
    let t = &mut c.train;
    a.run.apply(&mut t.epochs, &mut t.batch, &mut t.lr, &mut t.seed, &mut t.max_batches_per_epoch);
    t.validate_at("train.")?;
    Ok(c)
}

pub fn run(a: Args) -> Result<()> {
    let cfg = load_config(&a)?;
    let (net, all) = a.data.load()?;
    let tc = &cfg.train;
    let (train_ix, val_ix, test_ix) = split_indices(all.len(), a.data.val_frac, a.data.test_frac, tc.seed).with_context(|| {
        format!("splitting {} trajectories (--val-frac {}, --test-frac {})", all.len(), a.data.val_frac, a.data.test_frac)
    })?;
    if train_ix.is_empty() || val_ix.is_empty() {
        bail!(
            "{} trajectories split into {} / {} / {} (train / val / test): training and validation both need trajectories (the best epoch is chosen on validation)",
            all.len(),
            train_ix.len(),
            val_ix.len(),
            test_ix.len()
        );
    }
    let grid = CellGrid::new(&net, a.cell_deg).context("--cell-deg")?;
    let tok = Tokenizer::new(grid.clone(), &net)?;
    let encode = |ix: &[usize]| -> Result<Vec<Vec<u32>>> {
        let part: Vec<Trajectory> = ix.iter().map(|&i| all[i].clone()).collect();
        tok.encode_all(&net, &part)
    };
    let (train_seqs, val_seqs) = (encode(&train_ix)?, encode(&val_ix)?);
    let model_cfg = LmTadConfig { vocab_size: grid.vocab_size(), pad_token: grid.pad(), ..cfg.model.clone() };
    model_cfg.validate_at("model.")?;
    let dev = device::by_name(&a.run.device)?;

    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    for (name, ix) in [("train.csv", &train_ix), ("val.csv", &val_ix), ("test.csv", &test_ix)] {
        let part: Vec<Trajectory> = ix.iter().map(|&i| all[i].clone()).collect();
        let p = a.out.join(name);
        write_hoser_csv(&p, &part).with_context(|| format!("writing {}", p.display()))?;
    }
    let tokens: usize = train_seqs.iter().map(Vec::len).sum();
    println!(
        "`{}`: {} roads; grid {} × {} cells of {}° → vocabulary {} tokens; {} trajectories from {} file(s) → {} / {} / {} (train / val / test); {:.1} tokens per training trajectory",
        net.name,
        net.len(),
        grid.cols,
        grid.rows,
        grid.cell_deg,
        grid.vocab_size(),
        all.len(),
        a.data.train.len(),
        train_ix.len(),
        val_ix.len(),
        test_ix.len(),
        tokens as f64 / train_seqs.len() as f64
    );
    let (model, log) = fit(&train_seqs, &val_seqs, &model_cfg, tc, &dev, true)?;
    let secs_per_step = log.seconds / log.steps.max(1) as f64;
    let training = json!({
        "train_files": a.data.files(),
        "trajectories": all.len(),
        "val_frac": a.data.val_frac,
        "test_frac": a.data.test_frac,
        "seed": tc.seed,
        "split": {"train": train_ix.len(), "val": val_ix.len(), "test": test_ix.len()},
        "cell_deg": grid.cell_deg,
        "grid": {"cols": grid.cols, "rows": grid.rows},
        "vocab_size": grid.vocab_size(),
        "model_config": model_cfg,
        "train_config": tc,
        "parameters": model.num_params(),
        "device": a.run.device,
        "best_epoch": log.best_epoch,
        "best_val_loss": log.best_val_loss,
        "final_train_loss": log.epochs.last().map(|e| e.train_loss),
        "steps": log.steps,
        "truncated": log.truncated,
        "seconds": log.seconds,
        "seconds_per_step": secs_per_step,
    });
    save_lmtad_dir(&a.out, &model, &grid)?;
    write_json(&a.out.join("meta.json"), &TeacherMeta { network: NetworkFingerprint::of(&net), training })?;
    write_json(&a.out.join("train-log.json"), &log)?;
    let png = a.out.join("training.png");
    if let Err(e) = plot(&png, &log) {
        eprintln!("warning: no training curves: {e:#}");
    }
    print_table(&log);
    if log.truncated > 0 {
        println!(
            "{} training / validation sequences were longer than --block + 1 = {} tokens and were truncated",
            log.truncated,
            model_cfg.block_size + 1
        );
    }
    println!(
        "best epoch {}: val loss {:.4} (perplexity {:.2}); {} steps, {:.3} s per step (validation included), {:.1} s in all; {} parameters",
        log.best_epoch,
        log.best_val_loss,
        log.best_val_loss.exp(),
        log.steps,
        secs_per_step,
        log.seconds,
        model.num_params()
    );
    println!(
        "wrote {0}/{WEIGHTS_FILE}, {CONFIG_FILE}, {GRID_FILE}, meta.json, train-log.json, training.png, train.csv, val.csv, test.csv",
        a.out.display()
    );
    Ok(())
}

fn print_table(log: &LmTadTrainLog) {
    println!("{:>5} {:>10} {:>10} {:>9} {:>6} {:>7}", "epoch", "train loss", "val loss", "lr end", "steps", "secs");
    for e in &log.epochs {
        let best = if e.epoch == log.best_epoch { " *" } else { "" };
        println!("{:>5} {:>10.4} {:>10.4} {:>9.2e} {:>6} {:>7.1}{best}", e.epoch, e.train_loss, e.val_loss, e.lr_end, e.steps, e.seconds);
    }
}

fn plot(path: &Path, log: &LmTadTrainLog) -> Result<()> {
    let col = |f: &dyn Fn(&urbancast_traj::lmtad::LmTadEpochLog) -> f64| log.epochs.iter().map(|e| f(e) as f32).collect::<Vec<_>>();
    let panels = [
        SeriesPanel {
            title: "cross entropy per token, epoch means (black: validation)".into(),
            truth: col(&|e| e.val_loss),
            preds: vec![("train".into(), col(&|e| e.train_loss))],
        },
        SeriesPanel { title: "training loss of every step".into(), truth: log.step_losses.clone(), preds: vec![] },
    ];
    series_plot(path, "urbancast traj teacher (LM-TAD)", &panels, "epoch − 1 (top), step − 1 (bottom)", "")
}
