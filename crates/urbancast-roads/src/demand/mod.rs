//! Synthetic trip demand on a real road network: a gravity model between METIS zones, a few
//! route "habits" per origin–destination pair, and timestamps from an hourly profile and
//! class speeds. Reproducible: the output depends only on the network and the config
//! (including its seed), never on the number of threads.
//!
//! Generation of one trip: pick a start day/hour (profile × weekday/weekend factor) and a
//! driver; pick an origin zone ∝ production and a destination zone ∝ attraction·exp(−β d);
//! pick an origin and a destination road uniformly among the zone's candidate roads (roads of
//! the largest strongly connected component, so every pair is reachable); pick a habit (the
//! driver's preferred one for this pair with probability `habit_loyalty`, else any); route
//! with that habit's perturbed costs; reject and redraw the pair when the route is shorter than
//! `min_trip_m` or longer than `max_route_roads`; time the roads with a per-trip speed factor.
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rand::{Rng, SeedableRng, rngs::StdRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, RoadError};
use crate::network::RoadNetwork;
use crate::traj::Trajectory;
use crate::zones::partition_zones;

mod config;
mod gravity;
mod routes;
mod timing;

pub use config::DemandConfig;
pub use timing::{DEFAULT_HOURLY_PROFILE, DEFAULT_START_DATE, base_speed_kmh, default_class_speeds, is_weekend};

/// Trips generated per deterministic chunk (each chunk has its own RNG seeded from
/// (seed, chunk index)).
const CHUNK: usize = 256;
/// Draws of an OD pair allowed per trip before giving up.
const MAX_DRAWS: usize = 10_000;

/// Figures about a set of trajectories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandSummary {
    /// Number of trajectories.
    pub trips: usize,
    /// Distinct (origin road, destination road) pairs.
    pub distinct_ods: usize,
    /// Distinct road sequences.
    pub distinct_routes: usize,
    /// Mean number of roads per trajectory.
    pub mean_roads: f64,
    /// Mean route length in km: the roads entered after the first (the [`crate::path`]
    /// convention, also used for `min_trip_m`).
    pub mean_length_km: f64,
    /// Mean time from the first to the last road entry, in minutes.
    pub mean_duration_min: f64,
    /// Wall-clock seconds of the generation (0 when summarising given trajectories).
    pub seconds: f64,
    /// Roads that may start or end a trip (largest strongly connected component); 0 when
    /// summarising given trajectories.
    #[serde(default)]
    pub eligible_roads: usize,
    /// Origin–destination draws thrown away (same road, route too short or too long).
    #[serde(default)]
    pub rejected_draws: usize,
}

impl DemandSummary {
    /// Summarises trajectories on `net` (unknown road ids are an error).
    pub fn of(net: &RoadNetwork, trips: &[Trajectory], seconds: f64) -> Result<Self> {
        let mut ods = HashSet::new();
        let mut routes = HashSet::new();
        let (mut roads, mut len, mut dur) = (0usize, 0.0, 0.0);
        for t in trips {
            let ix = net.indices_of(&t.roads)?;
            ods.insert((t.origin(), t.destination()));
            routes.insert(t.roads.as_slice());
            roads += t.len();
            len += ix.iter().skip(1).map(|&i| net.roads[i].length_m).sum::<f64>();
            dur += t.duration_s() as f64;
        }
        let n = trips.len().max(1) as f64;
        Ok(DemandSummary {
            trips: trips.len(),
            distinct_ods: ods.len(),
            distinct_routes: routes.len(),
            mean_roads: roads as f64 / n,
            mean_length_km: len / n / 1000.0,
            mean_duration_min: dur / n / 60.0,
            seconds,
            eligible_roads: 0,
            rejected_draws: 0,
        })
    }
}

/// Generates `cfg.trips` synthetic trajectories on `net` (ids `syn-<n>`, drivers `d<k>`).
/// `progress` is called with the number of trips done so far after each chunk.
pub fn synthesize_trips(net: &RoadNetwork, cfg: &DemandConfig, progress: Option<&(dyn Fn(usize) + Sync)>) -> Result<Vec<Trajectory>> {
    Ok(synthesize(net, cfg, progress)?.0)
}

