//! From trajectories to everything [`super::fit`] needs: split, zones, zone transitions of the
//! training split, road context, samples, travel-time normalisation.
use anyhow::{Context, Result, bail};
use urbancast_roads::zones::{ZoneTransitions, Zones, partition_zones, zone_transition_matrix};
use urbancast_roads::{RoadNetwork, Trajectory};

use crate::data::{PrepareReport, RoadContext, Sample, TimeNorm, prepare, split};

/// The output of [`prepare_training`].
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The road partition (of [`zones_for`] zones).
    pub zones: Zones,
    /// Zone transitions of the training trajectories only.
    pub transitions: ZoneTransitions,
    /// Road features, road graph and zone graph built from `zones` and `transitions`.
    pub ctx: RoadContext,
    /// Samples of the training trajectories.
    pub train: Vec<Sample>,
    /// Samples of the validation trajectories.
    pub val: Vec<Sample>,
    /// Samples of the test trajectories.
    pub test: Vec<Sample>,
    /// Fitted on the training samples.
    pub time_norm: TimeNorm,
    /// [`prepare`]'s report over all three splits together.
    pub report: PrepareReport,
    /// Indices (into the input trajectories, ascending) of the training split.
    pub train_ix: Vec<usize>,
    /// Indices of the validation split (see [`Prepared::train_ix`]).
    pub val_ix: Vec<usize>,
    /// Indices of the test split (see [`Prepared::train_ix`]).
    pub test_ix: Vec<usize>,
}

impl Prepared {
    /// The training bundle of [`super::fit`] on `net` (training and validation samples).
    pub fn data<'a>(&'a self, net: &'a urbancast_roads::RoadNetwork) -> super::TrainData<'a> {
        super::TrainData { net, ctx: &self.ctx, train: &self.train, val: &self.val, time_norm: &self.time_norm }
    }
}

/// The number of zones actually used for `requested` zones on a network of `num_roads`
/// roads: at most `num_roads / 4` (at least 1), so that a tiny network still gets zones of a
/// few roads each (METIS cannot make more zones than roads, and one-road zones say nothing
/// a road embedding does not).
pub fn zones_for(num_roads: usize, requested: usize) -> usize {
    requested.max(1).min((num_roads / 4).max(1))
}

/// Seeded split of `n` items into `(train, val, test)` index lists (ascending), with exactly
/// the shuffle and rounding of [`crate::data::split()`].
pub fn split_indices(n: usize, val_frac: f64, test_frac: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>, Vec<usize>)> {
    let tokens: Vec<Sample> = (0..n).map(|i| Sample { id: None, roads: vec![i as u32], times: vec![] }).collect();
    let (tr, va, te) = split(tokens, val_frac, test_frac, seed)?;
    let ix = |v: Vec<Sample>| v.into_iter().map(|s| s.roads[0] as usize).collect::<Vec<_>>();
    Ok((ix(tr), ix(va), ix(te)))
}

fn add(a: &mut PrepareReport, b: &PrepareReport) {
    a.input += b.input;
    a.samples += b.samples;
    a.too_short += b.too_short;
    a.collapsed_repeats += b.collapsed_repeats;
    a.broken_transitions += b.broken_transitions;
    a.broken_trajectories += b.broken_trajectories;
    a.short_pieces += b.short_pieces;
    a.steps += b.steps;
    a.capped_steps += b.capped_steps;
}

/// Prepares trajectories of `net` for training:
/// 1. every trajectory is checked (lengths, times, road ids — an error names the trajectory
///    id, its input position and the road position);
/// 2. the trajectories are split by `seed` into train / validation / test
///    ([`split_indices`]), so that the pieces of one trajectory stay in one split;
/// 3. the roads are partitioned into [`zones_for`]`(roads, zones_k)` zones
///    ([`partition_zones`] with `seed`) and the zone transitions are counted on the
///    *training* trajectories only (no leak from validation or test into the zone graph);
/// 4. the [`RoadContext`] is built, each split converted with [`prepare`], and the
///    [`TimeNorm`] fitted on the training samples.
///
/// Fails when `zones_k` is 0, the fractions are out of range ([`split_indices`]), there are no
/// trajectories or no training sample is left.
pub fn prepare_training(
    net: &RoadNetwork,
    trajectories: &[Trajectory],
    zones_k: usize,
    seed: u64,
    val_frac: f64,
    test_frac: f64,
) -> Result<Prepared> {
    urbancast_check::Checker::new("").at_least("zones", zones_k, 1)?;
    if trajectories.is_empty() {
        bail!("no trajectories to train on");
    }
    for (n, t) in trajectories.iter().enumerate() {
        let name = || format!("trajectory {} (#{n})", t.id.as_deref().unwrap_or("<no id>"));
        t.validate().with_context(name)?;
        net.indices_of(&t.roads).with_context(name)?;
    }
    let (train_ix, val_ix, test_ix) = split_indices(trajectories.len(), val_frac, test_frac, seed)?;
    let pick = |ix: &[usize]| ix.iter().map(|&i| trajectories[i].clone()).collect::<Vec<_>>();
    let (tr, va, te) = (pick(&train_ix), pick(&val_ix), pick(&test_ix));
    let k = zones_for(net.len(), zones_k);
    let zones = partition_zones(net, k, seed).with_context(|| format!("partitioning `{}` into {k} zones", net.name))?;
    let transitions = zone_transition_matrix(&zones, net, &tr)?;
    let ctx = RoadContext::new(net, &zones, &transitions)?;
    let mut report = PrepareReport::default();
    let mut convert = |trajs: &[Trajectory], what: &str| -> Result<Vec<Sample>> {
        let (samples, rep) = prepare(net, &ctx, trajs).with_context(|| format!("preparing the {what} trajectories"))?;
        add(&mut report, &rep);
        Ok(samples)
    };
    let train = convert(&tr, "training")?;
    let val = convert(&va, "validation")?;
    let test = convert(&te, "test")?;
    if train.is_empty() {
        bail!(
            "none of the {} training trajectories is usable (at least two roads, each a successor of the previous one, are needed)",
            tr.len()
        );
    }
    let time_norm = TimeNorm::fit(&train);
    Ok(Prepared { zones, transitions, ctx, train, val, test, time_norm, report, train_ix, val_ix, test_ix })
}
