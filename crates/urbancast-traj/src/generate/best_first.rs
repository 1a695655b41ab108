//! HOSER's best-first search (`gene.py`, `Searcher.search` in the HOSER code).
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

use urbancast_roads::RoadNetwork;

use super::{
    CandidateSource, Generated, NearestSuccessors, OdRequest, Query, StepScorer, Token, check_requests, check_scores, next_time, usable,
};

/// Settings of [`best_first`].
#[derive(Debug, Clone)]
pub struct BestFirstConfig<C = NearestSuccessors> {
    /// Most expansions (scorer calls) per request; HOSER's `max_search_step` (5000).
    pub max_expansions: usize,
    /// Most roads in a route, origin included (HOSER has no such bound): a route this long is
    /// not expanded further.
    pub max_len: usize,
    /// Most candidates per step, passed to the candidate source.
    pub cap: usize,
    /// Optional A*-like pull towards the destination: queue priority = cumulative
    /// log-probability − `dist_weight_per_km` × centroid distance to the destination (km).
    /// 0 (the default) is HOSER's search.
    pub dist_weight_per_km: f64,
    /// Where candidates come from.
    pub candidates: C,
}

impl Default for BestFirstConfig {
    /// 5000 expansions, at most 256 roads, at most 64 candidates, no distance term,
    /// [`NearestSuccessors`].
    fn default() -> Self {
        BestFirstConfig { max_expansions: 5000, max_len: 256, cap: 64, dist_weight_per_km: 0.0, candidates: NearestSuccessors }
    }
}

impl<C> BestFirstConfig<C> {
    /// The same settings with another candidate source.
    pub fn with_candidates<D: CandidateSource>(self, candidates: D) -> BestFirstConfig<D> {
        BestFirstConfig {
            max_expansions: self.max_expansions,
            max_len: self.max_len,
            cap: self.cap,
            dist_weight_per_km: self.dist_weight_per_km,
            candidates,
        }
    }
}

