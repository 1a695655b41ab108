//! `urbancast traj teacher`: trains the LM-TAD teacher (a causal transformer over grid-cell
//! tokens) on trajectories (HOSER CSV) with `urbancast_traj::pipeline::teacher` and prints
//! what it did.
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::Deserialize;
use urbancast_train::outdir::prepare;
use urbancast_traj::lmtad::{CONFIG_FILE, GRID_FILE, LmTadConfig, LmTadTrainConfig, WEIGHTS_FILE};
use urbancast_traj::pipeline::{prepare_teacher, train_teacher};

use super::common::{LoopArgs, TrajData};
use crate::args::{Overrides, merged, set};

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

impl Overrides<FileConfig> for Args {
    fn apply(&self, c: &mut FileConfig) -> Result<()> {
        if c.model.vocab_size != 0 || c.model.pad_token != 0 {
            let p = self.config.as_deref().unwrap_or("--config".as_ref()).display();
            bail!("{p}: [model] vocab_size and pad_token come from the grid (--cell-deg); remove them");
        }
        let m = &mut c.model;
        set(&mut m.n_layer, &self.layers);
        set(&mut m.n_head, &self.heads);
        set(&mut m.n_embd, &self.dim);
        set(&mut m.block_size, &self.block);
        set(&mut m.dropout, &self.dropout);
        let t = &mut c.train;
        self.run.apply(&mut t.epochs, &mut t.batch, &mut t.lr, &mut t.seed, &mut t.max_batches_per_epoch);
        t.validate_at("train.")?;
        Ok(())
    }
}

pub fn run(a: Args) -> Result<()> {
    let cfg: FileConfig = merged(a.config.as_deref(), "an LM-TAD configuration (tables [model] and [train])", &a)?;
    let (net, all) = a.data.load()?;
    let tc = &cfg.train;
    let data = prepare_teacher(&net, &all, a.data.val_frac, a.data.test_frac, tc.seed, a.cell_deg, &cfg.model)?;
    let dev = a.run.device.get()?;
    let grid = &data.grid;
    outln!(
        "`{}`: {} roads; grid {} × {} cells of {}° → vocabulary {} tokens; {} trajectories from {} file(s) → {} / {} / {} (train / val / test); {:.1} tokens per training trajectory",
        net.name,
        net.len(),
        grid.cols,
        grid.rows,
        grid.cell_deg,
        grid.vocab_size(),
        all.len(),
        a.data.train.len(),
        data.train_ix.len(),
        data.val_ix.len(),
        data.test_ix.len(),
        data.tokens_per_train_seq()
    )?;
    let reuse = a.run.out.reuse();
    let settings = serde_json::json!({ "model": data.model_cfg, "train": tc, "cell_deg": a.cell_deg,
        "val_frac": a.data.val_frac, "test_frac": a.data.test_frac, "network_seed": a.data.net.network_seed });
    prepare(&a.out, "traj teacher", &[a.data.input_paths(), a.config.iter().cloned().collect()].concat(), &settings, reuse)?;
    let mut inputs = a.data.inputs(&a.run.device);
    inputs.resume = reuse.resume;
    let (model, log) = train_teacher(&net, &all, &data, tc, &dev, &a.out, &inputs)?;
    outln!("{}", log.table().trim_end())?;
    if log.truncated > 0 {
        outln!(
            "{} training / validation sequences were longer than --block + 1 = {} tokens and were truncated",
            log.truncated,
            data.model_cfg.block_size + 1
        )?;
    }
    outln!(
        "best epoch {}: val loss {:.4} (perplexity {:.2}); {} steps, {:.3} s per step (validation included), {:.1} s in all; {} parameters",
        log.best_epoch,
        log.best_val_loss,
        log.best_val_loss.exp(),
        log.steps,
        log.seconds / log.steps.max(1) as f64,
        log.seconds,
        model.num_params()
    )?;
    outln!(
        "wrote {0}/{WEIGHTS_FILE}, {CONFIG_FILE}, {GRID_FILE}, meta.json, train-log.json, training.png, train.csv, val.csv, test.csv",
        a.out.display()
    )?;
    Ok(())
}
