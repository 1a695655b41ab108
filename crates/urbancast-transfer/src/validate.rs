//! `validate()` of the transfer settings: [`Settings`] with its parts [`Protocol`]
//! (`protocol.`), [`TrainConfig`] (`pretrain.`, `target_train.`) and [`StbatConfig`]
//! (`stbat.`). Messages name the key and the allowed range, e.g.
//! `pretrain.batch must be at least 1 (got 0)`.
//!
//! [`Protocol`]: urbancast_data::prep::Protocol
use anyhow::Result;
use urbancast_check::Checker;

use crate::runner::Settings;
use crate::stbat::StbatConfig;
use crate::train::TrainConfig;

impl Settings {
    /// Checks every part: the protocol, both training configurations, the ST-net widths
    /// (`conv_channels`, `hidden`, `head_hidden ≥ 1`) and STBaT's settings.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`Settings::validate`] with keys prefixed by `prefix` (e.g. `"settings."` for the table
    /// of a run file).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        self.protocol.validate_at(&c.nested("protocol"))?;
        self.pretrain.validate_at(&c.nested("pretrain"))?;
        self.target_train.validate_at(&c.nested("target_train"))?;
        c.at_least("conv_channels", self.conv_channels, 1)?;
        c.at_least("hidden", self.hidden, 1)?;
        c.at_least("head_hidden", self.head_hidden, 1)?;
        self.stbat.validate_at(&c.nested("stbat"))?;
        self.tsjt.train.validate_at(&c.nested("tsjt.train"))?;
        self.tsjt.skew.validate_at(&c.nested("tsjt.skew"))?;
        Ok(())
    }
}

impl TrainConfig {
    /// Checks the ranges: `lr` and `clip_norm` finite and `> 0`, `weight_decay ≥ 0`, `batch`
    /// and `max_epochs ≥ 1` (0 epochs would save an untrained model); `patience` 0 means no
    /// early stopping.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`TrainConfig::validate`] with keys prefixed by `prefix` (e.g. `"pretrain."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.positive("lr", self.lr)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        c.in_range("beta1", self.beta1, 0.0..1.0)?;
        c.in_range("beta2", self.beta2, 0.0..1.0)?;
        c.positive("eps", self.eps)?;
        c.at_least("batch", self.batch, 1)?;
        c.positive("clip_norm", self.clip_norm)?;
        c.at_least("max_epochs", self.max_epochs, 1)?;
        Ok(())
    }
}

impl StbatConfig {
    /// Checks the ranges: `embed_dim`, `head_hidden`, `proj_dim ≥ 1`, `beta`, `dcl_weight ≥ 0`,
    /// `bandwidth`, `tau`, `riam_lr > 0`, all finite.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`StbatConfig::validate`] with keys prefixed by `prefix` (e.g. `"stbat."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.at_least("embed_dim", self.embed_dim, 1)?;
        c.non_negative("beta", self.beta)?;
        c.positive("bandwidth", self.bandwidth)?;
        c.positive("tau", self.tau)?;
        c.non_negative("dcl_weight", self.dcl_weight)?;
        c.at_least("head_hidden", self.head_hidden, 1)?;
        c.at_least("proj_dim", self.proj_dim, 1)?;
        c.positive("riam_lr", self.riam_lr)?;
        Ok(())
    }
}
