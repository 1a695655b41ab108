//! Road-sensor graphs for graph traffic forecasting (LightST-style: 12 input steps -> 12 output
//! steps): the in-memory [`SensorGraph`], readers for the common benchmark formats (Shenzhen taxi
//! speed, LA loop speed, NYC-69 zone flows, ASTGCN-style PEMS), a seeded synthetic graph, and the
//! windowing / z-scoring protocol ([`prepare_graph`]).
pub mod adjacency;
mod pems;
pub mod protocol;
pub mod readers;
mod scaler;
mod stgfsl;
pub mod synthetic;
pub mod transfer;

use ndarray::{Array2, Array3};

use crate::city::{Channel, City, Layout};
use crate::error::{DataError, Result};

pub use adjacency::{AdjacencyKind, gaussian_kernel, rook_adjacency};
pub use protocol::{GraphPrepared, GraphProtocol, prepare_graph};
pub use readers::{STGFSL_INTERVAL_MIN, read_graph_auto, read_los_loop, read_nyc69_graph, read_pems, read_stgfsl, read_sz_taxi};
pub use scaler::ZScore;
pub use synthetic::{SyntheticGraphConfig, synthetic_sensor_graph};
pub use transfer::{GraphScaling, GraphTransferProtocol, TransferGraph, prepare_source, prepare_target};

/// Minutes in a week.
pub const MINUTES_PER_WEEK: u32 = 7 * 1440;

/// One sensor (or zone) graph: a multivariate series `[T, N, F]` on `N` nodes plus the graph.
#[derive(Debug, Clone)]
pub struct SensorGraph {
    /// Dataset name, e.g. `"sz-taxi"`.
    pub name: String,
    /// Minutes between consecutive steps (divides 1440).
    pub interval_min: u32,
    /// Values `[T, N, F]`, all finite.
    pub series: Array3<f32>,
    /// One name per feature, e.g. `["speed"]` or `["inflow", "outflow"]`.
    pub features: Vec<String>,
    /// Weighted adjacency `[N, N]`, finite and `>= 0`.
    pub adjacency: Array2<f32>,
    /// Optional `(x, y)` coordinates per node.
    pub coords: Option<Vec<(f64, f64)>>,
    /// Optional sensor ids per node.
    pub node_ids: Option<Vec<String>>,
    /// Minute of week (0 = Monday 00:00) of step 0, when known.
    pub start_minute_of_week: Option<u32>,
    /// `true` when a value of exactly 0 means "sensor missing" (speed data): such entries are
    /// masked in metrics and losses.
    pub zero_is_missing: bool,
}

