//! Sensor-graph readers (real files in `../shared/data` when present, small written files
//! otherwise), the protocol arithmetic, z-scoring and the synthetic graph.
use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3, Axis, s};
use ndarray_npy::NpzWriter;
use urbancast_data::graph::*;
use urbancast_data::{Channel, City, DataError, Layout};

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

fn write_npz(path: &Path, key: &str, a: &Array3<f64>) {
    let mut w = NpzWriter::new(std::fs::File::create(path).unwrap());
    w.add_array(key, a).unwrap();
    w.finish().unwrap();
}

fn symmetric(a: &Array2<f32>) -> bool {
    a == a.t()
}

#[test]
fn real_shenzhen_taxi() {
    let Some(root) = shared() else { return };
    let g = read_sz_taxi(&root.join("sensors/shenzhen-taxi-speed")).unwrap();
    assert_eq!(g.series.dim(), (2976, 156, 1));
    // The file is stored in Fortran order: values checked against a direct read of the bytes.
    assert!((g.series[[0, 1, 0]] - 18.455_41).abs() < 1e-4);
    assert!((g.series[[5, 0, 0]] - 58.289_127).abs() < 1e-4);
    // 114 949 true zeros plus the 15 values of floating-point residue (< 1e-6 km/h).
    assert_eq!(g.series.iter().filter(|&&v| v == 0.0).count(), 114_949 + 15);
    assert!(g.series.iter().all(|&v| v == 0.0 || v >= 1e-6));
    assert_eq!((g.name.as_str(), g.interval_min, g.features.clone()), ("sz-taxi", 15, vec!["speed".to_string()]));
    assert_eq!(g.adjacency.dim(), (156, 156));
    // The T-GCN file is kept as is: 0/1, zero diagonal, and not quite symmetric (2 one-way pairs).
    let one_way = g.adjacency.iter().zip(g.adjacency.t().iter()).filter(|(a, b)| a != b).count();
    assert_eq!((one_way, g.adjacency.diag().sum()), (4, 0.0));
    assert!(g.adjacency.iter().all(|&w| w == 0.0 || w == 1.0));
    assert!(g.zero_is_missing);
    // 2015-01-01 was a Thursday; 4 days later (step 384) is Monday 00:00.
    assert_eq!((g.day_of_week(0), g.time_of_day(0)), (3, 0));
    assert_eq!((g.day_of_week(384), g.time_of_day(384)), (0, 0));
    assert_eq!((g.day_of_week(96 + 37), g.time_of_day(96 + 37)), (4, 37));
    assert_eq!(read_graph_auto(&root.join("sensors/shenzhen-taxi-speed")).unwrap().series, g.series);
}

#[test]
fn real_la_loop() {
    let Some(root) = shared() else { return };
    let g = read_los_loop(&root.join("sensors/la-loop-speed")).unwrap();
    assert_eq!(g.series.dim(), (2016, 207, 1));
    assert_eq!(g.adjacency.dim(), (207, 207));
    assert!(symmetric(&g.adjacency) && g.adjacency.diag().iter().all(|&w| w == 1.0));
    assert_eq!((g.name.as_str(), g.interval_min, g.start_minute_of_week), ("la-loop", 5, None));
    let ids = g.node_ids.as_ref().unwrap();
    assert_eq!((ids.len(), ids[0].as_str()), (207, "773869"));
    assert!(g.zero_is_missing);
    // Unknown start counts as Monday 00:00.
    assert_eq!((g.day_of_week(288 + 13), g.time_of_day(288 + 13)), (1, 13));
    assert_eq!(read_graph_auto(&root.join("sensors/la-loop-speed")).unwrap().name, "la-loop");
}

