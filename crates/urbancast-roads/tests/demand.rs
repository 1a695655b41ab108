//! Synthetic demand: reproducibility, connectivity and timing of the trips, the time-of-day
//! profile, route habits, the gravity model's distance decay, input errors, and the real
//! Porto OSM network when present.
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use urbancast_roads::demand::{DemandConfig, DemandSummary, base_speed_kmh, is_weekend, synthesize, synthesize_trips};
use urbancast_roads::{RoadNetwork, RoadSpec, Trajectory, UTurns};

/// An `n × n` grid of junctions 0.002° apart (~170 m E–W, ~220 m N–S) with a road each way
/// between neighbours; every 10th row is `primary`, column 15 has an 80 km/h limit, the rest
/// is `residential`.
fn grid(n: u64) -> RoadNetwork {
    let pos = |i: u64| [-8.65 + 0.002 * (i % n) as f64, 41.12 + 0.002 * (i / n) as f64];
    let mut specs = Vec::new();
    for i in 0..n * n {
        let right = (i % n + 1 < n).then_some(i + 1);
        let up = (i / n + 1 < n).then_some(i + n);
        for j in [right, up].into_iter().flatten() {
            for (a, b) in [(i, j), (j, i)] {
                let mut s = RoadSpec::new(specs.len() as u64 + 1000, vec![pos(a), pos(b)]);
                s.start_node = Some(a);
                s.end_node = Some(b);
                let horizontal = j == i + 1;
                s.class = Some(if horizontal && (i / n).is_multiple_of(10) { "primary" } else { "residential" }.into());
                if !horizontal && i % n == 15 {
                    s.maxspeed_kmh = Some(80.0);
                }
                specs.push(s);
            }
        }
    }
    RoadNetwork::from_junctions("grid", specs, UTurns::OnlyIfDeadEnd).unwrap()
}

