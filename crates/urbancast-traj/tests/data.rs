//! The data side of the generator on toy networks: candidates and their features, the road
//! and zone graphs, trajectory preparation, batches and their tensors.
use std::collections::{HashMap, HashSet};

use burn::tensor::Device;
use urbancast_roads::zones::{partition_zones, zone_transition_matrix};
use urbancast_roads::{RoadNetwork, RoadSpec, Trajectory, UTurns};
use urbancast_traj::data::*;

fn spec(id: u64, a: u64, b: u64, pa: [f64; 2], pb: [f64; 2]) -> RoadSpec {
    let mut s = RoadSpec::new(id, vec![pa, pb]);
    s.start_node = Some(a);
    s.end_node = Some(b);
    s
}

/// n×n junctions 0.001° apart near (10°E, 45°N), two-way streets; road id = 100·a + b for
/// the road from junction a to junction b.
fn grid(n: u64) -> RoadNetwork {
    let pos = |j: u64| [10.0 + 0.001 * (j % n) as f64, 45.0 + 0.001 * (j / n) as f64];
    let mut specs = Vec::new();
    for j in 0..n * n {
        let mut nb = Vec::new();
        if j % n + 1 < n {
            nb.push(j + 1);
        }
        if j / n + 1 < n {
            nb.push(j + n);
        }
        for k in nb {
            specs.push(spec(100 * j + k, j, k, pos(j), pos(k)));
            specs.push(spec(100 * k + j, k, j, pos(k), pos(j)));
        }
    }
    RoadNetwork::from_junctions("grid", specs, UTurns::OnlyIfDeadEnd).unwrap()
}

/// `m` spokes around junction 0 at 30°N; spoke j has `in` road id 1000 + j (end → centre)
/// and `out` road id 2000 + j (centre → end).
fn star(m: u64) -> RoadNetwork {
    let c = [20.0, 30.0];
    let end = |j: u64| {
        let a = std::f64::consts::TAU * j as f64 / m as f64;
        [c[0] + 0.001 * a.sin(), c[1] + 0.001 * a.cos()]
    };
    let specs = (0..m).flat_map(|j| [spec(1000 + j, j + 1, 0, end(j), c), spec(2000 + j, 0, j + 1, c, end(j))]).collect();
    RoadNetwork::from_junctions("star", specs, UTurns::OnlyIfDeadEnd).unwrap()
}

fn ix(net: &RoadNetwork, id: u64) -> usize {
    net.index_of(id).unwrap()
}

/// Trajectory through grid junctions; entry times every `dt` seconds from `t0`.
fn grid_traj(id: &str, nodes: &[u64], t0: i64, dt: i64) -> Trajectory {
    let roads: Vec<u64> = nodes.windows(2).map(|w| 100 * w[0] + w[1]).collect();
    // alternating gaps dt, 2dt, dt, ...
    let times = (0..roads.len() as i64).scan(t0, |t, k| Some(std::mem::replace(t, *t + dt * (1 + k % 2)))).collect();
    Trajectory::new(Some(id.into()), None, roads, times).unwrap()
}

const SAT_2024_01_06: i64 = 1_704_499_200;

fn grid_setup() -> (RoadNetwork, Vec<Trajectory>, RoadContext) {
    let net = grid(4);
    let trajs = vec![
        grid_traj("a", &[0, 1, 2, 3, 7, 11], SAT_2024_01_06 + 8 * 3600, 30),
        grid_traj("b", &[15, 14, 10, 6], SAT_2024_01_06 - 3600, 20),
        grid_traj("c", &[4, 5, 6, 7, 11, 15, 14], SAT_2024_01_06 + 50_000, 45),
    ];
    let zones = partition_zones(&net, 3, 7).unwrap();
    let tr = zone_transition_matrix(&zones, &net, &trajs).unwrap();
    let ctx = RoadContext::new(&net, &zones, &tr).unwrap();
    (net, trajs, ctx)
}