#[test]
fn real_nyc69_graph() {
    let Some(root) = shared() else { return };
    let dir = root.join("zones/nyc-manhattan-69");
    let g = read_nyc69_graph(&dir, "taxi").unwrap();
    assert_eq!(g.series.dim(), (17544, 69, 2));
    assert_eq!(g.features, ["inflow", "outflow"]);
    assert_eq!((g.name.as_str(), g.interval_min, g.zero_is_missing), ("nyc69-taxi", 60, false));
    assert_eq!(g.adjacency.dim(), (69, 69));
    assert!(symmetric(&g.adjacency));
    let city = urbancast_data::readers::read_nyc69(&dir, "taxi").unwrap();
    let inflow = city.channels.iter().position(|c| *c == Channel::Dropoff).unwrap();
    assert_eq!(g.series.index_axis(Axis(2), 0), city.flow.index_axis(Axis(2), inflow));
    // 2019-01-01 was a Tuesday; step 6 * 24 is Monday 00:00.
    assert_eq!((g.day_of_week(0), g.time_of_day(5)), (1, 5));
    assert_eq!((g.day_of_week(144), g.time_of_day(144)), (0, 0));
    assert_eq!(read_graph_auto(&dir).unwrap().name, "nyc69-taxi");
}

#[test]
fn pems_index_and_id_variants() {
    let dir = tempfile::tempdir().unwrap();
    let a = Array3::from_shape_fn((30, 4, 3), |(t, n, f)| (t * 12 + n * 3 + f) as f64);
    let npz = dir.path().join("PEMS04.npz");
    write_npz(&npz, "data", &a);
    let csv = dir.path().join("PEMS04.csv");
    std::fs::write(&csv, "from,to,cost\n0,1,100\n1,2,200\n2,3,300\n").unwrap();
    let g = read_pems(&npz, &csv, AdjacencyKind::Binary, None).unwrap();
    assert_eq!((g.name.as_str(), g.interval_min, g.series.dim()), ("pems04", 5, (30, 4, 3)));
    assert_eq!(g.features, ["flow", "occupancy", "speed"]);
    assert_eq!(g.series[(7, 2, 1)], (7 * 12 + 2 * 3 + 1) as f32);
    let bin = Array2::from_shape_vec((4, 4), vec![0., 1., 0., 0., 1., 0., 1., 0., 0., 1., 0., 1., 0., 0., 1., 0.]).unwrap();
    assert_eq!(g.adjacency, bin);
    let d = read_pems(&npz, &csv, AdjacencyKind::Distance, None).unwrap().adjacency;
    assert_eq!((d[(1, 0)], d[(2, 3)], d[(0, 3)]), (100.0, 300.0, 0.0));
    // Gaussian by hand: finite distances are 4 zeros (diagonal) and 100, 100, 200, 200, 300, 300:
    // mean 120, variance 13600.
    let gk = read_pems(&npz, &csv, AdjacencyKind::Gaussian { threshold: 0.1 }, None).unwrap().adjacency;
    let w = |d: f32| (-(d / 13600f32.sqrt()).powi(2)).exp();
    assert!((gk[(0, 1)] - w(100.0)).abs() < 1e-6 && (gk[(1, 0)] - 0.479_364_45).abs() < 1e-6, "{gk:?}");
    // w(200) = 0.053 and w(300) = 0.0013 fall below 0.1; the diagonal (distance 0) is 1.
    assert_eq!((gk[(2, 1)], gk[(2, 3)], gk[(0, 3)], gk[(2, 2)]), (0.0, 0.0, 0.0, 1.0));
    let gk = read_pems(&npz, &csv, AdjacencyKind::Gaussian { threshold: 0.01 }, None).unwrap().adjacency;
    assert!((gk[(2, 1)] - w(200.0)).abs() < 1e-6 && gk[(2, 3)] == 0.0, "{gk:?}");
    // Sensor ids (PEMS03 style), also through read_graph_auto's sibling `<stem>.txt`.
    let ids = dir.path().join("PEMS04.txt");
    std::fs::write(&ids, "400\n401\n402\n403\n").unwrap();
    std::fs::write(&csv, "from,to,cost\n401,400,1\n402,401,1\n403,402,1\n").unwrap();
    let g2 = read_graph_auto(&npz).unwrap();
    assert_eq!(g2.adjacency, bin);
    assert_eq!(g2.node_ids.unwrap()[3], "403");
    std::fs::write(&csv, "from,to,cost\n401,400,1\n999,401,1\n").unwrap();
    let e = read_pems(&npz, &csv, AdjacencyKind::Binary, Some(&ids)).unwrap_err();
    assert!(matches!(e, DataError::Row { row: 3, .. }), "{e}");
    assert!(e.to_string().contains("999"), "{e}");
    std::fs::write(&csv, "0,1,5\n0,4,5\n").unwrap();
    let e = read_pems(&npz, &csv, AdjacencyKind::Binary, None).unwrap_err();
    assert!(matches!(e, DataError::Row { row: 2, .. }), "{e}");
}

