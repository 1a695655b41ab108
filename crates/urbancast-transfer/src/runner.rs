//! One runner for every method: any (sources, target, N days, seed) to a result row.
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use urbancast_data::prep::{Prepared, Protocol, Splits};
use urbancast_data::{City, Layout};
use urbancast_eval::{ResultRow, per_region_rmse, score};
use urbancast_nn::{Output, SpatialKind, StNet, StNetConfig};

use crate::batch::Task;
use crate::checkpoint::{self, Meta};
use crate::method::{Method, Pretraining};
use crate::predict::{predict, truth};
use crate::stbat::{self, StbatConfig, StbatOutcome};
use crate::train::{GridData, Split, TrainConfig, TrainLog, train};
use crate::tsjt::TsjtConfig;
use urbancast_train::RunDir;

/// Everything configurable about a transfer experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Input lags, scaling and the train / validation / test split of the days.
    pub protocol: Protocol,
    /// Pre-training on the sources.
    pub pretrain: TrainConfig,
    /// Training on the target's few days (target-only and fine-tune).
    pub target_train: TrainConfig,
    /// Feature maps of the ST-net's spatial block (default 64).
    pub conv_channels: usize,
    /// Residual units in the spatial block (default 3).
    pub res_units: usize,
    /// LSTM hidden size of the ST-net (default 128; the feature `z` is twice as wide).
    pub hidden: usize,
    /// Hidden width of the ST-net's prediction head for the plain methods (CrossTReS: 64;
    /// STBaT and its control use `stbat.head_hidden`, 256).
    pub head_hidden: usize,
    /// Output of the plain methods' head: `linear` (default; clamped at 0 at inference) or
    /// `sigmoid` (CrossTReS; sits on a loss plateau on sparse targets, see the README). STBaT and
    /// its control are always linear (eq. 9).
    pub output: Output,
    /// One model for all channels instead of one per channel (CrossTReS and STBaT train and
    /// score pick-up and drop-off separately; that is the default).
    pub joint_channels: bool,
    /// Where to save checkpoints (`{dir}/{method}-n{days}-seed{seed}`), if anywhere.
    pub checkpoint_dir: Option<PathBuf>,
    /// STBaT hyper-parameters and switches (its ablation methods switch one more off).
    pub stbat: StbatConfig,
    /// TSJT's gradient rule and joint training.
    pub tsjt: TsjtConfig,
    /// Where every training keeps its `train-log.jsonl` and checkpoints (`{dir}/{phase}`), if
    /// anywhere (set by the program, not read from TOML).
    #[serde(skip)]
    pub train_dir: Option<PathBuf>,
    /// Continue every training from its checkpoint in `train_dir` (finished ones are loaded).
    #[serde(skip)]
    pub resume: bool,
}

/// Safety bound on pre-training epochs: early stopping (patience 5 after
/// [`PRETRAIN_MIN_STEPS`]) ends every run seen long before it.
pub const PRETRAIN_MAX_EPOCHS: usize = 500;

/// Optimiser steps before pre-training's early stopping may act. The validation RMSE of source
/// pre-training is still noisy and falling over the first few hundred steps (the loss curves
/// in the README); 1,000 steps is about 10–15 epochs of the real sources here.
pub const PRETRAIN_MIN_STEPS: usize = 1000;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            protocol: Protocol::default(),
            pretrain: TrainConfig { max_epochs: PRETRAIN_MAX_EPOCHS, patience: 5, min_steps: PRETRAIN_MIN_STEPS, ..TrainConfig::default() },
            target_train: TrainConfig { max_epochs: 80, patience: 0, ..TrainConfig::default() },
            conv_channels: 64,
            res_units: 3,
            hidden: 128,
            head_hidden: 64,
            output: Output::Linear,
            joint_channels: false,
            checkpoint_dir: None,
            stbat: StbatConfig::default(),
            tsjt: TsjtConfig::default(),
            train_dir: None,
            resume: false,
        }
    }
}

impl Settings {
    /// The run folder of the training phase `name` under [`Settings::train_dir`].
    pub fn run_dir(&self, name: &str) -> Option<RunDir> {
        self.train_dir.as_ref().map(|d| RunDir::new(d.join(name), self.resume))
    }
}

/// Source and target cities, already aligned (same channels in the same order, same interval).
pub struct Experiment {
    /// The source cities (pre-training data), scaled under the protocol.
    pub sources: Vec<Prepared>,
    /// The target city (few-day training data and the test set), scaled under the protocol.
    pub target: Prepared,
}

/// What [`Experiment::run`] runs: every method for every N (0 = no target data) and every
/// seed.
pub type RunPlan<'a> = crate::plan::Plan<'a, Method, Settings>;

