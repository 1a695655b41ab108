//! Trajectory metrics against hand computations on tiny networks of straight two-point roads
//! (the centroid of such a road is the midpoint of its ends).
use std::collections::HashSet;
use std::f64::consts::{LN_2, PI};

use urbancast_eval::traj_metrics::global::{Histogram, jsd, normalise, radius_of_gyration_km, trip_distance_km};
use urbancast_eval::traj_metrics::local::{dtw_km, edr_normalised, hausdorff_km, pair_scores};
use urbancast_eval::traj_metrics::od::{OdGrid, degree_cell, od_match_rate, pair_by_od};
use urbancast_eval::traj_metrics::{EvalConfig, Evaluation, evaluate, evaluate_split, evaluate_split_by, histograms, write_report};
use urbancast_roads::{LonLat, RoadNetwork, RoadSpec, Trajectory};

/// Mean Earth radius (km) of `urbancast_roads::geo`, and one degree of a great circle.
const R_KM: f64 = 6371.0088;
const DEG_KM: f64 = R_KM * PI / 180.0;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn net(roads: &[(u64, LonLat, LonLat)]) -> RoadNetwork {
    RoadNetwork::new("t", roads.iter().map(|&(id, a, b)| RoadSpec::new(id, vec![a, b])).collect(), &[]).unwrap()
}

fn traj(id: &str, roads: &[u64]) -> Trajectory {
    let times = (0..roads.len() as i64).map(|k| k * 60).collect();
    Trajectory { id: Some(id.into()), driver: None, roads: roads.to_vec(), times }
}

/// Five roads near 60° N (one degree of longitude ≈ half a degree of latitude). Centroids:
/// 1 [10.0015, 60.0005], 2 [10.0055, 60.0015], 3 [10.0125, 60.0035], 4 [10.0185, 60.0005],
/// 5 [10.0115, 60.0034]. Box: lon 10.0–10.02, lat 60.0–60.004 (middle 60.002).
fn city() -> RoadNetwork {
    net(&[
        (1, [10.0, 60.0], [10.003, 60.001]),
        (2, [10.004, 60.001], [10.007, 60.002]),
        (3, [10.011, 60.003], [10.014, 60.004]),
        (4, [10.017, 60.0], [10.02, 60.001]),
        (5, [10.011, 60.0032], [10.012, 60.0036]),
    ])
}

#[test]
fn jsd_identical_disjoint_and_hand_case() {
    let p = normalise(&[3, 1, 0, 2], 1e-14);
    assert_eq!(jsd(&p, &p), 0.0);
    let (a, b) = (normalise(&[3, 0], 1e-14), normalise(&[0, 5], 1e-14));
    assert!(close(jsd(&a, &b), LN_2, 1e-12), "{}", jsd(&a, &b));
    // P = (1/2, 1/2), Q = (1, 0), M = (3/4, 1/4):
    // KL(P‖M) = ½ ln(2/3) + ½ ln 2 = ½ ln(4/3), KL(Q‖M) = ln(4/3), JSD = ¾ ln(4/3).
    assert!(close(jsd(&[0.5, 0.5], &[1.0, 0.0]), 0.75 * (4.0f64 / 3.0).ln(), 1e-15));
    // Identical samples through the histogram.
    let h = Histogram::new("x", &[0.5, 1.0, 2.0], &[0.5, 1.0, 2.0], 99, 1e-14);
    assert_eq!(h.jsd, 0.0);
    // All generated values above the real maximum: disjoint.
    let h = Histogram::new("x", &[1.0, 2.0], &[5.0, 7.0], 99, 1e-14);
    assert_eq!(h.generated_counts[99], 2);
    assert!(close(h.jsd, LN_2, 1e-12));
}

