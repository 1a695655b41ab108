//! Shortest paths over roads. A path is a road sequence `[from, ..., to]` where each road may
//! follow the previous one; its cost is the sum of `cost(r)` over the roads *entered* after
//! `from` (so the first road's own cost does not count, and a one-road path costs 0).
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use crate::network::RoadNetwork;

#[derive(Copy, Clone, PartialEq)]
struct Item {
    cost: f64,
    road: u32,
}
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        // min-heap on cost, ties by road index for determinism
        o.cost.partial_cmp(&self.cost).unwrap_or(Ordering::Equal).then_with(|| o.road.cmp(&self.road))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Cheapest road sequence from road `from` to road `to` (indices), with `cost(r) >= 0` the
/// price of entering road `r`. Gives up beyond `max_cost` (use `f64::INFINITY` for no bound).
/// Returns the roads and the cost.
pub fn shortest_path(net: &RoadNetwork, from: usize, to: usize, cost: impl Fn(usize) -> f64, max_cost: f64) -> Option<(Vec<usize>, f64)> {
    if from == to {
        return Some((vec![from], 0.0));
    }
    let mut dist: HashMap<u32, f64> = HashMap::new();
    let mut prev: HashMap<u32, u32> = HashMap::new();
    let mut heap = BinaryHeap::new();
    dist.insert(from as u32, 0.0);
    heap.push(Item { cost: 0.0, road: from as u32 });
    while let Some(Item { cost: c, road }) = heap.pop() {
        if road as usize == to {
            let mut path = vec![to];
            let mut cur = road;
            while let Some(&p) = prev.get(&cur) {
                path.push(p as usize);
                cur = p;
            }
            path.reverse();
            return Some((path, c));
        }
        if c > dist.get(&road).copied().unwrap_or(f64::INFINITY) {
            continue;
        }
        for &next in net.successors(road as usize) {
            let nc = c + cost(next as usize).max(0.0);
            if nc > max_cost {
                continue;
            }
            if nc < dist.get(&next).copied().unwrap_or(f64::INFINITY) {
                dist.insert(next, nc);
                prev.insert(next, road);
                heap.push(Item { cost: nc, road: next });
            }
        }
    }
    None
}

/// Costs of the cheapest paths from `from` to every road reachable within `max_cost`
/// (same cost convention as [`shortest_path`]), as `road -> (cost, previous road)`.
pub fn one_to_many(net: &RoadNetwork, from: usize, cost: impl Fn(usize) -> f64, max_cost: f64) -> HashMap<u32, (f64, u32)> {
    let mut best: HashMap<u32, (f64, u32)> = HashMap::new();
    let mut heap = BinaryHeap::new();
    best.insert(from as u32, (0.0, u32::MAX));
    heap.push(Item { cost: 0.0, road: from as u32 });
    while let Some(Item { cost: c, road }) = heap.pop() {
        if c > best[&road].0 {
            continue;
        }
        for &next in net.successors(road as usize) {
            let nc = c + cost(next as usize).max(0.0);
            if nc > max_cost {
                continue;
            }
            if nc < best.get(&next).map(|b| b.0).unwrap_or(f64::INFINITY) {
                best.insert(next, (nc, road));
                heap.push(Item { cost: nc, road: next });
            }
        }
    }
    best
}

/// Rebuilds the road sequence `from ..= to` from a [`one_to_many`] result.
pub fn path_from_tree(tree: &HashMap<u32, (f64, u32)>, to: usize) -> Option<Vec<usize>> {
    let mut path = vec![to];
    let mut cur = to as u32;
    loop {
        let &(_, p) = tree.get(&cur)?;
        if p == u32::MAX {
            break;
        }
        path.push(p as usize);
        cur = p;
        if path.len() > tree.len() + 1 {
            return None;
        }
    }
    path.reverse();
    Some(path)
}

/// Sum of road lengths entered after the first road (metres): the route distance between the
/// *ends* of the first and last road.
pub fn entered_length_m(net: &RoadNetwork, path: &[usize]) -> f64 {
    path.iter().skip(1).map(|&r| net.roads[r].length_m).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{RoadSpec, UTurns};

    /// A square 1-2-3-4 with roads both ways plus a long diagonal 1->3.
    fn square() -> RoadNetwork {
        let p = [[0.0, 0.0], [0.001, 0.0], [0.001, 0.001], [0.0, 0.001]];
        let mut specs = Vec::new();
        let mut id = 0;
        for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 0)] {
            for (u, v) in [(a, b), (b, a)] {
                let mut s = RoadSpec::new(id, vec![p[u], p[v]]);
                s.start_node = Some(u as u64);
                s.end_node = Some(v as u64);
                specs.push(s);
                id += 1;
            }
        }
        let mut s = RoadSpec::new(100, vec![p[0], [0.0005, 0.0008], p[2]]);
        s.start_node = Some(0);
        s.end_node = Some(2);
        s.length_m = Some(10_000.0);
        specs.push(s);
        RoadNetwork::from_junctions("sq", specs, UTurns::OnlyIfDeadEnd).unwrap()
    }

    #[test]
    fn dijkstra_prefers_cheap_roads() {
        let net = square();
        let from = net.index_of(6).unwrap(); // 3 -> 0
        let to = net.index_of(2).unwrap(); // 1 -> 2
        let (path, cost) = shortest_path(&net, from, to, |r| net.roads[r].length_m, f64::INFINITY).unwrap();
        let ids: Vec<u64> = path.iter().map(|&r| net.roads[r].id).collect();
        assert_eq!(ids, vec![6, 0, 2]);
        assert!((cost - entered_length_m(&net, &path)).abs() < 1e-9);
        let tree = one_to_many(&net, from, |r| net.roads[r].length_m, f64::INFINITY);
        assert_eq!(path_from_tree(&tree, to).unwrap(), path);
        assert!((tree[&(to as u32)].0 - cost).abs() < 1e-9);
        // a bound below the cost finds nothing
        assert!(shortest_path(&net, from, to, |r| net.roads[r].length_m, cost * 0.5).is_none());
    }
}
