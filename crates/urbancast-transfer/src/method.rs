//! The transfer methods of the foundation.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Train the ST-net on the target's few days only.
    TargetOnly,
    /// Pre-train on all sources, then train on the target's few days.
    FineTune,
    /// Pre-train on all sources and predict the target directly.
    ZeroShot,
    /// Historical average by hour of week over the target's available data.
    Ha,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::TargetOnly, Method::FineTune, Method::ZeroShot, Method::Ha];

    pub fn name(&self) -> &'static str {
        match self {
            Method::TargetOnly => "target-only",
            Method::FineTune => "fine-tune",
            Method::ZeroShot => "zero-shot",
            Method::Ha => "ha",
        }
    }
    /// Whether the method needs target training data (N > 0 days).
    pub fn needs_target_data(&self) -> bool {
        matches!(self, Method::TargetOnly | Method::FineTune | Method::Ha)
    }
    pub fn needs_pretraining(&self) -> bool {
        matches!(self, Method::FineTune | Method::ZeroShot)
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
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s || (s == "finetune" && *m == Method::FineTune))
            .ok_or_else(|| {
                format!("unknown method `{s}`: expected one of {}", Method::ALL.map(|m| m.name()).join(", "))
            })
    }
}
