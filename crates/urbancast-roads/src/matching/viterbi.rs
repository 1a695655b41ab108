//! The hidden Markov model of Newson & Krumm (2009), decoded with Viterbi in log space.
//!
//! States are road candidates of a GPS point (at most `max_candidates` within
//! `search_radius_m`). Emission: Gaussian in the GPS-to-road distance, `-½ (d/σ_z)²`.
//! Transition: exponential in `|route distance − great-circle distance|`, `-|Δ|/β`; legs longer
//! than the route or speed limits are impossible. Constant terms are left out: they shift every
//! path's score equally. When no candidate of a point can be reached from any candidate of the
//! previous one, or a point has no candidate, the chain ends and a new one starts (a break).
use std::collections::VecDeque;

use crate::geo::haversine_m;
use crate::network::RoadNetwork;
use crate::spatial::{Candidate, RoadIndex};
use crate::traj::{GpsPoint, GpsTrack};

use super::MatchConfig;
use super::route::{Leg, step_routes};

/// One decoded chain: its kept points with the chosen candidate, the legs between them, and
/// the points dropped for being too close to the previous kept point.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    /// `(GPS point index, chosen candidate)` for each kept point.
    pub kept: Vec<(usize, Candidate)>,
    /// `legs[k]`: from kept point `k` to kept point `k + 1`.
    pub legs: Vec<Leg>,
    /// `(GPS point index, index into kept of the previous kept point)`.
    pub dropped: Vec<(usize, usize)>,
    /// Points passed over as outliers (unreachable from the chain, reachable after them).
    pub skipped: Vec<usize>,
}

/// A Viterbi column: one GPS point's candidates, their best scores and back pointers.
struct Column {
    point: usize,
    cands: Vec<Candidate>,
    score: Vec<f64>,
    /// `(candidate index in the previous column, leg)`; `None` in the first column.
    back: Vec<Option<(usize, Leg)>>,
}

fn emission(cfg: &MatchConfig, c: &Candidate) -> f64 {
    let z = c.distance_m / cfg.sigma_z_m;
    -0.5 * z * z
}

/// Decodes a track into chains (see the module doc).
///
/// A point that no candidate of the chain can reach is held back (up to
/// `cfg.max_skipped_points` in a row): if a later point is reachable again, the held-back
/// points were outliers and stay unmatched; otherwise the chain breaks before the first of
/// them and decoding restarts there.
pub(crate) fn decode(net: &RoadNetwork, index: &RoadIndex, track: &GpsTrack, cfg: &MatchConfig) -> Vec<Chain> {
    let pts = &track.points;
    let mut chains = Vec::new();
    let mut cols: Vec<Column> = Vec::new();
    let mut dropped: Vec<(usize, usize)> = Vec::new();
    let mut skipped: Vec<usize> = Vec::new();
    let mut pending: Vec<(usize, Vec<Candidate>)> = Vec::new();
    let mut replay: VecDeque<(usize, Vec<Candidate>)> = VecDeque::new();
    let mut next = 0;
    loop {
        let (i, cached) = match replay.pop_front() {
            Some((i, c)) => (i, Some(c)),
            None if next < pts.len() => {
                next += 1;
                (next - 1, None)
            }
            None if !pending.is_empty() => {
                // the track ended on held-back points: they start over as a new chain
                finish(&mut cols, &mut dropped, &mut skipped, &mut chains);
                replay.extend(pending.drain(..));
                continue;
            }
            None => break,
        };
        let gp = &pts[i];
        if let Some(last) = cols.last()
            && haversine_m(pts[last.point].pos, gp.pos) < cfg.min_point_distance_m
        {
            dropped.push((i, cols.len() - 1));
            continue;
        }
        let cands = cached.unwrap_or_else(|| index.nearest_within(gp.pos, cfg.max_candidates, cfg.search_radius_m));
        let Some(prev) = cols.last() else {
            if !cands.is_empty() {
                let score = cands.iter().map(|c| emission(cfg, c)).collect();
                let back = vec![None; cands.len()];
                cols.push(Column { point: i, cands, score, back });
            }
            continue;
        };
        let col = if cands.is_empty() { None } else { advance(net, cfg, pts, prev, i, &cands) };
        match col {
            Some(col) => {
                skipped.extend(pending.drain(..).map(|(k, _)| k));
                cols.push(col);
            }
            None if !cands.is_empty() && pending.len() < cfg.max_skipped_points => pending.push((i, cands)),
            None => {
                // break: restart at the first held-back point (or at this one)
                finish(&mut cols, &mut dropped, &mut skipped, &mut chains);
                for p in pending.drain(..).chain(std::iter::once((i, cands))).rev() {
                    replay.push_front(p);
                }
            }
        }
    }
    finish(&mut cols, &mut dropped, &mut skipped, &mut chains);
    chains
}

/// The next column (for point `i`), or `None` when every transition into it is impossible.
fn advance(net: &RoadNetwork, cfg: &MatchConfig, pts: &[GpsPoint], prev: &Column, i: usize, cands: &[Candidate]) -> Option<Column> {
    let (from, to) = (&pts[prev.point], &pts[i]);
    let gc = haversine_m(from.pos, to.pos);
    let dt = (to.time - from.time).max(1) as f64;
    let max_route = (cfg.max_route_factor * gc + cfg.route_slack_m).min(cfg.max_speed_kmh / 3.6 * dt);
    let routes = step_routes(net, &prev.cands, cands, max_route, cfg.backtrack_m);
    let mut score = Vec::with_capacity(cands.len());
    let mut back = Vec::with_capacity(cands.len());
    for (j, c) in cands.iter().enumerate() {
        let mut best: Option<(f64, usize)> = None;
        for (k, row) in routes.iter().enumerate() {
            let Some(leg) = &row[j] else { continue };
            let s = prev.score[k] - (leg.route_m - gc).abs() / cfg.beta_m;
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, k));
            }
        }
        match best {
            Some((s, k)) => {
                score.push(s + emission(cfg, c));
                back.push(Some((k, routes[k][j].clone().expect("chosen leg exists"))));
            }
            None => {
                score.push(f64::NEG_INFINITY);
                back.push(None);
            }
        }
    }
    if score.iter().all(|s| *s == f64::NEG_INFINITY) {
        return None;
    }
    // keep the numbers near zero on long tracks
    let top = score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    score.iter_mut().for_each(|s| *s -= top);
    Some(Column { point: i, cands: cands.to_vec(), score, back })
}

/// Backtracks the current columns into a chain (if any) and clears them.
fn finish(cols: &mut Vec<Column>, dropped: &mut Vec<(usize, usize)>, skipped: &mut Vec<usize>, chains: &mut Vec<Chain>) {
    let Some(last) = cols.last() else { return };
    let mut j =
        (0..last.cands.len()).max_by(|&x, &y| last.score[x].total_cmp(&last.score[y]).then(y.cmp(&x))).expect("a column has candidates");
    let mut kept = Vec::with_capacity(cols.len());
    let mut legs = Vec::with_capacity(cols.len().saturating_sub(1));
    for col in cols.iter().rev() {
        kept.push((col.point, col.cands[j]));
        if let Some((k, leg)) = &col.back[j] {
            legs.push(leg.clone());
            j = *k;
        }
    }
    kept.reverse();
    legs.reverse();
    chains.push(Chain { kept, legs, dropped: std::mem::take(dropped), skipped: std::mem::take(skipped) });
    cols.clear();
}