/// A queued partial route: its last road, reached from expanded node `parent`.
struct Entry {
    priority: f64,
    logp: f64,
    road: usize,
    time: i64,
    parent: Option<usize>,
    seq: u64,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl Ord for Entry {
    /// Max-heap: higher priority first, then lower road index, then pushed earlier.
    fn cmp(&self, o: &Self) -> Ordering {
        self.priority.total_cmp(&o.priority).then_with(|| o.road.cmp(&self.road)).then_with(|| o.seq.cmp(&self.seq))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A popped (expanded or final) partial route.
struct Node {
    road: usize,
    time: i64,
    logp: f64,
    parent: Option<usize>,
    len: usize,
}

fn route(nodes: &[Node], mut i: usize, reached: bool) -> Generated {
    let logp = nodes[i].logp;
    let (mut roads, mut times) = (Vec::with_capacity(nodes[i].len), Vec::with_capacity(nodes[i].len));
    loop {
        roads.push(nodes[i].road);
        times.push(nodes[i].time);
        match nodes[i].parent {
            Some(p) => i = p,
            None => break,
        }
    }
    roads.reverse();
    times.reverse();
    Generated { roads, times, reached, logp }
}

/// HOSER's best-first search, one request at a time; returns one route per request.
///
/// What HOSER does (`gene.py`, `Searcher.search`): a priority queue of partial routes ordered
/// by cumulative log-probability (no heuristic), starting with the origin; pop the most
/// probable; skip it if its last road was already expanded (a global visited set per
/// request, so every road is expanded at most once and no route revisits a road); stop if it
/// is the destination (goal test when popped); remember it if its road's centroid is the
/// closest to the destination's so far; otherwise run the model on the whole route and push
/// every reachable road whose cumulative log-probability beats the best one pushed for that
/// road so far. At most `max_search_step` = 5000 expansions; if the destination was not
/// popped, the closest popped route is returned. Entry times add the predicted seconds,
/// rounded.
///
/// This does the same, with candidates from the candidate source (HOSER uses all successors)
/// and roads on the route skipped as candidates (they are visited, so nothing changes), a
/// route-length bound, deterministic ties (lower road index, then first pushed), and an
/// optional distance term in the priority ([`BestFirstConfig::dist_weight_per_km`]). Routes
/// without an unvisited candidate are dropped without a scorer call; `max_expansions` counts
/// scorer calls.
///
/// Scorer use: every expansion is one `advance` (of the parent's one-row state, cloned) and
/// one `score` call with a single row — no batching, hence `State: Clone`. The state of an
/// expanded route is kept while any of its children waits in the queue. [`super::beam_search`]
/// is the batched fast path.
///
/// # Panics
/// When `max_len` is 0, a request names a road outside the network, or the scorer answers
/// with the wrong number of rows or scores.
pub fn best_first<S, C>(net: &RoadNetwork, scorer: &S, requests: &[OdRequest], cfg: &BestFirstConfig<C>) -> Vec<Generated>
where
    S: StepScorer + ?Sized,
    S::State: Clone,
    C: CandidateSource,
{
    assert!(cfg.max_len >= 1, "max_len must be at least 1");
    check_requests(net, requests);
    requests.iter().map(|r| search_one(net, scorer, r, cfg)).collect()
}

fn search_one<S, C>(net: &RoadNetwork, scorer: &S, req: &OdRequest, cfg: &BestFirstConfig<C>) -> Generated
where
    S: StepScorer + ?Sized,
    S::State: Clone,
    C: CandidateSource,
{
    let dest = req.dest;
    let origin_only = |reached| Generated { roads: vec![req.origin], times: vec![req.start_time], reached, logp: 0.0 };
    if req.origin == dest {
        return origin_only(true);
    }
    let priority = |logp: f64, road: usize| {
        if cfg.dist_weight_per_km == 0.0 { logp } else { logp - cfg.dist_weight_per_km * net.centroid_distance_m(road, dest) / 1000.0 }
    };
    let mut nodes: Vec<Node> = Vec::new();
    let mut states: Vec<Option<S::State>> = Vec::new();
    let mut waiting: Vec<usize> = Vec::new(); // children of each node still in the queue
    let mut visited: HashSet<usize> = HashSet::new();
    let mut best_pushed: HashMap<usize, f64> = HashMap::new();
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let mut closest: Option<(f64, usize)> = None;
    let mut expansions = 0usize;

    best_pushed.insert(req.origin, 0.0);
    heap.push(Entry { priority: priority(0.0, req.origin), logp: 0.0, road: req.origin, time: req.start_time, parent: None, seq });

    while expansions < cfg.max_expansions {
        let Some(e) = heap.pop() else { break };
        if visited.contains(&e.road) {
            release(&mut waiting, &mut states, e.parent);
            continue;
        }
        visited.insert(e.road);
        let idx = nodes.len();
        let len = e.parent.map_or(1, |p| nodes[p].len + 1);
        nodes.push(Node { road: e.road, time: e.time, logp: e.logp, parent: e.parent, len });
        states.push(None);
        waiting.push(0);
        if e.road == dest {
            return route(&nodes, idx, true);
        }
        let d = net.centroid_distance_m(e.road, dest);
        if closest.is_none_or(|(cd, _)| d < cd) {
            closest = Some((d, idx));
        }
        if len >= cfg.max_len {
            release(&mut waiting, &mut states, e.parent);
            continue;
        }
        let cands = cfg.candidates.candidates(net, e.road, dest, cfg.cap);
        // Roads on this route are visited (every road of a route was expanded first).
        if cands.iter().all(|&c| visited.contains(&(c as usize))) {
            release(&mut waiting, &mut states, e.parent);
            continue;
        }
        let token = Token { road: e.road, time: e.time };
        let state = match e.parent {
            None => scorer.begin(&[token]),
            Some(p) => {
                let parent_state = states[p].clone().expect("a node's state is kept while its children wait");
                scorer.advance(parent_state, &[0], &[token])
            }
        };
        release(&mut waiting, &mut states, e.parent);
        let queries = [Query { row: 0, current: e.road, dest, time: e.time, candidates: &cands }];
        let scores = scorer.score(&state, &queries);
        check_scores(&scores, &queries);
        expansions += 1;
        let mut pushed = 0;
        for (&c, &(lp, dt)) in cands.iter().zip(&scores[0]) {
            let c = c as usize;
            if visited.contains(&c) || !usable(lp) {
                continue;
            }
            let logp = e.logp + f64::from(lp);
            if best_pushed.get(&c).is_none_or(|&b| logp > b) {
                best_pushed.insert(c, logp);
                seq += 1;
                heap.push(Entry { priority: priority(logp, c), logp, road: c, time: next_time(e.time, dt), parent: Some(idx), seq });
                pushed += 1;
            }
        }
        if pushed > 0 {
            states[idx] = Some(state);
            waiting[idx] = pushed;
        }
    }
    match closest {
        Some((_, i)) => route(&nodes, i, false),
        None => origin_only(false), // no expansion allowed at all
    }
}

/// One queued child of `parent` left the queue: drop the parent's state when it was the last.
fn release<T>(waiting: &mut [usize], states: &mut [Option<T>], parent: Option<usize>) {
    if let Some(p) = parent {
        waiting[p] -= 1;
        if waiting[p] == 0 {
            states[p] = None;
        }
    }
}