fn cfg(trips: usize, seed: u64) -> DemandConfig {
    DemandConfig { trips, zones: 12, seed, ..DemandConfig::default() }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn reproducible_by_seed_and_thread_count() {
    let net = grid(30);
    let a = synthesize_trips(&net, &cfg(700, 5), None).unwrap();
    let b = synthesize_trips(&net, &cfg(700, 5), None).unwrap();
    assert_eq!(a.len(), 700);
    assert!(a == b, "same seed, same trips");
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let c = one.install(|| synthesize_trips(&net, &cfg(700, 5), None).unwrap());
    assert!(a == c, "same trips on one thread");
    let d = synthesize_trips(&net, &cfg(700, 6), None).unwrap();
    let same = a.iter().zip(&d).filter(|(x, y)| x.roads == y.roads).count();
    assert!(same < 50, "another seed should give other trips ({same} of 700 identical)");
    assert_eq!(a[0].id.as_deref(), Some("syn-0"));
    assert_eq!(a[699].id.as_deref(), Some("syn-699"));
    assert!(a.iter().all(|t| t.driver.as_deref().unwrap().strip_prefix('d').unwrap().parse::<usize>().unwrap() < 1000));
}

#[test]
fn trips_are_connected_and_timed_by_speed() {
    let net = grid(30);
    let c = cfg(1500, 11);
    let calls = std::sync::Mutex::new(Vec::new());
    let report = |n: usize| calls.lock().unwrap().push(n);
    let (trips, summary) = synthesize(&net, &c, Some(&report)).unwrap();
    let calls = calls.into_inner().unwrap();
    assert_eq!(calls.iter().max(), Some(&1500));
    assert_eq!(calls.len(), 1500usize.div_ceil(256));
    let (sr, st) = (c.road_speed_sigma, c.trip_speed_sigma);
    let lo_f = (-3.0 * sr - 3.0 * st).exp();
    let hi_f = (3.0 * sr + 3.0 * st).exp() / (1.0 - c.peak_slowdown);
    let mut ratios = Vec::new();
    for t in &trips {
        t.validate().unwrap();
        let ix = net.indices_of(&t.roads).unwrap();
        for w in ix.windows(2) {
            assert!(net.successors(w[0]).contains(&(w[1] as u32)), "{:?}: {} cannot follow {}", t.id, w[1], w[0]);
        }
        assert!(t.len() <= c.max_route_roads);
        let len: f64 = ix.iter().skip(1).map(|&i| net.roads[i].length_m).sum();
        assert!(len >= c.min_trip_m, "{:?}: {len} m", t.id);
        let base: f64 = ix[..ix.len() - 1].iter().map(|&i| net.roads[i].length_m / (base_speed_kmh(&net, &c, i) / 3.6)).sum();
        let d = t.duration_s() as f64;
        assert!(d >= base * lo_f - 0.5 && d <= base * hi_f + 0.5, "{:?}: {d} s vs free flow {base} s", t.id);
        ratios.push(d / base);
        assert!(t.start_time() >= c.start_date && t.start_time() < c.start_date + 7 * 86_400);
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!((1.0..1.25).contains(&mean), "mean duration / free flow = {mean}");
    assert_eq!(summary.trips, 1500);
    assert!(summary.mean_length_km >= 0.5 && summary.mean_duration_min > 0.0, "{summary:?}");
    let again = DemandSummary::of(&net, &trips, 0.0).unwrap();
    assert_eq!(
        summary,
        DemandSummary { seconds: summary.seconds, eligible_roads: net.len(), rejected_draws: summary.rejected_draws, ..again }
    );
    // primary roads are faster than residential ones, 80 km/h limits faster still
    let speed = |class: &str, limit: bool| {
        let i = (0..net.len()).find(|&i| net.class_name(i) == class && net.roads[i].maxspeed_kmh.is_some() == limit).unwrap();
        base_speed_kmh(&net, &c, i)
    };
    assert_eq!((speed("primary", false), speed("residential", false), speed("residential", true)), (50.0, 30.0, 56.0));
}

#[test]
fn start_hours_follow_the_profile() {
    let net = grid(30);
    let c = DemandConfig { days: 14, ..cfg(6000, 3) };
    let trips = synthesize_trips(&net, &c, None).unwrap();
    let mut hours = [0.0; 24];
    let (mut weekend, mut weekday) = (0.0, 0.0);
    for t in &trips {
        hours[((t.start_time() - c.start_date).rem_euclid(86_400) / 3600) as usize] += 1.0;
        if is_weekend(t.start_time()) { weekend += 1.0 } else { weekday += 1.0 }
    }
    // 2014-07-01 is a Tuesday: the 5th and 6th are the weekend
    let day = |k: i64| c.start_date + k * 86_400 + 43_200;
    assert_eq!((0..7).map(|k| is_weekend(day(k))).collect::<Vec<_>>(), [false, false, false, false, true, true, false]);
    let r = pearson(&hours, &c.hourly_profile);
    assert!(r > 0.97, "hourly starts vs profile: r = {r} ({hours:?})");
    // 4 weekend days and 10 weekdays in two weeks from a Tuesday
    let ratio = (weekend / 4.0) / (weekday / 10.0);
    assert!((ratio - c.weekend_factor).abs() < 0.1, "weekend/weekday volume {ratio}");
}

fn routes_per_od(trips: &[Trajectory]) -> HashMap<(u64, u64), HashSet<Vec<u64>>> {
    let mut m: HashMap<(u64, u64), HashSet<Vec<u64>>> = HashMap::new();
    for t in trips {
        m.entry((t.origin(), t.destination())).or_default().insert(t.roads.clone());
    }
    m
}

#[test]
fn routes_per_od_are_bounded_by_habits() {
    let net = grid(30);
    let c = DemandConfig { anchors_per_zone: 3, zones: 6, ..cfg(3000, 8) };
    let trips = synthesize_trips(&net, &c, None).unwrap();
    let m = routes_per_od(&trips);
    assert!(m.len() <= 18 * 18, "{} ODs from 18 anchor roads", m.len());
    assert!(m.values().all(|r| r.len() <= c.habits_per_od));
    let repeated = m.values().filter(|r| r.len() > 1).count();
    assert!(repeated > 10, "habits should give different routes for some ODs ({repeated})");
    let one = synthesize_trips(&net, &DemandConfig { habits_per_od: 1, ..c }, None).unwrap();
    assert!(routes_per_od(&one).values().all(|r| r.len() == 1));
}

#[test]
fn stronger_deterrence_shortens_trips() {
    let net = grid(30);
    let mean_km = |beta: f64| {
        let c = DemandConfig { gravity_beta: beta, zones: 25, min_trip_m: 0.0, ..cfg(2000, 4) };
        synthesize(&net, &c, None).unwrap().1.mean_length_km
    };
    let (a, b, c) = (mean_km(0.0), mean_km(1.0), mean_km(3.0));
    println!("mean trip km: beta 0 -> {a:.2}, 1 -> {b:.2}, 3 -> {c:.2}");
    assert!(a > b && b > c, "{a} {b} {c}");
}

#[test]
fn bad_input_is_rejected_clearly() {
    let net = grid(5);
    let err = |c: DemandConfig, net: &RoadNetwork| synthesize_trips(net, &c, None).unwrap_err().to_string();
    assert!(err(DemandConfig { trips: 0, ..cfg(1, 0) }, &net).contains("trips"));
    let e = err(DemandConfig { zones: net.len() + 1, ..cfg(10, 0) }, &net);
    assert!(e.contains("zones") && e.contains(&net.len().to_string()), "{e}");
    let e = err(DemandConfig { zones: 2, min_trip_m: 1e6, ..cfg(10, 0) }, &net);
    assert!(e.contains("min_trip_m"), "{e}");
    // a one-way chain: nothing can come back, so no two roads reach each other both ways
    let specs = (0..5u64)
        .map(|i| {
            let mut s = RoadSpec::new(i, vec![[0.001 * i as f64, 0.0], [0.001 * (i + 1) as f64, 0.0]]);
            s.start_node = Some(i);
            s.end_node = Some(i + 1);
            s
        })
        .collect();
    let chain = RoadNetwork::from_junctions("chain", specs, UTurns::Forbid).unwrap();
    let e = err(DemandConfig { zones: 2, ..cfg(10, 0) }, &chain);
    assert!(e.contains("no two roads can reach each other"), "{e}");
}

/// The Porto OSM edge CSV, or `None` (with a message) when `../shared/data` lacks it.
fn porto() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/roads/porto-osm/edges.csv");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

/// The Porto network through the crate's own OSM edge CSV reader.
fn read_edges(path: &Path) -> RoadNetwork {
    urbancast_roads::readers::read_osm_csv(path).expect("the Porto edge CSV reads")
}

fn porto_run(trips: usize) {
    let Some(path) = porto() else { return };
    let net = read_edges(&path);
    let c = DemandConfig { trips, seed: 1, ..DemandConfig::default() };
    let t0 = Instant::now();
    let (out, s) = synthesize(&net, &c, None).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "porto: {trips} trips in {secs:.2} s ({:.0} trips/s, {} threads): {}",
        trips as f64 / secs,
        rayon::current_num_threads(),
        serde_json::to_string(&s).unwrap()
    );
    assert_eq!(out.len(), trips);
    for t in out.iter().take(500) {
        let ix = net.indices_of(&t.roads).unwrap();
        assert!(ix.windows(2).all(|w| net.successors(w[0]).contains(&(w[1] as u32))));
    }
    assert!(s.mean_length_km > 1.0 && s.mean_length_km < 10.0, "{s:?}");
}

#[test]
fn porto_5000_trips() {
    porto_run(5000);
}

#[test]
#[ignore = "timing run: 200,000 trips on Porto"]
fn porto_200k_trips() {
    porto_run(200_000);
}