#[test]
fn reader_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_sz_taxi(dir.path()).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }) && e.to_string().contains("SZ_taxi.npz"), "{e}");
    let mut a = Array3::<f64>::from_elem((5, 3, 1), 30.0);
    a[(2, 1, 0)] = f64::NAN;
    write_npz(&dir.path().join("SZ_taxi.npz"), "data", &a);
    std::fs::write(dir.path().join("sz_adj.csv"), "0,1\n1,0\n").unwrap();
    match read_sz_taxi(dir.path()).unwrap_err() {
        DataError::BadValue { index, .. } => assert_eq!(index, [2, 1, 0]),
        e => panic!("{e}"),
    }
    a[(2, 1, 0)] = 30.0;
    write_npz(&dir.path().join("SZ_taxi.npz"), "data", &a);
    let e = read_sz_taxi(dir.path()).unwrap_err();
    assert!(matches!(e, DataError::Row { .. }) && e.to_string().contains("sz_adj.csv"), "{e}");
    write_npz(&dir.path().join("SZ_taxi.npz"), "data", &Array3::zeros((0, 3, 1)));
    assert!(matches!(read_sz_taxi(dir.path()).unwrap_err(), DataError::Shape { .. }));
    std::fs::write(dir.path().join("los_speed.csv"), "1,2,3\n").unwrap();
    let e = read_los_loop(dir.path()).unwrap_err();
    assert!(e.to_string().contains("empty series"), "{e}");
    std::fs::write(dir.path().join("los_speed.csv"), "1,2,3\n4,5,6\n7,8\n").unwrap();
    assert!(matches!(read_los_loop(dir.path()).unwrap_err(), DataError::Row { row: 3, .. }));
    let e = read_graph_auto(&dir.path().join("nothing")).unwrap_err().to_string();
    assert!(e.contains("accepted"), "{e}");
    let e = SensorGraph::new("x", 7, Array3::zeros((2, 2, 1)), vec!["v".into()], Array2::zeros((2, 2))).unwrap_err();
    assert!(e.to_string().contains("1440"), "{e}");
}

fn tiny(zero_is_missing: bool) -> SensorGraph {
    let series = Array3::from_shape_fn((20, 2, 2), |(t, n, f)| (t + 10 * n + 100 * f) as f32);
    let g = SensorGraph::new("tiny", 60, series, vec!["a".into(), "b".into()], Array2::eye(2)).unwrap();
    g.with_start_minute_of_week(6 * 1440 + 22 * 60).with_zero_is_missing(zero_is_missing)
}

#[test]
fn split_and_window_arithmetic() {
    let p = GraphProtocol { input_len: 2, horizon: 1, ..GraphProtocol::default() };
    let g = tiny(false);
    let d = prepare_graph(&g, &p).unwrap();
    // T = 20: val = test = floor(20 * 0.2) = 4 steps, train = 12; windows need 3 steps.
    assert_eq!((d.train.clone(), d.val.clone(), d.test.clone()), (0..10, 12..14, 16..18));
    assert_eq!((d.num_nodes(), d.channels(), d.features.clone()), (2, 1, vec!["a".to_string()]));
    let (x, y) = d.window(13);
    assert_eq!((x.dim(), y.dim()), ((2, 2, 1), (1, 2, 1)));
    assert_eq!(y[(0, 1, 0)], 25.0); // step 15, node 1
    assert!((x[(1, 0, 0)] - (14.0 - d.scaler.mean[0]) / d.scaler.std[0]).abs() < 1e-6);
    // Sunday 22:00 start: step 2 is Monday 00:00.
    assert_eq!((d.dow[0], d.tod[0], d.dow[2], d.tod[2], d.steps_per_day), (6, 22, 0, 0, 24));
    let p7 = GraphProtocol { input_len: 1, ..p.clone() }.with_split("70/10/20").unwrap();
    let d7 = prepare_graph(&g, &p7).unwrap(); // blocks 14 / 2 / 4 steps, windows of 2
    assert_eq!((d7.train, d7.val, d7.test), (0..13, 14..15, 16..19));
    assert!(GraphProtocol::default().with_split("70/10").is_err());
    assert!(GraphProtocol::default().with_split("70/20/20").is_err());
    let e = prepare_graph(&g, &GraphProtocol { input_len: 3, horizon: 3, ..p.clone() }).unwrap_err();
    assert!(e.to_string().contains("needs input_len + horizon = 6"), "{e}");
    let e = prepare_graph(&g, &GraphProtocol { targets: vec![2], ..p }).unwrap_err();
    assert!(e.to_string().contains("target feature 2"), "{e}");
}

