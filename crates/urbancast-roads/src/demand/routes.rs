//! Route habits: the few fixed routes a trip between two roads may take, and the machinery to
//! find them fast (largest strongly connected component, a dense Dijkstra with reusable
//! buffers, a shared cache).
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, RwLock};

use super::{hash_normal, mix};
use crate::geo::LocalProjection;
use crate::network::RoadNetwork;

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Roads of the largest strongly connected component of the successor graph: any road of it
/// can reach any other, and every path between two of them stays inside it.
pub(crate) fn largest_scc(net: &RoadNetwork) -> Vec<bool> {
    let n = net.len();
    const NONE: u32 = u32::MAX;
    let (mut index, mut low, mut comp) = (vec![NONE; n], vec![0u32; n], vec![NONE; n]);
    let (mut on_stack, mut stack, mut next, mut ncomp) = (vec![false; n], Vec::new(), 0u32, 0u32);
    let mut sizes = Vec::new();
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        // iterative Tarjan: (node, position in its successor list)
        let mut call = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            if *pos == 0 && index[v] == NONE {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            let succ = net.successors(v);
            if *pos < succ.len() {
                let w = succ[*pos] as usize;
                *pos += 1;
                if index[w] == NONE {
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(u, _)) = call.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut size = 0;
                loop {
                    let w = stack.pop().unwrap();
                    on_stack[w] = false;
                    comp[w] = ncomp;
                    size += 1;
                    if w == v {
                        break;
                    }
                }
                sizes.push(size);
                ncomp += 1;
            }
        }
    }
    // largest component, lowest id on ties
    let best = (0..sizes.len()).max_by_key(|&c| (sizes[c], std::cmp::Reverse(c))).unwrap_or(0) as u32;
    comp.iter().map(|&c| c == best && sizes.get(best as usize).copied().unwrap_or(0) >= 2).collect()
}

#[derive(Copy, Clone, PartialEq)]
struct Item {
    /// cost so far + heuristic: the heap key
    key: f64,
    cost: f64,
    road: u32,
}
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.total_cmp(&self.key).then_with(|| o.road.cmp(&self.road))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Per-thread Dijkstra buffers, reset lazily with a generation stamp.
pub(crate) struct Scratch {
    dist: Vec<f64>,
    prev: Vec<u32>,
    stamp: Vec<u32>,
    generation: u32,
    heap: BinaryHeap<Item>,
}

impl Scratch {
    pub(crate) fn new(n: usize) -> Self {
        Scratch { dist: vec![0.0; n], prev: vec![0; n], stamp: vec![0; n], generation: 0, heap: BinaryHeap::new() }
    }
}

/// Cheapest road sequence `from ..= to` (same cost convention as [`crate::path`]: the cost
/// of entering each road after the first), or `None` when `to` is unreachable. A* with
/// `heuristic(r)`, a lower bound of the cost from road `r` to `to` that must be consistent
/// (`heuristic(u) <= cost(v) + heuristic(v)` for every successor `v` of `u`); `|_| 0.0` is
/// plain Dijkstra.
pub(crate) fn astar(
    net: &RoadNetwork,
    from: u32,
    to: u32,
    cost: impl Fn(u32) -> f64,
    heuristic: impl Fn(u32) -> f64,
    s: &mut Scratch,
) -> Option<Vec<u32>> {
    if from == to {
        return Some(vec![from]);
    }
    s.generation = s.generation.wrapping_add(1);
    if s.generation == 0 {
        s.stamp.fill(0);
        s.generation = 1;
    }
    let g = s.generation;
    s.heap.clear();
    s.stamp[from as usize] = g;
    s.dist[from as usize] = 0.0;
    s.prev[from as usize] = u32::MAX;
    s.heap.push(Item { key: heuristic(from), cost: 0.0, road: from });
    while let Some(Item { cost: c, road, .. }) = s.heap.pop() {
        if road == to {
            let mut path = vec![to];
            let mut cur = to;
            while s.prev[cur as usize] != u32::MAX {
                cur = s.prev[cur as usize];
                path.push(cur);
            }
            path.reverse();
            return Some(path);
        }
        if c > s.dist[road as usize] {
            continue;
        }
        for &next in net.successors(road as usize) {
            let nc = c + cost(next).max(0.0);
            let i = next as usize;
            if s.stamp[i] != g || nc < s.dist[i] {
                s.stamp[i] = g;
                s.dist[i] = nc;
                s.prev[i] = road;
                s.heap.push(Item { key: nc + heuristic(next), cost: nc, road: next });
            }
        }
    }
    None
}

/// Cached routes by (origin, destination, habit), and the road indices they hold.
type RouteCache = (HashMap<(u32, u32, u32), Arc<[u32]>>, usize);

/// Routes of (origin road, destination road, habit), computed once and shared by all threads.
/// A route is a deterministic function of its key, so caching never changes the output; the
/// cache stops growing beyond `max_cached_roads` stored road indices (memory bound; 0 turns
/// caching off, right when pairs hardly ever repeat).
pub(crate) struct Habits<'a> {
    net: &'a RoadNetwork,
    /// Free-flow seconds to traverse each road (the base of every habit's edge cost).
    base_cost: &'a [f64],
    seed: u64,
    sigma: f64,
    cache: RwLock<RouteCache>,
    max_cached_roads: usize,
    /// Road ends in local metres, and seconds per metre of straight-line progress that no
    /// habit can beat: the A* heuristic is `rate · |end(r) − end(to)|`.
    end_xy: Vec<[f64; 2]>,
    rate: f64,
}

