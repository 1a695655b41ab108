//! `validate()` of the road crate's settings: defaults pass, every out-of-range key is an error
//! naming it, and the entry points (map matching, demand, outliers, synthetic city) check first.
use urbancast_roads::demand::{DemandConfig, synthesize_trips};
use urbancast_roads::matching::{MatchConfig, match_track, match_tracks};
use urbancast_roads::outliers::{OutlierConfig, inject_outliers};
use urbancast_roads::spatial::RoadIndex;
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};
use urbancast_roads::{GpsPoint, GpsTrack};

fn small_city() -> urbancast_roads::RoadNetwork {
    synthetic_city(&SyntheticCityConfig { blocks_x: 2, blocks_y: 2, local_per_block: 1, ..Default::default() }).unwrap()
}

#[test]
fn match_config_is_checked_before_matching() {
    let d = MatchConfig::default();
    d.validate().unwrap();
    let net = small_city();
    let index = RoadIndex::new(&net);
    let p = net.roads[0].centroid;
    let track = GpsTrack { id: "t".into(), driver: None, points: vec![GpsPoint { pos: p, time: 0 }, GpsPoint { pos: p, time: 15 }] };
    let cases = [
        (MatchConfig { sigma_z_m: 0.0, ..d.clone() }, "matching: sigma_z_m must be greater than 0 (got 0)"),
        (MatchConfig { beta_m: f64::NAN, ..d.clone() }, "matching: beta_m must be a finite number greater than 0 (got NaN)"),
        (MatchConfig { search_radius_m: -1.0, ..d.clone() }, "matching: search_radius_m must be greater than 0 (got -1)"),
        (MatchConfig { max_candidates: 0, ..d.clone() }, "matching: max_candidates must be at least 1 (got 0)"),
        (MatchConfig { min_point_distance_m: -1.0, ..d.clone() }, "matching: min_point_distance_m must be at least 0 (got -1)"),
        (MatchConfig { max_route_factor: 0.0, ..d.clone() }, "matching: max_route_factor must be greater than 0 (got 0)"),
        (MatchConfig { route_slack_m: f64::INFINITY, ..d.clone() }, "matching: route_slack_m must be a finite number at least 0 (got inf)"),
        (MatchConfig { max_speed_kmh: 0.0, ..d.clone() }, "matching: max_speed_kmh must be greater than 0 (got 0)"),
        (MatchConfig { backtrack_m: -2.0, ..d.clone() }, "matching: backtrack_m must be at least 0 (got -2)"),
    ];
    for (c, want) in cases {
        assert_eq!(c.validate().unwrap_err().to_string(), want);
        assert_eq!(match_track(&net, &index, &track, &c).unwrap_err().to_string(), want);
        assert_eq!(match_tracks(&net, &index, std::slice::from_ref(&track), &c, None).unwrap_err().to_string(), want);
    }
    assert_eq!(match_tracks(&net, &index, &[track], &d, None).unwrap().len(), 1);
}

#[test]
fn demand_config_keys_are_named() {
    let net = small_city();
    let d = DemandConfig { trips: 10, zones: 2, ..Default::default() };
    d.validate(&net).unwrap();
    let mut profile = d.hourly_profile;
    profile[3] = -1.0;
    let cases = [
        (DemandConfig { trips: 0, ..d.clone() }, "demand: trips must be at least 1 (got 0)".to_string()),
        (DemandConfig { zones: 0, ..d.clone() }, format!("demand: zones must lie in [1, {}] (got 0)", net.len())),
        (DemandConfig { habits_per_od: 0, ..d.clone() }, "demand: habits_per_od must be at least 1 (got 0)".into()),
        (DemandConfig { drivers: 0, ..d.clone() }, "demand: drivers must be at least 1 (got 0)".into()),
        (DemandConfig { days: 0, ..d.clone() }, "demand: days must be at least 1 (got 0)".into()),
        (DemandConfig { max_route_roads: 1, ..d.clone() }, "demand: max_route_roads must be at least 2 (got 1)".into()),
        (DemandConfig { gravity_beta: -0.1, ..d.clone() }, "demand: gravity_beta must be at least 0 (got -0.1)".into()),
        (
            DemandConfig { weekend_factor: f64::NAN, ..d.clone() },
            "demand: weekend_factor must be a finite number at least 0 (got NaN)".into(),
        ),
        (DemandConfig { habit_loyalty: 1.5, ..d.clone() }, "demand: habit_loyalty must lie in [0, 1] (got 1.5)".into()),
        (DemandConfig { peak_slowdown: 1.0, ..d.clone() }, "demand: peak_slowdown must lie in [0, 1) (got 1)".into()),
        (DemandConfig { hourly_profile: profile, ..d.clone() }, "demand: hourly_profile[3] must be at least 0 (got -1)".into()),
        (DemandConfig { hourly_profile: [0.0; 24], ..d.clone() }, "demand: hourly_profile must have a positive weight (got all 0)".into()),
        (DemandConfig { unknown_speed_kmh: 0.0, ..d.clone() }, "demand: unknown_speed_kmh must be greater than 0 (got 0)".into()),
        (DemandConfig { maxspeed_factor: -1.0, ..d.clone() }, "demand: maxspeed_factor must be greater than 0 (got -1)".into()),
        (
            DemandConfig { class_speeds_kmh: vec![("primary".into(), 0.0)], ..d.clone() },
            "demand: class_speeds_kmh[primary] must be greater than 0 (got 0)".into(),
        ),
    ];
    for (c, want) in cases {
        let e = synthesize_trips(&net, &c, None).unwrap_err().to_string();
        assert!(e.starts_with(&want), "{e}");
    }
}

#[test]
fn outlier_and_city_keys_are_named() {
    OutlierConfig::default().validate().unwrap();
    let net = small_city();
    let e = inject_outliers(&net, &[], &OutlierConfig { ratio: 1.5, ..Default::default() }).unwrap_err().to_string();
    assert_eq!(e, "outliers: ratio must lie in [0, 1] (got 1.5)");
    let e = OutlierConfig { min_detour_ratio: 0.5, ..Default::default() }.validate().unwrap_err().to_string();
    assert_eq!(e, "outliers: min_detour_ratio must be at least 1 (got 0.5)");
    let e = OutlierConfig { kinds: vec![], ..Default::default() }.validate_at("[outliers] ").unwrap_err().to_string();
    assert!(e.starts_with("[outliers] kinds must name at least one"), "{e}");

    let d = SyntheticCityConfig::default();
    d.validate().unwrap();
    let cases = [
        (SyntheticCityConfig { blocks_x: 0, ..d.clone() }, "synthetic city: blocks_x must lie in [1, 1000] (got 0)"),
        (SyntheticCityConfig { block_m: 5.0, ..d.clone() }, "synthetic city: block_m must lie in [10, 100000] (got 5)"),
        (SyntheticCityConfig { local_per_block: 51, ..d.clone() }, "synthetic city: local_per_block must lie in [0, 50] (got 51)"),
        (SyntheticCityConfig { drop_local: -0.5, ..d.clone() }, "synthetic city: drop_local must lie in [0, 1] (got -0.5)"),
        (SyntheticCityConfig { jitter_m: 60.0, ..d.clone() }, "synthetic city: jitter_m must lie in [0, 25] (got 60): at most a quarter"),
        (SyntheticCityConfig { origin: [200.0, 0.0], ..d.clone() }, "synthetic city: origin [200.0, 0.0]"),
    ];
    for (c, want) in cases {
        let e = synthetic_city(&c).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
    }
}
