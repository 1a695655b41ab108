//! TSJT's command-line options (shared by `transfer` and the experiments that run TSJT).
use anyhow::Result;
use urbancast_transfer::tsjt::{SkewRule, TsjtConfig};

use crate::args::{Overrides, set};

/// TSJT options (they apply to `tsjt` and `joint-no-skew`).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct TsjtArgs {
    /// TSJT: how a source gradient is judged against the target's: global (one cosine over all
    /// parameters, the public code's, default), per-tensor, or elementwise (keep the source
    /// elements whose product with the target's is positive).
    #[arg(long, value_name = "RULE", value_parser = SkewRule::parse)]
    pub tsjt_rule: Option<SkewRule>,
    /// TSJT: weight γ1 of the target gradient (default 0.2).
    #[arg(long, value_name = "G")]
    pub tsjt_gamma_target: Option<f32>,
    /// TSJT: weight γ2 of the source gradient (default 1e-3).
    #[arg(long, value_name = "G")]
    pub tsjt_gamma_source: Option<f32>,
    /// TSJT: cap on joint-training epochs (default 100; an epoch is a pass over the pooled
    /// source samples; early stopping on the target's validation days ends it).
    #[arg(long, value_name = "N")]
    pub tsjt_epochs: Option<usize>,
    /// TSJT: epochs without a better target validation RMSE before stopping (default 5, after
    /// 1,000 steps; 0 = run every epoch).
    #[arg(long, value_name = "N")]
    pub tsjt_patience: Option<usize>,
    /// TSJT: optimiser steps before early stopping may act (default 1000).
    #[arg(long, value_name = "STEPS")]
    pub tsjt_min_steps: Option<usize>,
}

impl Overrides<TsjtConfig> for TsjtArgs {
    fn apply(&self, c: &mut TsjtConfig) -> Result<()> {
        set(&mut c.skew.rule, &self.tsjt_rule);
        set(&mut c.skew.gamma_target, &self.tsjt_gamma_target);
        set(&mut c.skew.gamma_source, &self.tsjt_gamma_source);
        set(&mut c.train.max_epochs, &self.tsjt_epochs);
        set(&mut c.train.patience, &self.tsjt_patience);
        set(&mut c.train.min_steps, &self.tsjt_min_steps);
        c.skew.validate_at("tsjt.skew.")
    }
}
