//! Route generation: search algorithms that turn a next-road model into routes from an origin
//! road to a destination road, independent of what the model is.
//!
//! The model is seen through [`StepScorer`]: it keeps an opaque decoder state for a set of
//! *rows* (partial routes), scores the candidate roads of each row (log-probability of taking
//! it and predicted seconds until it is entered), and advances rows by one road. The search
//! algorithms only decide which rows to continue:
//!
//! * [`beam_search`]: batched beam search over many OD requests at once — one
//!   [`StepScorer::score`] and one [`StepScorer::advance`] call per step for all live beams of
//!   all requests (the fast path for the neural model);
//! * [`best_first`]: HOSER's search (`gene.py`, `Searcher.search`): a priority queue over
//!   partial routes ordered by cumulative log-probability, each road expanded once, a budget of
//!   model calls, the route ending closest to the destination as fallback; one request at a
//!   time, one row per call;
//! * [`DistanceScorer`]: a non-learned scorer (softmax of minus distance to the destination,
//!   constant speed), a baseline and a stand-in for tests and benchmarks.
//!
//! Candidates come from a [`CandidateSource`] (default [`NearestSuccessors`]: the successors of
//! the current road, at most `cap`, nearest to the destination first); any
//! `Fn(&RoadNetwork, current, dest, cap) -> Vec<u32>` plugs in, e.g. the data module's
//! candidate function. Roads are network indices throughout; [`to_trajectory`] converts a
//! result to user ids.
//!
//! Times: the entry time of each new road is the entry time of the previous road plus the
//! predicted seconds of the chosen transition, rounded to whole seconds and never negative
//! (non-finite predictions count as 0), so times never decrease.
use serde::{Deserialize, Serialize};
use urbancast_roads::{RoadNetwork, Trajectory};

mod beam;
mod best_first;
mod distance;

pub use beam::{BeamConfig, beam_search};
pub use best_first::{BestFirstConfig, best_first};
pub use distance::DistanceScorer;

/// One road entered by a route: the road index and the time it was entered (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Token {
    /// Road index in the network.
    pub road: usize,
    /// Unix seconds (UTC) at which the road was entered.
    pub time: i64,
}

/// A request to score the next road of one row.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The row of the scorer's state this query is about.
    pub row: usize,
    /// The row's current (last entered) road.
    pub current: usize,
    /// The destination road of the row's request.
    pub dest: usize,
    /// Entry time of `current` (Unix seconds); the state has it too, this is for convenience.
    pub time: i64,
    /// The candidate next roads, exactly as the [`CandidateSource`] gave them (roads already
    /// on the row's route are still listed; the search skips them after scoring, so the
    /// scorer sees the candidate set it was trained on).
    pub candidates: &'a [u32],
}

/// A next-road model as the search algorithms see it.
///
/// Rows are numbered `0..n` in each state. The search calls [`begin`](Self::begin) once, then
/// alternates [`score`](Self::score) and [`advance`](Self::advance). Scores must depend only
/// on the row's own tokens, destination and candidates (not on the other rows), which is what
/// makes batched and one-at-a-time searches agree.
pub trait StepScorer {
    /// Decoder state for a set of rows (e.g. KV caches); opaque to the search.
    type State;

    /// Starts `rows.len()` rows; row `i` consumes its first token `rows[i]` (origin road and
    /// start time).
    fn begin(&self, rows: &[Token]) -> Self::State;

