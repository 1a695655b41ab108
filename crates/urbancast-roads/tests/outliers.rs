//! Synthetic outliers: a hand-made network where the detour and the switch are known, skip
//! reasons, then on the synthetic city with synthetic trips: connectivity, origin and
//! destination, detours longer, switches never rejoin, determinism, the outlier share, levels.
use std::collections::HashSet;

use rand::SeedableRng;
use rand::rngs::StdRng;
use urbancast_roads::demand::{DemandConfig, synthesize_trips};
use urbancast_roads::outliers::{OutlierConfig, OutlierKind, OutlierSet, SkipReason, inject_outliers, make_outlier};
use urbancast_roads::path::entered_length_m;
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};
use urbancast_roads::{RoadNetwork, RoadSpec, Trajectory};

/// A street 10 → 11 → 12 → 13 along the equator (0.001° ≈ 111 m per road) and a bypass of road
/// 11 over the top: 10 → 20 (north) → 21 (east) → 22 (south) → 12.
///
/// ```text
///        21
///   (1,1)──→(2,1)
///  20 ↑       ↓ 22
/// ──→(1,0)──→(2,0)──→(3,0)──→
///  10     11      12      13
/// ```
fn bypass() -> RoadNetwork {
    let p = |x: f64, y: f64| [x * 0.001, y * 0.001];
    let road = |id, a: [f64; 2], b: [f64; 2]| RoadSpec::new(id, vec![a, b]);
    let specs = vec![
        road(10, p(0., 0.), p(1., 0.)),
        road(11, p(1., 0.), p(2., 0.)),
        road(12, p(2., 0.), p(3., 0.)),
        road(13, p(3., 0.), p(4., 0.)),
        road(20, p(1., 0.), p(1., 1.)),
        road(21, p(1., 1.), p(2., 1.)),
        road(22, p(2., 1.), p(2., 0.)),
    ];
    let succ = [(10, 11), (10, 20), (11, 12), (20, 21), (21, 22), (22, 12), (12, 13)];
    RoadNetwork::new("bypass", specs, &succ).unwrap()
}

fn traj(roads: &[u64], times: &[i64]) -> Trajectory {
    Trajectory::new(Some("t".into()), Some("d".into()), roads.to_vec(), times.to_vec()).unwrap()
}

fn connected(net: &RoadNetwork, t: &Trajectory) -> bool {
    let ix = net.indices_of(&t.roads).unwrap();
    ix.windows(2).all(|w| net.successors(w[0]).contains(&(w[1] as u32)))
}

#[test]
fn known_detour_and_switch_on_a_hand_made_network() {
    let net = bypass();
    let cfg = OutlierConfig::default();
    let mut rng = StdRng::seed_from_u64(1);
    // n = 4, m = max(1, ⌊2 · 0.3⌋) = 1: the only detour replaces road 11.
    let t = traj(&[10, 11, 12, 13], &[0, 10, 20, 30]);
    let d = make_outlier(&net, &t, OutlierKind::Detour, &cfg, &mut rng).unwrap();
    assert_eq!(d.roads, vec![10, 20, 21, 22, 12, 13]);
    // Own speed: 3 roads in 30 s, every road the same length -> 10 s per road; road 13 is
    // shifted by the 20 s delay at road 12.
    assert_eq!(d.times, vec![0, 10, 20, 30, 40, 50]);
    assert_eq!(d.id.as_deref(), Some("t-detour"));
    assert_eq!(d.driver.as_deref(), Some("d"));
    // n = 3: the trip switches after road 10 and reaches 12 over the top.
    let t = traj(&[10, 11, 12], &[100, 110, 120]);
    let s = make_outlier(&net, &t, OutlierKind::RouteSwitch, &cfg, &mut rng).unwrap();
    assert_eq!(s.roads, vec![10, 20, 21, 22, 12]);
    assert_eq!(s.times, vec![100, 110, 120, 130, 140]);
    // No usable own speed (zero duration): 30 km/h, 111.2 m per road -> 13.3 s per road.
    let t = traj(&[10, 11, 12], &[0, 0, 0]);
    let s = make_outlier(&net, &t, OutlierKind::RouteSwitch, &cfg, &mut rng).unwrap();
    assert_eq!(s.times, vec![0, 13, 27, 40, 53]);
    // Every kind of skip.
    let skip = |roads: &[u64], kind| {
        let times: Vec<i64> = (0..roads.len() as i64).collect();
        let t = Trajectory { id: None, driver: None, roads: roads.to_vec(), times };
        make_outlier(&net, &t, kind, &cfg, &mut StdRng::seed_from_u64(0)).unwrap_err()
    };
    assert_eq!(skip(&[10, 11, 12], OutlierKind::Detour), SkipReason::TooShort);
    assert_eq!(skip(&[10, 11], OutlierKind::RouteSwitch), SkipReason::TooShort);
    assert_eq!(skip(&[10, 12, 13], OutlierKind::RouteSwitch), SkipReason::Invalid); // 12 does not follow 10
    assert_eq!(skip(&[10, 99, 12], OutlierKind::RouteSwitch), SkipReason::Invalid); // unknown road
    assert_eq!(skip(&[11, 12, 13], OutlierKind::RouteSwitch), SkipReason::NoAlternative);
    assert_eq!(skip(&[20, 21, 22, 12], OutlierKind::Detour), SkipReason::NoAlternative);
    // A detour that is not long enough is refused.
    let strict = OutlierConfig { min_detour_ratio: 2.5, ..cfg.clone() };
    let t = traj(&[10, 11, 12, 13], &[0, 10, 20, 30]);
    assert_eq!(make_outlier(&net, &t, OutlierKind::Detour, &strict, &mut rng), Err(SkipReason::NoAlternative));
}

