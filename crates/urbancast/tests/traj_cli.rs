//! `urbancast traj` end to end on the built-in synthetic city (and on Porto when
//! ../shared/data is present), plus clear errors on bad input.
use std::path::{Path, PathBuf};

use urbancast_roads::io::{read_hoser_csv, write_hoser_csv};
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};

mod common;
use common::{fails_cleanly, json, ok, urbancast};

#[test]
fn synth_zones_match_and_eval_on_the_synthetic_city() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    let t = ok(&urbancast(&["traj", "network", "--json", "net.json"], w));
    assert!(t.contains("synthetic-city"), "{t}");
    let roads = json(&w.join("net.json"))["roads"].as_u64().unwrap();
    assert!(roads > 1000, "{roads}");

    // Demand: reproducible by seed.
    for name in ["a.csv", "b.csv"] {
        ok(&urbancast(&["traj", "synth", "--trips", "300", "--seed", "5", "--zones", "8", "--out", name], w));
    }
    let a = read_hoser_csv(w.join("a.csv")).unwrap();
    assert_eq!(a.len(), 300);
    assert_eq!(a, read_hoser_csv(w.join("b.csv")).unwrap());
    let s = json(&w.join("a.summary.json"));
    assert_eq!(s["summary"]["trips"], 300);
    ok(&urbancast(&["traj", "synth", "--trips", "300", "--seed", "6", "--zones", "8", "--out", "c.csv"], w));
    let c = read_hoser_csv(w.join("c.csv")).unwrap();
    assert_ne!(a, c);

    // Zones with the transition matrix of the trips.
    let t = ok(&urbancast(&["traj", "zones", "--k", "20", "--trajectories", "a.csv", "--out", "zones.json"], w));
    assert!(t.contains("20 zones"), "{t}");
    let z = json(&w.join("zones.json"));
    let sizes: Vec<u64> = z["sizes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(sizes.len(), 20);
    assert_eq!(sizes.iter().sum::<u64>(), roads);
    assert!(z["imbalance"].as_f64().unwrap() <= 1.1);
    assert!(z["transitions"]["total"].as_f64().unwrap() > 0.0);

    // Map matching: GPS fixes at the road centroids of 20 synthetic trips come back as roads.
    let net = synthetic_city(&SyntheticCityConfig { seed: 7, ..Default::default() }).unwrap();
    let mut gps = String::from("id,time,lat,lon\n");
    for (k, tr) in a.iter().take(20).enumerate() {
        for (&r, &time) in tr.roads.iter().zip(&tr.times) {
            let c = net.roads[net.index_of(r).unwrap()].centroid;
            gps.push_str(&format!("t{k},{time},{},{}\n", c[1], c[0]));
        }
    }
    std::fs::write(w.join("gps.csv"), gps).unwrap();
    let t = ok(&urbancast(&["traj", "match", "--gps", "gps.csv", "--out", "matched.csv"], w));
    let rep = json(&w.join("matched.report.json"));
    assert!(rep["report"]["share_points_matched"].as_f64().unwrap() > 0.95, "{t}");
    assert!(rep["report"]["share_trips_connected"].as_f64().unwrap() >= 0.8, "{t}");
    let matched = read_hoser_csv(w.join("matched.csv")).unwrap();
    assert!(!matched.is_empty());

    // Metrics: a file against itself is a perfect match; another seed is close but not equal.
    let t = ok(&urbancast(&["traj", "eval", "--real", "a.csv", "--generated", "a.csv", "--train", "a.csv", "--out", "e1"], w));
    assert!(t.contains("JSD trip distance"), "{t}");
    let m = json(&w.join("e1/metrics.json"));
    let train = &m["train_od"];
    assert_eq!(train["od_match_rate"].as_f64().unwrap(), 1.0, "{m}");
    assert!(train["jsd_distance"].as_f64().unwrap() < 1e-9);
    assert!(train["dtw_km"].as_f64().unwrap().abs() < 1e-9);
    assert!(w.join("e1/histograms.png").is_file() && w.join("e1/metrics.md").is_file());
    ok(&urbancast(&["traj", "eval", "--real", "a.csv", "--generated", "c.csv", "--out", "e2"], w));
    let m = json(&w.join("e2/metrics.json"));
    let jsd = m["all"]["jsd_distance"].as_f64().unwrap();
    assert!(jsd > 0.0 && jsd < 0.3, "{jsd}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    fails_cleanly(&urbancast(&["traj", "network", "--network", "no/such/dir"], w), "no/such/dir");
    fails_cleanly(&urbancast(&["traj", "match", "--gps", "missing.csv"], w), "missing.csv");
    // An unknown road id in a trajectory file.
    let net = synthetic_city(&SyntheticCityConfig { seed: 7, ..Default::default() }).unwrap();
    let r0 = net.roads[0].id;
    let good = urbancast_roads::Trajectory::new(Some("g".into()), None, vec![r0], vec![0]).unwrap();
    let bad = urbancast_roads::Trajectory::new(Some("x".into()), None, vec![r0, 987_654_321], vec![0, 5]).unwrap();
    write_hoser_csv(w.join("good.csv"), &[good]).unwrap();
    write_hoser_csv(w.join("bad.csv"), &[bad]).unwrap();
    fails_cleanly(&urbancast(&["traj", "eval", "--real", "good.csv", "--generated", "bad.csv"], w), "987654321");
    std::fs::write(w.join("nan.csv"), "id,time,lat,lon\na,0,NaN,1.0\na,5,1.0,1.0\n").unwrap();
    fails_cleanly(&urbancast(&["traj", "match", "--gps", "nan.csv"], w), "row 1");
    fails_cleanly(&urbancast(&["traj", "zones", "--k", "999999"], w), "999999");
    fails_cleanly(&urbancast(&["traj", "synth", "--trips", "0"], w), "trips");
    std::fs::write(w.join("ok.csv"), "id,time,lat,lon\na,0,39.91,116.31\na,15,39.911,116.31\n").unwrap();
    fails_cleanly(&urbancast(&["traj", "match", "--gps", "ok.csv", "--sigma=-1"], w), "--sigma");
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.join("roads/porto-osm/edges.csv").is_file() && p.join("gps/porto-taxi").is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

#[test]
fn porto_taxi_trips_are_matched_onto_porto_osm() {
    let Some(data) = shared() else { return };
    let d = tempfile::tempdir().unwrap();
    let net = data.join("roads/porto-osm");
    let gps = data.join("gps/porto-taxi/porto-taxi-2014-sample.csv");
    let t =
        ok(&urbancast(&["traj", "match", "--network", net.to_str().unwrap(), "--gps", gps.to_str().unwrap(), "--out", "m.csv"], d.path()));
    let rep = json(&d.path().join("m.report.json"));
    assert_eq!(rep["report"]["trips"], 318, "{t}");
    assert!(rep["share_covered_points_matched"].as_f64().unwrap() > 0.98, "{t}");
    assert!(rep["report"]["median_distance_m"].as_f64().unwrap() < 5.0, "{t}");
    assert!(rep["report"]["share_trips_connected"].as_f64().unwrap() > 0.6, "{t}");
}
