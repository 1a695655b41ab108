//! Generation algorithms on toy networks with hand-set scorers.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use urbancast_roads::{LonLat, RoadNetwork, RoadSpec, UTurns};
use urbancast_traj::generate::{
    BeamConfig, BestFirstConfig, CandidateSource, DistanceScorer, Generated, NearestSuccessors, OdRequest, Query, StepScorer, Token,
    beam_search, best_first, to_trajectory,
};

const T0: i64 = 1_700_000_000;

/// Builds a network from `(id, from junction, to junction)` with junction positions.
fn network(junctions: &[(u64, LonLat)], roads: &[(u64, u64, u64)]) -> RoadNetwork {
    let pos: HashMap<u64, LonLat> = junctions.iter().copied().collect();
    let specs = roads
        .iter()
        .map(|&(id, a, b)| {
            let mut s = RoadSpec::new(id, vec![pos[&a], pos[&b]]);
            s.start_node = Some(a);
            s.end_node = Some(b);
            s
        })
        .collect();
    RoadNetwork::from_junctions("toy", specs, UTurns::OnlyIfDeadEnd).unwrap()
}

/// The "greedy trap": from the origin 100 (A→B), road 101 (B→C) is the likely first step
/// (0.6) but from C the destination side road 103 is unlikely (0.1) and 105 (C→G) leads to a
/// dead end; 102 (B→D, 0.4) then 104 (D→E, 0.9) reaches the destination 107 (E→F) with
/// probability 0.36 > 0.06. 108 (X→Y) is disconnected.
fn trap() -> RoadNetwork {
    let j = [
        (0, [0.000, 0.000]),  // A
        (1, [0.001, 0.000]),  // B
        (2, [0.002, 0.001]),  // C
        (3, [0.002, -0.001]), // D
        (4, [0.003, 0.000]),  // E
        (5, [0.004, 0.000]),  // F
        (6, [0.002, 0.002]),  // G
        (7, [0.002, -0.002]), // H
        (8, [0.010, 0.010]),  // X
        (9, [0.011, 0.010]),  // Y
    ];
    let r = [(100, 0, 1), (101, 1, 2), (102, 1, 3), (103, 2, 4), (104, 3, 4), (105, 2, 6), (106, 3, 7), (107, 4, 5), (108, 8, 9)];
    network(&j, &r)
}

/// Hand-set transition weights by user ids; unknown transitions weigh `rest`. Log-probabilities
/// are normalised over the candidates given. Predicted seconds: `dts[(from, to)]` or 10.4.
/// The state is each row's route so far, which checks that the search advances rows right.
struct TableScorer<'a> {
    net: &'a RoadNetwork,
    weights: HashMap<(u64, u64), f64>,
    rest: f64,
    dts: HashMap<(u64, u64), f32>,
    score_calls: Cell<usize>,
    advance_calls: Cell<usize>,
    /// Number of queries of each score call.
    batch_sizes: RefCell<Vec<usize>>,
}

impl<'a> TableScorer<'a> {
    fn new(net: &'a RoadNetwork, weights: &[((u64, u64), f64)], rest: f64) -> Self {
        TableScorer {
            net,
            weights: weights.iter().copied().collect(),
            rest,
            dts: HashMap::new(),
            score_calls: Cell::new(0),
            advance_calls: Cell::new(0),
            batch_sizes: RefCell::new(Vec::new()),
        }
    }
    fn id(&self, r: usize) -> u64 {
        self.net.road(r).id
    }
    fn dt(&self, from: usize, to: usize) -> f32 {
        self.dts.get(&(self.id(from), self.id(to))).copied().unwrap_or(10.4)
    }
}

