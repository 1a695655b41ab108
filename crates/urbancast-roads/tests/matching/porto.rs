//! Map matching on the real Porto OSM network (`../shared/data`, skipped when absent): the
//! 318 Porto taxi trips, and simulated tracks along known routes (a ground truth). Read with
//! the crate's own readers (`readers::read_osm_csv`, `io::read_porto`).
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use urbancast_roads::io::read_porto;
use urbancast_roads::matching::{MatchConfig, MatchReport, match_tracks};
use urbancast_roads::path::shortest_path;
use urbancast_roads::readers::read_osm_csv;
use urbancast_roads::spatial::RoadIndex;
use urbancast_roads::{GpsPoint, GpsTrack, LonLat, RoadNetwork};

use super::connected;

/// `../shared/data` seen from the crate, or `None` (with a message) when absent.
fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/data not found");
        None
    }
}

fn load() -> Option<(RoadNetwork, PathBuf)> {
    let d = shared()?;
    let edges = d.join("roads/porto-osm/edges.csv");
    if !edges.is_file() {
        eprintln!("skipping: {} not found", edges.display());
        return None;
    }
    Some((read_osm_csv(&edges).unwrap(), d.join("gps/porto-taxi/porto-taxi-2014-sample.csv")))
}

#[test]
fn porto_taxi_sample() {
    let Some((net, gps)) = load() else { return };
    if !gps.is_file() {
        eprintln!("skipping: {} not found", gps.display());
        return;
    }
    let read = read_porto(&gps).unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    let tracks = read.into_tracks();
    let t0 = Instant::now();
    let index = RoadIndex::new(&net);
    println!("porto: {} roads indexed in {:.3} s, {} tracks", net.len(), t0.elapsed().as_secs_f64(), tracks.len());
    assert_eq!(tracks.len(), 318);
    let cfg = MatchConfig::default();
    let t1 = Instant::now();
    let results = match_tracks(&net, &index, &tracks, &cfg, None).unwrap();
    let report = MatchReport::new(&net, &results, t1.elapsed().as_secs_f64());
    println!("porto: {report}");
    println!("porto: {}", serde_json::to_string(&report).unwrap());
    // about a quarter of the fixes lie outside the network's extent (central Porto only):
    // measure the matched share among the points that have a road within the search radius
    let covered: usize =
        tracks.iter().flat_map(|t| &t.points).filter(|p| !index.nearest_within(p.pos, 1, cfg.search_radius_m).is_empty()).count();
    let share_covered = report.points_matched as f64 / covered as f64;
    println!("porto: {covered} points have a road within {} m; {:.1} % of them matched", cfg.search_radius_m, 100.0 * share_covered);
    for (r, t) in results.iter().zip(&tracks) {
        for p in &r.pieces {
            assert!(connected(&net, &p.roads));
            assert!(p.entry_times.windows(2).all(|w| w[0] <= w[1]));
            assert_eq!(p.entry_times[0], t.points[p.points[0].point].time);
        }
        for traj in r.to_trajectories(&net, t) {
            traj.validate().unwrap();
        }
    }
    // measured: 73.0 % of all points, 99.4 % of covered points, median 3.3 m, 70.4 % connected
    assert!(report.share_points_matched > 0.70, "{report}");
    assert!(share_covered > 0.98, "{share_covered}");
    assert!(report.median_distance_m < 5.0, "{report}");
    assert!(report.share_trips_connected > 0.6, "{report}");
}

/// Point at distance `s` (metres of network length) along road `r`.
fn point_at(net: &RoadNetwork, r: usize, s: f64) -> LonLat {
    let pl = &net.roads[r].polyline;
    let seg: Vec<f64> = pl.windows(2).map(|w| urbancast_roads::geo::haversine_m(w[0], w[1])).collect();
    let mut s = s / net.roads[r].length_m.max(1e-9) * seg.iter().sum::<f64>();
    for (k, &l) in seg.iter().enumerate() {
        if s <= l || k == seg.len() - 1 {
            let t = if l > 0.0 { (s / l).clamp(0.0, 1.0) } else { 0.0 };
            return [pl[k][0] + t * (pl[k + 1][0] - pl[k][0]), pl[k][1] + t * (pl[k + 1][1] - pl[k][1])];
        }
        s -= l;
    }
    unreachable!("a road has a segment")
}

