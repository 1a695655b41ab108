//! Trajectory generation metrics as in HOSER's evaluation (Cao et al., ICDE 2025), with its
//! coordinate bugs fixed.
//!
//! A trajectory is a sequence of road ids; each road stands for its centroid
//! ([`urbancast_roads::Road::centroid`], `[lon, lat]`, the mean of the polyline's vertices).
//! Distances are great-circle ([`urbancast_roads::geo::haversine_km`], mean Earth radius) in km.
//! Points are `[lon, lat]` everywhere; nothing swaps them.
//!
//! * Global ([`global`]): JSD between the real and generated histograms of trip distance,
//!   radius of gyration and per-step duration (minutes, pooled over all steps).
//! * Local ([`local`], [`od`]): real and generated trajectories whose first and last road
//!   centroids fall in the same 200 m cells are paired (i-th with i-th); Hausdorff, DTW and EDR
//!   (100 m) per pair, averaged; plus `hausdorff_norm`/`dtw_norm` (see [`TrajMetrics`]).
//! * OD match rate: share of generated trajectories whose (first, last) centroids, binned on a
//!   0.001° grid, form an OD pair that some real trajectory has.
//! * [`evaluate_split`]: the same for generated trajectories whose (intended) OD was or was not
//!   among the training ODs, against the matching real subsets.
//!
//! # HOSER's evaluation and what differs
//!
//! Source read: `caoji-hoser-eval.py` (the original author's evaluation notebook, kept in the
//! matercomus/HOSER fork at commit 3695229) with its `map_manager.py`, and the fork's
//! `evaluation.py`. Line numbers below refer to `caoji-hoser-eval.py`.
//!
//! * **Bug — EDR with latitude and longitude swapped** (l. 229–253, called at l. 307): the
//!   distance function takes `(lon1, lat1, lon2, lat2)` but gets `(lat, lon)` points. See
//!   [`local`] for the size of the error. Fixed: `[lon, lat]` throughout; the fork's
//!   `evaluation.py` has the same fix.
//! * **Inconsistent Earth radii**: 6371.009 km (geopy, global metrics), 6378.0 km (Hausdorff,
//!   DTW), 6378.137 km (EDR). Fixed: one radius (6371.0088 km).
//! * **Approximate DTW**: `fastdtw` (radius 1) can overestimate DTW. Here: exact DTW.
//! * Checked and right in HOSER: trip distance and radius (geopy gets `(lat, lon)`, l. 64, 87,
//!   115, 146), Hausdorff (the `hausdorff` package reads `(lat, lng)`), DTW's haversine (reads
//!   `[0]` as lat), the OD grid (`gps2grid(lon, lat)`). The radius of gyration is HOSER's *mean*
//!   distance from the mean point (not an RMS); kept.
//! * Road centroid: HOSER uses shapely's `LineString.centroid` (length-weighted midpoint of the
//!   segments, l. 47–53); this crate uses the vertex mean of the road network. They agree for
//!   straight two-point roads and differ slightly for unevenly sampled polylines.
//! * Histogram edges: the real maximum goes to the last regular bin here, to the overflow bin in
//!   numpy; JSD smoothing is per bin here ([`global`]).
//! * OD cells: the network's bounding box instead of a hard-coded city box, sphere-consistent cell
//!   sizes ([`od`]).
//! * Empty cases give NaN (JSON `null`), not HOSER's 0 (the fork returns 0 for no pairs).
//! * Normalised local metrics: the fork (`docs/NORMALIZED_METRICS_IMPACT_SUMMARY.md`, PR #40)
//!   divides the mean Hausdorff and DTW by the average number of roads of all real and generated
//!   trajectories evaluated (km per point). We do the same per evaluated subset.
mod eval;
pub mod global;
pub mod local;
pub mod od;
pub mod plot;
pub mod report;

use std::collections::HashSet;

use anyhow::Result;
use serde::Serialize;
use urbancast_roads::{RoadNetwork, Trajectory};

pub use eval::Evaluation;
pub use global::Histogram;
pub use report::write_report;

/// Parameters; [`Default`] gives HOSER's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalConfig {
    /// Equal-width bins on `[0, real max]` (an overflow bin comes on top): 99.
    pub bins: usize,
    /// Added to every bin count before normalising: 1e-14.
    pub smoothing: f64,
    /// Side of the OD cells used to pair trajectories, km: 0.2.
    pub od_cell_km: f64,
    /// EDR match threshold, km: 0.1.
    pub edr_eps_km: f64,
    /// Grid step of the OD match rate, degrees: 0.001.
    pub match_cell_deg: f64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig { bins: global::REGULAR_BINS, smoothing: global::SMOOTHING, od_cell_km: 0.2, edr_eps_km: 0.1, match_cell_deg: 0.001 }
    }
}