impl StepScorer for TableScorer<'_> {
    type State = Vec<Vec<Token>>;

    fn begin(&self, rows: &[Token]) -> Self::State {
        rows.iter().map(|&t| vec![t]).collect()
    }

    fn score(&self, state: &Self::State, queries: &[Query<'_>]) -> Vec<Vec<(f32, f32)>> {
        self.score_calls.set(self.score_calls.get() + 1);
        self.batch_sizes.borrow_mut().push(queries.len());
        assert!(queries.windows(2).all(|w| w[0].row < w[1].row), "queries sorted by row, each row once");
        queries
            .iter()
            .map(|q| {
                let last = *state[q.row].last().unwrap();
                assert_eq!(last, Token { road: q.current, time: q.time }, "row {} is not where the query says", q.row);
                let w: Vec<f64> = q
                    .candidates
                    .iter()
                    .map(|&c| self.weights.get(&(self.id(q.current), self.id(c as usize))).copied().unwrap_or(self.rest))
                    .collect();
                let z: f64 = w.iter().sum();
                q.candidates.iter().zip(&w).map(|(&c, &w)| (((w / z).ln()) as f32, self.dt(q.current, c as usize))).collect()
            })
            .collect()
    }

    fn advance(&self, state: Self::State, parents: &[usize], tokens: &[Token]) -> Self::State {
        self.advance_calls.set(self.advance_calls.get() + 1);
        assert_eq!(parents.len(), tokens.len());
        parents
            .iter()
            .zip(tokens)
            .map(|(&p, &t)| {
                let mut row = state[p].clone();
                assert!(self.net.successors(row.last().unwrap().road).contains(&(t.road as u32)), "not a successor");
                row.push(t);
                row
            })
            .collect()
    }
}

fn trap_scorer(net: &RoadNetwork) -> TableScorer<'_> {
    TableScorer::new(
        net,
        &[
            ((100, 101), 0.6),
            ((100, 102), 0.4),
            ((101, 103), 0.1),
            ((101, 105), 0.9),
            ((102, 104), 0.9),
            ((102, 106), 0.1),
            ((103, 107), 1.0),
            ((104, 107), 1.0),
        ],
        1.0,
    )
}

fn ids(net: &RoadNetwork, g: &Generated) -> Vec<u64> {
    g.roads.iter().map(|&r| net.road(r).id).collect()
}

fn req(net: &RoadNetwork, o: u64, d: u64, t: i64) -> OdRequest {
    OdRequest { origin: net.index_of(o).unwrap(), dest: net.index_of(d).unwrap(), start_time: t }
}

fn beam(width: usize) -> BeamConfig {
    BeamConfig { width, ..BeamConfig::default() }
}

#[test]
fn beam_search_escapes_the_greedy_trap() {
    let net = trap();
    let s = trap_scorer(&net);
    let r = [req(&net, 100, 107, T0)];

    // Greedy: 101 (0.6), 105 (0.54), dead end at G; the prefix closest to the destination is
    // [100, 101] (road 101's centroid is nearer to 107's than 105's or 100's).
    let greedy = &beam_search(&net, &s, &r, &beam(1))[0];
    assert!(!greedy.reached);
    assert_eq!(ids(&net, greedy), vec![100, 101]);
    assert!((greedy.logp - 0.6f64.ln()).abs() < 1e-6);

    for w in [2, 3, 4, 8] {
        let g = &beam_search(&net, &s, &r, &beam(w))[0];
        assert!(g.reached, "width {w}");
        assert_eq!(ids(&net, g), vec![100, 102, 104, 107], "width {w}");
        assert!((g.logp - 0.36f64.ln()).abs() < 1e-5, "width {w}: {}", g.logp);
    }
}

