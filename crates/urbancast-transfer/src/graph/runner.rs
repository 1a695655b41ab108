//! The graph runner: prepares the cities under the protocol, trains every method on the shared
//! engine and scores it on the target's test windows.
use std::time::Instant;

use anyhow::{Result, bail};
use burn::prelude::*;
use urbancast_data::graph::{SensorGraph, TransferGraph, prepare_source, prepare_target};
use urbancast_eval::horizon::{HorizonAccumulator, HorizonReport};

use super::data::{GraphData, GraphJoint, GraphMse, GraphTask};
use super::net::GraphNet;
use super::report::GraphRow;
use super::{GraphMethod, GraphSettings, simple};
use crate::tsjt::{Tsjt, Variant};

/// What [`run`] runs: every method for every N (each ≥ 1) and every seed.
pub type GraphPlan<'a> = crate::plan::Plan<'a, GraphMethod, GraphSettings>;

/// The target prepared for one N, with its tasks.
struct TargetDays {
    days: usize,
    g: TransferGraph,
}

/// Runs every method of `plan` with `sources` → `target`, calling `on_row` as rows finish.
pub fn run(sources: &[SensorGraph], target: &SensorGraph, plan: &GraphPlan, mut on_row: impl FnMut(&GraphRow)) -> Result<Vec<GraphRow>> {
    let GraphPlan { methods, days, seeds, settings, device } = *plan;
    settings.validate_at("settings.")?;
    let p = &settings.protocol;
    if methods.iter().any(|m| m.uses_sources()) && sources.is_empty() {
        bail!("fine-tune and TSJT need at least one source graph");
    }
    let src: Vec<TransferGraph> = sources.iter().map(|g| prepare_source(g, p)).collect::<Result<_, _>>()?;
    let tgt: Vec<TargetDays> = days.iter().map(|&d| Ok(TargetDays { days: d, g: prepare_target(target, p, d)? })).collect::<Result<_>>()?;
    let c_in = tgt.first().map_or(0, |t| t.g.in_channels());
    if let Some(s) = src.iter().find(|s| s.in_channels() != c_in) {
        bail!(
            "source `{}` has {} input features but the target `{}` has {c_in}: the cities must carry the same features",
            s.name,
            s.in_channels(),
            target.name
        );
    }
    let ad = device.clone().autodiff();
    let (l, h) = (p.input_len, p.horizon);
    let source_names: Vec<String> = src.iter().map(|s| s.name.clone()).collect();
    let mut rows = vec![];
    for &seed in seeds {
        let mut pretrained: Option<(GraphNet, f64)> = None;
        for td in &tgt {
            let n = td.days;
            // Sources first, the target last.
            let mut all: Vec<GraphTask> = src.iter().map(|g| GraphTask::new(g, l, h, &ad)).collect();
            all.push(GraphTask::new(&td.g, l, h, &ad));
            let tt = all.last().expect("the target");
            for &method in methods {
                let start = Instant::now();
                let mut extra = 0.0;
                let test = match method {
                    GraphMethod::Persistence => score(&td.g, &simple::persistence(&td.g, &td.g.test, l, h)?, tt)?,
                    GraphMethod::Ha => {
                        let train_end = n * td.g.steps_per_day;
                        score(&td.g, &simple::time_of_day_mean(&td.g, train_end, &td.g.test, l, h)?, tt)?
                    }
                    _ => {
                        let model = train_method(method, (n, seed), &all, settings, &mut pretrained, &mut extra)?;
                        tt.score(&model.valid(), &td.g.test)?
                    }
                };
                let row = GraphRow {
                    method: method.name().into(),
                    sources: if method.uses_sources() { source_names.clone() } else { vec![] },
                    target: td.g.name.clone(),
                    days: n,
                    seed,
                    rule: matches!(method, GraphMethod::Tsjt | GraphMethod::TsjtNoNpm).then(|| settings.tsjt.skew.rule.name().to_string()),
                    test,
                    train_windows: td.g.train.len(),
                    test_windows: td.g.test.len(),
                    seconds: start.elapsed().as_secs_f64() + extra,
                };
                on_row(&row);
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// Scores raw predictions `[S, H, N, 1]` of the target's test windows.
fn score(g: &TransferGraph, pred: &ndarray::Array4<f32>, tt: &GraphTask) -> Result<HorizonReport> {
    let mut acc = HorizonAccumulator::new(tt.horizon, g.zero_is_missing);
    acc.add(pred.view(), tt.truths(&g.test)?.view())?;
    acc.finish(&(1..=tt.horizon).collect::<Vec<_>>())
}

/// Trains `method` for (N days, seed) on `tasks` (the sources, then the target); the
/// fine-tune pre-training is shared across N through `pretrained` (its seconds are added to
/// `extra` of every row that uses it).
fn train_method(
    method: GraphMethod,
    (days, seed): (usize, u64),
    tasks: &[GraphTask],
    s: &GraphSettings,
    pretrained: &mut Option<(GraphNet, f64)>,
    extra: &mut f64,
) -> Result<GraphNet> {
    let p = &s.protocol;
    let k = tasks.len() - 1;
    let tt = &tasks[k];
    let device = tt.sup.sym.device();
    let c_in = tt.g.in_channels();
    let fresh = |npm: bool| s.net.init(p.input_len, c_in, p.horizon, npm, &device, seed);
    let target_data = || GraphData {
        tasks,
        train: vec![(k, tt.g.train.as_slice())],
        val: vec![(k, tt.g.val.as_slice())],
        batch: s.target_train.batch,
        scale: s.loss,
    };
    let label = format!("{method} N={days}");
    let run = s.run_dir(&format!("{method}-n{days}-seed{seed}"));
    match method {
        GraphMethod::TargetOnly => {
            let mut obj = GraphMse { data: target_data() };
            Ok(urbancast_train::fit(fresh(false)?, &mut obj, &s.target_train.spec(&label, seed), run.as_ref())?.best)
        }
        GraphMethod::FineTune => {
            if pretrained.is_none() {
                let t0 = Instant::now();
                let data = GraphData {
                    tasks,
                    train: (0..k).map(|i| (i, tasks[i].g.train.as_slice())).collect(),
                    val: (0..k).map(|i| (i, tasks[i].g.val.as_slice())).collect(),
                    batch: s.pretrain.batch,
                    scale: s.loss,
                };
                let pre_run = s.run_dir(&format!("pretrain-seed{seed}"));
                let m = urbancast_train::fit(fresh(false)?, &mut GraphMse { data }, &s.pretrain.spec("pre-train", seed), pre_run.as_ref())?
                    .best;
                *pretrained = Some((m, t0.elapsed().as_secs_f64()));
            }
            let (base, secs) = pretrained.clone().expect("pre-trained above");
            *extra += secs;
            let mut obj = GraphMse { data: target_data() };
            Ok(urbancast_train::fit(base, &mut obj, &s.target_train.spec(&label, seed), run.as_ref())?.best)
        }
        GraphMethod::Tsjt | GraphMethod::TsjtNoNpm | GraphMethod::JointNoSkew => {
            let variant = if method == GraphMethod::JointNoSkew { Variant::NoSkew } else { Variant::Full };
            let data = GraphData {
                tasks,
                train: (0..=k).map(|i| (i, tasks[i].g.train.as_slice())).collect(),
                val: vec![(k, tt.g.val.as_slice())],
                batch: s.tsjt.train.batch,
                scale: s.loss,
            };
            let mut obj = Tsjt::new(GraphJoint { data, target: k }, variant, s.tsjt.skew);
            Ok(urbancast_train::fit(fresh(method.has_npm())?, &mut obj, &s.tsjt.train.spec(&label, seed), run.as_ref())?.best)
        }
        GraphMethod::Persistence | GraphMethod::Ha => bail!("{method} is not trained"),
    }
}