#[test]
fn zscore_uses_training_steps_only() {
    let mut g = tiny(true);
    g.series[(0, 0, 1)] = 0.0; // a missing reading inside the training block
    let p = GraphProtocol { input_len: 2, horizon: 1, targets: vec![1, 0], ..GraphProtocol::default() };
    let d = prepare_graph(&g, &p).unwrap();
    // Channel b (target 0) over steps 0..12, node 0: 101..=111 (the 0 skipped), node 1: 110..=121.
    let vals: Vec<f64> = (1..12).map(|t| 100.0 + t as f64).chain((0..12).map(|t| 110.0 + t as f64)).collect();
    let m = vals.iter().sum::<f64>() / vals.len() as f64;
    let sd = (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / vals.len() as f64).sqrt();
    assert!((d.scaler.mean[0] as f64 - m).abs() < 1e-4 && (d.scaler.std[0] as f64 - sd).abs() < 1e-4);
    // Channel a (target 1): 0..=11 and 10..=21 -> mean 10.5 (the zero at step 0 of node 0 is missing too).
    let a: Vec<f64> = (1..12).chain(10..22).map(|v| v as f64).collect();
    assert!((d.scaler.mean[1] as f64 - a.iter().sum::<f64>() / a.len() as f64).abs() < 1e-4);
    let mask = d.truth_mask(0); // truths at step 2
    assert_eq!(mask.sum(), 4.0);
    let mut x = d.raw.clone();
    d.scaler.transform(&mut x).unwrap();
    assert_eq!(x, d.norm);
    d.scaler.inverse(&mut x).unwrap();
    assert!(x.iter().zip(d.raw.iter()).all(|(a, b)| (a - b).abs() <= 1e-5 * b.abs().max(1.0)));
    assert!(d.scaler.transform(&mut Array3::<f32>::zeros((2, 2, 3))).is_err());
    let flat = SensorGraph::new("flat", 60, Array3::from_elem((20, 2, 1), 5.0), vec!["v".into()], Array2::zeros((2, 2)));
    let e = prepare_graph(&flat.unwrap(), &p.clone()).unwrap_err();
    assert!(e.to_string().contains("target feature"), "{e}");
    let flat = SensorGraph::new("flat", 60, Array3::from_elem((20, 2, 1), 5.0), vec!["v".into()], Array2::zeros((2, 2)));
    let e = prepare_graph(&flat.unwrap(), &GraphProtocol { targets: vec![0], ..p }).unwrap_err();
    assert!(e.to_string().contains("standard deviation is 0"), "{e}");
    let mask = prepare_graph(&g, &GraphProtocol { input_len: 1, horizon: 1, ..GraphProtocol::default() }).unwrap();
    assert_eq!(mask.truth_mask(0)[(0, 0, 0)], 1.0);
    let full = ZScore::fit(g.series.slice(s![..12, .., ..]), true).unwrap();
    assert_eq!(full.mean.len(), 2);
}