/// One result row plus what reports need beyond it.
pub struct RunOutput {
    /// Method, cities, N days, seed, scores and timing of the run.
    pub row: ResultRow,
    /// RMSE per target region over the test set (NaN = inactive).
    pub region_rmse: Vec<f64>,
    /// Log of the last training of the run (target training, else pre-training; of the first
    /// channel's model when there is one per channel); `None` for `ha`.
    pub log: Option<TrainLog>,
    /// STBaT pre-training report (densities and weights per source city, losses; of the first
    /// channel's model when there is one per channel).
    pub stbat: Option<StbatOutcome>,
}

/// A finished pre-training: model, log, seconds, STBaT report.
type Pretrained = (StNet, TrainLog, f64, Option<StbatOutcome>);

/// The cities as one model sees them: every channel, or channel `channel` alone.
struct View {
    channel: Option<String>,
    target: Prepared,
    sources: Vec<Prepared>,
}

/// A view on the training device.
struct ViewTasks<'a> {
    /// `-{channel}` for a per-channel view, empty for a joint one (run-folder suffix).
    suffix: String,
    channel: Option<&'a str>,
    channels: usize,
    target: Task<'a>,
    sources: Vec<Task<'a>>,
}

impl Experiment {
    /// Prepares (scales) the cities after checking the protocol ([`Protocol::validate_at`],
    /// keys `protocol.`) and that they can be compared.
    pub fn new(sources: Vec<City>, target: City, protocol: &Protocol) -> Result<Experiment> {
        protocol.validate_at("protocol.")?;
        for s in &sources {
            if s.channels != target.channels {
                bail!(
                    "source `{}` has channels {:?} but the target `{}` has {:?}: align them first",
                    s.name,
                    s.channels,
                    target.name,
                    target.channels
                );
            }
            if s.interval_min != target.interval_min {
                bail!(
                    "source `{}` is sampled every {} min but the target `{}` every {} min: resample to a common interval",
                    s.name,
                    s.interval_min,
                    target.name,
                    target.interval_min
                );
            }
            if std::mem::discriminant(&s.layout) != std::mem::discriminant(&target.layout) {
                bail!(
                    "source `{}` ({}) and target `{}` ({}) must both be grids or both be zone graphs",
                    s.name,
                    s.layout.describe(),
                    target.name,
                    target.layout.describe()
                );
            }
        }
        Ok(Experiment {
            sources: sources.into_iter().map(|c| Prepared::new(c, protocol)).collect(),
            target: Prepared::new(target, protocol),
        })
    }

    fn kind(&self) -> SpatialKind {
        match self.target.city.layout {
            Layout::Grid { .. } => SpatialKind::Grid,
            Layout::Graph { .. } => SpatialKind::Graph,
        }
    }

    fn model_config(&self, s: &Settings, method: Method, channels: usize) -> StNetConfig {
        StNetConfig {
            channels,
            lags: s.protocol.lags,
            conv_channels: s.conv_channels,
            res_units: s.res_units,
            hidden: s.hidden,
            head_hidden: if method.has_stbat_head() { s.stbat.head_hidden } else { s.head_hidden },
            output: if method.has_stbat_head() { Output::Linear } else { s.output },
        }
    }

    /// The experiment seen by the models: all channels at once, or one channel per view.
    fn views(&self, joint: bool) -> Vec<View> {
        let c = self.target.city.num_channels();
        if joint || c == 1 {
            return vec![View { channel: None, target: self.target.clone(), sources: self.sources.clone() }];
        }
        (0..c)
            .map(|k| View {
                channel: Some(self.target.city.channels[k].name().to_string()),
                target: self.target.channel(k),
                sources: self.sources.iter().map(|p| p.channel(k)).collect(),
            })
            .collect()
    }

    /// Checkpoint metadata of a model trained by `method` (its training cities included).
    fn meta(&self, view: &ViewTasks, method: Method, days: usize, cfg: &StNetConfig, settings: &Settings, seed: u64) -> Meta {
        let mut trained_on: Vec<String> =
            if method.uses_sources() { self.sources.iter().map(|p| p.city.name.clone()).collect() } else { vec![] };
        if method.trains_on_target(days) {
            trained_on.push(self.target.city.name.clone());
        }
        Meta {
            model: cfg.clone(),
            kind: self.kind(),
            channels: view.target.prep.city.channels.clone(),
            interval_min: self.target.city.interval_min,
            percentile: settings.protocol.percentile,
            method: method.name().into(),
            trained_on,
            seed,
        }
    }