#[test]
fn candidates_are_successors_below_the_cap() {
    let net = grid(4);
    let dest = ix(&net, 1415);
    for i in 0..net.len() {
        assert_eq!(candidates(&net, i, dest, MAX_CANDIDATES), net.successors(i).to_vec());
    }
}

#[test]
fn capping_keeps_the_nearest_to_the_destination() {
    let net = star(10);
    let cur = ix(&net, 1000);
    assert_eq!(net.successors(cur).len(), 9); // every out road but its U-turn
    let dest = ix(&net, 2002);
    let kept = candidates(&net, cur, dest, 3);
    let mut want: Vec<u32> = [2001, 2002, 2003].iter().map(|&id| ix(&net, id) as u32).collect();
    want.sort_unstable();
    assert_eq!(kept, want, "kept in successor order");
    let far = |c: u32| net.centroid_distance_m(c as usize, dest);
    let worst_kept = kept.iter().map(|&c| far(c)).fold(0.0, f64::max);
    for &c in net.successors(cur).iter().filter(|c| !kept.contains(c)) {
        assert!(far(c) >= worst_kept);
    }
    assert_eq!(candidates(&net, cur, dest, 3), kept, "deterministic");
}

/// Current road ends at `p`; candidates leave `p`; a north-bound destination road.
fn fan(p: [f64; 2], ends: &[[f64; 2]], dest: ([f64; 2], [f64; 2])) -> RoadNetwork {
    let mut specs = vec![RoadSpec::new(1, vec![[p[0], p[1] - 0.001], p]), RoadSpec::new(9, vec![dest.0, dest.1])];
    specs.extend(ends.iter().enumerate().map(|(k, &e)| RoadSpec::new(2 + k as u64, vec![p, e])));
    let rel: Vec<(u64, u64)> = (0..ends.len() as u64).map(|k| (1, 2 + k)).collect();
    RoadNetwork::new("fan", specs, &rel).unwrap()
}

#[test]
fn distance_feature_by_hand() {
    // On one meridian: candidate centroids at lat 0.0015 and 0.0025... measured to the
    // destination centroid at lat 0.0105; 0.001° of latitude is 111.19508 m.
    let net = fan([0.0, 0.001], &[[0.0, 0.002], [0.0, 0.004], [0.0, 0.0]], ([0.0, 0.01], [0.0, 0.011]));
    let (cur, dest) = (ix(&net, 1), ix(&net, 9));
    let cands = candidates(&net, cur, dest, MAX_CANDIDATES);
    let f = candidate_features(&net, cur, dest, &cands);
    let dist: Vec<f32> = f.iter().map(|x| x[0]).collect();
    // centroids: 0.0015, 0.0025, 0.0005 → nearest is the second (0.0025)
    assert_eq!(dist[1], 0.0);
    assert!((dist[0] - (1.0f32 + 111.19508 / 100.0).ln()).abs() < 1e-4, "{dist:?}");
    assert!((dist[2] - (1.0f32 + 2.0 * 111.19508 / 100.0).ln()).abs() < 1e-4, "{dist:?}");
    assert_eq!(dist.iter().copied().fold(f32::INFINITY, f32::min), 0.0);
}