#[test]
fn best_first_finds_the_most_probable_route() {
    let net = trap();
    let s = trap_scorer(&net);
    let r = [req(&net, 100, 107, T0)];
    let g = &best_first(&net, &s, &r, &BestFirstConfig::default())[0];
    assert!(g.reached);
    assert_eq!(ids(&net, g), vec![100, 102, 104, 107]);
    assert!((g.logp - 0.36f64.ln()).abs() < 1e-5);
    assert_eq!(g.times, vec![T0, T0 + 10, T0 + 20, T0 + 30]);
    // Expanded: 100, 101, 102, 104 (105 is a dead end: dropped without a call).
    assert_eq!(s.score_calls.get(), 4);
    assert_eq!(s.advance_calls.get(), 3);

    // A strong pull towards the destination trades probability for directness: 101 and 102
    // are equally far from 107, 101 is likelier, and from there 103 is much nearer than 105.
    let pull = BestFirstConfig { dist_weight_per_km: 1000.0, ..BestFirstConfig::default() };
    let before = s.score_calls.get();
    let g = &best_first(&net, &s, &r, &pull)[0];
    assert!(g.reached);
    assert_eq!(ids(&net, g), vec![100, 101, 103, 107]);
    assert!((g.logp - 0.06f64.ln()).abs() < 1e-5);
    assert_eq!(s.score_calls.get() - before, 3);

    // A budget too small to get there: the closest popped route, not reached.
    let tight = BestFirstConfig { max_expansions: 2, ..BestFirstConfig::default() };
    let g = &best_first(&net, &s, &r, &tight)[0];
    assert!(!g.reached);
    assert_eq!(ids(&net, g), vec![100, 101]);
}

/// Transition weights by user ids.
type Weights = Vec<((u64, u64), f64)>;

/// A one-way ring 200→201→202→203→200 with an exit 204 from the end of 203 towards the
/// destination 205. The scorer loves the ring.
fn ring() -> (RoadNetwork, Weights) {
    let j =
        [(0, [0.000, 0.000]), (1, [0.001, 0.000]), (2, [0.001, 0.001]), (3, [0.000, 0.001]), (4, [-0.001, 0.001]), (5, [-0.002, 0.001])];
    let r = [(200, 0, 1), (201, 1, 2), (202, 2, 3), (203, 3, 0), (204, 0, 4), (205, 4, 5)];
    // 203 ends at junction 0 where both 200 (the ring) and 204 (the exit) start.
    let net = network(&j, &r);
    let w = vec![((203, 200), 0.99), ((203, 204), 0.01)];
    (net, w)
}

#[test]
fn visited_roads_are_never_entered_again() {
    let (net, w) = ring();
    // Origin 200: the ring goes 201, 202, 203, then back to 200 (0.99) or out via 204 (0.01);
    // 200 is on the route, so even greedy takes the exit instead of looping.
    let s = TableScorer::new(&net, &w, 1.0);
    let r = [req(&net, 200, 205, T0)];
    for g in [&beam_search(&net, &s, &r, &beam(1))[0], &best_first(&net, &s, &r, &BestFirstConfig::default())[0]] {
        assert!(g.reached);
        let route = ids(&net, g);
        assert_eq!(route, vec![200, 201, 202, 203, 204, 205]);
        assert!((g.logp - 0.01f64.ln()).abs() < 1e-6, "not renormalised over the unvisited candidates");
    }
    // From 202, greedy steps into 200 (0.99), goes on to 201 and is stuck (202 is visited);
    // width 2 keeps the exit alive.
    let mut w2 = w.clone();
    w2.push(((200, 201), 1.0));
    let s = TableScorer::new(&net, &w2, 1.0);
    let r = [req(&net, 202, 205, T0)];
    let g = &beam_search(&net, &s, &r, &beam(1))[0];
    assert!(!g.reached);
    assert_eq!(ids(&net, g), vec![202, 203]); // 203's centroid is nearer to 205 than 200's
    let g = &beam_search(&net, &s, &r, &beam(2))[0];
    assert!(g.reached);
    assert_eq!(ids(&net, g), vec![202, 203, 204, 205]);
}

