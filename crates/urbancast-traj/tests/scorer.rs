//! [`HoserScorer`] on a tiny random-init model over a toy grid: cached decoding through the
//! scorer equals the full (teacher-forced) forward pass, batched beam search equals one request
//! at a time, generated routes round-trip through HOSER CSV; OD sampling and OD CSV reading.
use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::activation::log_softmax;
use urbancast_roads::io::{read_hoser_csv, write_hoser_csv};
use urbancast_roads::zones::{partition_zones, zone_transition_matrix};
use urbancast_roads::{RoadNetwork, RoadSpec, Trajectory, UTurns};
use urbancast_traj::data::{BatchTensors, GraphTensors, MAX_CANDIDATES, RoadContext, Sample, TimeNorm, TrajBatch, candidates};
use urbancast_traj::generate::{BeamConfig, Query, StepScorer, Token, beam_search, to_trajectory};
use urbancast_traj::model::{Hoser, HoserConfig};
use urbancast_traj::od::{OdSource, random_walk_ods, read_od_csv, sample_ods, to_requests};
use urbancast_traj::scorer::HoserScorer;

/// 2024-01-06 00:00:00 UTC, a Saturday.
const SAT: i64 = 1_704_499_200;
const NORM: TimeNorm = TimeNorm { mean: 3.0, std: 0.8 };

/// n×n junctions 0.001° apart, two-way streets; road id = 100·a + b from junction a to b.
fn grid(n: u64) -> RoadNetwork {
    let pos = |j: u64| [10.0 + 0.001 * (j % n) as f64, 45.0 + 0.001 * (j / n) as f64];
    let mut specs = Vec::new();
    for j in 0..n * n {
        let nb: Vec<u64> = [(j % n + 1 < n).then_some(j + 1), (j / n + 1 < n).then_some(j + n)].into_iter().flatten().collect();
        for k in nb {
            for (a, b) in [(j, k), (k, j)] {
                let mut s = RoadSpec::new(100 * a + b, vec![pos(a), pos(b)]);
                s.start_node = Some(a);
                s.end_node = Some(b);
                specs.push(s);
            }
        }
    }
    RoadNetwork::from_junctions("grid", specs, UTurns::OnlyIfDeadEnd).unwrap()
}

fn through(net: &RoadNetwork, nodes: &[u64]) -> Vec<u32> {
    nodes.windows(2).map(|w| net.index_of(100 * w[0] + w[1]).unwrap() as u32).collect()
}

fn trip(net: &RoadNetwork, id: &str, nodes: &[u64], t0: i64, gaps: &[i64]) -> Trajectory {
    let roads: Vec<u64> = through(net, nodes).iter().map(|&r| net.road(r as usize).id).collect();
    let times = (0..roads.len()).scan(t0, |t, k| Some(std::mem::replace(t, *t + gaps[k % gaps.len()]))).collect();
    Trajectory::new(Some(id.into()), None, roads, times).unwrap()
}

struct Setup {
    net: RoadNetwork,
    ctx: RoadContext,
    trips: Vec<Trajectory>,
}

fn setup() -> Setup {
    let net = grid(5);
    let trips = vec![
        trip(&net, "a", &[0, 1, 2, 7, 12, 13, 18, 23, 24], SAT - 150, &[40, 95, 7]),
        trip(&net, "b", &[20, 15, 16, 11, 6, 1], SAT + 3 * 86_400 + 30_000, &[25, 61]),
        trip(&net, "c", &[4, 9, 8, 13, 12, 17, 22], SAT + 40_000, &[33]),
    ];
    let zones = partition_zones(&net, 3, 7).unwrap();
    let tr = zone_transition_matrix(&zones, &net, &trips).unwrap();
    let ctx = RoadContext::new(&net, &zones, &tr).unwrap();
    Setup { net, ctx, trips }
}

fn tiny(ctx: &RoadContext, device: &Device, seed: u64) -> Hoser {
    let cfg = HoserConfig {
        road_id_dim: 8,
        len_dim: 4,
        class_dim: 4,
        lon_dim: 4,
        lat_dim: 4,
        gat_heads: 2,
        fusion_hidden: 8,
        nav_dim: 16,
        time_hidden: 8,
        ..HoserConfig::new(ctx.num_roads, ctx.num_classes, ctx.num_zones)
    };
    cfg.init_seeded(device, seed)
}

fn sample_of(net: &RoadNetwork, t: &Trajectory) -> Sample {
    Sample { id: t.id.clone(), roads: net.indices_of(&t.roads).unwrap().iter().map(|&r| r as u32).collect(), times: t.times.clone() }
}