#[test]
fn angle_feature_by_hand_at_high_latitude() {
    // At 60°N a degree of longitude is half a degree of latitude. From p = (10, 60):
    // (10.002, 60.001) is 111 m east and 111 m north (bearing 45°), (9.998, 60) is due
    // west, (10.004, 60.001) is 222 m east and 111 m north (bearing atan(2) = 63.43°);
    // the destination's end point (10, 60.01) is due north.
    let p = [10.0, 60.0];
    let ends = [[10.002, 60.001], [9.998, 60.0], [10.004, 60.001]];
    let net = fan(p, &ends, ([10.0, 60.005], [10.0, 60.01]));
    let (cur, dest) = (ix(&net, 1), ix(&net, 9));
    let f = candidate_features(&net, cur, dest, &candidates(&net, cur, dest, MAX_CANDIDATES));
    let want = [0.25, 0.5, 2.0f64.atan().to_degrees() / 180.0];
    for (got, w) in f.iter().zip(want) {
        assert!((got[1] as f64 - w).abs() < 2e-3, "{f:?} vs {want:?}");
    }
    // HOSER's dataset.py unpacks [lon, lat] into get_angle(lat, lon, ...): atan2(Δlon,
    // cos(lon)·Δlat). That would give 63.8° (0.354) for the first candidate, not 45°.
    let swapped = |e: [f64; 2]| (e[0] - p[0]).atan2(p[0].to_radians().cos() * (e[1] - p[1]));
    let sw = (swapped(ends[0]) - swapped([10.0, 60.01])).abs() / std::f64::consts::PI;
    assert!((sw - 0.25).abs() > 0.1 && (f[0][1] as f64 - sw).abs() > 0.1, "swap must matter here: {sw}");
}

#[test]
fn road_graph_is_symmetric_with_reachable_flags() {
    let (net, _, ctx) = grid_setup();
    let edges: HashMap<(i64, i64), [f32; 2]> =
        ctx.edge_src.iter().zip(&ctx.edge_dst).zip(&ctx.edge_feat).map(|((&s, &d), &f)| ((s, d), f)).collect();
    assert_eq!(edges.len(), ctx.num_edges(), "no duplicate edges");
    for (&(s, d), f) in &edges {
        assert_ne!(s, d, "no self loops");
        assert!(edges.contains_key(&(d, s)), "symmetric");
        let reach = net.successors(s as usize).contains(&(d as u32));
        assert_eq!(f[1], if reach { 1.0 } else { 0.0 });
        assert!((0.0..=1.0).contains(&f[0]));
    }
    for (i, succ) in net.successors.iter().enumerate() {
        for &j in succ {
            assert!(edges.contains_key(&(i as i64, j as i64)), "every successor pair is an edge");
        }
    }
    let e = |a: u64, b: u64| edges[&(ix(&net, a) as i64, ix(&net, b) as i64)];
    assert!(e(1, 102)[0].abs() < 1e-6 && e(1, 102)[1] == 1.0); // straight on
    assert!(e(102, 1)[0].abs() < 1e-6 && e(102, 1)[1] == 0.0); // the same movement seen backwards
    assert!((e(1, 105)[0] - 0.5).abs() < 1e-3 && e(1, 105)[1] == 1.0); // left turn
    assert!((e(100, 1)[0] - 1.0).abs() < 1e-4 && e(100, 1)[1] == 0.0); // forbidden U-turn
    assert!((e(1, 4)[0] - 0.5).abs() < 1e-3 && e(1, 4)[1] == 0.0); // both leave junction 0
}

#[test]
fn zone_adjacency_by_hand() {
    // counts: 0→1: 4, 1→0: 1, 1→2: 9, and 5 inside zone 0 (ignored, as HOSER)
    let counts = [5.0, 4.0, 0.0, 1.0, 0.0, 9.0, 0.0, 0.0, 0.0];
    let a = gcn_zone_adjacency(&counts, 3);
    // out-degrees 4, 10, 0 → 1; w01 = 4/√40, w10 = 1/√40, w12 = 9/√10
    let (w01, w10, w12) = (4.0 / 40f64.sqrt(), 1.0 / 40f64.sqrt(), 9.0 / 10f64.sqrt());
    // row a receives from b: A[0][1] = w10, A[1][0] = w01, A[2][1] = w12; D = 1 + row sums
    let (d0, d1, d2) = (1.0 + w10, 1.0 + w01, 1.0 + w12);
    let want = [[1.0 / d0, w10 / (d0 * d1).sqrt(), 0.0], [w01 / (d1 * d0).sqrt(), 1.0 / d1, 0.0], [0.0, w12 / (d2 * d1).sqrt(), 1.0 / d2]];
    for r in 0..3 {
        for c in 0..3 {
            assert!((a[r * 3 + c] as f64 - want[r][c]).abs() < 1e-6, "[{r}][{c}] {a:?}");
        }
    }
    let row0: f64 = (0..3).map(|c| a[c] as f64).sum();
    assert!((row0 - (1.0 / d0 + w10 / (d0 * d1).sqrt())).abs() < 1e-6);
    assert_eq!(gcn_zone_adjacency(&[0.0; 4], 2), vec![1.0, 0.0, 0.0, 1.0], "no trips: self loops only");

    let (net, trajs, ctx) = grid_setup();
    let zones = partition_zones(&net, 3, 7).unwrap();
    let tr = zone_transition_matrix(&zones, &net, &trajs).unwrap();
    assert_eq!(ctx.zone_adj, gcn_zone_adjacency(&tr.counts, 3));
    assert_eq!(ctx.num_zones, 3);
}

