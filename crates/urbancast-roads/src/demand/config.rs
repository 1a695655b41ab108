//! Settings of the synthetic demand, with documented defaults.
use serde::{Deserialize, Serialize};

use super::timing::{DEFAULT_HOURLY_PROFILE, DEFAULT_START_DATE, default_class_speeds};
use crate::error::{Result, RoadError};
use crate::network::RoadNetwork;

/// Everything that shapes the synthetic trips. Missing fields in a serialised config take
/// their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DemandConfig {
    /// Number of trips (default 10 000).
    pub trips: usize,
    /// Zones of the gravity model, from [`crate::zones::partition_zones`] (default 50: about
    /// 1.5 km across on a city of 10 000 roads, coarse enough that zone-to-zone distances
    /// differ from the distances inside a zone).
    pub zones: usize,
    /// Distance deterrence β in `exp(−β · d_km)` (default 0.3 /km: trips a few km long, the
    /// range of urban car and taxi trips; at 0.3 /km a destination 5 km away is 4.5 times less
    /// attractive than one next door).
    pub gravity_beta: f64,
    /// σ of the per-zone lognormal land-use factor on attraction (default 0.8: the busiest
    /// zones attract several times their share by road length).
    pub landuse_sigma: f64,
    /// When > 0, only this many fixed roads per zone (seeded) can start or end a trip, so that
    /// origin–destination pairs repeat ("points of interest"); 0 (default) = any road.
    pub anchors_per_zone: usize,
    /// Route variants per origin–destination pair (default 3).
    pub habits_per_od: usize,
    /// Probability that a driver takes his own preferred habit for a pair (default 0.8);
    /// otherwise a uniformly random one.
    pub habit_loyalty: f64,
    /// σ of the lognormal factor on every road's cost, per habit (default 0.2).
    pub perturb_sigma: f64,
    /// Relative trip starts per hour of day (default [`DEFAULT_HOURLY_PROFILE`]).
    pub hourly_profile: [f64; 24],
    /// Unix seconds of 00:00 of day 0 (default 2014-07-01 00:00 UTC).
    pub start_date: i64,
    /// Days covered (default 7).
    pub days: usize,
    /// Trip volume of a Saturday or Sunday relative to a weekday (default 0.7).
    pub weekend_factor: f64,
    /// Number of drivers (default 1000), drawn uniformly per trip.
    pub drivers: usize,
    /// Free-flow speed per OSM class in km/h (default [`default_class_speeds`]).
    pub class_speeds_kmh: Vec<(String, f64)>,
    /// Speed of roads of unknown class (default 35 km/h).
    pub unknown_speed_kmh: f64,
    /// Roads with a speed limit drive at `maxspeed × maxspeed_factor` (default 0.7: free flow
    /// in a city stays well under the limit; 50 → 35 km/h, 120 → 84 km/h).
    pub maxspeed_factor: f64,
    /// σ of the lognormal per-trip speed factor, truncated to ±3σ (default 0.15).
    pub trip_speed_sigma: f64,
    /// σ of the fixed lognormal per-road speed factor, truncated to ±3σ (default 0.05).
    pub road_speed_sigma: f64,
    /// Speed loss at the busiest hour: speed × (1 − peak_slowdown × profile(h) / max profile)
    /// with h the start hour (default 0.2).
    pub peak_slowdown: f64,
    /// Shortest route kept, metres over the roads entered after the first (default 500).
    pub min_trip_m: f64,
    /// Longest route kept, in roads (default 400).
    pub max_route_roads: usize,
    /// Seed of everything random (zones, land use, habits, trips); same seed and network →
    /// same trips (default 0).
    pub seed: u64,
}

impl Default for DemandConfig {
    fn default() -> Self {
        DemandConfig {
            trips: 10_000,
            zones: 50,
            gravity_beta: 0.3,
            landuse_sigma: 0.8,
            anchors_per_zone: 0,
            habits_per_od: 3,
            habit_loyalty: 0.8,
            perturb_sigma: 0.2,
            hourly_profile: DEFAULT_HOURLY_PROFILE,
            start_date: DEFAULT_START_DATE,
            days: 7,
            weekend_factor: 0.7,
            drivers: 1000,
            class_speeds_kmh: default_class_speeds(),
            unknown_speed_kmh: 35.0,
            maxspeed_factor: 0.7,
            trip_speed_sigma: 0.15,
            road_speed_sigma: 0.05,
            peak_slowdown: 0.2,
            min_trip_m: 500.0,
            max_route_roads: 400,
            seed: 0,
        }
    }
}

impl DemandConfig {
    /// Checks the settings against `net`; the message names the key (prefixed `demand: `):
    /// `trips`, `habits_per_od`, `drivers`, `days ≥ 1`, `zones` in `1..=roads`,
    /// `max_route_roads ≥ 2`, `habit_loyalty` in `[0, 1]`, `peak_slowdown` in `[0, 1)`, the σs,
    /// `gravity_beta`, `min_trip_m`, `weekend_factor` and the hourly weights finite and `≥ 0`
    /// (some weight positive), speeds and `maxspeed_factor` finite and `> 0`.
    pub fn validate(&self, net: &RoadNetwork) -> Result<()> {
        self.validate_at("demand: ", net)
    }

    /// [`DemandConfig::validate`] with keys prefixed by `prefix`.
    pub fn validate_at(&self, prefix: &str, net: &RoadNetwork) -> Result<()> {
        let c = urbancast_check::Checker::new(prefix);
        c.at_least("trips", self.trips, 1)?;
        if !(1..=net.len()).contains(&self.zones) {
            return Err(RoadError::invalid(format!(
                "{} must lie in [1, {}] (got {}): network `{}` has {} roads",
                c.key("zones"),
                net.len(),
                self.zones,
                net.name,
                net.len()
            )));
        }
        c.at_least("habits_per_od", self.habits_per_od, 1)?;
        c.at_least("drivers", self.drivers, 1)?;
        c.at_least("days", self.days, 1)?;
        c.at_least("max_route_roads", self.max_route_roads, 2)?;
        for (name, v) in [
            ("gravity_beta", self.gravity_beta),
            ("landuse_sigma", self.landuse_sigma),
            ("perturb_sigma", self.perturb_sigma),
            ("trip_speed_sigma", self.trip_speed_sigma),
            ("road_speed_sigma", self.road_speed_sigma),
            ("min_trip_m", self.min_trip_m),
            ("weekend_factor", self.weekend_factor),
        ] {
            c.non_negative(name, v)?;
        }
        c.unit("habit_loyalty", self.habit_loyalty)?;
        c.in_range("peak_slowdown", self.peak_slowdown, 0.0..1.0)?;
        for (h, &w) in self.hourly_profile.iter().enumerate() {
            c.non_negative(&format!("hourly_profile[{h}]"), w)?;
        }
        c.ensure(self.hourly_profile.iter().sum::<f64>() > 0.0, "hourly_profile", "must have a positive weight (got all 0)")?;
        for (class, v) in &self.class_speeds_kmh {
            c.positive(&format!("class_speeds_kmh[{class}]"), *v)?;
        }
        c.positive("unknown_speed_kmh", self.unknown_speed_kmh)?;
        c.positive("maxspeed_factor", self.maxspeed_factor)?;
        Ok(())
    }
}