    /// Runs `plan.methods` for every N in `plan.days` and every seed of `plan.seeds`. Methods
    /// that cannot run (e.g. target-only with N = 0) are skipped and reported through
    /// `on_skip`. `plan.settings` are checked first ([`Settings::validate`]): nothing is trained
    /// or written when one is out of range.
    pub fn run(&self, plan: &RunPlan<'_>, mut on_row: impl FnMut(&RunOutput), mut on_skip: impl FnMut(String)) -> Result<Vec<RunOutput>> {
        let RunPlan { methods, days, seeds, settings, device } = *plan;
        settings.validate()?;
        if methods.iter().any(|m| m.uses_sources()) && self.sources.is_empty() {
            bail!("fine-tune, zero-shot, STBaT and TSJT need at least one source city");
        }
        let ad = device.clone().autodiff();
        let lags = settings.protocol.lags;
        let kind = self.kind();
        let full_target = Task::new(&self.target, &ad);
        let splits: Vec<(usize, Splits)> =
            days.iter().map(|&n| Ok((n, settings.protocol.target_splits(&self.target.city, n)?))).collect::<Result<_>>()?;
        let source_splits: Vec<Splits> = self.sources.iter().map(|p| settings.protocol.source_splits(&p.city)).collect::<Result<_, _>>()?;
        let source_names: Vec<String> = self.sources.iter().map(|p| p.city.name.clone()).collect();
        let channel_names: Vec<String> = self.target.city.channels.iter().map(|c| c.name().to_string()).collect();
        let truths: Vec<_> = splits.iter().map(|(_, sp)| truth(&full_target, &sp.test)).collect();
        let views = self.views(settings.joint_channels);
        let tasks: Vec<ViewTasks> = views
            .iter()
            .map(|v| ViewTasks {
                suffix: v.channel.as_ref().map_or(String::new(), |c| format!("-{c}")),
                channel: v.channel.as_deref(),
                channels: v.target.city.num_channels(),
                target: Task::new(&v.target, &ad),
                sources: v.sources.iter().map(|p| Task::new(p, &ad)).collect(),
            })
            .collect();
        let mut outputs = vec![];
        for &seed in seeds {
            // Pre-trainings of this seed (per view), shared by the methods built on them.
            let mut pretrained: HashMap<(Pretraining, usize), Pretrained> = HashMap::new();
            for ((n, sp), truth) in splits.iter().zip(&truths) {
                for &method in methods {
                    if method.needs_target_data() && *n == 0 {
                        on_skip(format!("{method} needs target training data: skipped for N = 0 days"));
                        continue;
                    }
                    let start = Instant::now();
                    let mut log = None;
                    let mut stbat = None;
                    // Seconds of this row = its own work + the pre-trainings it builds on (counted
                    // once even when they ran inside this row).
                    let mut extra_secs = 0.0;
                    let mut pretrained_now = 0.0;
                    let pred = match method {
                        Method::Ha => crate::ha::predict(&self.target.city, &sp.train, &sp.test),
                        Method::RegionMean => crate::ha::region_mean(&self.target.city, &sp.train, &sp.test),
                        Method::Persistence => crate::ha::persistence(&self.target.city, &sp.test),
                        _ => {
                            let mut parts = Vec::with_capacity(tasks.len());
                            for (vi, view) in tasks.iter().enumerate() {
                                let cfg = self.model_config(settings, method, view.channels);
                                let ctx = PretrainCtx { view, source_splits: &source_splits, settings, seed, lags, kind };
                                let base = match method.pretraining() {
                                    Some(key) => {
                                        if let Entry::Vacant(slot) = pretrained.entry((key, vi)) {
                                            let t0 = Instant::now();
                                            let (m, l, o) = ctx.pretrain(key, &cfg, &mut on_skip)?;
                                            let secs = t0.elapsed().as_secs_f64();
                                            pretrained_now += secs;
                                            slot.insert((m, l, secs, o));
                                        }
                                        let (m, l, secs, o) = &pretrained[&(key, vi)];
                                        extra_secs += *secs;
                                        if vi == 0 {
                                            log = Some(l.clone());
                                            stbat = o.clone();
                                        }
                                        Some(m.clone())
                                    }
                                    None => None,
                                };
                                let model = if method.trains_on_target(*n) {
                                    let init = base.unwrap_or_else(|| cfg.init_seeded(kind, &ad, seed));
                                    let tr = [Split { task: &view.target, steps: &sp.train }];
                                    let va = [Split { task: &view.target, steps: &sp.val }];
                                    let label = match view.channel {
                                        Some(c) => format!("{method} N={n} {c}"),
                                        None => format!("{method} N={n}"),
                                    };
                                    let run = settings.run_dir(&format!("{method}-n{n}-seed{seed}{}", view.suffix));
                                    let (m, l) = match method {
                                        Method::Tsjt(v) => {
                                            let mut pool: Vec<Split> = view
                                                .sources
                                                .iter()
                                                .zip(&source_splits)
                                                .map(|(t, s)| Split { task: t, steps: &s.train })
                                                .collect();
                                            pool.push(Split { task: &view.target, steps: &sp.train });
                                            let k = pool.len() - 1;
                                            let data = GridData::new(&pool, &va, lags);
                                            crate::tsjt::grid::train(init, data, k, (&settings.tsjt, v), (&label, seed), run.as_ref())?
                                        }
                                        _ => {
                                            train(init, GridData::new(&tr, &va, lags), &settings.target_train, seed, &label, run.as_ref())?
                                        }
                                    };
                                    if vi == 0 {
                                        log = Some(l);
                                    }
                                    m
                                } else {
                                    base.expect("methods that do not train on the target are pre-trained")
                                };
                                if let Some(dir) = &settings.checkpoint_dir {
                                    let meta = self.meta(view, method, *n, &cfg, settings, seed);
                                    let mut d = dir.join(format!("{method}-n{n}-seed{seed}"));
                                    if let Some(c) = view.channel {
                                        d = d.join(c);
                                    }
                                    checkpoint::save(&d, &model, &meta)?;
                                }
                                parts.push(predict(&model.valid(), &view.target, &sp.test, lags, 64)?);
                            }
                            concat_channels(parts)?
                        }
                    };
                    let scores = score(pred.view(), truth.view(), &self.target.city.mask, &channel_names);
                    let out = RunOutput {
                        row: ResultRow {
                            method: method.name().into(),
                            sources: if method.uses_sources() { source_names.clone() } else { vec![] },
                            target: self.target.city.name.clone(),
                            days: *n,
                            seed,
                            scores,
                            train_samples: if method.trains_on_target(*n) { sp.train.len() } else { 0 },
                            test_samples: sp.test.len(),
                            seconds: start.elapsed().as_secs_f64() - pretrained_now + extra_secs,
                            note: sp.note.clone(),
                        },
                        region_rmse: per_region_rmse(pred.view(), truth.view(), &self.target.city.mask),
                        log,
                        stbat,
                    };
                    on_row(&out);
                    outputs.push(out);
                }
            }
        }
        Ok(outputs)
    }
}

