//! Spatial index and HMM map matching: toy networks with known answers, and the Porto taxi
//! sample on the Porto OSM network when `../shared/data` is present.
#[path = "matching/porto.rs"]
mod porto;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use urbancast_roads::geo::{LocalProjection, point_segment};
use urbancast_roads::matching::{MatchConfig, match_track, match_tracks};
use urbancast_roads::spatial::{Candidate, RoadIndex};
use urbancast_roads::{GpsPoint, GpsTrack, LonLat, RoadNetwork, RoadSpec, UTurns};

const ORIGIN: LonLat = [-8.61, 41.15];

/// A network from junctions given in metres around [`ORIGIN`] and directed edges
/// `(from, to)` (optionally through extra bends); road id = 100 + edge position.
fn toy(junctions: &[[f64; 2]], edges: &[(usize, usize)]) -> RoadNetwork {
    let proj = LocalProjection::new(ORIGIN);
    let specs = edges
        .iter()
        .enumerate()
        .map(|(k, &(a, b))| {
            let mut s = RoadSpec::new(100 + k as u64, vec![proj.to_lonlat(junctions[a]), proj.to_lonlat(junctions[b])]);
            s.start_node = Some(a as u64);
            s.end_node = Some(b as u64);
            s
        })
        .collect();
    RoadNetwork::from_junctions("toy", specs, UTurns::OnlyIfDeadEnd).unwrap()
}

/// A track through points given in metres around [`ORIGIN`], one every 15 s from t = 1000.
fn track(xy: &[[f64; 2]]) -> GpsTrack {
    let proj = LocalProjection::new(ORIGIN);
    let points = xy.iter().enumerate().map(|(k, &p)| GpsPoint { pos: proj.to_lonlat(p), time: 1000 + 15 * k as i64 }).collect();
    GpsTrack { id: "t".into(), driver: Some("d".into()), points }
}

fn ids(net: &RoadNetwork, roads: &[usize]) -> Vec<u64> {
    roads.iter().map(|&r| net.roads[r].id).collect()
}

fn connected(net: &RoadNetwork, roads: &[usize]) -> bool {
    roads.windows(2).all(|w| net.successors(w[0]).contains(&(w[1] as u32)))
}

