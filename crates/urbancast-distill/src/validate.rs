//! `validate()` of the LightST settings: [`LightstConfig`] and its parts [`TeacherSettings`]
//! (`teacher.`), [`StudentSettings`] (`student.`), [`TrainConfig`] (`teacher_train.`,
//! `student_train.`) and [`DistillConfig`] (`distill.`). Messages name the key and the allowed
//! range, e.g. `teacher_train.max_epochs must be at least 1 (got 0)`.
use anyhow::Result;
use urbancast_check::Checker;

use crate::config::{DistillConfig, LightstConfig, StudentSettings, TeacherSettings};
use crate::losses::KdForm;
use crate::train::TrainConfig;

impl LightstConfig {
    /// Checks every part (see their `validate`).
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`LightstConfig::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        self.teacher.validate_at(&c.nested("teacher"))?;
        self.student.validate_at(&c.nested("student"))?;
        self.teacher_train.validate_at(&c.nested("teacher_train"))?;
        self.student_train.validate_at(&c.nested("student_train"))?;
        self.distill.validate_at(&c.nested("distill"))?;
        Ok(())
    }
}

impl TeacherSettings {
    /// Checks the sizes: `node_dim`, `top_k`, `gcn_depth`, the channel widths and `layers ≥ 1`,
    /// `conv_channels` a multiple of 4 (the inception kernels), `dropout` in `[0, 1)`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`TeacherSettings::validate`] with keys prefixed by `prefix` (e.g. `"teacher."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        for (name, v) in [
            ("node_dim", self.node_dim),
            ("top_k", self.top_k),
            ("gcn_depth", self.gcn_depth),
            ("conv_channels", self.conv_channels),
            ("residual_channels", self.residual_channels),
            ("skip_channels", self.skip_channels),
            ("end_channels", self.end_channels),
            ("layers", self.layers),
        ] {
            c.at_least(name, v, 1)?;
        }
        let cc = self.conv_channels;
        c.ensure(cc.is_multiple_of(4), "conv_channels", format!("must be a multiple of 4, one share per inception kernel (got {cc})"))?;
        c.in_range("dropout", self.dropout, 0.0..1.0)?;
        Ok(())
    }
}

impl StudentSettings {
    /// Checks the sizes: `embed_dim`, `node_dim`, `tod_dim`, `dow_dim`, `layers ≥ 1`, `dropout`
    /// in `[0, 1)`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`StudentSettings::validate`] with keys prefixed by `prefix` (e.g. `"student."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        for (name, v) in [
            ("embed_dim", self.embed_dim),
            ("node_dim", self.node_dim),
            ("tod_dim", self.tod_dim),
            ("dow_dim", self.dow_dim),
            ("layers", self.layers),
        ] {
            c.at_least(name, v, 1)?;
        }
        c.in_range("dropout", self.dropout, 0.0..1.0)?;
        Ok(())
    }
}

impl TrainConfig {
    /// Checks the ranges: `lr`, `clip_norm` and `lr_decay` finite and `> 0`,
    /// `weight_decay ≥ 0`, `batch`, `max_epochs` and `patience ≥ 1` (0 epochs would save an
    /// untrained model).
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`TrainConfig::validate`] with keys prefixed by `prefix` (e.g. `"teacher_train."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.positive("lr", self.lr)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        c.at_least("batch", self.batch, 1)?;
        c.positive("clip_norm", self.clip_norm)?;
        c.at_least("max_epochs", self.max_epochs, 1)?;
        c.at_least("patience", self.patience, 1)?;
        c.positive("lr_decay", self.lr_decay)?;
        Ok(())
    }
}

impl DistillConfig {
    /// Checks the ranges: `kd.temperature`, `tau`, `adaptive_tau` finite and `> 0`, `kd_weight`
    /// and `rep_weight ≥ 0`, `pos_threshold` a cosine similarity in `[-1, 1]`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`DistillConfig::validate`] with keys prefixed by `prefix` (e.g. `"distill."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        if let KdForm::Kl { temperature } = self.kd {
            c.positive("kd.temperature", temperature)?;
        }
        c.non_negative("kd_weight", self.kd_weight)?;
        c.non_negative("rep_weight", self.rep_weight)?;
        c.positive("tau", self.tau)?;
        c.in_range("pos_threshold", self.pos_threshold, -1.0..=1.0)?;
        c.positive("adaptive_tau", self.adaptive_tau)?;
        Ok(())
    }
}