#[test]
fn histogram_bins_by_hand() {
    // Real max 99: 99 bins of width 1 on [0, 99] plus the overflow bin (99, ∞).
    let h = Histogram::new("x", &[0.0, 99.0], &[0.5, 150.0, -1.0], 99, 1e-14);
    assert_eq!(h.edges.len(), 100);
    assert_eq!((h.edges[0], h.edges[1], h.edges[99]), (0.0, 1.0, 99.0));
    assert_eq!(h.real_counts.len(), 100);
    // 99 (the real maximum) is in the last regular bin, not in the overflow bin as numpy puts it.
    assert_eq!((h.real_counts[0], h.real_counts[98], h.real_counts[99]), (1, 1, 0));
    // 0.5 in bin 0, 150 overflows, -1 is in no bin.
    assert_eq!((h.generated_counts[0], h.generated_counts[99]), (1, 1));
    assert_eq!(h.generated_counts.iter().sum::<u64>(), 2);
    // P = ½ at bins 0 and 98, Q = ½ at bins 0 and 99: JSD = ½ ln 2.
    assert!(close(h.jsd, 0.5 * LN_2, 1e-12), "{}", h.jsd);
    assert!(close(h.real.iter().sum::<f64>(), 1.0, 1e-12));
    assert!(close(h.real_mean, 49.5, 1e-12) && close(h.generated_mean, 149.5 / 3.0, 1e-12));
}

#[test]
fn trip_distance_and_radius_by_hand() {
    // Centroids on the meridian lon 0 at lat 0, 0.01, 0.03.
    let n = net(&[(1, [0.0, -0.001], [0.0, 0.001]), (2, [0.0, 0.009], [0.0, 0.011]), (3, [0.0, 0.029], [0.0, 0.031])]);
    let pts: Vec<LonLat> = [1, 2, 3].iter().map(|&id| n.roads[n.index_of(id).unwrap()].centroid).collect();
    // Distance 0.03°; mean point lat 0.04/3, distances 0.04/3, 0.01/3, 0.05/3 (°), mean 1/90°.
    assert!(close(trip_distance_km(&pts), 0.03 * DEG_KM, 1e-9));
    assert!(close(radius_of_gyration_km(&pts), DEG_KM / 90.0, 1e-9));
    let t = vec![traj("a", &[1, 2, 3])];
    let m = evaluate(&n, &t, &t).unwrap();
    assert!(close(m.real_mean_distance_km, 3.335852, 1e-6), "{}", m.real_mean_distance_km);
    assert!(close(m.real_mean_radius_km, 1.235501, 1e-6), "{}", m.real_mean_radius_km);
    assert_eq!((m.jsd_distance, m.jsd_radius, m.jsd_duration), (0.0, 0.0, 0.0));
    assert_eq!((m.pairs, m.hausdorff_km, m.dtw_km, m.edr, m.od_match_rate), (1, 0.0, 0.0, 0.0, 1.0));
    assert_eq!(radius_of_gyration_km(&pts[..1]), 0.0);
}

#[test]
fn hausdorff_dtw_edr_on_a_meridian() {
    let p = |lat: f64| [0.0, lat];
    let u = 0.01 * DEG_KM; // 1.112 km between consecutive points 0.01° apart
    // a = (0, 0.01), b = (0, 0.01, 0.02): b's last point is u from a; DTW matches it to a's
    // last point (cost u); EDR needs one insertion: 1/3.
    let (a, b) = ([p(0.0), p(0.01)], [p(0.0), p(0.01), p(0.02)]);
    assert!(close(hausdorff_km(&a, &b), u, 1e-9));
    assert!(close(dtw_km(&a, &b), u, 1e-9));
    assert!(close(edr_normalised(&a, &b, 0.1), 1.0 / 3.0, 1e-15));
    // a = (0, 0.02), b = (0.01): both a points u from b. DTW 2u, Hausdorff u, EDR 2 edits / 2.
    let (a, b) = ([p(0.0), p(0.02)], [p(0.01)]);
    let s = pair_scores(&a, &b, 0.1);
    assert!(close(s.hausdorff_km, u, 1e-9) && close(s.dtw_km, 2.0 * u, 1e-9) && s.edr == 1.0, "{s:?}");
    // a = (0, 0.0005), b = (0.0003): 33 m and 22 m, both within 100 m. Hausdorff = 0.0003°,
    // DTW = 0.0005°, EDR = one deletion / 2.
    let (a, b) = ([p(0.0), p(0.0005)], [p(0.0003)]);
    let s = pair_scores(&a, &b, 0.1);
    assert!(close(s.hausdorff_km, 0.0003 * DEG_KM, 1e-9) && close(s.dtw_km, 0.0005 * DEG_KM, 1e-9) && s.edr == 0.5, "{s:?}");
    // DTW picks the cheapest warping: a = (0, 0.01, 0.02), b = (0, 0.02): cost u (middle point).
    assert!(close(dtw_km(&[p(0.0), p(0.01), p(0.02)], &[p(0.0), p(0.02)]), u, 1e-9));
    assert!(hausdorff_km(&[], &b).is_nan() && dtw_km(&a, &[]).is_nan());
}