    /// For each query, in order, one `(log-probability, seconds)` pair per candidate, in the
    /// order of `query.candidates`: the log-probability of entering that candidate next
    /// (normally a log-softmax over the candidates) and the predicted seconds from entering
    /// `query.current` to entering the candidate. Queries are sorted by row, each row at most
    /// once; rows without a query are dropped at the next `advance` (they have nowhere left to
    /// go). A log-probability that is not finite (`-inf`, NaN) rules the candidate out.
    fn score(&self, state: &Self::State, queries: &[Query<'_>]) -> Vec<Vec<(f32, f32)>>;

    /// A new state whose row `i` continues old row `parents[i]` and consumes `tokens[i]`. A
    /// parent may appear several times (a beam forks) or not at all (a beam ends).
    fn advance(&self, state: Self::State, parents: &[usize], tokens: &[Token]) -> Self::State;
}

/// Where the candidate next roads come from.
pub trait CandidateSource {
    /// Candidate roads that may follow `current` on the way to `dest`, at most `cap`.
    /// Indices must be valid road indices; the order is passed on to the scorer.
    fn candidates(&self, net: &RoadNetwork, current: usize, dest: usize, cap: usize) -> Vec<u32>;
}

impl<F> CandidateSource for F
where
    F: Fn(&RoadNetwork, usize, usize, usize) -> Vec<u32>,
{
    fn candidates(&self, net: &RoadNetwork, current: usize, dest: usize, cap: usize) -> Vec<u32> {
        self(net, current, dest, cap)
    }
}

/// The default [`CandidateSource`]: the successors of the current road; when there are more
/// than `cap`, the `cap` whose centroids are nearest to the destination's centroid (ties by
/// road index). Returned in successor order. The same rule as
/// [`crate::data::candidates()`] (which plugs in as a source too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NearestSuccessors;

impl CandidateSource for NearestSuccessors {
    fn candidates(&self, net: &RoadNetwork, current: usize, dest: usize, cap: usize) -> Vec<u32> {
        let succ = net.successors(current);
        if succ.len() <= cap {
            return succ.to_vec();
        }
        let mut by_dist: Vec<(f64, u32)> = succ.iter().map(|&s| (net.centroid_distance_m(s as usize, dest), s)).collect();
        by_dist.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut keep: Vec<u32> = by_dist.into_iter().take(cap).map(|(_, s)| s).collect();
        keep.sort_unstable();
        succ.iter().copied().filter(|s| keep.binary_search(s).is_ok()).collect()
    }
}

/// One generation request: route from road `origin` (entered at `start_time`, Unix seconds)
/// to road `dest` (road indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OdRequest {
    /// Road index the route starts on.
    pub origin: usize,
    /// Road index the route should end on.
    pub dest: usize,
    /// Unix seconds (UTC) at which the origin road is entered.
    pub start_time: i64,
}

/// A generated route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generated {
    /// Road indices, starting with the origin; ending with the destination when `reached`.
    pub roads: Vec<usize>,
    /// Entry time of each road (Unix seconds), non-decreasing, `times[0]` the start time.
    pub times: Vec<i64>,
    /// Whether the route ends at the destination. When not, `roads` is the partial route
    /// (among those the search considered) whose last road is closest to the destination.
    pub reached: bool,
    /// Sum of the scorer's log-probabilities of the transitions taken.
    pub logp: f64,
}

impl Generated {
    /// Number of roads on the route (origin included).
    pub fn len(&self) -> usize {
        self.roads.len()
    }
    /// True when the route has no road at all.
    pub fn is_empty(&self) -> bool {
        self.roads.is_empty()
    }
    /// Seconds from entering the origin to entering the last road.
    pub fn duration_s(&self) -> i64 {
        self.times.last().copied().unwrap_or(0) - self.times.first().copied().unwrap_or(0)
    }
}

/// Converts a generated route to a [`Trajectory`] with the user's road ids (no driver).
pub fn to_trajectory(net: &RoadNetwork, g: &Generated, id: impl Into<String>) -> Trajectory {
    Trajectory { id: Some(id.into()), driver: None, roads: g.roads.iter().map(|&r| net.road(r).id).collect(), times: g.times.clone() }
}

/// Entry time of the next road: `prev` plus `dt` rounded, never going back.
pub(crate) fn next_time(prev: i64, dt: f32) -> i64 {
    if dt.is_finite() && dt > 0.0 { prev.saturating_add(dt.round() as i64) } else { prev }
}

/// Panics with a clear message when a request names a road outside the network.
pub(crate) fn check_requests(net: &RoadNetwork, requests: &[OdRequest]) {
    for (k, r) in requests.iter().enumerate() {
        assert!(
            r.origin < net.len() && r.dest < net.len(),
            "generation request {k}: origin {} / destination {} is not a road index of network `{}` ({} roads)",
            r.origin,
            r.dest,
            net.name,
            net.len()
        );
    }
}

/// Checks the shape of a scorer's answer.
pub(crate) fn check_scores(scores: &[Vec<(f32, f32)>], queries: &[Query<'_>]) {
    assert_eq!(scores.len(), queries.len(), "StepScorer::score returned {} rows for {} queries", scores.len(), queries.len());
    for (s, q) in scores.iter().zip(queries) {
        assert_eq!(
            s.len(),
            q.candidates.len(),
            "StepScorer::score returned {} scores for row {} with {} candidates",
            s.len(),
            q.row,
            q.candidates.len()
        );
    }
}

/// A usable log-probability: finite (`-inf` and NaN rule a candidate out).
pub(crate) fn usable(lp: f32) -> bool {
    lp.is_finite()
}
