//! Zones: a balanced k-way partition of the road graph with METIS.
//!
//! Nodes are roads, edges are the undirected view of the successor relation
//! ([`RoadNetwork::undirected`]); every node and edge weighs 1, so zones have about the same
//! number of roads and as few road-to-road transitions as possible cross a zone border.
//! The partition is reproducible: METIS gets a fixed seed derived from the caller's seed.
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Result, RoadError};
use crate::network::RoadNetwork;

mod transitions;
pub use transitions::{ZoneTransitions, zone_transition_matrix};

/// METIS' random generator (GKlib's Mersenne twister) is process-global state: two partitions
/// running at the same time on different threads would interleave their draws and lose
/// reproducibility (and race). All calls into METIS take this lock.
static METIS_LOCK: Mutex<()> = Mutex::new(());

/// Default number of zones for a city network (a few tens of roads per zone on ~10k roads).
pub const DEFAULT_ZONES: usize = 300;
/// METIS' own k-way default: a zone may hold up to 3 % more roads than the mean.
pub const DEFAULT_UFACTOR: u32 = 30;

/// A partition of the roads of a network into `k` zones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zones {
    /// Number of zones.
    pub k: usize,
    /// `zone_of[i]`: zone of road index `i` (in `0..k`).
    pub zone_of: Vec<u32>,
    /// Roads per zone.
    pub sizes: Vec<usize>,
    /// Undirected road-graph edges whose two roads lie in different zones (counted by us).
    pub edge_cut: usize,
    /// The edge cut METIS reported (before any repair of empty zones, see
    /// [`partition_zones_with`]); equals `edge_cut` when nothing was repaired.
    pub metis_edge_cut: usize,
    /// Largest zone size over the mean zone size (1.0 is perfect balance).
    pub imbalance: f64,
    /// Zones that METIS left empty and that we filled by moving one road into each.
    pub repaired_empty: usize,
    /// The caller's seed (METIS got a 32-bit seed derived from it).
    pub seed: u64,
    /// METIS `ufactor` used: allowed zone-size imbalance in 1/1000 (30 = 3 %).
    pub ufactor: u32,
    /// Wall-clock seconds of the partition.
    pub seconds: f64,
}

impl Zones {
    /// Road indices of each zone, in increasing order.
    pub fn members(&self) -> Vec<Vec<u32>> {
        let mut m = vec![Vec::new(); self.k];
        for (i, &z) in self.zone_of.iter().enumerate() {
            m[z as usize].push(i as u32);
        }
        m
    }
}

/// Partitions the roads of `net` into `k` balanced zones with METIS k-way
/// ([`DEFAULT_UFACTOR`] imbalance tolerance), reproducibly for a given `seed`.
pub fn partition_zones(net: &RoadNetwork, k: usize, seed: u64) -> Result<Zones> {
    partition_zones_with(net, k, seed, DEFAULT_UFACTOR)
}