#[test]
fn swapping_lat_and_lon_would_change_the_result() {
    // 1° of longitude at 60° N: 2R·asin(cos 60° · sin 0.5°) ≈ 55.6 km; read as latitude it
    // would be 111.2 km.
    let (a, b) = ([10.0, 60.0], [11.0, 60.0]);
    let expect = 2.0 * R_KM * (0.5 * 0.5f64.to_radians().sin()).asin();
    assert!(close(expect, 55.6, 0.01) && (expect - DEG_KM).abs() > 50.0);
    assert!(close(hausdorff_km(&[a], &[b]), expect, 1e-9));
    assert!(close(dtw_km(&[a], &[b]), expect, 1e-9));
    // Through the whole pipeline: two roads 0.0015° of longitude apart at 60.0005° N, in the
    // same 200 m cell: 83.4 m, a match for EDR (100 m). HOSER's swapped EDR measured 0.0015° as
    // latitude (167 m): no match, EDR 1.
    let n = net(&[(1, [10.0, 60.0], [10.001, 60.001]), (2, [10.0015, 60.0], [10.0025, 60.001])]);
    let phi = 60.0005f64.to_radians();
    let d = 2.0 * R_KM * (phi.cos() * (0.0015f64.to_radians() / 2.0).sin()).asin();
    assert!(close(d, 0.08339, 1e-5), "{d}");
    let m = evaluate(&n, &[traj("r", &[1])], &[traj("g", &[2])]).unwrap();
    assert_eq!((m.pairs, m.edr), (1, 0.0));
    assert!(close(m.hausdorff_km, d, 1e-12) && close(m.dtw_km, d, 1e-12));
}

#[test]
fn od_grid_cells_by_hand() {
    let n = city();
    let g = OdGrid::new(&n, 0.2);
    assert_eq!(g.corner, [10.0, 60.0]);
    // Δlat = 0.2 km / 111.195 km per degree; Δlon = Δlat / cos(60.002°) (to 1e-14 here).
    let dlat = 0.2 / DEG_KM;
    assert!(close(g.cell_deg[1], dlat, 1e-15));
    assert!(close(g.cell_deg[0], dlat / 60.002f64.to_radians().cos(), 1e-12), "{:?}", g.cell_deg);
    assert!(close(g.cell_deg[0], 0.0035975, 1e-7) && close(g.cell_deg[1], 0.0017986, 1e-7));
    let c = |id: u64| g.cell(n.roads[n.index_of(id).unwrap()].centroid);
    // Road 2 [10.0055, 60.0015]: x = floor(0.0055 / 0.0035975) = 1 (swapped cell sizes: 3),
    // y = floor(0.0015 / 0.0017986) = 0.
    assert_eq!([c(1), c(2), c(3), c(4), c(5)], [(0, 0), (1, 0), (3, 1), (5, 0), (3, 1)]);
    assert_eq!(degree_cell([10.0055, 60.0015], 0.001), (10005, 60001));
}