impl<'a> Habits<'a> {
    pub(crate) fn new(net: &'a RoadNetwork, base_cost: &'a [f64], seed: u64, sigma: f64, max_cached_roads: usize) -> Self {
        let b = net.bbox();
        let proj = LocalProjection::new([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]);
        let end_xy: Vec<[f64; 2]> = net.roads.iter().map(|r| proj.to_xy(r.end())).collect();
        // The cheapest a habit can make road v is base_cost[v]·exp(−3σ) (z is truncated to
        // ±3). With `rate` at most that over the straight distance between the ends of any
        // road u and its successor v, h(u) − h(v) <= rate·|end(u) − end(v)| <= cost(v) by the
        // triangle inequality: the heuristic is consistent whatever the geometry, and A*
        // returns the same cheapest routes as Dijkstra.
        let min_factor = (-3.0 * sigma).exp();
        let mut rate = f64::INFINITY;
        for (u, succ) in net.successors.iter().enumerate() {
            for &v in succ {
                let d = dist(end_xy[u], end_xy[v as usize]);
                if d > 0.0 {
                    rate = rate.min(base_cost[v as usize] * min_factor / d);
                }
            }
        }
        let rate = if rate.is_finite() { rate * (1.0 - 1e-9) } else { 0.0 };
        Habits { net, base_cost, seed, sigma, cache: RwLock::new((HashMap::new(), 0)), max_cached_roads, end_xy, rate }
    }

    /// The price of entering road `r` under habit `h` of the pair (o, d).
    fn cost(&self, o: u32, d: u32, h: u32) -> impl Fn(u32) -> f64 + use<'_> {
        let hk = mix(mix(self.seed ^ 0x4841_4249_5453, ((o as u64) << 32) | d as u64), h as u64);
        let (base, sigma) = (self.base_cost, self.sigma);
        move |r: u32| base[r as usize] * (sigma * hash_normal(mix(hk, r as u64))).exp()
    }

    /// Habit `h` of the pair: the cheapest route when entering road `r` costs
    /// `base_cost[r] · exp(σ·z)`, with `z` a standard normal (truncated to ±3) drawn from a
    /// hash of (seed, origin, destination, habit, r).
    pub(crate) fn route(&self, o: u32, d: u32, h: u32, scratch: &mut Scratch) -> Option<Arc<[u32]>> {
        let key = (o, d, h);
        if self.max_cached_roads > 0
            && let Some(r) = self.cache.read().unwrap().0.get(&key)
        {
            return Some(r.clone());
        }
        let cost = self.cost(o, d, h);
        let goal = self.end_xy[d as usize];
        let heuristic = |r: u32| self.rate * dist(self.end_xy[r as usize], goal);
        let path: Arc<[u32]> = astar(self.net, o, d, cost, heuristic, scratch)?.into();
        if self.max_cached_roads == 0 {
            return Some(path);
        }
        let mut w = self.cache.write().unwrap();
        if w.1 + path.len() <= self.max_cached_roads {
            w.1 += path.len();
            w.0.insert(key, path.clone());
        }
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{RoadSpec, UTurns};
    use crate::path::shortest_path;

    /// `n × n` two-way grid plus a one-way spur leaving the corner (not strongly connected).
    fn grid(n: u64) -> RoadNetwork {
        let pos = |i: u64| [0.001 * (i % n) as f64, 0.0012 * (i / n) as f64];
        let mut specs = Vec::new();
        let mut add = |a: u64, b: u64, pa, pb| {
            let mut s = RoadSpec::new(specs.len() as u64, vec![pa, pb]);
            (s.start_node, s.end_node) = (Some(a), Some(b));
            specs.push(s);
        };
        for i in 0..n * n {
            for j in [(i % n + 1 < n).then_some(i + 1), (i / n + 1 < n).then_some(i + n)].into_iter().flatten() {
                add(i, j, pos(i), pos(j));
                add(j, i, pos(j), pos(i));
            }
        }
        add(0, 999, pos(0), [-0.001, 0.0]);
        RoadNetwork::from_junctions("g", specs, UTurns::OnlyIfDeadEnd).unwrap()
    }

    #[test]
    fn scc_leaves_out_the_spur() {
        let net = grid(4);
        let scc = largest_scc(&net);
        assert_eq!(scc.iter().filter(|&&x| x).count(), net.len() - 1);
        assert!(!scc[net.len() - 1]);
    }

    #[test]
    fn astar_finds_the_dijkstra_optimum() {
        let net = grid(9);
        let base: Vec<f64> = net.roads.iter().map(|r| r.length_m / 10.0).collect();
        let habits = Habits::new(&net, &base, 7, 0.3, 1_000_000);
        assert!(habits.rate > 0.0);
        let mut scratch = Scratch::new(net.len());
        let n = net.len() as u32 - 1; // leave the spur out
        for (k, (o, d)) in (0..40u32).map(|k| ((k * 37) % n, (k * 101 + 13) % n)).enumerate() {
            let h = k as u32 % 3;
            let route = habits.route(o, d, h, &mut scratch).unwrap();
            let cost = habits.cost(o, d, h);
            assert!(route.windows(2).all(|w| net.successors(w[0] as usize).contains(&w[1])));
            let got: f64 = route.iter().skip(1).map(|&r| cost(r)).sum();
            let (_, best) = shortest_path(&net, o as usize, d as usize, |r| cost(r as u32), f64::INFINITY).unwrap();
            assert!((got - best).abs() < 1e-9 * best.max(1.0), "{o}->{d}: {got} vs {best}");
            assert!(Arc::ptr_eq(&route, &habits.route(o, d, h, &mut scratch).unwrap()), "cached");
        }
    }
}