#[test]
fn synthetic_is_seeded_and_grids_convert() {
    let cfg = SyntheticGraphConfig::default();
    let a = synthetic_sensor_graph(&cfg).unwrap();
    assert_eq!(a.series.dim(), (14 * 96, 40, 1));
    assert!(a.series.iter().all(|&v| v > 0.0) && symmetric(&a.adjacency));
    assert!(a.adjacency.iter().filter(|&&w| w > 0.0).count() >= 40 * 4);
    assert_eq!((a.coords.as_ref().unwrap().len(), a.start_minute_of_week), (40, Some(0)));
    let b = synthetic_sensor_graph(&cfg).unwrap();
    assert_eq!((&a.series, &a.adjacency), (&b.series, &b.adjacency));
    let c = synthetic_sensor_graph(&SyntheticGraphConfig { seed: 1, ..cfg }).unwrap();
    assert_ne!(a.series, c.series);
    let city = City::new("g", 30, Array3::ones((4, 6, 2)), vec![Channel::Pickup, Channel::Dropoff], Layout::Grid { height: 2, width: 3 })
        .unwrap()
        .with_start_hour_of_week(25);
    let g = SensorGraph::from_city(&city).unwrap();
    assert_eq!(g.features, ["pickup", "dropoff"]);
    assert_eq!(g.adjacency.sum_axis(Axis(1)).to_vec(), [2.0, 3.0, 2.0, 2.0, 3.0, 2.0]);
    assert_eq!((g.start_minute_of_week, g.day_of_week(0), g.time_of_day(1)), (Some(1500), 1, 3));
}

#[test]
fn stgfsl_city_folder_round_trip_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("metr-la");
    std::fs::create_dir(&city).unwrap();
    let series = Array3::<f64>::from_shape_fn((20, 3, 2), |(t, n, c)| (t * 100 + n * 10 + c) as f64);
    let adj = ndarray::arr2(&[[1.0f32, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.0]]);
    ndarray_npy::write_npy(city.join("dataset.npy"), &series).unwrap();
    ndarray_npy::write_npy(city.join("matrix.npy"), &adj).unwrap();
    let g = read_stgfsl(&city, STGFSL_INTERVAL_MIN).unwrap();
    assert_eq!((g.name.as_str(), g.interval_min, g.series.dim()), ("metr-la", 5, (20, 3, 2)));
    assert_eq!(g.series[[7, 2, 1]], 721.0);
    assert_eq!(g.features, ["feature0", "feature1"]);
    assert_eq!(g.adjacency, adj);
    assert!(g.zero_is_missing);
    assert_eq!(read_graph_auto(&city).unwrap().series, g.series);
    // A 4-node matrix for 3 nodes, a negative weight, a NaN reading, a missing file.
    ndarray_npy::write_npy(city.join("matrix.npy"), &Array2::<f32>::eye(4)).unwrap();
    let e = read_stgfsl(&city, 5).unwrap_err().to_string();
    assert!(e.contains("matrix.npy") && e.contains("3 nodes"), "{e}");
    let mut neg = adj.clone();
    neg[[0, 2]] = -1.0;
    ndarray_npy::write_npy(city.join("matrix.npy"), &neg).unwrap();
    let e = read_stgfsl(&city, 5).unwrap_err().to_string();
    assert!(e.contains("(0, 2)"), "{e}");
    ndarray_npy::write_npy(city.join("matrix.npy"), &adj).unwrap();
    let mut nan = series.clone();
    nan[[4, 1, 0]] = f64::NAN;
    ndarray_npy::write_npy(city.join("dataset.npy"), &nan).unwrap();
    let e = read_stgfsl(&city, 5).unwrap_err().to_string();
    assert!(e.contains("dataset.npy") && e.contains("[4, 1, 0]"), "{e}");
    std::fs::remove_file(city.join("matrix.npy")).unwrap();
    let e = read_stgfsl(&city, 5).unwrap_err().to_string();
    assert!(e.contains("matrix.npy") && e.contains("missing"), "{e}");
}

/// 10 days of hourly steps on 3 nodes, value = step index (feature 0) and 2·step (feature 1).
fn ramp_graph() -> SensorGraph {
    let series = Array3::<f32>::from_shape_fn((240, 3, 2), |(t, _, f)| (t * (f + 1)) as f32);
    SensorGraph::new("ramp", 60, series, vec!["speed".into(), "x".into()], Array2::eye(3)).unwrap()
}