#[test]
fn od_pairing_and_match_rate_by_hand() {
    let n = city();
    // Keys: K1 = ((0,0), (3,1)) for roads 1 → 3 and 1 → 5 (3 and 5 share a 200 m cell).
    let real = vec![traj("r0", &[1, 3]), traj("r1", &[2, 4]), traj("r2", &[1, 2, 3])];
    let gen_ = vec![traj("g0", &[1, 5]), traj("g1", &[1, 4, 3]), traj("g2", &[1, 2, 3]), traj("g3", &[4, 1])];
    let e = Evaluation::new(&n, &real, &gen_, EvalConfig::default()).unwrap();
    // K1: real r0, r2; generated g0, g1, g2 → (r0, g0), (r2, g1). r1 and g3 have no partner.
    assert_eq!(e.pairs(&e.all_real(), &e.all_generated()), vec![(0, 0), (2, 1)]);
    let m = e.all();
    assert_eq!((m.pairs, m.matched_od_cells, m.n_real, m.n_generated), (2, 1, 3, 4));
    // 0.001° cells: real ODs (1→3), (2→4), (1→3); g1 and g2 end on road 3 (match), g0 on road 5
    // (another 0.001° cell than road 3), g3 is reversed: 2 of 4.
    assert_eq!(m.od_match_rate, 0.5);
    // Mean length: (2 + 2 + 3 + 2 + 3 + 3 + 2) / 7 roads.
    assert!(close(m.mean_len, 17.0 / 7.0, 1e-15));
    assert!(close(m.hausdorff_norm, m.hausdorff_km / m.mean_len, 1e-15));
    // Pair (r0, g0): points 1, 3 vs 1, 5; 5 is 0.001° lon and 0.0001° lat from 3.
    let c = |id: u64| n.roads[n.index_of(id).unwrap()].centroid;
    let s0 = pair_scores(&[c(1), c(3)], &[c(1), c(5)], 0.1);
    let s1 = pair_scores(&[c(1), c(2), c(3)], &[c(1), c(4), c(3)], 0.1);
    assert!(close(m.dtw_km, 0.5 * (s0.dtw_km + s1.dtw_km), 1e-12));
    assert!(close(m.edr, 0.5 * (s0.edr + s1.edr), 1e-12));
    // Road 5 is 0.001° of lon (55.6 m) and 0.0001° of lat (11.1 m) from road 3: one match.
    assert_eq!(s0.edr, 0.0);
    // The bare functions.
    let k = |a: i64, b: i64| ((a, 0), (b, 0));
    assert_eq!(pair_by_od(&[k(1, 2), k(1, 2), k(3, 4)], &[k(3, 4), k(1, 2), k(3, 4), k(5, 6)]), vec![(2, 0), (0, 1)]);
    let (p, q) = ([10.0005, 60.0005], [10.0105, 60.0005]);
    assert_eq!(od_match_rate(&[(p, q)], &[(p, q), (q, p), ([10.0009, 60.0001], q)], 0.001), 2.0 / 3.0);
    assert!(od_match_rate(&[(p, q)], &[], 0.001).is_nan());
}

#[test]
fn durations_are_pooled_over_steps() {
    let n = city();
    let mut r0 = traj("r0", &[1, 2, 3]);
    r0.times = vec![0, 60, 180]; // steps 1 and 2 min
    let mut r1 = traj("r1", &[2, 4]);
    r1.times = vec![1000, 1300]; // 5 min
    let mut g0 = traj("g0", &[1, 3]);
    g0.times = vec![0, 120]; // 2 min
    let h = histograms(&n, &[r0.clone(), r1.clone()], &[g0.clone()]).unwrap();
    let d = &h.duration;
    // Real max 5 → width 5/99: 1 min in bin 19, 2 min in bin 39, 5 min in bin 98.
    assert_eq!((d.real_counts[19], d.real_counts[39], d.real_counts[98], d.real_counts.iter().sum::<u64>()), (1, 1, 1, 3));
    assert_eq!(d.generated_counts[39], 1);
    // P = ⅓ on bins 19, 39, 98; Q = 1 on bin 39; M = (⅙, ⅔, ⅙):
    // KL(P‖M) = ⅓ ln 2 + ⅓ ln ½ + ⅓ ln 2 = ⅓ ln 2, KL(Q‖M) = ln 1.5 → JSD = ⅙ ln 2 + ½ ln 1.5.
    assert!(close(d.jsd, LN_2 / 6.0 + 0.5 * 1.5f64.ln(), 1e-12), "{}", d.jsd);
    let m = evaluate(&n, &[r0, r1], &[g0]).unwrap();
    assert!(close(m.real_mean_step_min, 8.0 / 3.0, 1e-12) && m.generated_mean_step_min == 2.0);
    assert_eq!(m.jsd_duration, d.jsd);
}

#[test]
fn unknown_road_ids_and_bad_trajectories_are_named() {
    let n = city();
    let real = vec![traj("r0", &[1, 3])];
    let e = evaluate(&n, &real, &[traj("ok", &[1]), traj("g7", &[1, 99])]).unwrap_err().to_string();
    assert!(e.contains("generated trajectory #1 (id `g7`)") && e.contains("position 1") && e.contains("unknown road id 99"), "{e}");
    let mut t = traj("r9", &[1, 2]);
    t.times.pop();
    let e = evaluate(&n, &[t], &real).unwrap_err().to_string();
    assert!(e.contains("real trajectory #0 (id `r9`) has 2 roads but 1 timestamps"), "{e}");
    let empty = Trajectory { id: None, driver: None, roads: vec![], times: vec![] };
    assert!(evaluate(&n, &real, &[empty]).unwrap_err().to_string().contains("generated trajectory #0 has no roads"));
}