#[test]
fn context_features_and_saved_stats() {
    let (net, trajs, ctx) = grid_setup();
    assert_eq!((ctx.num_roads, ctx.num_classes), (48, 1));
    let mean = ctx.lon_z.iter().sum::<f32>() / 48.0;
    let var = ctx.lon_z.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 48.0;
    assert!(mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3);
    // half the roads run east (78.6 m at 45°N), half north (111.2 m): z = ∓1
    assert!(ctx.len_z.iter().all(|x| (x.abs() - 1.0).abs() < 1e-2), "{:?}", ctx.len_z);
    let json = serde_json::to_string(&ctx.stats).unwrap();
    let stats: RoadStats = serde_json::from_str(&json).unwrap();
    let zones = partition_zones(&net, 3, 7).unwrap();
    let tr = zone_transition_matrix(&zones, &net, &trajs).unwrap();
    let again = RoadContext::with_stats(&net, &zones, &tr, &stats).unwrap();
    assert_eq!((again.lat_z, again.len_z, again.edge_src), (ctx.lat_z.clone(), ctx.len_z.clone(), ctx.edge_src.clone()));
    let other = grid(3);
    let z3 = partition_zones(&other, 3, 7).unwrap();
    let t3 = zone_transition_matrix(&z3, &other, &[]).unwrap();
    assert!(RoadContext::with_stats(&other, &z3, &t3, &stats).is_err());
}

#[test]
fn prepare_drops_splits_and_reports() {
    let (net, mut trajs, ctx) = grid_setup();
    trajs.push(Trajectory::new(Some("short".into()), None, vec![1], vec![0]).unwrap());
    // repeat of road 0→1, then a jump 1→2 ... 5→6 (broken), then 6→7
    trajs.push(Trajectory::new(Some("broken".into()), None, vec![1, 1, 102, 506, 607], vec![0, 5, 10, 20, 30]).unwrap());
    let (samples, rep) = prepare(&net, &ctx, &trajs).unwrap();
    assert_eq!((rep.input, rep.too_short, rep.collapsed_repeats, rep.broken_transitions), (5, 1, 1, 1));
    assert_eq!((rep.samples, rep.broken_trajectories, rep.capped_steps), (5, 1, 0));
    let pieces: Vec<_> = samples.iter().filter(|s| s.id.as_deref().unwrap().starts_with("broken#")).collect();
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces[0].roads, vec![ix(&net, 1) as u32, ix(&net, 102) as u32]);
    assert_eq!(pieces[0].times, vec![0, 10]);
    assert_eq!(rep.steps, samples.iter().map(Sample::steps).sum::<usize>());
    let (kept, rep) = prepare_with(&net, &ctx, &trajs, BrokenPolicy::Drop).unwrap();
    assert_eq!((kept.len(), rep.samples), (3, 3));
    trajs.push(Trajectory::new(Some("ghost".into()), None, vec![1, 77_777], vec![0, 1]).unwrap());
    let err = format!("{:#}", prepare(&net, &ctx, &trajs).unwrap_err());
    assert!(err.contains("ghost") && err.contains("77777") && err.contains("position 1"), "{err}");
}

