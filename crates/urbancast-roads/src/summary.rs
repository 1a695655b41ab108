//! What a road network holds, as one serialisable summary (`urbancast traj network`).
use serde::Serialize;

use crate::RoadNetwork;

/// Counts, lengths, extent and road classes of a network.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkSummary {
    /// The network's name.
    pub name: String,
    /// Directed roads.
    pub roads: usize,
    /// Allowed road → road transitions.
    pub transitions: usize,
    /// Roads without a successor.
    pub dead_ends: usize,
    /// Length of all roads, kilometres.
    pub total_length_km: f64,
    /// Mean road length, metres.
    pub mean_length_m: f64,
    /// `[min lon, min lat, max lon, max lat]`, degrees.
    pub bbox: [f64; 4],
    /// Road classes present, with their road counts.
    pub classes: Vec<(String, usize)>,
}

impl NetworkSummary {
    /// The summary of `net`.
    pub fn of(net: &RoadNetwork) -> NetworkSummary {
        let mut counts = vec![0usize; net.classes.len()];
        for r in &net.roads {
            counts[r.class as usize] += 1;
        }
        let total: f64 = net.roads.iter().map(|r| r.length_m).sum();
        NetworkSummary {
            name: net.name.clone(),
            roads: net.len(),
            transitions: net.num_transitions(),
            dead_ends: net.successors.iter().filter(|s| s.is_empty()).count(),
            total_length_km: total / 1000.0,
            mean_length_m: total / net.len().max(1) as f64,
            bbox: net.bbox(),
            classes: net.classes.iter().cloned().zip(counts).filter(|(_, c)| *c > 0).collect(),
        }
    }
}