#[test]
fn split_by_training_od_and_report_files() {
    let n = city();
    let real = vec![traj("r0", &[1, 3]), traj("r1", &[2, 4]), traj("r2", &[1, 2, 3])];
    let gen_ = vec![traj("g0", &[1, 5]), traj("g1", &[1, 4, 3]), traj("g2", &[1, 2, 3]), traj("g3", &[4, 1])];
    let train: HashSet<(u64, u64)> = [(1, 3)].into();
    let s = evaluate_split(&n, &real, &gen_, &train).unwrap();
    assert_eq!(s.all, evaluate(&n, &real, &gen_).unwrap());
    // Train: real r0, r2 and generated g1, g2 (all K1) → 2 pairs; test: r1 vs g0, g3 → none.
    assert_eq!((s.train_od.n_real, s.train_od.n_generated, s.train_od.pairs), (2, 2, 2));
    assert_eq!((s.test_od.n_real, s.test_od.n_generated, s.test_od.pairs), (1, 2, 0));
    assert!(s.test_od.hausdorff_km.is_nan() && s.train_od.od_match_rate == 1.0);
    // No generated trajectory in a subset: no JSD (not the JSD against a uniform histogram).
    let none: HashSet<(u64, u64)> = [(2, 4)].into();
    let s3 = evaluate_split(&n, &real, &gen_, &none).unwrap();
    assert_eq!((s3.train_od.n_real, s3.train_od.n_generated), (1, 0));
    assert!(s3.train_od.jsd_distance.is_nan() && s3.train_od.od_match_rate.is_nan());
    // Intended ODs: g0 was meant to go 1 → 3 (it is a training OD even though it stopped at 5).
    let intended = [(1, 3), (1, 3), (1, 3), (4, 1)];
    let s2 = evaluate_split_by(&n, &real, &gen_, Some(&intended), |o, d| train.contains(&(o, d)), EvalConfig::default()).unwrap();
    assert_eq!((s2.train_od.n_generated, s2.train_od.pairs, s2.test_od.n_generated), (3, 2, 1));
    assert!(evaluate_split_by(&n, &real, &gen_, Some(&intended[..2]), |_, _| true, EvalConfig::default()).is_err());

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eval");
    write_report(&out, &s, &histograms(&n, &real, &gen_).unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(json["train_od"]["pairs"], 2);
    assert!(json["test_od"]["hausdorff_km"].is_null());
    assert_eq!(json["histograms"]["distance"]["edges"].as_array().unwrap().len(), 100);
    let md = std::fs::read_to_string(out.join("metrics.md")).unwrap();
    assert!(md.starts_with("| metric | all | train OD | test OD |") && md.contains("| OD pairs compared (200 m) | 2 | 2 | 0 |"), "{md}");
    let png = std::fs::read(out.join("histograms.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn eval_config_is_checked() {
    EvalConfig::default().validate().unwrap();
    let d = EvalConfig::default();
    for (c, want) in [
        (EvalConfig { bins: 0, ..d }, "bins must be at least 1 (got 0)"),
        (EvalConfig { smoothing: -1.0, ..d }, "smoothing must be at least 0 (got -1)"),
        (EvalConfig { od_cell_km: 0.0, ..d }, "od_cell_km must be greater than 0 (got 0)"),
        (EvalConfig { edr_eps_km: f64::NAN, ..d }, "edr_eps_km must be a finite number at least 0 (got NaN)"),
        (EvalConfig { match_cell_deg: 0.0, ..d }, "match_cell_deg must be greater than 0 (got 0)"),
    ] {
        assert_eq!(c.validate().unwrap_err().to_string(), want);
    }
    let (n, real, gen_): (_, Vec<Trajectory>, Vec<Trajectory>) = (city(), vec![], vec![]);
    let e = Evaluation::new(&n, &real, &gen_, EvalConfig { bins: 0, ..d }).err().unwrap().to_string();
    assert_eq!(e, "bins must be at least 1 (got 0)");
}
