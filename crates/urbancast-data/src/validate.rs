//! `validate()` of the settings structs of this crate that have no checks of their own next to
//! them: [`Protocol`], [`GraphProtocol`] and [`SyntheticGraphConfig`]. Messages name the key
//! (with the caller's prefix) and the allowed range, see [`urbancast_check`].
use std::ops::Bound::{Excluded, Included};

use urbancast_check::Checker;

use crate::error::Result;
use crate::graph::{GraphProtocol, SyntheticGraphConfig};
use crate::prep::Protocol;

impl Protocol {
    /// Checks the ranges: `lags ≥ 1`, `percentile` in `(0, 1]`, `source_train_frac`,
    /// `short_test_frac` and `short_val_frac` in `(0, 1)` (the short fractions together below 1),
    /// `test_days` and `val_days ≥ 1`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`Protocol::validate`] with keys prefixed by `prefix` (e.g. `"protocol."`).
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.at_least("lags", self.lags, 1)?;
        c.in_range("percentile", self.percentile, (Excluded(0.0), Included(1.0)))?;
        c.open_fraction("source_train_frac", self.source_train_frac)?;
        c.at_least("test_days", self.test_days, 1)?;
        c.at_least("val_days", self.val_days, 1)?;
        c.open_fraction("short_test_frac", self.short_test_frac)?;
        c.open_fraction("short_val_frac", self.short_val_frac)?;
        let sum = self.short_test_frac + self.short_val_frac;
        c.ensure(sum < 1.0, "short_val_frac", format!("plus short_test_frac must be below 1 (got {sum})"))?;
        Ok(())
    }
}

impl GraphProtocol {
    /// Checks the ranges: `input_len` and `horizon ≥ 1`, `train_frac` in `(0, 1]`, `val_frac`
    /// in `[0, 1)`, `train_frac + val_frac ≤ 1`, at least one target feature.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`GraphProtocol::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.at_least("input_len", self.input_len, 1)?;
        c.at_least("horizon", self.horizon, 1)?;
        c.in_range("train_frac", self.train_frac, (Excluded(0.0), Included(1.0)))?;
        c.in_range("val_frac", self.val_frac, 0.0..1.0)?;
        let sum = self.train_frac + self.val_frac;
        c.ensure(sum <= 1.0 + 1e-9, "val_frac", format!("plus train_frac must be at most 1 (got {sum})"))?;
        c.ensure(!self.targets.is_empty(), "targets", "must name at least one feature (got none)")?;
        Ok(())
    }
}

impl SyntheticGraphConfig {
    /// Checks the ranges: `nodes` and `days ≥ 1`, `interval_min` a divisor of 1440. Keys are
    /// prefixed `synthetic graph: `.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("synthetic graph: ")
    }

    /// [`SyntheticGraphConfig::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.at_least("nodes", self.nodes, 1)?;
        c.at_least("days", self.days, 1)?;
        let iv = self.interval_min;
        c.ensure(iv > 0 && 1440 % iv == 0, "interval_min", format!("must divide a day of 1440 minutes (got {iv})"))?;
        Ok(())
    }
}
