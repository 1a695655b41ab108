//! Route distances between the candidates of two consecutive GPS points, along the network.
//!
//! The route from candidate `(a, off_a)` to candidate `(b, off_b)` is:
//! * same road, `off_b >= off_a - backtrack`: `max(off_b - off_a, 0)` (staying on the road; a
//!   small step back is GPS noise on a slow or stopped car, not a loop around the block);
//! * otherwise the rest of road `a` (`len_a - off_a`), the full length of every road in
//!   between (the cheapest such sequence, by length), and `off_b` on road `b`; for `a == b`
//!   this goes around a loop back onto `a`.
//!
//! One bounded [`one_to_many`] search per candidate road of the earlier point serves all the
//! candidates of the later point.
use std::collections::HashMap;

use crate::network::RoadNetwork;
use crate::path::{one_to_many, path_from_tree};
use crate::spatial::Candidate;

/// A feasible way from one candidate to the next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Leg {
    /// Route distance in metres between the two projected points.
    pub route_m: f64,
    /// Roads from `a` to `b` inclusive (`[a]` when staying on `a`).
    pub path: Vec<usize>,
}

/// `routes[i][j]`: the leg from `from[i]` to `to[j]`, or `None` when it is longer than
/// `max_route_m` or `b` cannot be reached from `a`.
pub(crate) fn step_routes(
    net: &RoadNetwork,
    from: &[Candidate],
    to: &[Candidate],
    max_route_m: f64,
    backtrack_m: f64,
) -> Vec<Vec<Option<Leg>>> {
    // the search from `a` pays the full length of `b`; allow for the longest rest of a target
    let tail = to.iter().map(|c| (net.roads[c.road].length_m - c.offset_m).max(0.0)).fold(0.0, f64::max);
    from.iter()
        .map(|ca| {
            let len_a = net.roads[ca.road].length_m;
            let rest_a = (len_a - ca.offset_m).max(0.0);
            let budget = max_route_m - rest_a + tail;
            // search only when another road (or a loop) could fit in the budget
            let needs_tree = budget >= 0.0 && to.iter().any(|cb| cb.road != ca.road || cb.offset_m < ca.offset_m - backtrack_m);
            let tree = if needs_tree { one_to_many(net, ca.road, |r| net.roads[r].length_m, budget) } else { HashMap::new() };
            to.iter().map(|cb| leg(net, &tree, ca, cb, rest_a, max_route_m, backtrack_m)).collect()
        })
        .collect()
}

fn leg(
    net: &RoadNetwork,
    tree: &HashMap<u32, (f64, u32)>,
    ca: &Candidate,
    cb: &Candidate,
    rest_a: f64,
    max_route_m: f64,
    backtrack_m: f64,
) -> Option<Leg> {
    let a = ca.road;
    let b = cb.road;
    let len_b = net.roads[b].length_m;
    if a == b && cb.offset_m >= ca.offset_m - backtrack_m {
        let route_m = (cb.offset_m - ca.offset_m).max(0.0);
        return (route_m <= max_route_m).then(|| Leg { route_m, path: vec![a] });
    }
    let (cost, path) = if a != b {
        let &(cost, _) = tree.get(&(b as u32))?;
        (cost, path_from_tree(tree, b)?)
    } else {
        // around a loop: the cheapest road in the tree that `a` may follow, then `a` again
        let (cost, last) = tree
            .iter()
            .filter(|(r, _)| net.successors(**r as usize).contains(&(a as u32)))
            .map(|(&r, &(c, _))| (c + net.roads[a].length_m, r as usize))
            .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)))?;
        let mut path = path_from_tree(tree, last)?;
        path.push(a);
        (cost, path)
    };
    let route_m = rest_a + (cost - len_b) + cb.offset_m;
    (route_m <= max_route_m).then_some(Leg { route_m, path })
}
