//! Turning a decoded chain into a [`MatchedPiece`]: the gap-filled road sequence, the time
//! each road was entered, and a match for every GPS point of the chain.
use crate::network::RoadNetwork;
use crate::spatial::RoadIndex;
use crate::traj::GpsTrack;

use super::viterbi::Chain;
use super::{MatchedPiece, PointMatch};

pub(crate) fn assemble(net: &RoadNetwork, index: &RoadIndex, track: &GpsTrack, chain: &Chain) -> MatchedPiece {
    let pts = &track.points;
    let (p0, c0) = chain.kept[0];
    let mut roads = vec![c0.road];
    let mut times = vec![pts[p0].time];
    // route position (metres from the first kept point) of each kept point
    let mut at = 0.0;
    for (k, leg) in chain.legs.iter().enumerate() {
        let (pa, ca) = chain.kept[k];
        let (pb, _) = chain.kept[k + 1];
        let (ta, tb) = (pts[pa].time, pts[pb].time.max(pts[pa].time));
        let mut entry = at + (net.roads[ca.road].length_m - ca.offset_m).max(0.0);
        for w in leg.path.windows(2) {
            let frac = if leg.route_m > 0.0 { ((entry - at) / leg.route_m).clamp(0.0, 1.0) } else { 0.0 };
            let t = (ta as f64 + frac * (tb - ta) as f64).round() as i64;
            let t = t.clamp(*times.last().expect("non-empty"), tb.max(*times.last().expect("non-empty")));
            if roads.last() != Some(&w[1]) {
                roads.push(w[1]);
                times.push(t);
            }
            entry += net.roads[w[1]].length_m;
        }
        at += leg.route_m;
    }
    let mut points: Vec<PointMatch> = chain
        .kept
        .iter()
        .map(|&(i, c)| PointMatch { point: i, road: c.road, distance_m: c.distance_m, offset_m: c.offset_m, kept: true })
        .collect();
    for &(i, k) in &chain.dropped {
        // the nearest of the roads driven between the kept points around it
        let around: &[usize] = match chain.legs.get(k) {
            Some(leg) => &leg.path,
            None => std::slice::from_ref(&chain.kept[k].1.road),
        };
        let best = around
            .iter()
            .map(|&r| index.project(pts[i].pos, r))
            .min_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
            .expect("a leg has roads");
        points.push(PointMatch { point: i, road: best.road, distance_m: best.distance_m, offset_m: best.offset_m, kept: false });
    }
    points.sort_by_key(|p| p.point);
    MatchedPiece { roads, entry_times: times, points }
}