/// Brute force: every road's closest segment in the index's own projection.
fn brute(net: &RoadNetwork, proj: &LocalProjection, p: LonLat) -> Vec<(f64, usize)> {
    let q = proj.to_xy(p);
    let mut v: Vec<(f64, usize)> = (0..net.len())
        .map(|r| {
            let xy: Vec<[f64; 2]> = net.roads[r].polyline.iter().map(|&x| proj.to_xy(x)).collect();
            let d = xy.windows(2).map(|w| point_segment(q, w[0], w[1]).0).fold(f64::INFINITY, f64::min);
            (d, r)
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v
}

#[test]
fn spatial_index_matches_brute_force() {
    let mut rng = StdRng::seed_from_u64(7);
    // a jittered 8 x 8 grid of junctions with two-way streets, some with bends
    let proj0 = LocalProjection::new(ORIGIN);
    let mut specs = Vec::new();
    let junction = |i: usize, j: usize, rng: &mut StdRng| {
        [i as f64 * 150.0 + rng.random_range(-30.0..30.0), j as f64 * 150.0 + rng.random_range(-30.0..30.0)]
    };
    let mut pos = vec![[0.0; 2]; 64];
    for i in 0..8 {
        for j in 0..8 {
            pos[i * 8 + j] = junction(i, j, &mut rng);
        }
    }
    let mut id = 0;
    for i in 0..8 {
        for j in 0..8 {
            let a = i * 8 + j;
            for b in [(i + 1 < 8).then(|| a + 8), (j + 1 < 8).then(|| a + 1)].into_iter().flatten() {
                let mid = [
                    (pos[a][0] + pos[b][0]) / 2.0 + rng.random_range(-20.0..20.0),
                    (pos[a][1] + pos[b][1]) / 2.0 + rng.random_range(-20.0..20.0),
                ];
                for (u, v, line) in [(a, b, vec![pos[a], mid, pos[b]]), (b, a, vec![pos[b], mid, pos[a]])] {
                    let mut s = RoadSpec::new(id, line.iter().map(|&x| proj0.to_lonlat(x)).collect());
                    s.start_node = Some(u as u64);
                    s.end_node = Some(v as u64);
                    specs.push(s);
                    id += 1;
                }
            }
        }
    }
    let net = RoadNetwork::from_junctions("grid", specs, UTurns::OnlyIfDeadEnd).unwrap();
    let index = RoadIndex::new(&net);
    let proj = *index.projection();
    for _ in 0..300 {
        let p = proj0.to_lonlat([rng.random_range(-200.0..1300.0), rng.random_range(-200.0..1300.0)]);
        let want = brute(&net, &proj, p);
        for k in [1, 3, 8] {
            let got = index.nearest(p, k);
            assert_eq!(got.len(), k);
            for (g, w) in got.iter().zip(&want) {
                assert!((g.distance_m - w.0).abs() < 1e-6, "k={k}: {g:?} vs {w:?}");
            }
            // roads agree except where two distances tie to rounding
            let roads: Vec<usize> = got.iter().map(|c| c.road).collect();
            let want_roads: Vec<usize> = want.iter().take(k).map(|w| w.1).collect();
            if roads != want_roads {
                assert!(got.iter().zip(&want).all(|(g, w)| (g.distance_m - w.0).abs() < 1e-6));
            }
        }
        let r = rng.random_range(0.0..120.0);
        let got: Vec<(usize, f64)> = index.within(p, r).iter().map(|c| (c.road, c.distance_m)).collect();
        let want_in: Vec<(usize, f64)> = want.iter().filter(|w| w.0 <= r).map(|w| (w.1, w.0)).collect();
        assert_eq!(got.len(), want_in.len(), "radius {r}");
        for (g, w) in got.iter().zip(&want_in) {
            assert_eq!(g.0, w.0);
            assert!((g.1 - w.1).abs() < 1e-9);
        }
        // the projected point is on the road at the reported distance and offset
        for c in index.nearest(p, 3) {
            let back = index.project(c.point, c.road);
            assert!(back.distance_m < 1e-3, "{c:?} -> {back:?}");
            assert!((back.offset_m - c.offset_m).abs() < 1e-3);
            assert!(c.offset_m >= 0.0 && c.offset_m <= net.roads[c.road].length_m + 1e-9);
        }
    }
    // near_within: no more than k, all within the radius
    let p = proj0.to_lonlat([500.0, 500.0]);
    let c: Vec<Candidate> = index.nearest_within(p, 4, 60.0);
    assert!(c.len() <= 4 && c.iter().all(|c| c.distance_m <= 60.0));
    assert!(index.within(p, -1.0).is_empty());
}

/// Main street A (y = 0) in three roads, and a parallel detour B (y = 24 m) that leaves A at
/// x = 200 and rejoins it at x = 400.
fn parallel() -> RoadNetwork {
    let j = [[0.0, 0.0], [200.0, 0.0], [400.0, 0.0], [600.0, 0.0], [200.0, 24.0], [400.0, 24.0]];
    // 100 A1, 101 A2, 102 A3, 103 up, 104 B, 105 down
    toy(&j, &[(0, 1), (1, 2), (2, 3), (1, 4), (4, 5), (5, 2)])
}

#[test]
fn viterbi_prefers_the_consistent_route_over_the_nearest_road() {
    let net = parallel();
    let index = RoadIndex::new(&net);
    // the third point sits 13 m north of A, 11 m from B
    let t = track(&[[50.0, -3.0], [150.0, 2.0], [250.0, 13.0], [350.0, -2.0], [450.0, 3.0], [550.0, 0.0]]);
    let nearest = index.nearest(t.points[2].pos, 1)[0];
    assert_eq!(net.roads[nearest.road].id, 104, "the noisy point is nearer the wrong road");
    let res = match_track(&net, &index, &t, &MatchConfig::default()).unwrap();
    assert_eq!(res.pieces.len(), 1);
    assert_eq!(ids(&net, &res.pieces[0].roads), vec![100, 101, 102]);
    let m = res.point_matches();
    assert_eq!(net.roads[m[2].unwrap().road].id, 101);
    assert_eq!(res.points_matched, 6);
    // and when the car really takes the detour, so does the match
    let t = track(&[[50.0, 0.0], [150.0, 0.0], [250.0, 22.0], [350.0, 25.0], [450.0, 0.0], [550.0, 0.0]]);
    let res = match_track(&net, &index, &t, &MatchConfig::default()).unwrap();
    assert_eq!(ids(&net, &res.pieces[0].roads), vec![100, 103, 104, 105, 102]);
}

#[test]
fn an_unreachable_outlier_is_skipped() {
    // main street A (three roads east) and, 100 m north, an unconnected road C going west
    let j = [[0.0, 0.0], [200.0, 0.0], [400.0, 0.0], [600.0, 0.0], [600.0, 100.0], [0.0, 100.0]];
    let net = toy(&j, &[(0, 1), (1, 2), (2, 3), (4, 5)]);
    let index = RoadIndex::new(&net);
    // the third fix jumps 85 m north: only C is within the search radius, and C is unreachable
    let t = track(&[[50.0, 2.0], [150.0, -1.0], [250.0, 85.0], [350.0, 1.0], [450.0, -2.0]]);
    let res = match_track(&net, &index, &t, &MatchConfig::default()).unwrap();
    assert_eq!(res.pieces.len(), 1);
    assert_eq!(ids(&net, &res.pieces[0].roads), vec![100, 101, 102]);
    assert_eq!((res.outliers, res.points_matched), (1, 4));
    assert!(res.point_matches()[2].is_none());
    // without skipping, Newson & Krumm break twice
    let cfg = MatchConfig { max_skipped_points: 0, ..MatchConfig::default() };
    let res = match_track(&net, &index, &t, &cfg).unwrap();
    let pieces: Vec<Vec<u64>> = res.pieces.iter().map(|p| ids(&net, &p.roads)).collect();
    assert_eq!(pieces, vec![vec![100], vec![103], vec![101, 102]]);
    assert_eq!((res.breaks, res.outliers, res.points_matched), (2, 0, 5));
}

/// An L-shaped street of five roads with a side street at the corner.
fn l_street() -> RoadNetwork {
    let j = [[0.0, 0.0], [150.0, 0.0], [300.0, 0.0], [300.0, 150.0], [300.0, 300.0], [300.0, 450.0], [450.0, 0.0]];
    // 100..=104 the L, 105 the side street east of the corner
    toy(&j, &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (2, 6)])
}

#[test]
fn gaps_are_filled_with_connected_roads() {
    let net = l_street();
    let index = RoadIndex::new(&net);
    // one point on the first road, the next two roads further on (around the corner)
    let t = track(&[[70.0, 2.0], [302.0, 80.0], [298.0, 380.0]]);
    let res = match_track(&net, &index, &t, &MatchConfig::default()).unwrap();
    assert_eq!(res.pieces.len(), 1);
    let p = &res.pieces[0];
    assert_eq!(ids(&net, &p.roads), vec![100, 101, 102, 103, 104]);
    assert!(connected(&net, &p.roads));
    assert!(res.is_connected(&net));
}

#[test]
fn a_point_far_from_every_road_breaks_the_match() {
    let net = l_street();
    let index = RoadIndex::new(&net);
    let t = track(&[[30.0, 1.0], [140.0, -2.0], [900.0, 900.0], [301.0, 200.0], [299.0, 330.0]]);
    let res = match_track(&net, &index, &t, &MatchConfig::default()).unwrap();
    assert_eq!(res.pieces.len(), 2);
    assert_eq!(res.breaks, 1);
    assert_eq!(res.points_total, 5);
    assert_eq!(res.points_matched, 4);
    assert!(res.point_matches()[2].is_none());
    assert_eq!(ids(&net, &res.pieces[0].roads), vec![100]);
    assert_eq!(ids(&net, &res.pieces[1].roads), vec![103, 104]);
    assert!(!res.is_connected(&net));
    let trajs = res.to_trajectories(&net, &t);
    assert_eq!(trajs.len(), 2);
    assert_eq!(trajs[1].id.as_deref(), Some("t-1"));
    assert_eq!(trajs[1].times[0], t.points[3].time);
}

#[test]
fn entry_times_follow_the_route() {
    let net = l_street();
    let index = RoadIndex::new(&net);
    // 40 m per 15 s along the L, with points close together at a stop
    let mut xy = Vec::new();
    for k in 0..8 {
        xy.push([20.0 + 40.0 * k as f64, 1.0]);
    }
    xy.push([300.0, 1.0]);
    xy.push([301.0, 3.0]); // stopped: dropped as too close, still matched
    for k in 1..8 {
        xy.push([299.0, 40.0 * k as f64]);
    }
    let t = track(&xy);
    let res = match_track(&net, &index, &t, &MatchConfig::default()).unwrap();
    assert_eq!(res.pieces.len(), 1);
    let p = &res.pieces[0];
    assert_eq!(ids(&net, &p.roads), vec![100, 101, 102, 103]);
    assert_eq!(p.entry_times[0], t.points[0].time);
    assert!(p.entry_times.windows(2).all(|w| w[0] <= w[1]), "{:?}", p.entry_times);
    // road 101 starts at x = 150, between the points at x = 140 (k = 3) and x = 180 (k = 4)
    assert!(p.entry_times[1] >= t.points[3].time && p.entry_times[1] <= t.points[4].time);
    assert_eq!(res.points_matched, t.points.len());
    assert!(res.point_matches().iter().any(|m| m.is_some_and(|m| !m.kept)));
    let trajs = res.to_trajectories(&net, &t);
    assert_eq!(trajs.len(), 1);
    trajs[0].validate().unwrap();
    assert_eq!(trajs[0].id.as_deref(), Some("t"));
    assert_eq!(trajs[0].roads, vec![100, 101, 102, 103]);
}

#[test]
fn going_back_on_a_one_way_road_goes_around_the_block() {
    // a one-way ring 100 m x 90 m; the second fix is 55 m behind the first on road 100
    let net = toy(&[[0.0, 0.0], [100.0, 0.0], [100.0, 90.0], [0.0, 90.0]], &[(0, 1), (1, 2), (2, 3), (3, 0)]);
    let index = RoadIndex::new(&net);
    let t = track(&[[80.0, 0.5], [25.0, -0.5]]);
    // the 325 m loop is more than the default 2 x 55 m + 200 m allows
    let cfg = MatchConfig { max_route_factor: 3.0, ..MatchConfig::default() };
    let res = match_track(&net, &index, &t, &cfg).unwrap();
    assert_eq!(res.pieces.len(), 1);
    assert_eq!(ids(&net, &res.pieces[0].roads), vec![100, 101, 102, 103, 100]);
    let times = &res.pieces[0].entry_times;
    assert!(times.windows(2).all(|w| w[0] <= w[1]) && times[0] == 1000 && times[4] <= 1015, "{times:?}");
    // a small step back is noise: the car stays where it is
    let t = track(&[[80.0, 0.5], [74.0, -0.5], [50.0, 90.5]]);
    let res = match_track(&net, &index, &t, &MatchConfig { min_point_distance_m: 0.0, ..MatchConfig::default() }).unwrap();
    assert_eq!(res.pieces.len(), 1);
    assert_eq!(ids(&net, &res.pieces[0].roads), vec![100, 101, 102]);
}

#[test]
fn many_tracks_in_parallel_keep_their_order() {
    let net = l_street();
    let index = RoadIndex::new(&net);
    let tracks: Vec<GpsTrack> = (0..40)
        .map(|k| {
            let mut t = track(&[[10.0 + k as f64, 1.0], [150.0, -1.0], [299.0, 100.0 + 5.0 * k as f64]]);
            t.id = format!("t{k}");
            t
        })
        .collect();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let last = std::sync::atomic::AtomicUsize::new(0);
    let progress = |n: usize| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        last.fetch_max(n, std::sync::atomic::Ordering::Relaxed);
    };
    let cfg = MatchConfig::default();
    let par = match_tracks(&net, &index, &tracks, &cfg, Some(&progress)).unwrap();
    let seq: Vec<_> = tracks.iter().map(|t| match_track(&net, &index, t, &cfg).unwrap()).collect();
    assert_eq!(par, seq);
    assert_eq!(calls.into_inner(), 40);
    assert_eq!(last.into_inner(), 40);
    let report = urbancast_roads::matching::MatchReport::new(&net, &par, 0.0);
    assert_eq!((report.trips, report.trips_connected, report.points_matched), (40, 40, 120));
    assert!((report.share_points_matched - 1.0).abs() < 1e-12);
}