/// [`synthesize_trips`] plus a [`DemandSummary`] of the result.
pub fn synthesize(
    net: &RoadNetwork,
    cfg: &DemandConfig,
    progress: Option<&(dyn Fn(usize) + Sync)>,
) -> Result<(Vec<Trajectory>, DemandSummary)> {
    let t0 = Instant::now();
    cfg.validate(net)?;
    let eligible = routes::largest_scc(net);
    let n_eligible = eligible.iter().filter(|&&e| e).count();
    if n_eligible < 2 {
        return Err(RoadError::network(
            &net.name,
            "demand: no two roads can reach each other (the largest strongly connected component of the successor graph has fewer than 2 roads)",
        ));
    }
    let zones = partition_zones(net, cfg.zones, cfg.seed)?;
    let free_flow = timing::free_flow_seconds(net, cfg);
    // Pairs of roads repeat only with anchors (otherwise ~10^8 pairs on a city): cache then,
    // up to 25 M road indices (100 MB).
    let cache_roads = if cfg.anchors_per_zone > 0 { 25_000_000 } else { 0 };
    let model = TripModel {
        net,
        cfg,
        gravity: gravity::Gravity::new(net, &zones, &eligible, cfg)?,
        habits: routes::Habits::new(net, &free_flow, cfg.seed, cfg.perturb_sigma, cache_roads),
        starts: timing::StartTimes::new(cfg)?,
        free_flow: &free_flow,
    };
    let (done, rejected) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let n_chunks = cfg.trips.div_ceil(CHUNK);
    let chunks: Vec<Vec<Trajectory>> = (0..n_chunks)
        .into_par_iter()
        .map_init(
            || routes::Scratch::new(net.len()),
            |scratch, c| {
                let mut rng = StdRng::seed_from_u64(mix(cfg.seed ^ 0x0043_4855_4e4b, c as u64));
                let range = c * CHUNK..((c + 1) * CHUNK).min(cfg.trips);
                let mut out = Vec::with_capacity(range.len());
                for n in range {
                    let (trip, rejects) = model.trip(n, &mut rng, scratch)?;
                    rejected.fetch_add(rejects, Ordering::Relaxed);
                    out.push(trip);
                }
                let total = done.fetch_add(out.len(), Ordering::Relaxed) + out.len();
                if let Some(p) = progress {
                    p(total);
                }
                Ok(out)
            },
        )
        .collect::<Result<_>>()?;
    let trips: Vec<Trajectory> = chunks.into_iter().flatten().collect();
    let mut summary = DemandSummary::of(net, &trips, t0.elapsed().as_secs_f64())?;
    summary.eligible_roads = n_eligible;
    summary.rejected_draws = rejected.into_inner();
    Ok((trips, summary))
}

/// What every trip of one [`synthesize`] run shares: the network, the config and the models
/// prepared from them once (read-only, shared by all threads).
struct TripModel<'a> {
    net: &'a RoadNetwork,
    cfg: &'a DemandConfig,
    /// Origin and destination zones and roads.
    gravity: gravity::Gravity,
    /// Route habits per origin–destination pair, routed on `free_flow` costs.
    habits: routes::Habits<'a>,
    /// Start day/hour sampler.
    starts: timing::StartTimes,
    /// Free-flow traversal time of each road, seconds.
    free_flow: &'a [f64],
}

impl TripModel<'_> {
    /// Trip number `n` (id `syn-<n>`), drawn with `rng`, and the number of origin–destination
    /// draws rejected before it.
    fn trip(&self, n: usize, rng: &mut StdRng, scratch: &mut routes::Scratch) -> Result<(Trajectory, usize)> {
        let &TripModel { net, cfg, ref gravity, ref habits, ref starts, free_flow } = self;
        let (start, hour) = starts.sample(rng);
        let driver = rng.random_range(0..cfg.drivers);
        let h_count = cfg.habits_per_od as u64;
        for draw in 0..MAX_DRAWS {
            let (o, d) = gravity.sample(rng);
            if o == d {
                continue;
            }
            let preferred = mix(mix(cfg.seed ^ 0x4452_4956, driver as u64), ((o as u64) << 32) | d as u64) % h_count;
            let habit = if rng.random::<f64>() < cfg.habit_loyalty { preferred } else { rng.random_range(0..h_count) };
            let Some(route) = habits.route(o, d, habit as u32, scratch) else { continue };
            let len: f64 = route.iter().skip(1).map(|&r| net.roads[r as usize].length_m).sum();
            if len < cfg.min_trip_m || route.len() > cfg.max_route_roads {
                continue;
            }
            let z: f64 = rng.sample::<f64, _>(rand_distr::StandardNormal).clamp(-3.0, 3.0);
            let factor = (cfg.trip_speed_sigma * z).exp() * (1.0 - cfg.peak_slowdown * starts.load(hour));
            let times = timing::entry_times(&route, free_flow, start, factor);
            let roads = route.iter().map(|&r| net.roads[r as usize].id).collect();
            let trip = Trajectory { id: Some(format!("syn-{n}")), driver: Some(format!("d{driver}")), roads, times };
            return Ok((trip, draw));
        }
        Err(RoadError::network(
            &net.name,
            format!(
                "demand: trip {n}: no origin-destination pair with a route of at least {} m and at most {} roads in {MAX_DRAWS} draws: lower min_trip_m or raise max_route_roads",
                cfg.min_trip_m, cfg.max_route_roads
            ),
        ))
    }
}

/// splitmix64 finaliser of `a` combined with `b`: a well-mixed 64-bit hash.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    fn fin(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fin(a ^ fin(b))
}

/// A standard normal drawn from a hash (Box–Muller), truncated to ±3.
pub(crate) fn hash_normal(h: u64) -> f64 {
    let u1 = ((h >> 11) as f64 + 1.0) / (1u64 << 53) as f64; // (0, 1]
    let u2 = (mix(h, 0x5a) >> 11) as f64 / (1u64 << 53) as f64;
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()).clamp(-3.0, 3.0)
}
