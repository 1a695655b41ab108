//! STBaT (Hao et al., IJCAI 2025): spatio-temporal balanced transfer learning.
//!
//! Pre-training on the source cities alternates two modules (bidirectional complementary
//! iteration): the Spatio-Temporal Balanced Learning Module (the ST-net with a `256 -> 256 -> C`
//! predictor and a projector of regional feature statistics) is trained with the
//! density-weighted prediction loss plus SimDCL; the Regional Imbalance Acquisition Module of
//! every source city is then trained on its POI distributions and the feature statistics just
//! collected, and re-estimates region densities and similarities. See the README section
//! "STBaT" for every interpretation this implementation makes.
mod losses;
mod pretrain;
mod riam;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use losses::{
    DclOrder, DclSim, KL_SIGMA_FLOOR, VAR_FLOOR, gaussian_kl, pairwise_sim, regional_stats, simdcl, simdcl_direct, weighted_mse,
};
pub use pretrain::{Balance, NON_UNIFORM_RATIO, StbatObjective, StbatOutcome, Stblm, pretrain};
pub use riam::{Riam, cosine_similarity, inverse_density_weights, log_density, poi_cross_entropy, poi_distribution};

/// Hyper-parameters and switches of STBaT (defaults from the paper).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StbatConfig {
    /// Embedding size `D` of the regional pattern autoencoder.
    pub embed_dim: usize,
    /// Weight `beta` of the KL term in `L_emb = CE + beta * KLD`.
    pub beta: f64,
    /// Bandwidth `h` of the Gaussian kernel density estimator.
    pub bandwidth: f64,
    /// Temperature of SimDCL.
    pub tau: f64,
    /// Weight of SimDCL next to the prediction loss (the paper adds them: 1).
    pub dcl_weight: f64,
    /// Similarity between projected distributions inside SimDCL.
    pub dcl_sim: DclSim,
    /// Hidden width of the predictor `f_pred` (`256 -> hidden -> C`).
    pub head_hidden: usize,
    /// Hidden and output width of the projector (`512 -> 256 -> 256`).
    pub proj_dim: usize,
    /// RIAM without the POI classifier (automatic for a city without POI).
    pub no_poi: bool,
    /// RIAM without the feature-distribution predictor.
    pub no_fdp: bool,
    /// STBLM without SimDCL.
    pub no_simdcl: bool,
    /// Plain (unweighted) prediction loss.
    pub no_wloss: bool,
    /// Alternate with the RIAM every this many batches; 0 = once per epoch.
    pub alternate_every: usize,
    /// Adam steps on `L_emb` (full batch of regions) per alternation.
    pub riam_steps: usize,
    /// Adam steps on the POI cross-entropy before the first epoch.
    pub riam_warmup: usize,
    /// Learning rate of the RIAM.
    pub riam_lr: f64,
}

impl Default for StbatConfig {
    fn default() -> Self {
        StbatConfig {
            embed_dim: 32,
            beta: 0.01,
            bandwidth: 0.85,
            tau: 1.0,
            dcl_weight: 1.0,
            dcl_sim: DclSim::Cosine,
            head_hidden: 256,
            proj_dim: 256,
            no_poi: false,
            no_fdp: false,
            no_simdcl: false,
            no_wloss: false,
            alternate_every: 0,
            riam_steps: 100,
            riam_warmup: 300,
            riam_lr: 1e-3,
        }
    }
}

/// STBaT and its four ablations (each removes one component of the full model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Every component (`stbat`).
    Full,
    /// RIAM without the POI classifier (`stbat-no-poi`).
    NoPoi,
    /// RIAM without the feature-distribution predictor (`stbat-no-fdp`).
    NoFdp,
    /// STBLM without SimDCL (`stbat-no-simdcl`).
    NoSimdcl,
    /// Plain instead of density-weighted prediction loss (`stbat-no-wloss`).
    NoWloss,
}

impl Variant {
    /// The full model followed by its four ablations.
    pub const ALL: [Variant; 5] = [Variant::Full, Variant::NoPoi, Variant::NoFdp, Variant::NoSimdcl, Variant::NoWloss];

    /// Method name: `stbat`, `stbat-no-poi`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Variant::Full => "stbat",
            Variant::NoPoi => "stbat-no-poi",
            Variant::NoFdp => "stbat-no-fdp",
            Variant::NoSimdcl => "stbat-no-simdcl",
            Variant::NoWloss => "stbat-no-wloss",
        }
    }

    /// The configuration with this variant's component switched off (on top of `base`).
    pub fn apply(&self, base: &StbatConfig) -> StbatConfig {
        let mut c = base.clone();
        match self {
            Variant::Full => {}
            Variant::NoPoi => c.no_poi = true,
            Variant::NoFdp => c.no_fdp = true,
            Variant::NoSimdcl => c.no_simdcl = true,
            Variant::NoWloss => c.no_wloss = true,
        }
        c
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Variant::ALL.into_iter().find(|v| v.name() == s).ok_or_else(|| format!("unknown STBaT variant `{s}`"))
    }
}