#[test]
fn cached_scores_equal_the_full_forward_pass() {
    let s = setup();
    let d = Device::flex();
    let model = tiny(&s.ctx, &d, 11);
    let samples: Vec<Sample> = s.trips[..2].iter().map(|t| sample_of(&s.net, t)).collect();
    // Full forward on both routes as one padded batch.
    let batch = TrajBatch::build(&s.net, &s.ctx, &samples.iter().collect::<Vec<_>>(), &NORM);
    let (l, k) = (batch.l, batch.k);
    let bt = BatchTensors::new(&batch, &d);
    let g = GraphTensors::new(&s.ctx, &d);
    let emb = model.encode_graph((&g).into());
    let out = model.forward(&emb, &(&bt).into(), &(&bt).into());
    let full_lp: Vec<f32> = log_softmax(out.logits, 2).into_data().iter::<f32>().collect();
    let full_t: Vec<f32> = out.time.into_data().iter::<f32>().collect();

    // Cached decoding: both routes in one state whose rows swap places at every step (so the
    // reorder of the cache and of the start times is exercised); the shorter one drops out.
    let scorer = HoserScorer::new(&s.net, &model, &s.ctx, NORM, &d).unwrap();
    let tok = |i: usize, t: usize| Token { road: samples[i].roads[t] as usize, time: samples[i].times[t] };
    let mut order: Vec<usize> = vec![0, 1];
    let mut state = scorer.begin(&[tok(0, 0), tok(1, 0)]);
    let mut checked = 0;
    for t in 0..l {
        let cands: Vec<Vec<u32>> =
            order.iter().map(|&i| candidates(&s.net, samples[i].roads[t] as usize, samples[i].dest(), MAX_CANDIDATES)).collect();
        let queries: Vec<Query<'_>> = order
            .iter()
            .zip(&cands)
            .enumerate()
            .map(|(row, (&i, c))| Query { row, current: tok(i, t).road, dest: samples[i].dest(), time: tok(i, t).time, candidates: c })
            .collect();
        let scores = scorer.score(&state, &queries);
        for (&i, (sc, c)) in order.iter().zip(scores.iter().zip(&cands)) {
            assert_eq!(sc.len(), c.len());
            for (j, &(lp, secs)) in sc.iter().enumerate() {
                let p = (i * l + t) * k + j;
                assert!((lp - full_lp[p]).abs() < 1e-4, "route {i} step {t} cand {j}: cached {lp} vs full {}", full_lp[p]);
                let want = NORM.denormalize(full_t[p] as f64) as f32;
                assert!((secs - want).abs() <= 1e-3 * want.max(1.0), "route {i} step {t} cand {j}: {secs} s vs {want} s");
                checked += 1;
            }
            let total: f64 = sc.iter().map(|x| (x.0 as f64).exp()).sum();
            assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
        }
        // Next rows: reversed order, only routes with another step.
        let next: Vec<usize> = order.iter().rev().copied().filter(|&i| t + 1 < samples[i].steps()).collect();
        if next.is_empty() {
            break;
        }
        let parents: Vec<usize> = next.iter().map(|i| order.iter().position(|o| o == i).unwrap()).collect();
        let tokens: Vec<Token> = next.iter().map(|&i| tok(i, t + 1)).collect();
        state = scorer.advance(state, &parents, &tokens);
        order = next;
    }
    let want: usize = (0..2)
        .map(|i| {
            (0..samples[i].steps())
                .map(|t| batch.cand_mask[(i * l + t) * k..(i * l + t + 1) * k].iter().filter(|&&m| m).count())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(checked, want);
}

#[test]
fn an_autodiff_model_scores_like_the_plain_one() {
    let s = setup();
    let d = Device::flex();
    let plain = tiny(&s.ctx, &d, 5);
    let ad = plain.clone().to_device(&d.clone().autodiff());
    let a = HoserScorer::new(&s.net, &plain, &s.ctx, NORM, &d).unwrap();
    let b = HoserScorer::new(&s.net, &ad, &s.ctx, NORM, &d.clone().autodiff()).unwrap();
    assert!(!b.device().is_autodiff() && !b.emb().road.device().is_autodiff());
    let sm = sample_of(&s.net, &s.trips[2]);
    let c = candidates(&s.net, sm.origin(), sm.dest(), MAX_CANDIDATES);
    let q = [Query { row: 0, current: sm.origin(), dest: sm.dest(), time: sm.times[0], candidates: &c }];
    let t0 = [Token { road: sm.origin(), time: sm.times[0] }];
    let (x, y) = (a.score(&a.begin(&t0), &q), b.score(&b.begin(&t0), &q));
    for (p, r) in x[0].iter().zip(&y[0]) {
        assert!((p.0 - r.0).abs() < 1e-5 && (p.1 - r.1).abs() < 1e-3, "{p:?} vs {r:?}");
    }
}

#[test]
fn batched_beam_search_equals_one_at_a_time_and_round_trips_csv() {
    let s = setup();
    let d = Device::flex();
    let model = tiny(&s.ctx, &d, 3);
    let scorer = HoserScorer::new(&s.net, &model, &s.ctx, NORM, &d).unwrap();
    let mut reqs = random_walk_ods(&s.net, 10, 3, 12, SAT, 9);
    reqs.push(urbancast_traj::generate::OdRequest { origin: reqs[0].origin, dest: reqs[0].origin, start_time: SAT });
    let cfg = BeamConfig { width: 3, max_len: 30, ..BeamConfig::default() };
    let all = beam_search(&s.net, &scorer, &reqs, &cfg);
    assert_eq!(all.len(), reqs.len());
    for (r, g) in reqs.iter().zip(&all) {
        let one = beam_search(&s.net, &scorer, std::slice::from_ref(r), &cfg);
        assert_eq!((&one[0].roads, &one[0].times, one[0].reached), (&g.roads, &g.times, g.reached), "request {r:?}");
        assert!((one[0].logp - g.logp).abs() < 1e-4);
        assert_eq!(g.roads[0], r.origin);
        assert_eq!(g.times[0], r.start_time);
        assert!(g.times.windows(2).all(|w| w[0] <= w[1]));
        assert!(g.roads.windows(2).all(|w| s.net.successors(w[0]).contains(&(w[1] as u32))));
    }
    let reached = all.iter().filter(|g| g.reached).count();
    eprintln!("reached {reached}/{}", all.len());
    assert!(all[10].reached && all[10].roads == [reqs[10].origin], "origin = destination: the origin alone");
    let trajs: Vec<Trajectory> = all.iter().enumerate().map(|(i, g)| to_trajectory(&s.net, g, format!("gen-{i}"))).collect();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gen.csv");
    write_hoser_csv(&p, &trajs).unwrap();
    assert_eq!(read_hoser_csv(&p).unwrap(), trajs);
}

#[test]
fn ods_are_sampled_from_trajectories_with_their_start_times() {
    let s = setup();
    let mut trips = s.trips.clone();
    trips.push(Trajectory::new(Some("one".into()), None, vec![trips[0].roads[0]], vec![SAT]).unwrap());
    let ods = sample_ods(&trips, 200, 4).unwrap();
    assert_eq!(ods, sample_ods(&trips, 200, 4).unwrap());
    assert_ne!(ods, sample_ods(&trips, 200, 5).unwrap());
    let mut seen = [0usize; 4];
    for o in &ods {
        let OdSource::Trajectory(i) = o.source else { panic!("source {:?}", o.source) };
        seen[i] += 1;
        assert_eq!((o.origin, o.dest, o.start_time), (trips[i].origin(), trips[i].destination(), trips[i].times[0]));
    }
    assert_eq!(seen[3], 0, "a one-road trajectory is not an OD");
    assert!(seen[..3].iter().all(|&c| c > 40), "uniform with replacement: {seen:?}");
    let reqs = to_requests(&s.net, &ods).unwrap();
    assert_eq!(s.net.road(reqs[0].origin).id, ods[0].origin);
    assert!(sample_ods(&trips[3..], 5, 0).is_err());
}

#[test]
fn od_csv_is_read_by_header_with_row_numbered_errors() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let ok = w("ok.csv", "start_time,destination_id,origin_id,note\n1704499200,1213,001,x\n\n\"2024-01-06T08:00:00Z\",2324,1,y\n");
    let ods = read_od_csv(&ok).unwrap();
    assert_eq!(ods.len(), 2);
    assert_eq!((ods[0].origin, ods[0].dest, ods[0].start_time, ods[0].source), (1, 1213, SAT, OdSource::CsvRow(1)));
    assert_eq!((ods[1].dest, ods[1].start_time, ods[1].source), (2324, SAT + 8 * 3600, OdSource::CsvRow(2)));
    assert!(to_requests(&s.net, &ods).is_ok());
    let unknown = read_od_csv(w("u.csv", "origin_id,destination_id,start_time\n1,2324,0\n1,999,0\n")).unwrap();
    let e = format!("{:#}", to_requests(&s.net, &unknown).unwrap_err());
    assert!(e.contains("row 2") && e.contains("999") && e.contains("destination"), "{e}");
    let e = format!("{:#}", read_od_csv(w("h.csv", "origin,destination_id,start_time\n1,2,3\n")).unwrap_err());
    assert!(e.contains("origin_id"), "{e}");
    let e = format!("{:#}", read_od_csv(w("t.csv", "origin_id,destination_id,start_time\n1,2,3\n1,2,yesterday\n")).unwrap_err());
    assert!(e.contains("row 2") && e.contains("yesterday"), "{e}");
    let e = format!("{:#}", read_od_csv(w("f.csv", "origin_id,destination_id,start_time\n1,2\n")).unwrap_err());
    assert!(e.contains("row 1") && e.contains("2 fields"), "{e}");
    let e = format!("{:#}", read_od_csv(w("n.csv", "origin_id,destination_id,start_time\n-4,2,0\n")).unwrap_err());
    assert!(e.contains("row 1") && e.contains("-4"), "{e}");
    assert!(read_od_csv(dir.path().join("missing.csv")).is_err());
}