#[test]
fn time_helpers_and_norm_round_trip() {
    assert!(is_weekend(SAT_2024_01_06) && is_weekend(SAT_2024_01_06 + 86_399 + 86_400));
    assert!(!is_weekend(SAT_2024_01_06 - 1) && !is_weekend(SAT_2024_01_06 + 2 * 86_400));
    assert_eq!(minute_of_day(SAT_2024_01_06 + 8 * 3600 + 30 * 60 + 30), 510.5);
    let s = |times: Vec<i64>| Sample { id: None, roads: vec![0; times.len()], times };
    let norm = TimeNorm::fit(&[s(vec![0, 9]), s(vec![0, 99, 99])]);
    let xs = [10f64.ln(), 100f64.ln(), 0.0];
    let mean = xs.iter().sum::<f64>() / 3.0;
    let std = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    assert!((norm.mean - mean).abs() < 1e-12 && (norm.std - std).abs() < 1e-12);
    for dt in [0.0, 1.0, 37.0, 1234.0] {
        assert!((norm.denormalize(norm.normalize(dt) as f64) - dt).abs() < 1e-3 * (1.0 + dt));
    }
}

#[test]
fn batch_targets_padding_and_tensors() {
    let (net, trajs, ctx) = grid_setup();
    let (samples, _) = prepare(&net, &ctx, &trajs).unwrap();
    let norm = TimeNorm::fit(&samples);
    let refs: Vec<&Sample> = samples.iter().collect();
    let b = TrajBatch::build(&net, &ctx, &refs, &norm);
    assert_eq!((b.b, b.l, b.k), (3, 5, 3)); // longest has 6 roads; grid junctions have ≤ 3 ways on
    assert_eq!(b, TrajBatch::build(&net, &ctx, &refs, &norm), "deterministic");
    for (i, s) in samples.iter().enumerate() {
        assert_eq!(b.dest_road[i], s.dest() as i64);
        assert_eq!(b.dest_zone[i], ctx.zone_of[s.dest()]);
        for t in 0..b.l {
            let p = i * b.l + t;
            assert_eq!(b.valid[p], t < s.steps());
            if t >= s.steps() {
                assert_eq!((b.roads[p], b.target[p], b.dt_secs[p]), (0, -1, 0.0));
                assert!(b.cand_mask[p * b.k..(p + 1) * b.k].iter().all(|&m| !m));
                continue;
            }
            let j = b.target[p] as usize;
            assert!(b.cand_mask[p * b.k + j]);
            assert_eq!(b.cand[p * b.k + j], s.roads[t + 1] as i64, "target points at the true next road");
            assert_eq!(b.roads[p], s.roads[t] as i64);
            let dt = (s.times[t + 1] - s.times[t]) as f64;
            assert_eq!(b.dt_secs[p], dt as f32);
            assert!((norm.denormalize(b.time_target[p] as f64) - dt).abs() < 1e-3 * (1.0 + dt));
            assert_eq!(b.secs[p], (s.times[t] - s.times[0]) as f32);
            assert_eq!(b.lonlat[2 * p] as f64, ctx.centroids[s.roads[t] as usize][0] as f32 as f64);
            assert_eq!(b.weekend[p], if is_weekend(s.times[t]) { 1.0 } else { 0.0 });
        }
    }
    assert_eq!(b.weekend[0], 1.0); // trajectory a starts on Saturday morning
    assert_eq!(b.weekend[b.l], 0.0); // trajectory b starts Friday 23:00
    assert_eq!((b.num_valid(), b.num_targets(), b.capped_targets), (11, 11, 0));

    let device = Device::flex();
    let bt = BatchTensors::new(&b, &device);
    assert_eq!(bt.roads.dims(), [3, 5]);
    assert_eq!(bt.lonlat.dims(), [3, 5, 2]);
    assert_eq!(bt.valid.dims(), [3, 5]);
    assert_eq!((bt.dest_road.dims(), bt.dest_zone.dims()), ([3], [3]));
    assert_eq!((bt.cand.dims(), bt.cand_mask.dims()), ([3, 5, 3], [3, 5, 3]));
    assert_eq!(bt.cand_feat.dims(), [3, 5, 3, 2]);
    assert_eq!((bt.target.dims(), bt.time_target.dims(), bt.dt_secs.dims()), ([3, 5], [3, 5], [3, 5]));
    let tgt: Vec<i64> = bt.target.into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
    assert_eq!(tgt, b.target);
    let g = GraphTensors::new(&ctx, &device);
    let (r, e) = (ctx.num_roads, ctx.num_edges());
    assert_eq!((g.road_class.dims(), g.len_z.dims(), g.lon_z.dims(), g.lat_z.dims()), ([r], [r, 1], [r, 1], [r, 1]));
    assert_eq!((g.edge_src.dims(), g.edge_dst.dims(), g.edge_feat.dims()), ([e], [e], [e, 2]));
    assert_eq!((g.zone_of.dims(), g.zone_adj.dims()), ([r], [3, 3]));
}