/// Predictions of the views, `[T, R, C_k]` each, side by side as `[T, R, C]`.
fn concat_channels(parts: Vec<ndarray::Array3<f32>>) -> Result<ndarray::Array3<f32>> {
    if parts.len() == 1 {
        return Ok(parts.into_iter().next().expect("one part"));
    }
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    Ok(ndarray::concatenate(ndarray::Axis(2), &views)?)
}

/// What a pre-training of one view needs.
struct PretrainCtx<'v, 'a> {
    view: &'v ViewTasks<'a>,
    source_splits: &'v [Splits],
    settings: &'v Settings,
    seed: u64,
    lags: usize,
    kind: SpatialKind,
}

impl PretrainCtx<'_, '_> {
    /// Runs pre-training `key` of a fresh model of `cfg` on the view's sources (run folder
    /// `{key}-seed{S}[-{channel}]`); STBaT's notices go to `on_note`.
    fn pretrain(
        &self,
        key: Pretraining,
        cfg: &StNetConfig,
        on_note: &mut impl FnMut(String),
    ) -> Result<(StNet, TrainLog, Option<StbatOutcome>)> {
        let (view, settings, seed) = (self.view, self.settings, self.seed);
        let ad = view.target.device.clone();
        let model = cfg.init_seeded(self.kind, &ad, seed);
        let train_s: Vec<Split> = view.sources.iter().zip(self.source_splits).map(|(t, s)| Split { task: t, steps: &s.train }).collect();
        let val_s: Vec<Split> = view.sources.iter().zip(self.source_splits).map(|(t, s)| Split { task: t, steps: &s.val }).collect();
        let data = GridData::new(&train_s, &val_s, self.lags);
        let run = settings.run_dir(&format!("{}-seed{seed}{}", key.folder(), view.suffix));
        let label = match (key, view.channel) {
            (Pretraining::Stbat(v), Some(c)) => format!("{} {c}", v.name()),
            (Pretraining::Stbat(v), None) => v.name().to_string(),
            (_, Some(c)) => format!("pre-train {c}"),
            (_, None) => "pre-train".to_string(),
        };
        match key {
            Pretraining::Plain | Pretraining::PlainStbatHead => {
                let (m, l) = train(model, data, &settings.pretrain, seed, &label, run.as_ref())?;
                Ok((m, l, None))
            }
            Pretraining::Stbat(v) => {
                let sc = v.apply(&settings.stbat);
                let (m, l, o) = stbat::pretrain(model, data, &settings.pretrain, &sc, seed, &label, run.as_ref())?;
                for note in &o.notes {
                    on_note(note.clone());
                }
                Ok((m, l, Some(o)))
            }
        }
    }
}