#[test]
fn max_len_is_honoured() {
    let (net, w) = ring();
    let s = TableScorer::new(&net, &w, 1.0);
    let r = [req(&net, 201, 205, T0)];
    for max_len in 1..=4 {
        let cfg = BeamConfig { max_len, ..BeamConfig::default() };
        let g = &beam_search(&net, &s, &r, &cfg)[0];
        assert!(!g.reached, "max_len {max_len}");
        assert!(g.len() <= max_len);
        let bf = BestFirstConfig { max_len, ..BestFirstConfig::default() };
        let g = &best_first(&net, &s, &r, &bf)[0];
        assert!(!g.reached && g.len() <= max_len, "best-first, max_len {max_len}");
    }
    let cfg = BeamConfig { max_len: 5, ..BeamConfig::default() };
    let g = &beam_search(&net, &s, &r, &cfg)[0];
    assert!(g.reached && g.len() == 5);
}

#[test]
fn unreachable_destination_gives_the_closest_prefix() {
    let net = trap();
    let s = trap_scorer(&net);
    // 108 is disconnected. Of all roads reachable from 100, the one whose centroid is nearest
    // to 108's: computed by brute force.
    let dest = net.index_of(108).unwrap();
    let reachable = [100u64, 101, 102, 103, 104, 105, 106, 107];
    let nearest = reachable
        .iter()
        .copied()
        .min_by(|&a, &b| {
            let da = net.centroid_distance_m(net.index_of(a).unwrap(), dest);
            let db = net.centroid_distance_m(net.index_of(b).unwrap(), dest);
            da.total_cmp(&db)
        })
        .unwrap();
    let r = [req(&net, 100, 108, T0)];
    for g in [&beam_search(&net, &s, &r, &beam(8))[0], &best_first(&net, &s, &r, &BestFirstConfig::default())[0]] {
        assert!(!g.reached);
        assert_eq!(*ids(&net, g).last().unwrap(), nearest);
        assert_eq!(g.roads.len(), g.times.len());
        assert_eq!(g.roads[0], net.index_of(100).unwrap());
    }
}

#[test]
fn origin_equal_to_destination() {
    let net = trap();
    let s = trap_scorer(&net);
    let r = [req(&net, 104, 104, T0)];
    for g in [&beam_search(&net, &s, &r, &beam(4))[0], &best_first(&net, &s, &r, &BestFirstConfig::default())[0]] {
        assert!(g.reached);
        assert_eq!(ids(&net, g), vec![104]);
        assert_eq!(g.times, vec![T0]);
        assert_eq!(g.logp, 0.0);
    }
    assert_eq!(s.score_calls.get(), 0);
}

/// A 4×4 grid of two-way streets (junction (x, y) at (0.001x, 0.001y)).
fn grid() -> RoadNetwork {
    let n = 4u64;
    let jid = |x: u64, y: u64| y * n + x;
    let mut j = Vec::new();
    for y in 0..n {
        for x in 0..n {
            j.push((jid(x, y), [0.001 * x as f64, 0.001 * y as f64]));
        }
    }
    let mut r = Vec::new();
    let mut id = 1000;
    for y in 0..n {
        for x in 0..n {
            for (dx, dy) in [(1, 0), (0, 1)] {
                let (x2, y2) = (x + dx, y + dy);
                if x2 < n && y2 < n {
                    r.push((id, jid(x, y), jid(x2, y2)));
                    r.push((id + 1, jid(x2, y2), jid(x, y)));
                    id += 2;
                }
            }
        }
    }
    network(&j, &r)
}