/// [`partition_zones`] with an explicit METIS `ufactor` (allowed imbalance in 1/1000).
///
/// Edge cases: `k == 0` or `k` above the number of roads is an error; `k == 1` puts every
/// road in zone 0; a graph without any edge is split round-robin by road index (METIS needs
/// edges). Isolated roads and several components are left to METIS. METIS may leave a zone
/// empty on awkward graphs (many tiny components, `k` close to the number of roads): each
/// empty zone then receives one road taken from the currently largest zone (the road with
/// the fewest neighbours in its own zone), and `repaired_empty` says how many.
pub fn partition_zones_with(net: &RoadNetwork, k: usize, seed: u64, ufactor: u32) -> Result<Zones> {
    let t0 = Instant::now();
    let n = net.len();
    if k == 0 {
        return Err(RoadError::invalid("zones: k must be at least 1"));
    }
    if k > n {
        return Err(RoadError::network(&net.name, format!("cannot partition {n} roads into {k} zones: ask for at most {n} zones")));
    }
    if n > i32::MAX as usize / 2 {
        return Err(RoadError::network(&net.name, format!("{n} roads: too many for METIS' 32-bit indices")));
    }
    let nb = net.undirected();
    let mut xadj: Vec<metis::Idx> = Vec::with_capacity(n + 1);
    let mut adjncy: Vec<metis::Idx> = Vec::new();
    xadj.push(0);
    for v in &nb {
        adjncy.extend(v.iter().map(|&j| j as metis::Idx));
        xadj.push(adjncy.len() as metis::Idx);
    }
    let mut part: Vec<metis::Idx> = vec![0; n];
    let metis_cut = if k == 1 {
        0
    } else if adjncy.is_empty() {
        part.iter_mut().enumerate().for_each(|(i, p)| *p = (i % k) as metis::Idx);
        0
    } else {
        let graph = metis::Graph::new(1, k as metis::Idx, &xadj, &adjncy)
            .map_err(|e| RoadError::network(&net.name, format!("METIS rejected the road graph: {e}")))?
            .set_option(metis::option::Seed(metis_seed(seed)))
            .set_option(metis::option::UFactor(ufactor as metis::Idx));
        let _guard = METIS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        graph
            .part_kway(&mut part)
            .map_err(|e| RoadError::network(&net.name, format!("METIS k-way partition into {k} zones failed: {e}")))?
    };
    let mut zone_of: Vec<u32> = part.iter().map(|&p| p as u32).collect();
    if let Some(bad) = zone_of.iter().find(|&&z| z as usize >= k) {
        return Err(RoadError::network(&net.name, format!("METIS returned zone {bad} outside 0..{k}")));
    }
    let repaired_empty = fill_empty_zones(&nb, &mut zone_of, k);
    let mut sizes = vec![0usize; k];
    for &z in &zone_of {
        sizes[z as usize] += 1;
    }
    let edge_cut = count_edge_cut(&nb, &zone_of);
    let mean = n as f64 / k as f64;
    let imbalance = *sizes.iter().max().unwrap() as f64 / mean;
    Ok(Zones {
        k,
        zone_of,
        sizes,
        edge_cut,
        metis_edge_cut: metis_cut.max(0) as usize,
        imbalance,
        repaired_empty,
        seed,
        ufactor,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Number of undirected edges of `neighbours` (symmetric adjacency lists) whose two ends lie
/// in different zones; each edge is counted once.
pub fn count_edge_cut(neighbours: &[Vec<u32>], zone_of: &[u32]) -> usize {
    neighbours.iter().enumerate().map(|(i, v)| v.iter().filter(|&&j| (j as usize) > i && zone_of[j as usize] != zone_of[i]).count()).sum()
}

/// METIS wants a non-negative 32-bit seed; fold the 64-bit one (splitmix64 finaliser).
fn metis_seed(seed: u64) -> metis::Idx {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) & 0x7FFF_FFFF) as metis::Idx
}

/// Gives every empty zone one road from the currently largest zone; returns how many zones
/// were empty.
fn fill_empty_zones(nb: &[Vec<u32>], zone_of: &mut [u32], k: usize) -> usize {
    let mut sizes = vec![0usize; k];
    for &z in zone_of.iter() {
        sizes[z as usize] += 1;
    }
    let empty: Vec<usize> = (0..k).filter(|&z| sizes[z] == 0).collect();
    for &e in &empty {
        // largest zone, lowest index on ties (deterministic); k <= n so it has >= 2 roads
        let big = (0..k).max_by_key(|&z| (sizes[z], std::cmp::Reverse(z))).unwrap();
        let pick = (0..zone_of.len())
            .filter(|&i| zone_of[i] as usize == big)
            .min_by_key(|&i| nb[i].iter().filter(|&&j| zone_of[j as usize] as usize == big).count())
            .unwrap();
        zone_of[pick] = e as u32;
        sizes[big] -= 1;
        sizes[e] += 1;
    }
    empty.len()
}