#[test]
fn capped_away_target_is_minus_one_and_counted() {
    let net = star(70); // 69 ways on from every in road
    let zones = partition_zones(&net, 2, 1).unwrap();
    let tr = zone_transition_matrix(&zones, &net, &[]).unwrap();
    let ctx = RoadContext::new(&net, &zones, &tr).unwrap();
    // in_0 → out_35 (opposite the destination out_0: capped away) → in_35 → out_0
    let t = Trajectory::new(None, None, vec![1000, 2035, 1035, 2000], vec![0, 10, 20, 30]).unwrap();
    let (samples, rep) = prepare(&net, &ctx, &[t]).unwrap();
    assert_eq!(rep.capped_steps, 1);
    let b = TrajBatch::build(&net, &ctx, &[&samples[0]], &TimeNorm::fit(&samples));
    assert_eq!((b.k, b.capped_targets), (MAX_CANDIDATES, 1));
    assert_eq!(&b.target[..], &[-1, 0, b.target[2]]);
    assert!(b.target[2] >= 0 && b.valid.iter().all(|&v| v));
}

#[test]
fn split_and_batcher_are_seeded() {
    let s = |n: usize| Sample { id: Some(n.to_string()), roads: vec![0; 2 + n % 17], times: vec![0; 2 + n % 17] };
    let samples: Vec<Sample> = (0..200).map(s).collect();
    let (tr, va, te) = split(samples.clone(), 0.1, 0.2, 3).unwrap();
    assert_eq!((tr.len(), va.len(), te.len()), (140, 20, 40));
    let ids = |v: &[Sample]| v.iter().map(|x| x.id.clone().unwrap()).collect::<HashSet<_>>();
    assert_eq!(ids(&tr).len() + ids(&va).len() + ids(&te).len(), ids(&samples).len());
    assert!(ids(&tr).is_disjoint(&ids(&va)) && ids(&va).is_disjoint(&ids(&te)));
    assert_eq!(split(samples.clone(), 0.1, 0.2, 3).unwrap().1, va);
    assert!(split(samples.clone(), 0.6, 0.5, 3).is_err());

    let batcher = Batcher::from_samples(&samples, 8, 11);
    let e0 = batcher.epoch(0);
    assert_eq!(e0.len(), batcher.num_batches());
    let mut all: Vec<usize> = e0.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..200).collect::<Vec<_>>());
    assert_eq!(e0, batcher.epoch(0));
    assert_ne!(e0, batcher.epoch(1));
    // 200 samples fit one bucket: every batch holds a run of the length-sorted order
    let spread: usize = e0
        .iter()
        .map(|b| b.iter().map(|&i| samples[i].steps()).max().unwrap() - b.iter().map(|&i| samples[i].steps()).min().unwrap())
        .sum();
    assert!(spread <= 16, "bucketing keeps batches of similar length ({spread})");
    assert_eq!(batcher.sequential().concat().len(), 200);
}