impl SensorGraph {
    /// Builds and checks a graph: `T, N, F > 0`, one name per feature, an `N x N` adjacency,
    /// finite values (adjacency `>= 0`), an interval dividing 1440 minutes. Start, coordinates
    /// and ids are unset; `zero_is_missing` is `false`. Errors are [`DataError::City`] naming the
    /// offending step / node / feature or adjacency entry.
    pub fn new(
        name: impl Into<String>,
        interval_min: u32,
        series: Array3<f32>,
        features: Vec<String>,
        adjacency: Array2<f32>,
    ) -> Result<Self> {
        let name = name.into();
        let fail = |what: String| Err(DataError::city(&name, what));
        let (t, n, f) = series.dim();
        if t == 0 || n == 0 || f == 0 {
            return fail(format!("empty series of shape [{t}, {n}, {f}]"));
        }
        if interval_min == 0 || 1440 % interval_min != 0 {
            return fail(format!("interval {interval_min} min does not divide a day (1440 min)"));
        }
        if features.len() != f {
            return fail(format!("{} feature names given for {f} features", features.len()));
        }
        if adjacency.dim() != (n, n) {
            return fail(format!("adjacency is {:?} but the series has {n} nodes", adjacency.dim()));
        }
        if let Some(((i, j), v)) = adjacency.indexed_iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
            return fail(format!("adjacency value {v} at ({i}, {j}) is not a finite weight >= 0"));
        }
        if let Some(((ti, ni, fi), v)) = series.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return fail(format!("non-finite value {v} at step {ti}, node {ni}, feature {fi}"));
        }
        Ok(SensorGraph {
            name,
            interval_min,
            series,
            features,
            adjacency,
            coords: None,
            node_ids: None,
            start_minute_of_week: None,
            zero_is_missing: false,
        })
    }

    /// Sets the minute of week (0 = Monday 00:00) of step 0 (taken modulo a week).
    pub fn with_start_minute_of_week(mut self, m: u32) -> Self {
        self.start_minute_of_week = Some(m % MINUTES_PER_WEEK);
        self
    }

    /// Sets whether zeros mean "missing".
    pub fn with_zero_is_missing(mut self, z: bool) -> Self {
        self.zero_is_missing = z;
        self
    }

    /// Sets per-node coordinates; fails unless there is one per node.
    pub fn with_coords(mut self, coords: Vec<(f64, f64)>) -> Result<Self> {
        if coords.len() != self.num_nodes() {
            let what = format!("{} coordinates for {} nodes", coords.len(), self.num_nodes());
            return Err(DataError::city(&self.name, what));
        }
        self.coords = Some(coords);
        Ok(self)
    }

    /// Sets per-node sensor ids; fails unless there is one per node.
    pub fn with_node_ids(mut self, ids: Vec<String>) -> Result<Self> {
        if ids.len() != self.num_nodes() {
            let what = format!("{} node ids for {} nodes", ids.len(), self.num_nodes());
            return Err(DataError::city(&self.name, what));
        }
        self.node_ids = Some(ids);
        Ok(self)
    }

    /// Number of time steps `T`.
    pub fn num_steps(&self) -> usize {
        self.series.dim().0
    }
    /// Number of nodes `N`.
    pub fn num_nodes(&self) -> usize {
        self.series.dim().1
    }
    /// Number of features `F`.
    pub fn num_features(&self) -> usize {
        self.series.dim().2
    }
    /// Steps per day (`1440 / interval_min`).
    pub fn steps_per_day(&self) -> usize {
        1440 / self.interval_min.max(1) as usize
    }

    /// Minute of week of step `t` (an unknown start counts as Monday 00:00).
    fn minute_of_week(&self, t: usize) -> usize {
        let start = self.start_minute_of_week.unwrap_or(0) as usize;
        let step = (t % (7 * self.steps_per_day())) * self.interval_min as usize;
        (start + step) % MINUTES_PER_WEEK as usize
    }

    /// Time-of-day slot `0..steps_per_day` of step `t` (unknown start => Monday 00:00).
    pub fn time_of_day(&self, t: usize) -> usize {
        self.minute_of_week(t) % 1440 / self.interval_min.max(1) as usize
    }

    /// Day of week `0..7` (0 = Monday) of step `t` (unknown start => Monday 00:00).
    pub fn day_of_week(&self, t: usize) -> usize {
        self.minute_of_week(t) / 1440
    }

    /// The graph every `new_interval_min` minutes (a multiple of the current interval that
    /// divides a day): each new step is the mean of the observed values it covers (speeds
    /// average; zeros are skipped when they mean "missing", and a bin with none observed stays
    /// 0). Trailing steps that do not fill a bin are dropped; the start is kept.
    pub fn resample_mean(&self, new_interval_min: u32) -> Result<Self> {
        let old = self.interval_min;
        if new_interval_min == old {
            return Ok(self.clone());
        }
        if new_interval_min < old || !new_interval_min.is_multiple_of(old) || !1440u32.is_multiple_of(new_interval_min) {
            let what = format!("cannot resample from {old} to {new_interval_min} min (a multiple of {old} that divides 1440 is needed)");
            return Err(DataError::city(&self.name, what));
        }
        let k = (new_interval_min / old) as usize;
        let (t, n, f) = self.series.dim();
        let bins = t / k;
        if bins == 0 {
            return Err(DataError::city(&self.name, format!("{t} steps do not fill one {new_interval_min}-minute step")));
        }
        let mut out = Array3::<f32>::zeros((bins, n, f));
        for b in 0..bins {
            for v in 0..n {
                for c in 0..f {
                    let vals = (b * k..(b + 1) * k).map(|i| self.series[[i, v, c]]).filter(|x| !(self.zero_is_missing && *x == 0.0));
                    let (s, m) = vals.fold((0f64, 0usize), |(s, m), x| (s + f64::from(x), m + 1));
                    out[[b, v, c]] = if m > 0 { (s / m as f64) as f32 } else { 0.0 };
                }
            }
        }
        let mut g = self.clone();
        g.series = out;
        g.interval_min = new_interval_min;
        Ok(g)
    }

    /// Converts a [`City`]: a graph layout keeps its adjacency and coordinates, a grid gets the
    /// 0/1 4-neighbour (rook) adjacency ([`rook_adjacency`]). Features are the channel names
    /// ([`Channel::name`]); the start is `start_hour_of_week * 60` when known.
    pub fn from_city(city: &City) -> Result<Self> {
        let (adjacency, coords) = match &city.layout {
            Layout::Graph { adjacency, coords } => (adjacency.clone(), coords.clone()),
            Layout::Grid { height, width } => (rook_adjacency(*height, *width), None),
        };
        let features = city.channels.iter().map(|c: &Channel| c.name().to_string()).collect();
        let mut g = SensorGraph::new(city.name.clone(), city.interval_min, city.flow.clone(), features, adjacency)?;
        g.coords = coords.filter(|c| c.len() == g.num_nodes());
        if let Some(h) = city.start_hour_of_week {
            g = g.with_start_minute_of_week(h * 60);
        }
        Ok(g)
    }
}
