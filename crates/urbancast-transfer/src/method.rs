//! The transfer methods.
use std::fmt;
use std::str::FromStr;

use crate::stbat::Variant;

/// A transfer method, named on the command line and in results by [`Method::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Train the ST-net on the target's few days only.
    TargetOnly,
    /// Pre-train on all sources, then train on the target's few days.
    FineTune,
    /// Pre-train on all sources and predict the target directly.
    ZeroShot,
    /// Historical average by hour of week over the target's available data.
    Ha,
    /// STBaT balanced pre-training (or one of its ablations), then the foundation's fine-tune
    /// when N > 0 or direct prediction when N = 0.
    Stbat(Variant),
}

impl Method {
    /// Every method at its default (STBaT in full; its ablations are in [`Method::ABLATIONS`]).
    pub const ALL: [Method; 5] = [Method::TargetOnly, Method::FineTune, Method::ZeroShot, Method::Ha, Method::Stbat(Variant::Full)];
    /// The four STBaT ablations.
    pub const ABLATIONS: [Method; 4] =
        [Method::Stbat(Variant::NoPoi), Method::Stbat(Variant::NoFdp), Method::Stbat(Variant::NoSimdcl), Method::Stbat(Variant::NoWloss)];

    /// Name in results and on the command line: `target-only`, `fine-tune`, `zero-shot`, `ha`,
    /// `stbat`, `stbat-no-poi`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Method::TargetOnly => "target-only",
            Method::FineTune => "fine-tune",
            Method::ZeroShot => "zero-shot",
            Method::Ha => "ha",
            Method::Stbat(v) => v.name(),
        }
    }
    /// Whether the method needs target training data (N > 0 days).
    pub fn needs_target_data(&self) -> bool {
        matches!(self, Method::TargetOnly | Method::FineTune | Method::Ha)
    }
    /// Whether the method pre-trains on the source cities (fine-tune, zero-shot, STBaT).
    pub fn needs_pretraining(&self) -> bool {
        matches!(self, Method::FineTune | Method::ZeroShot | Method::Stbat(_))
    }
    /// The pre-training this method builds on: None = none, Some(None) = plain, Some(Some(v)) = STBaT.
    pub fn pretraining(&self) -> Option<Option<Variant>> {
        match self {
            Method::FineTune | Method::ZeroShot => Some(None),
            Method::Stbat(v) => Some(Some(*v)),
            _ => None,
        }
    }
    /// Whether the model is trained on the target when `days` of target data are available.
    pub fn trains_on_target(&self, days: usize) -> bool {
        match self {
            Method::TargetOnly | Method::FineTune | Method::Ha => true,
            Method::ZeroShot => false,
            Method::Stbat(_) => days > 0,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Method::ALL.into_iter().chain(Method::ABLATIONS).find(|m| m.name() == s || (s == "finetune" && *m == Method::FineTune)).ok_or_else(
            || {
                let names: Vec<&str> = Method::ALL.iter().chain(&Method::ABLATIONS).map(|m| m.name()).collect();
                format!("unknown method `{s}`: expected one of {}", names.join(", "))
            },
        )
    }
}