#[test]
fn batched_requests_match_one_at_a_time() {
    let net = grid();
    // Uneven hand-set preferences so beams really compete, and a negative duration (clamped).
    let mut weights = Vec::new();
    for a in 0..net.len() {
        for &b in net.successors(a) {
            let (ia, ib) = (net.road(a).id, net.road(b as usize).id);
            weights.push(((ia, ib), 1.0 + ((ia * 7 + ib * 13) % 5) as f64));
        }
    }
    let mut s = TableScorer::new(&net, &weights, 1.0);
    s.dts.insert((net.road(0).id, net.road(net.successors(0)[0] as usize).id), -3.0);
    let mut requests = Vec::new();
    for (k, o) in (0..net.len()).step_by(3).enumerate() {
        for d in (1..net.len()).step_by(5) {
            requests.push(OdRequest { origin: o, dest: d, start_time: T0 + 60 * k as i64 });
        }
    }
    assert!(requests.len() > 50);

    for cfg in [beam(1), beam(3), BeamConfig { max_len: 6, ..beam(4) }] {
        let before = s.score_calls.get();
        let batched = beam_search(&net, &s, &requests, &cfg);
        let batched_calls = s.score_calls.get() - before;
        let batches = s.batch_sizes.borrow().len();
        assert!(s.batch_sizes.borrow()[batches - batched_calls..].iter().any(|&n| n > cfg.width), "rows are batched");

        let mut most_calls = 0;
        for (r, b) in requests.iter().zip(&batched) {
            let before = s.score_calls.get();
            let single = beam_search(&net, &s, std::slice::from_ref(r), &cfg);
            most_calls = most_calls.max(s.score_calls.get() - before);
            assert_eq!(&single[0], b, "request {r:?}");
            check_route(&net, &s, r, b);
            assert!(b.len() <= cfg.max_len);
        }
        // One score call per step for all rows of all requests.
        assert_eq!(batched_calls, most_calls);

        let bf = best_first(&net, &s, &requests, &BestFirstConfig::default());
        for (r, g) in requests.iter().zip(&bf) {
            check_route(&net, &s, r, g);
            assert!(g.reached, "best-first reaches every destination of the connected grid");
            // Best-first returns the most probable route (a Dijkstra on −log p here, as the
            // scorer ignores the past), so no beam beats it.
            let b = &batched[requests.iter().position(|x| x == r).unwrap()];
            if b.reached {
                assert!(g.logp >= b.logp - 1e-9, "{r:?}: best-first {} < beam {}", g.logp, b.logp);
            }
        }
    }
}

