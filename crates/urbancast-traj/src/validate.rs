//! `validate()` of this crate's settings structs: the generator ([`HoserConfig`]) and its
//! training ([`TrainConfig`]), the LM-TAD teacher ([`LmTadConfig`]) and its training
//! ([`LmTadTrainConfig`]), and distillation ([`KdConfig`]). Each has `validate_at(prefix)` for
//! keys as the user writes them, e.g. `train.epochs must be at least 1 (got 0)` with the prefix
//! `train.` of a `[train]` table; `validate()` uses no prefix.
use std::ops::Bound::{Excluded, Unbounded};

use anyhow::Result;
use urbancast_check::Checker;

use crate::kd::KdConfig;
use crate::lmtad::{LmTadConfig, LmTadTrainConfig};
use crate::model::HoserConfig;
use crate::train::TrainConfig;

impl HoserConfig {
    /// Checks the sizes: every width, head and layer count `≥ 1`, `gat_heads` dividing the
    /// hidden width, `traj_heads` dividing the model width, the clips `> 0`, `time_weight ≥ 0`.
    /// `num_roads`, `num_classes` and `num_zones` may be 0 (taken from the road context).
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`HoserConfig::validate`] with keys prefixed by `prefix` (e.g. `"model."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        for (name, v) in [
            ("road_id_dim", self.road_id_dim),
            ("len_dim", self.len_dim),
            ("class_dim", self.class_dim),
            ("lon_dim", self.lon_dim),
            ("lat_dim", self.lat_dim),
            ("gat_heads", self.gat_heads),
            ("gat_layers", self.gat_layers),
            ("gcn_layers", self.gcn_layers),
            ("fusion_hidden", self.fusion_hidden),
            ("traj_heads", self.traj_heads),
            ("traj_layers", self.traj_layers),
            ("ffn_mult", self.ffn_mult),
            ("nav_dim", self.nav_dim),
            ("time_hidden", self.time_hidden),
        ] {
            c.at_least(name, v, 1)?;
        }
        let (hidden, d) = (self.hidden(), self.model_dim());
        c.ensure(
            hidden.is_multiple_of(self.gat_heads),
            "gat_heads",
            format!("must divide the hidden width {hidden} (got {})", self.gat_heads),
        )?;
        c.ensure(d.is_multiple_of(self.traj_heads), "traj_heads", format!("must divide the model width {d} (got {})", self.traj_heads))?;
        c.positive("dist_clip_km", self.dist_clip_km)?;
        c.positive("dt_clip_min", self.dt_clip_min)?;
        c.non_negative("time_weight", self.time_weight)?;
        Ok(())
    }
}

impl TrainConfig {
    /// Checks the ranges: `epochs` and `batch ≥ 1`, `lr` finite and `> 0`, `weight_decay` and
    /// `clip_norm ≥ 0` (0: no clipping), `warmup_frac` in `[0, 1]`, and, when set,
    /// `max_batches_per_epoch`, `val_batches` and `patience ≥ 1` (0 batches per epoch would
    /// save an untrained model).
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`TrainConfig::validate`] with keys prefixed by `prefix` (e.g. `"train."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.at_least("epochs", self.epochs, 1)?;
        c.at_least("batch", self.batch, 1)?;
        c.positive("lr", self.lr)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        c.unit("warmup_frac", self.warmup_frac)?;
        c.non_negative("clip_norm", self.clip_norm)?;
        c.at_least_if_set("max_batches_per_epoch", self.max_batches_per_epoch, 1)?;
        c.at_least_if_set("val_batches", self.val_batches, 1)?;
        c.at_least_if_set("patience", self.patience, 1)?;
        Ok(())
    }
}

impl LmTadConfig {
    /// Checks the sizes: `vocab_size ≥ 1` (set from the grid), `pad_token < vocab_size`,
    /// `n_layer`, `n_head`, `n_embd`, `block_size ≥ 1`, `n_head` dividing `n_embd`, `dropout`
    /// in `[0, 1)`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`LmTadConfig::validate`] with keys prefixed by `prefix` (e.g. `"model."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.ensure(self.vocab_size > 0, "vocab_size", "must be at least 1 (got 0): take it from the grid")?;
        c.in_range("pad_token", self.pad_token as usize, 0..self.vocab_size)?;
        c.at_least("n_layer", self.n_layer, 1)?;
        c.at_least("n_head", self.n_head, 1)?;
        c.at_least("n_embd", self.n_embd, 1)?;
        c.at_least("block_size", self.block_size, 1)?;
        c.ensure(self.n_embd.is_multiple_of(self.n_head), "n_head", format!("must divide n_embd = {} (got {})", self.n_embd, self.n_head))?;
        c.in_range("dropout", self.dropout, 0.0..1.0)?;
        Ok(())
    }
}

impl LmTadTrainConfig {
    /// Checks the ranges: `epochs` and `batch ≥ 1`, `lr` finite and `> 0`, `min_lr` in
    /// `[0, lr]`, `warmup_frac` in `[0, 1]`, `weight_decay` and `clip_norm ≥ 0` (0: no
    /// clipping), `beta1` and `beta2` in `[0, 1)`, `max_batches_per_epoch ≥ 1` when set (0 would
    /// save an untrained model).
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`LmTadTrainConfig::validate`] with keys prefixed by `prefix` (e.g. `"train."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.at_least("epochs", self.epochs, 1)?;
        c.at_least("batch", self.batch, 1)?;
        c.positive("lr", self.lr)?;
        c.in_range("min_lr", self.min_lr, 0.0..=self.lr)?;
        c.unit("warmup_frac", self.warmup_frac)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        c.in_range("beta1", self.beta1, 0.0..1.0)?;
        c.in_range("beta2", self.beta2, 0.0..1.0)?;
        c.non_negative("clip_norm", self.clip_norm)?;
        c.at_least_if_set("max_batches_per_epoch", self.max_batches_per_epoch, 1)?;
        Ok(())
    }
}

impl KdConfig {
    /// Checks the ranges: `lambda` finite and `≥ 0`, `tau` finite and `> 0`, `window` and
    /// `teacher_batch ≥ 1`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`KdConfig::validate`] with keys prefixed by `prefix` (e.g. `"kd."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.non_negative("lambda", self.lambda)?;
        c.in_range("tau", self.tau, (Excluded(0.0), Unbounded))?;
        c.at_least("window", self.window, 1)?;
        c.at_least("teacher_batch", self.teacher_batch, 1)?;
        Ok(())
    }
}
