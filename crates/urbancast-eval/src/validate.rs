//! `validate()` of the evaluation settings ([`EvalConfig`]); messages name the key and the
//! allowed range (see [`urbancast_check`]).
use anyhow::Result;
use urbancast_check::Checker;

use crate::traj_metrics::EvalConfig;

impl EvalConfig {
    /// Checks the ranges: `bins ≥ 1`, `smoothing` and `edr_eps_km` finite and `≥ 0`,
    /// `od_cell_km` and `match_cell_deg` finite and `> 0`.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("")
    }

    /// [`EvalConfig::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Result<()> {
        let c = Checker::new(prefix);
        c.at_least("bins", self.bins, 1)?;
        c.non_negative("smoothing", self.smoothing)?;
        c.positive("od_cell_km", self.od_cell_km)?;
        c.non_negative("edr_eps_km", self.edr_eps_km)?;
        c.positive("match_cell_deg", self.match_cell_deg)?;
        Ok(())
    }
}