fn city_and_trips(n: usize) -> (RoadNetwork, Vec<Trajectory>) {
    let net = synthetic_city(&SyntheticCityConfig { blocks_x: 8, blocks_y: 8, seed: 3, ..Default::default() }).unwrap();
    let trips = synthesize_trips(&net, &DemandConfig { trips: n, zones: 12, seed: 4, ..Default::default() }, None).unwrap();
    (net, trips)
}

/// Checks every outlier of `set` against its source; returns, per detour, the relative extra
/// length and the share of the original roads that were left out.
fn check_outliers(net: &RoadNetwork, normals: &[Trajectory], set: &OutlierSet) -> Vec<(f64, f64)> {
    let mut extra = Vec::new();
    for item in set.items.iter().filter(|i| i.outlier) {
        let (o, src) = (&item.traj, &normals[item.source]);
        o.validate().unwrap();
        assert!(connected(net, o), "outlier {:?} is not a connected route", o.id);
        assert_eq!((o.origin(), o.destination(), o.start_time()), (src.origin(), src.destination(), src.start_time()));
        assert_ne!(o.roads, src.roads);
        let original: HashSet<u64> = src.roads.iter().copied().collect();
        if original.len() == src.len() {
            assert_eq!(o.roads.iter().collect::<HashSet<_>>().len(), o.len(), "an outlier never reuses a road");
        }
        let lcp = o.roads.iter().zip(&src.roads).take_while(|(a, b)| a == b).count();
        let lcs = o.roads.iter().rev().zip(src.roads.iter().rev()).take_while(|(a, b)| a == b).count();
        let (len_o, len_s) =
            (entered_length_m(net, &net.indices_of(&o.roads).unwrap()), entered_length_m(net, &net.indices_of(&src.roads).unwrap()));
        match item.kind.unwrap() {
            OutlierKind::Detour => {
                assert!(len_o > len_s, "a detour must be longer: {len_o} vs {len_s}");
                assert!(lcs >= 2, "a detour rejoins the route before the destination");
                // The new part uses no road of the original route.
                assert!(o.roads[lcp..o.len() - lcs].iter().all(|r| !original.contains(r)));
                let left_out = src.len() - lcp - lcs;
                extra.push((len_o / len_s - 1.0, left_out as f64 / src.len() as f64));
            }
            OutlierKind::RouteSwitch => {
                assert_eq!(lcs, 1, "a switched route only meets the original at the destination");
                assert!(o.roads[lcp..o.len() - 1].iter().all(|r| !original.contains(r)));
            }
        }
    }
    extra
}

