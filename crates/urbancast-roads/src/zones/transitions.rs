//! Zone-to-zone transition counts of trajectories.
use serde::{Deserialize, Serialize};

use super::Zones;
use crate::error::{Result, RoadError};
use crate::network::RoadNetwork;
use crate::traj::Trajectory;

/// Transitions between zones along trajectories: for every pair of consecutive roads
/// `(a, b)` of a trajectory, one count at `(zone(a), zone(b))`. Pairs inside one zone are
/// counted too, on the diagonal, so that a row sums to all transitions leaving roads of that
/// zone and the row-normalised matrix is the zone-level Markov chain of the trajectories
/// (drop the diagonal with [`ZoneTransitions::cross_zone`] or [`ZoneTransitions::triplets`]
/// if only border crossings matter). A one-road trajectory contributes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneTransitions {
    /// Number of zones (the matrices are `k × k`).
    pub k: usize,
    /// Dense row-major `k × k` counts: `counts[a * k + b]`.
    pub counts: Vec<f64>,
    /// `counts` divided by its row sum; rows without any transition are all zero.
    pub probabilities: Vec<f64>,
    /// All counted transitions (sum of `counts`).
    pub total: f64,
    /// Transitions between different zones (off-diagonal sum).
    pub cross_zone: f64,
    /// Trajectories read.
    pub trajectories: usize,
}

impl ZoneTransitions {
    /// Transitions from zone `from` to zone `to` (panics when either is `≥ k`).
    pub fn count(&self, from: usize, to: usize) -> f64 {
        self.counts[from * self.k + to]
    }
    /// Share of the transitions leaving zone `from` that go to zone `to`, in `[0, 1]` (0 when
    /// `from` has none; panics when either is `≥ k`).
    pub fn probability(&self, from: usize, to: usize) -> f64 {
        self.probabilities[from * self.k + to]
    }
    /// Non-zero counts as `(from, to, count)`, row-major; `include_diagonal` keeps
    /// same-zone counts.
    pub fn triplets(&self, include_diagonal: bool) -> Vec<(u32, u32, f64)> {
        let k = self.k;
        (0..k * k)
            .filter(|&i| self.counts[i] > 0.0 && (include_diagonal || i / k != i % k))
            .map(|i| ((i / k) as u32, (i % k) as u32, self.counts[i]))
            .collect()
    }
}

/// Counts zone transitions of `trajectories` (road ids of `net`) under `zones`. An unknown
/// road id is a [`RoadError::UnknownRoad`] naming the trajectory and the position.
pub fn zone_transition_matrix(zones: &Zones, net: &RoadNetwork, trajectories: &[Trajectory]) -> Result<ZoneTransitions> {
    if zones.zone_of.len() != net.len() {
        return Err(RoadError::invalid(format!(
            "zones cover {} roads but network `{}` has {}: partition this network",
            zones.zone_of.len(),
            net.name,
            net.len()
        )));
    }
    let k = zones.k;
    let mut counts = vec![0.0; k * k];
    for (t, traj) in trajectories.iter().enumerate() {
        let mut prev: Option<usize> = None;
        for (pos, &id) in traj.roads.iter().enumerate() {
            let ix = net.index_of(id).map_err(|_| RoadError::UnknownRoad {
                id,
                context: format!(
                    " in trajectory {} (#{t}) at position {pos} (network `{}`)",
                    traj.id.as_deref().unwrap_or("<no id>"),
                    net.name
                ),
            })?;
            let z = zones.zone_of[ix] as usize;
            if let Some(p) = prev {
                counts[p * k + z] += 1.0;
            }
            prev = Some(z);
        }
    }
    let mut probabilities = counts.clone();
    for row in probabilities.chunks_mut(k) {
        let s: f64 = row.iter().sum();
        if s > 0.0 {
            row.iter_mut().for_each(|x| *x /= s);
        }
    }
    let total = counts.iter().sum();
    let diag: f64 = (0..k).map(|z| counts[z * k + z]).sum();
    Ok(ZoneTransitions { k, counts, probabilities, total, cross_zone: total - diag, trajectories: trajectories.len() })
}