/// Structural checks: origin, successors, no repeats, times as sums of rounded durations,
/// log-probability as the sum of the scorer's.
fn check_route(net: &RoadNetwork, s: &TableScorer<'_>, r: &OdRequest, g: &Generated) {
    assert_eq!(g.roads[0], r.origin);
    assert_eq!(g.times[0], r.start_time);
    assert_eq!(g.roads.len(), g.times.len());
    assert_eq!(g.reached, *g.roads.last().unwrap() == r.dest);
    let mut seen = g.roads.clone();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), g.roads.len(), "no road twice");
    let mut logp = 0.0;
    for k in 1..g.roads.len() {
        let (a, b) = (g.roads[k - 1], g.roads[k]);
        assert!(net.successors(a).contains(&(b as u32)));
        let dt = s.dt(a, b);
        let expected = if dt > 0.0 { dt.round() as i64 } else { 0 };
        assert_eq!(g.times[k] - g.times[k - 1], expected, "times are sums of predicted durations");
        let cands = NearestSuccessors.candidates(net, a, r.dest, 64);
        let q = Query { row: 0, current: a, dest: r.dest, time: g.times[k - 1], candidates: &cands };
        let state = vec![vec![Token { road: a, time: g.times[k - 1] }]];
        let scores = s.score(&state, &[q]);
        let pos = cands.iter().position(|&c| c as usize == b).unwrap();
        logp += f64::from(scores[0][pos].0);
    }
    assert!((logp - g.logp).abs() < 1e-6, "logp {} vs sum {}", g.logp, logp);
    assert!(g.times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn candidate_source_can_be_plugged_in() {
    let net = trap();
    let s = trap_scorer(&net);
    let r = [req(&net, 100, 107, T0)];
    // Only the lowest-index successor: 100 → 101 → 103 → 107.
    let first_only =
        |net: &RoadNetwork, cur: usize, _dest: usize, _cap: usize| -> Vec<u32> { net.successors(cur).iter().take(1).copied().collect() };
    let cfg = beam(4).with_candidates(first_only);
    let g = &beam_search(&net, &s, &r, &cfg)[0];
    assert_eq!(ids(&net, g), vec![100, 101, 103, 107]);
    // With one candidate the (unrenormalised) log-probability is the scorer's log-softmax over
    // that one candidate: 0.
    assert!(g.reached && g.logp.abs() < 1e-6);
    let bf = BestFirstConfig::default().with_candidates(first_only);
    assert_eq!(ids(&net, &best_first(&net, &s, &r, &bf)[0]), vec![100, 101, 103, 107]);

    // The default source keeps the `cap` successors nearest to the destination: from 102
    // (B→D), 104 (D→E) rather than 106 (D→H).
    let (from, dest) = (net.index_of(102).unwrap(), net.index_of(107).unwrap());
    assert_eq!(NearestSuccessors.candidates(&net, from, dest, 1), vec![net.index_of(104).unwrap() as u32]);
    assert_eq!(NearestSuccessors.candidates(&net, from, dest, 2), net.successors(from).to_vec());

    // The data module's candidate function plugs in as is and follows the same rule.
    let grid = grid();
    for cur in 0..grid.len() {
        for cap in 1..4 {
            let dest = (cur * 7 + 3) % grid.len();
            assert_eq!(NearestSuccessors.candidates(&grid, cur, dest, cap), urbancast_traj::data::candidates(&grid, cur, dest, cap));
        }
    }
    let cfg = beam(4).with_candidates(urbancast_traj::data::candidates);
    assert_eq!(ids(&net, &beam_search(&net, &s, &r, &cfg)[0]), vec![100, 102, 104, 107]);
}

#[test]
fn distance_scorer_walks_to_the_destination() {
    let net = grid();
    let s = DistanceScorer::new(&net).with_speed(5.0);
    let requests: Vec<OdRequest> =
        (0..net.len()).step_by(7).map(|o| OdRequest { origin: o, dest: net.len() - 1 - o % 5, start_time: T0 }).collect();
    let beams = beam_search(&net, &s, &requests, &BeamConfig::default());
    let bfs = best_first(&net, &s, &requests, &BestFirstConfig::default());
    for (r, gs) in requests.iter().zip(beams.iter().zip(&bfs)) {
        for g in [gs.0, gs.1] {
            assert!(g.reached, "{r:?}");
            assert_eq!(g.roads[0], r.origin);
            for k in 1..g.len() {
                let dt = (net.road(g.roads[k - 1]).length_m / 5.0) as f32;
                assert_eq!(g.times[k] - g.times[k - 1], dt.round() as i64);
            }
            assert!(g.logp <= 0.0);
        }
    }
    // Log-probabilities are a log-softmax.
    let cands = net.successors(0).to_vec();
    let q = Query { row: 0, current: 0, dest: net.len() - 1, time: T0, candidates: &cands };
    let sc = s.score(&s.begin(&[Token { road: 0, time: T0 }]), &[q]);
    let total: f64 = sc[0].iter().map(|&(lp, _)| f64::from(lp).exp()).sum();
    assert!((total - 1.0).abs() < 1e-5);
}

#[test]
fn trajectories_carry_user_ids() {
    let net = trap();
    let s = trap_scorer(&net);
    let r = [req(&net, 100, 107, T0)];
    let g = &beam_search(&net, &s, &r, &beam(4))[0];
    let t = to_trajectory(&net, g, "gen-0");
    assert_eq!(t.roads, vec![100, 102, 104, 107]);
    assert_eq!(t.times, g.times);
    assert_eq!(t.id.as_deref(), Some("gen-0"));
    assert!(t.validate().is_ok());
    assert_eq!(t.duration_s(), g.duration_s());
}