#[test]
fn city_outliers_are_valid_routes_with_the_configured_share() {
    let (net, trips) = city_and_trips(400);
    let cfg = OutlierConfig { ratio: 0.25, seed: 11, ..Default::default() };
    let set = inject_outliers(&net, &trips, &cfg).unwrap();
    let s = &set.summary;
    eprintln!("{s:?}");
    assert_eq!((s.input, s.output), (400, 400));
    assert_eq!(s.selected, s.detours + s.route_switches + s.skipped_too_short + s.skipped_invalid + s.skipped_no_alternative);
    assert_eq!(s.outliers, set.items.iter().filter(|i| i.outlier).count());
    // Share of selected trajectories: 0.25 ± 3σ (σ = √(0.25 · 0.75 / 400) ≈ 0.022).
    let share = s.selected as f64 / 400.0;
    assert!((share - 0.25).abs() < 0.065, "selected share {share}");
    assert_eq!(s.skipped_invalid, 0);
    assert!(s.outliers as f64 >= 0.85 * s.selected as f64, "too many skipped: {s:?}");
    assert!(s.detours > 20 && s.route_switches > 20, "{s:?}");
    // Normal items are the inputs, in order.
    assert!(set.items.iter().enumerate().all(|(k, i)| i.source == k));
    assert!(set.items.iter().filter(|i| !i.outlier).all(|i| i.traj == trips[i.source] && i.kind.is_none()));
    let extra = check_outliers(&net, &trips, &set);
    assert!(!extra.is_empty());
    // Same seed, same output; another seed, another output.
    assert_eq!(inject_outliers(&net, &trips, &cfg).unwrap(), set);
    assert_ne!(inject_outliers(&net, &trips, &OutlierConfig { seed: 12, ..cfg.clone() }).unwrap(), set);
    // LM-TAD style: keep the originals, outliers appended after them.
    let kept = inject_outliers(&net, &trips, &OutlierConfig { keep_originals: true, ..cfg.clone() }).unwrap();
    assert_eq!(kept.summary.output, 400 + kept.summary.outliers);
    assert_eq!(kept.items.iter().filter(|i| !i.outlier).count(), 400);
    // Extremes of the ratio.
    let none = inject_outliers(&net, &trips, &OutlierConfig { ratio: 0.0, ..cfg.clone() }).unwrap();
    assert_eq!((none.summary.selected, none.summary.outliers), (0, 0));
    let all = inject_outliers(&net, &trips[..50], &OutlierConfig { ratio: 1.0, ..cfg }).unwrap();
    assert_eq!(all.summary.selected, 50);
}

#[test]
fn higher_level_and_prob_change_more() {
    let (net, trips) = city_and_trips(120);
    let base = OutlierConfig { ratio: 1.0, kinds: vec![OutlierKind::Detour], seed: 5, ..Default::default() };
    let mean = |v: &[(f64, f64)], k: usize| v.iter().map(|x| if k == 0 { x.0 } else { x.1 }).sum::<f64>() / v.len() as f64;
    let mut means = Vec::new();
    for (level, prob) in [(3, 0.1), (6, 0.1), (3, 0.3)] {
        let set = inject_outliers(&net, &trips, &OutlierConfig { level, prob, ..base.clone() }).unwrap();
        let extra = check_outliers(&net, &trips, &set);
        assert!(extra.len() >= 80, "level {level} prob {prob}: {:?}", set.summary);
        let (longer, left_out) = (mean(&extra, 0), mean(&extra, 1));
        eprintln!(
            "level {level} prob {prob}: {} detours, mean extra length {longer:.3}, share of roads left out {left_out:.3}",
            extra.len()
        );
        means.push((longer, left_out));
    }
    // `level` pushes the detour farther away (longer); `prob` replaces a longer run of roads.
    assert!(means[1].0 > means[0].0 + 0.05, "a farther waypoint makes longer detours: {means:?}");
    assert!(means[2].1 > means[0].1 + 0.1, "prob 0.3 leaves out more of the route than 0.1: {means:?}");
    // Route switches at both settings are valid too.
    for level in [3, 5] {
        let cfg = OutlierConfig { level, kinds: vec![OutlierKind::RouteSwitch], ..base.clone() };
        let set = inject_outliers(&net, &trips, &cfg).unwrap();
        check_outliers(&net, &trips, &set);
        assert!(set.summary.route_switches >= 100, "{:?}", set.summary);
    }
}

#[test]
fn bad_config_is_an_error_and_serde_defaults() {
    let net = bypass();
    let t = [traj(&[10, 11, 12, 13], &[0, 10, 20, 30])];
    for cfg in [
        OutlierConfig { ratio: 1.5, ..Default::default() },
        OutlierConfig { prob: -0.1, ..Default::default() },
        OutlierConfig { cell_m: 0.0, ..Default::default() },
        OutlierConfig { kinds: vec![], ..Default::default() },
        OutlierConfig { min_detour_ratio: 0.9, ..Default::default() },
        OutlierConfig { fallback_speed_mps: f64::NAN, ..Default::default() },
    ] {
        let e = inject_outliers(&net, &t, &cfg).unwrap_err().to_string();
        assert!(e.starts_with("outliers: "), "{e}");
    }
    let cfg: OutlierConfig = serde_json::from_str(r#"{"ratio": 0.1, "kinds": ["route_switch"]}"#).unwrap();
    assert_eq!(cfg, OutlierConfig { ratio: 0.1, kinds: vec![OutlierKind::RouteSwitch], ..Default::default() });
    // Nothing to change: no error, no outlier.
    let set = inject_outliers(&net, &[], &OutlierConfig::default()).unwrap();
    assert_eq!(set.summary.output, 0);
}