#[test]
fn graph_transfer_protocol_windows_and_scaling_by_hand() {
    let g = ramp_graph();
    let p = GraphTransferProtocol::default();
    let t = prepare_target(&g, &p, 3).unwrap();
    // Window 12 + 6 = 18 steps; 3 days = 72 steps -> starts 0..=54; the validation day 72..96 ->
    // 72..=78; the test block starts at int(0.8 * 240) = 192 -> 192..=222.
    assert_eq!((t.train.first(), t.train.last(), t.train.len()), (Some(&0), Some(&54), 55));
    assert_eq!(t.val, (72..=78).collect::<Vec<_>>());
    assert_eq!((t.test[0], *t.test.last().unwrap(), t.test.len()), (192, 222, 31));
    // Whole-series z-score of 0..239: mean 119.5, population std sqrt((240² - 1) / 12).
    let std = ((240.0f64 * 240.0 - 1.0) / 12.0).sqrt();
    assert!((t.mean - 119.5).abs() < 1e-4 && (f64::from(t.std) - std).abs() < 1e-3);
    assert!((f64::from(t.input[[0, 1, 0]]) - (-119.5 / std)).abs() < 1e-5);
    assert!((f64::from(t.input[[0, 1, 1]]) - (-119.5 / std)).abs() < 1e-5, "each feature on its own scale");
    // The time of day is the third input feature: step 30 is 06:00 = 0.25 of the day.
    assert_eq!(t.in_channels(), 3);
    assert_eq!(t.input[[30, 2, 2]], 0.25);
    assert_eq!(t.raw[[100, 1]], 100.0);
    // Fitted on the training days instead: 0..71 -> mean 35.5.
    let q = GraphTransferProtocol { scaling: GraphScaling::TrainingSteps, time_of_day: false, val_days: 0, ..p.clone() };
    let t2 = prepare_target(&g, &q, 3).unwrap();
    assert!((t2.mean - 35.5).abs() < 1e-4 && t2.in_channels() == 2);
    assert_eq!(t2.val, t2.train, "no validation days: select on the training windows");
    // A source: all 223 windows, the last 10 % (22) held out.
    let s = prepare_source(&g, &p).unwrap();
    assert_eq!((s.train.len(), s.val.len(), s.val[0]), (201, 22, 201));
    assert!(s.test.is_empty());
    // Errors name the problem.
    let e = prepare_target(&g, &p, 8).unwrap_err().to_string();
    assert!(e.contains("test block") && e.contains("192"), "{e}");
    let e = prepare_target(&g, &p, 0).unwrap_err().to_string();
    assert!(e.contains("at least 1 target day"), "{e}");
    let bad = GraphTransferProtocol { test_frac: 1.0, ..p.clone() };
    let e = prepare_target(&g, &bad, 3).unwrap_err().to_string();
    assert!(e.contains("protocol.test_frac"), "{e}");
}

#[test]
fn resampling_a_speed_graph_averages_observed_values() {
    // 5-minute speeds on 2 nodes for 7 steps; node 1 has a missing reading (0) at step 1.
    let series =
        Array3::<f32>::from_shape_vec((7, 2, 1), vec![10., 20., 20., 0., 30., 40., 60., 50., 70., 60., 80., 70., 90., 80.]).unwrap();
    let g = SensorGraph::new("s", 5, series, vec!["speed".into()], Array2::eye(2)).unwrap().with_zero_is_missing(true);
    let r = g.resample_mean(15).unwrap();
    // Bins {0,1,2} and {3,4,5}; step 6 does not fill a bin and is dropped.
    assert_eq!(r.series.dim(), (2, 2, 1));
    assert_eq!((r.series[[0, 0, 0]], r.series[[0, 1, 0]]), (20.0, 30.0), "node 1 averages 20 and 40, skipping the 0");
    assert_eq!((r.series[[1, 0, 0]], r.series[[1, 1, 0]]), (70.0, 60.0));
    assert_eq!(r.interval_min, 15);
    let e = g.resample_mean(7).unwrap_err().to_string();
    assert!(e.contains("cannot resample from 5 to 7"), "{e}");
}
