//! When trips start and how fast they drive: the hourly profile, weekday/weekend volumes,
//! speeds per road class, and the entry time of every road of a route.
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

use super::{DemandConfig, hash_normal, mix};
use crate::error::{Result, RoadError};
use crate::network::RoadNetwork;

/// Relative trip starts per hour of the day (0 = 00:00–00:59), a typical two-peak urban
/// weekday: a sharp morning peak at 08:00 (commute), a midday plateau, a broader evening peak
/// at 17:00–18:00 and a quiet night (02:00–04:00 about 1/25 of the peak). Shaped after
/// published hourly traffic counts of European cities; only the ratios matter.
pub const DEFAULT_HOURLY_PROFILE: [f64; 24] = [
    0.30, 0.18, 0.12, 0.10, 0.12, 0.30, 0.80, 1.90, 2.60, 1.90, 1.40, 1.40, //
    1.60, 1.50, 1.40, 1.50, 1.90, 2.50, 2.50, 1.90, 1.30, 1.00, 0.75, 0.50,
];

/// 2014-07-01 00:00:00 UTC (a Tuesday), the start of the Porto taxi data's last month.
pub const DEFAULT_START_DATE: i64 = 1_404_172_800;

/// Free-flow speeds (km/h) per OSM `highway` class; `_link` roads take their class's speed.
pub fn default_class_speeds() -> Vec<(String, f64)> {
    [
        ("motorway", 90.0),
        ("trunk", 70.0),
        ("primary", 50.0),
        ("secondary", 45.0),
        ("tertiary", 40.0),
        ("unclassified", 35.0),
        ("residential", 30.0),
        ("living_street", 15.0),
        ("service", 20.0),
    ]
    .into_iter()
    .map(|(c, v)| (c.to_string(), v))
    .collect()
}

/// Speed (km/h) of road `i` before any noise: `maxspeed × maxspeed_factor` when the road has a
/// speed limit, else its class speed (first class named in lists like `['primary', 'trunk']`,
/// `_link` stripped), else `unknown_speed_kmh`.
pub fn base_speed_kmh(net: &RoadNetwork, cfg: &DemandConfig, i: usize) -> f64 {
    if let Some(m) = net.roads[i].maxspeed_kmh.filter(|m| m.is_finite() && *m > 0.0) {
        return m * cfg.maxspeed_factor;
    }
    let raw = net.class_name(i).to_ascii_lowercase();
    let first = raw.split(',').next().unwrap_or("").trim_matches(|c: char| "[]'\" ".contains(c));
    let class = first.strip_suffix("_link").unwrap_or(first);
    cfg.class_speeds_kmh.iter().find(|(c, _)| c == class).map(|&(_, v)| v).unwrap_or(cfg.unknown_speed_kmh)
}

/// Free-flow seconds to traverse each road: length / (base speed × a fixed per-road factor
/// `exp(road_speed_sigma · z)`, `z` a hashed standard normal truncated to ±3).
pub(crate) fn free_flow_seconds(net: &RoadNetwork, cfg: &DemandConfig) -> Vec<f64> {
    (0..net.len())
        .map(|i| {
            let z = hash_normal(mix(cfg.seed ^ 0x524f_4144, i as u64));
            let kmh = base_speed_kmh(net, cfg, i) * (cfg.road_speed_sigma * z).exp();
            net.roads[i].length_m / (kmh / 3.6)
        })
        .collect()
}

/// Samples trip start times: day ∝ 1 (weekdays) or `weekend_factor` (Saturday, Sunday), hour
/// ∝ the hourly profile, minute and second uniform.
pub(crate) struct StartTimes {
    slots: WeightedIndex<f64>,
    start_date: i64,
    peak: f64,
    profile: [f64; 24],
}

impl StartTimes {
    pub(crate) fn new(cfg: &DemandConfig) -> Result<Self> {
        let p = &cfg.hourly_profile;
        let mut w = Vec::with_capacity(cfg.days * 24);
        for day in 0..cfg.days {
            let f = if is_weekend(cfg.start_date + day as i64 * 86_400) { cfg.weekend_factor } else { 1.0 };
            w.extend(p.iter().map(|x| x * f));
        }
        let slots = WeightedIndex::new(&w)
            .map_err(|e| RoadError::invalid(format!("demand: no day/hour can start a trip ({e}): check weekend_factor and days")))?;
        let peak = p.iter().cloned().fold(0.0, f64::max);
        Ok(StartTimes { slots, start_date: cfg.start_date, peak, profile: *p })
    }

    /// A start time (Unix seconds) and its hour of day.
    pub(crate) fn sample(&self, rng: &mut impl Rng) -> (i64, usize) {
        let slot = self.slots.sample(rng);
        let t = self.start_date + slot as i64 * 3600 + rng.random_range(0..3600);
        (t, slot % 24)
    }

    /// Relative traffic of an hour: profile / its maximum, in [0, 1].
    pub(crate) fn load(&self, hour: usize) -> f64 {
        self.profile[hour] / self.peak
    }
}

/// Saturday or Sunday (UTC) for a Unix time.
pub fn is_weekend(t: i64) -> bool {
    // 1970-01-01 was a Thursday: weekday 0 = Monday
    let weekday = (t.div_euclid(86_400) + 3).rem_euclid(7);
    weekday >= 5
}

/// Entry times of the roads of `route`: the trip enters road 0 at `start` and road `k` after
/// driving roads `0..k` at `speed_factor` times their free-flow speed.
pub(crate) fn entry_times(route: &[u32], free_flow: &[f64], start: i64, speed_factor: f64) -> Vec<i64> {
    let mut acc = 0.0;
    let mut out = Vec::with_capacity(route.len());
    for &r in route {
        out.push(start + (acc / speed_factor).round() as i64);
        acc += free_flow[r as usize];
    }
    out
}