/// Tracks along random shortest routes of 1.5–6 km at 15–45 km/h, one fix every 15 s, with
/// noise like the Porto taxi sample: 4 m per axis, one fix in five 20 m. Returns the tracks
/// and the true roads from the first fix's road to the last fix's.
fn simulate(net: &RoadNetwork, n: usize, seed: u64) -> (Vec<GpsTrack>, Vec<Vec<usize>>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let proj = *RoadIndex::new(net).projection();
    let (mut tracks, mut truth) = (Vec::new(), Vec::new());
    while tracks.len() < n {
        let (a, b) = (rng.random_range(0..net.len()), rng.random_range(0..net.len()));
        let Some((path, len)) = shortest_path(net, a, b, |r| net.roads[r].length_m, 6000.0) else { continue };
        if len < 1500.0 {
            continue;
        }
        let step = rng.random_range(15.0..45.0) / 3.6 * 15.0;
        let (mut s, mut k, mut on, mut points) = (rng.random_range(0.0..net.roads[a].length_m), 0, Vec::new(), Vec::new());
        loop {
            while k < path.len() && s > net.roads[path[k]].length_m {
                s -= net.roads[path[k]].length_m;
                k += 1;
            }
            if k == path.len() {
                break;
            }
            let xy = proj.to_xy(point_at(net, path[k], s));
            let noise = Normal::new(0.0, if rng.random_bool(0.8) { 4.0 } else { 20.0 }).unwrap();
            let pos = proj.to_lonlat([xy[0] + noise.sample(&mut rng), xy[1] + noise.sample(&mut rng)]);
            points.push(GpsPoint { pos, time: 1_400_000_000 + 15 * points.len() as i64 });
            on.push(k);
            s += step * rng.random_range(0.7..1.3);
        }
        if points.len() >= 2 {
            truth.push(path[on[0]..=*on.last().unwrap()].to_vec());
            tracks.push(GpsTrack { id: format!("sim{}", tracks.len()), driver: None, points });
        }
    }
    (tracks, truth)
}

/// Length of the roads in one sequence and not the other (as multisets), both ways.
fn mismatch_m(net: &RoadNetwork, got: &[usize], want: &[usize]) -> f64 {
    let (mut g, mut w) = (got.to_vec(), want.to_vec());
    g.sort_unstable();
    w.sort_unstable();
    let (mut i, mut j, mut err) = (0, 0, 0.0);
    while i < g.len() || j < w.len() {
        if j == w.len() || (i < g.len() && g[i] < w[j]) {
            err += net.roads[g[i]].length_m;
            i += 1;
        } else if i == g.len() || w[j] < g[i] {
            err += net.roads[w[j]].length_m;
            j += 1;
        } else {
            i += 1;
            j += 1;
        }
    }
    err
}

#[test]
fn porto_simulated_tracks_recover_their_route() {
    let Some((net, _)) = load() else { return };
    let (tracks, truth) = simulate(&net, 200, 1);
    let index = RoadIndex::new(&net);
    let t0 = Instant::now();
    let results = match_tracks(&net, &index, &tracks, &MatchConfig::default(), None).unwrap();
    let report = MatchReport::new(&net, &results, t0.elapsed().as_secs_f64());
    let (mut err, mut total) = (0.0, 0.0);
    for (r, want) in results.iter().zip(&truth) {
        let got: Vec<usize> = r.pieces.iter().flat_map(|p| p.roads.iter().copied()).collect();
        err += mismatch_m(&net, &got, want);
        total += want.iter().map(|&x| net.roads[x].length_m).sum::<f64>();
    }
    println!("porto simulated: {report}; route mismatch {:.2} % of the true length", 100.0 * err / total);
    // measured: 2.8 % mismatch (mostly the first or last road), every track connected
    assert!(err / total < 0.05, "{}", err / total);
    assert!(report.share_trips_connected > 0.95, "{report}");
    assert!(report.share_points_matched > 0.99, "{report}");
}
