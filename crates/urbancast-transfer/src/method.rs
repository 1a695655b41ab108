//! The transfer methods.
use std::fmt;
use std::str::FromStr;

use crate::stbat::Variant;
use crate::tsjt::Variant as TsjtVariant;

/// A transfer method, named on the command line and in results by [`Method::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Train the ST-net on the target's few days only.
    TargetOnly,
    /// Pre-train on all sources, then train on the target's few days.
    FineTune,
    /// Pre-train on all sources and predict the target directly.
    ZeroShot,
    /// The control for STBaT: the plain pre-training and fine-tune (zero-shot when N = 0) of an
    /// ST-net with STBaT's exact head (`256 -> stbat.head_hidden -> C`, linear output), so that
    /// a gain of STBaT over it comes from STBaT's training, not from its wider predictor.
    FineTuneStbatHead,
    /// Historical average by hour of week over the target's available data.
    Ha,
    /// Each region's mean over the target's available data.
    RegionMean,
    /// The last observed step (no training data needed).
    Persistence,
    /// STBaT balanced pre-training (or one of its ablations), then the foundation's fine-tune
    /// when N > 0 or direct prediction when N = 0.
    Stbat(Variant),
    /// TSJT one-stage target-skewed joint training on sources and target (or its ablation,
    /// plain joint training); needs target data.
    Tsjt(TsjtVariant),
}

impl Method {
    /// Every method at its default (STBaT in full with its control; its ablations are in
    /// [`Method::ABLATIONS`]).
    pub const ALL: [Method; 8] = [
        Method::Persistence,
        Method::RegionMean,
        Method::Ha,
        Method::TargetOnly,
        Method::FineTune,
        Method::ZeroShot,
        Method::FineTuneStbatHead,
        Method::Stbat(Variant::Full),
    ];
    /// The four STBaT ablations.
    pub const ABLATIONS: [Method; 4] =
        [Method::Stbat(Variant::NoPoi), Method::Stbat(Variant::NoFdp), Method::Stbat(Variant::NoSimdcl), Method::Stbat(Variant::NoWloss)];

    /// TSJT and its ablation (plain joint training without the skewed backward).
    pub const TSJT: [Method; 2] = [Method::Tsjt(TsjtVariant::Full), Method::Tsjt(TsjtVariant::NoSkew)];

    /// Name in results and on the command line: `target-only`, `fine-tune`, `zero-shot`, `ha`,
    /// `stbat`, `stbat-no-poi`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Method::TargetOnly => "target-only",
            Method::FineTune => "fine-tune",
            Method::ZeroShot => "zero-shot",
            Method::FineTuneStbatHead => "fine-tune-stbat-head",
            Method::Ha => "ha",
            Method::RegionMean => "region-mean",
            Method::Persistence => "persistence",
            Method::Stbat(v) => v.name(),
            Method::Tsjt(v) => v.name(),
        }
    }
    /// Whether the method needs target training data (N > 0 days).
    pub fn needs_target_data(&self) -> bool {
        matches!(self, Method::TargetOnly | Method::FineTune | Method::Ha | Method::RegionMean | Method::Tsjt(_))
    }
    /// Whether the method learns from the source cities (pre-training or TSJT's joint training).
    pub fn uses_sources(&self) -> bool {
        self.needs_pretraining() || matches!(self, Method::Tsjt(_))
    }
    /// Whether the method is a simple predictor (no model: HA, region mean, persistence).
    pub fn is_simple(&self) -> bool {
        matches!(self, Method::Ha | Method::RegionMean | Method::Persistence)
    }
    /// Whether the method pre-trains on the source cities (fine-tune, zero-shot, STBaT and its
    /// control).
    pub fn needs_pretraining(&self) -> bool {
        self.pretraining().is_some()
    }
    /// The pre-training this method builds on (None = none); methods with the same one share it.
    pub fn pretraining(&self) -> Option<Pretraining> {
        match self {
            Method::FineTune | Method::ZeroShot => Some(Pretraining::Plain),
            Method::FineTuneStbatHead => Some(Pretraining::PlainStbatHead),
            Method::Stbat(v) => Some(Pretraining::Stbat(*v)),
            Method::TargetOnly | Method::Ha | Method::RegionMean | Method::Persistence | Method::Tsjt(_) => None,
        }
    }
    /// Whether the model has STBaT's head (`stbat.head_hidden`, linear output).
    pub fn has_stbat_head(&self) -> bool {
        matches!(self, Method::FineTuneStbatHead | Method::Stbat(_))
    }
    /// Whether the model is trained on the target when `days` of target data are available.
    pub fn trains_on_target(&self, days: usize) -> bool {
        match self {
            Method::TargetOnly | Method::FineTune | Method::Ha | Method::RegionMean | Method::Tsjt(_) => true,
            Method::ZeroShot | Method::Persistence => false,
            Method::Stbat(_) | Method::FineTuneStbatHead => days > 0,
        }
    }
}

/// A pre-training on the source cities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pretraining {
    /// Plain loss, the plain methods' head (fine-tune, zero-shot).
    Plain,
    /// Plain loss, STBaT's head ([`Method::FineTuneStbatHead`]).
    PlainStbatHead,
    /// STBaT (or an ablation).
    Stbat(Variant),
}

impl Pretraining {
    /// Name of its run folder part: `pretrain`, `pretrain-stbat-head`, `pretrain-stbat`, ...
    pub fn folder(&self) -> String {
        match self {
            Pretraining::Plain => "pretrain".into(),
            Pretraining::PlainStbatHead => "pretrain-stbat-head".into(),
            Pretraining::Stbat(v) => format!("pretrain-{}", v.name()),
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
        Method::ALL
            .into_iter()
            .chain(Method::ABLATIONS)
            .chain(Method::TSJT)
            .find(|m| m.name() == s || (s == "finetune" && *m == Method::FineTune))
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().chain(&Method::ABLATIONS).chain(&Method::TSJT).map(|m| m.name()).collect();
                format!("unknown method `{s}`: expected one of {}", names.join(", "))
            })
    }
}
