//! A non-learned scorer: head for the destination, drive at a constant speed.
use urbancast_roads::RoadNetwork;

use super::{Query, StepScorer, Token};

/// Scores candidates by closeness to the destination and times them at a constant speed.
///
/// The log-probability of candidate `c` is a log-softmax over the candidates of
/// `−dist(c, dest) / temperature_m`, where `dist` is the haversine distance between road
/// centroids: a candidate `temperature_m` metres further from the destination is `e` times
/// less likely. The predicted seconds from entering the current road to entering any
/// candidate are the current road's length over `speed_mps`. It ignores the route so far, so
/// its state is just the number of rows.
///
/// A baseline without learning (with [`super::beam_search`] it is a greedy-ish "walk towards
/// the destination" router) and a cheap stand-in for the neural scorer in tests and
/// benchmarks.
#[derive(Debug, Clone, Copy)]
pub struct DistanceScorer<'a> {
    /// The network whose road centroids and lengths are used.
    pub net: &'a RoadNetwork,
    /// Metres of extra distance to the destination that cost one nat.
    pub temperature_m: f64,
    /// Constant travel speed in metres per second.
    pub speed_mps: f64,
}

impl<'a> DistanceScorer<'a> {
    /// Temperature 100 m, speed 10 m/s (36 km/h).
    pub fn new(net: &'a RoadNetwork) -> Self {
        DistanceScorer { net, temperature_m: 100.0, speed_mps: 10.0 }
    }
    /// The same scorer with temperature `temperature_m` metres (smaller: greedier).
    pub fn with_temperature(mut self, temperature_m: f64) -> Self {
        self.temperature_m = temperature_m;
        self
    }
    /// The same scorer driving at `speed_mps` metres per second.
    pub fn with_speed(mut self, speed_mps: f64) -> Self {
        self.speed_mps = speed_mps;
        self
    }
}

impl StepScorer for DistanceScorer<'_> {
    /// Number of rows.
    type State = usize;

    fn begin(&self, rows: &[Token]) -> usize {
        rows.len()
    }

    fn score(&self, state: &usize, queries: &[Query<'_>]) -> Vec<Vec<(f32, f32)>> {
        queries
            .iter()
            .map(|q| {
                assert!(q.row < *state, "query for row {} of a {}-row state", q.row, state);
                let dt = (self.net.road(q.current).length_m / self.speed_mps) as f32;
                let logits: Vec<f64> =
                    q.candidates.iter().map(|&c| -self.net.centroid_distance_m(c as usize, q.dest) / self.temperature_m).collect();
                let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let log_z = max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
                logits.iter().map(|l| ((l - log_z) as f32, dt)).collect()
            })
            .collect()
    }

    fn advance(&self, state: usize, parents: &[usize], tokens: &[Token]) -> usize {
        assert_eq!(parents.len(), tokens.len(), "advance: {} parents for {} tokens", parents.len(), tokens.len());
        assert!(parents.iter().all(|&p| p < state), "advance: a parent row is outside the {state}-row state");
        parents.len()
    }
}