/// The metrics of one set of generated trajectories against one set of real ones. Undefined
/// values (no pairs, no real trajectories, ...) are NaN, written as `null` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrajMetrics {
    /// Share of generated trajectories whose (first, last) 0.001° cells are a real OD pair.
    pub od_match_rate: f64,
    /// JSD (natural log) of the real and generated trip-distance histograms.
    pub jsd_distance: f64,
    /// JSD (natural log) of the real and generated radius-of-gyration histograms.
    pub jsd_radius: f64,
    /// JSD (natural log) of the real and generated per-step duration histograms.
    pub jsd_duration: f64,
    /// Mean Hausdorff distance over the OD-paired trajectories, km.
    pub hausdorff_km: f64,
    /// Mean exact DTW cost over the OD-paired trajectories, km.
    pub dtw_km: f64,
    /// Mean EDR (edits / longer length, in `[0, 1]`) over the OD-paired trajectories.
    pub edr: f64,
    /// `hausdorff_km / mean_len` (km per road), as in the HOSER fork.
    pub hausdorff_norm: f64,
    /// `dtw_km / mean_len` (km per road), as in the HOSER fork.
    pub dtw_norm: f64,
    /// Mean number of roads over all real and generated trajectories evaluated.
    pub mean_len: f64,
    /// Number of (real, generated) pairs compared.
    pub pairs: usize,
    /// Number of distinct 200 m OD keys that both sides have.
    pub matched_od_cells: usize,
    /// Number of real trajectories evaluated.
    pub n_real: usize,
    /// Number of generated trajectories evaluated.
    pub n_generated: usize,
    /// Mean trip distance of the real trajectories, km.
    pub real_mean_distance_km: f64,
    /// Mean trip distance of the generated trajectories, km.
    pub generated_mean_distance_km: f64,
    /// Mean radius of gyration of the real trajectories, km.
    pub real_mean_radius_km: f64,
    /// Mean radius of gyration of the generated trajectories, km.
    pub generated_mean_radius_km: f64,
    /// Mean duration of one step (between consecutive roads) of the real trajectories, minutes.
    pub real_mean_step_min: f64,
    /// Mean duration of one step (between consecutive roads) of the generated trajectories, minutes.
    pub generated_mean_step_min: f64,
}

/// Metrics for everything and split by whether the generated trajectory's OD was a training OD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitReport {
    /// All generated trajectories against all real ones.
    pub all: TrajMetrics,
    /// Generated trajectories with a training OD against real ones with a training OD.
    pub train_od: TrajMetrics,
    /// Generated trajectories with a non-training OD against real ones with a non-training OD.
    pub test_od: TrajMetrics,
}

/// The three histograms behind the JSDs.
#[derive(Debug, Clone, Serialize)]
pub struct Histograms {
    /// Trip distance per trajectory, km.
    pub distance: Histogram,
    /// Radius of gyration per trajectory (mean distance from the mean point), km.
    pub radius: Histogram,
    /// Duration of every step, pooled over trajectories, minutes.
    pub duration: Histogram,
}

/// All metrics of `generated` against `real` with HOSER's parameters. Fails, naming the
/// trajectory and the position, on a road id the network lacks, on a trajectory without roads
/// or with a different number of timestamps than roads.
pub fn evaluate(net: &RoadNetwork, real: &[Trajectory], generated: &[Trajectory]) -> Result<TrajMetrics> {
    Ok(Evaluation::new(net, real, generated, EvalConfig::default())?.all())
}

/// The histograms (bin edges, normalised values, JSD) of all trajectories, for plotting.
pub fn histograms(net: &RoadNetwork, real: &[Trajectory], generated: &[Trajectory]) -> Result<Histograms> {
    let e = Evaluation::new(net, real, generated, EvalConfig::default())?;
    Ok(e.histograms(&e.all_real(), &e.all_generated()))
}

/// [`SplitReport`] where a trajectory's OD is `(first road id, last road id)` and it is a
/// training OD when `train_ods` holds it. For generated trajectories that may stop short of
/// their destination, pass the intended ODs to [`evaluate_split_by`] instead.
pub fn evaluate_split(
    net: &RoadNetwork,
    real: &[Trajectory],
    generated: &[Trajectory],
    train_ods: &HashSet<(u64, u64)>,
) -> Result<SplitReport> {
    evaluate_split_by(net, real, generated, None, |o, d| train_ods.contains(&(o, d)), EvalConfig::default())
}

/// [`SplitReport`] with the generated trajectories' intended `(origin, destination)` road ids
/// (`None`: their first and last roads; otherwise one per generated trajectory) and a test
/// `is_train(origin, destination)`. Real trajectories are split by their first and last roads.
pub fn evaluate_split_by(
    net: &RoadNetwork,
    real: &[Trajectory],
    generated: &[Trajectory],
    intended: Option<&[(u64, u64)]>,
    is_train: impl Fn(u64, u64) -> bool,
    cfg: EvalConfig,
) -> Result<SplitReport> {
    Evaluation::new(net, real, generated, cfg)?.split(intended, is_train)
}
