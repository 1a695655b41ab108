//! `urbancast traj generate` and `urbancast bench traj` end to end on the built-in synthetic
//! city, with a tiny random-init model bundle built through the library.
use std::path::Path;

use burn::tensor::Device;
use urbancast_roads::demand::{DemandConfig, synthesize_trips};
use urbancast_roads::io::{read_hoser_csv, write_hoser_csv};
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};
use urbancast_roads::zones::{partition_zones, zone_transition_matrix};
use urbancast_roads::{RoadNetwork, Trajectory};
use urbancast_traj::bundle::{BundleMeta, NetworkFingerprint, save_bundle};
use urbancast_traj::data::{RoadContext, TimeNorm};
use urbancast_traj::model::HoserConfig;

mod common;
use common::{fails_cleanly, ok, text, urbancast};

fn city(seed: u64) -> RoadNetwork {
    synthetic_city(&SyntheticCityConfig { seed, ..Default::default() }).unwrap()
}

/// A tiny random-init bundle in `dir` plus `dir/train.csv` (synthetic trips).
fn tiny_bundle(net: &RoadNetwork, dir: &Path) -> Vec<Trajectory> {
    let trips = synthesize_trips(net, &DemandConfig { trips: 80, zones: 8, seed: 3, ..Default::default() }, None).unwrap();
    let zones = partition_zones(net, 8, 0).unwrap();
    let tr = zone_transition_matrix(&zones, net, &trips).unwrap();
    let ctx = RoadContext::new(net, &zones, &tr).unwrap();
    let cfg = HoserConfig {
        road_id_dim: 8,
        len_dim: 4,
        class_dim: 4,
        lon_dim: 4,
        lat_dim: 4,
        fusion_hidden: 8,
        nav_dim: 16,
        time_hidden: 8,
        ..HoserConfig::new(ctx.num_roads, ctx.num_classes, ctx.num_zones)
    };
    let model = cfg.init_seeded(&Device::flex(), 1);
    let meta = BundleMeta {
        network: NetworkFingerprint::of(net),
        time_norm: TimeNorm { mean: 3.0, std: 0.7 },
        training: serde_json::json!({ "note": "random init, for tests" }),
    };
    save_bundle(dir, &model, &ctx, &meta).unwrap();
    write_hoser_csv(dir.join("train.csv"), &trips).unwrap();
    trips
}

fn check_routes(net: &RoadNetwork, generated: &[Trajectory]) {
    for (i, g) in generated.iter().enumerate() {
        assert_eq!(g.id.as_deref(), Some(format!("gen-{i}").as_str()));
        assert!(g.times.windows(2).all(|w| w[0] <= w[1]), "times go back in {g:?}");
        let ix = net.indices_of(&g.roads).unwrap();
        assert!(ix.windows(2).all(|w| net.successors(w[0]).contains(&(w[1] as u32))), "not a route: {g:?}");
    }
}

#[test]
fn generate_samples_ods_from_training_trips_or_reads_them() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    let net = city(7);
    let trips = tiny_bundle(&net, &w.join("m"));

    let t = ok(&urbancast(
        &["traj", "generate", "--model", "m", "--sample", "20", "--from", "m/train.csv", "--beam", "2", "--out", "g.csv"],
        w,
    ));
    assert!(t.contains("20 trajectories"), "{t}");
    let generated = read_hoser_csv(w.join("g.csv")).unwrap();
    let real = read_hoser_csv(w.join("g.real.csv")).unwrap();
    assert_eq!((generated.len(), real.len()), (20, 20));
    check_routes(&net, &generated);
    for (g, r) in generated.iter().zip(&real) {
        assert_eq!((g.origin(), g.times[0]), (r.origin(), r.times[0]), "generation starts where and when the real trip did");
        assert!(trips.iter().any(|t| t.roads == r.roads && t.times == r.times), "real trip {r:?} is a training trip");
    }
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(w.join("g.summary.json")).unwrap()).unwrap();
    assert_eq!(s["n"], 20);
    assert!(s["trajectories_per_s"].as_f64().unwrap() > 0.0);
    // --from defaults to <model>/train.csv; the same seed gives the same routes.
    ok(&urbancast(&["traj", "generate", "--model", "m", "--sample", "20", "--beam", "2", "--out", "h.csv"], w));
    assert_eq!(read_hoser_csv(w.join("h.csv")).unwrap(), generated);
    // Evaluation split by the requested OD: all 20 requests came from training trips.
    let t = ok(&urbancast(
        &[
            "traj",
            "eval",
            "--real",
            "g.real.csv",
            "--generated",
            "g.csv",
            "--train",
            "m/train.csv",
            "--intended",
            "g.real.csv",
            "--out",
            "e",
        ],
        w,
    ));
    assert!(t.contains("JSD trip distance"), "{t}");
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(w.join("e/metrics.json")).unwrap()).unwrap();
    assert_eq!((m["train_od"]["n_generated"].as_u64(), m["test_od"]["n_generated"].as_u64()), (Some(20), Some(0)), "{m}");
    assert_eq!(m["train_od"]["n_real"].as_u64(), Some(20), "{m}");

    // OD CSV (Unix seconds or ISO times), best-first search.
    let (a, b) = (&trips[0], &trips[1]);
    let od = format!(
        "origin_id,destination_id,start_time\n{},{},{}\n{},{},2015-11-05T08:01:12Z\n",
        a.origin(),
        a.destination(),
        a.times[0],
        b.origin(),
        b.destination()
    );
    std::fs::write(w.join("od.csv"), od).unwrap();
    ok(&urbancast(
        &["traj", "generate", "--model", "m", "--od", "od.csv", "--search", "best-first", "--max-expansions", "300", "--out", "o/od.csv"],
        w,
    ));
    let generated = read_hoser_csv(w.join("o/od.csv")).unwrap();
    assert_eq!(generated.len(), 2);
    check_routes(&net, &generated);
    assert_eq!((generated[0].origin(), generated[0].times[0]), (a.origin(), a.times[0]));
    assert_eq!((generated[1].origin(), generated[1].times[0]), (b.origin(), 1_446_710_472));
    assert!(!w.join("o/od.real.csv").exists());
    fails_cleanly(
        &urbancast(&["traj", "eval", "--real", "g.real.csv", "--generated", "g.csv", "--intended", "od.csv"], w),
        &["od.csv", "2 requests for 20 generated"],
    );

    // Bad inputs.
    std::fs::write(
        w.join("bad.csv"),
        format!("origin_id,destination_id,start_time\n{},{},0\n{},987654321,0\n", a.origin(), a.destination(), a.origin()),
    )
    .unwrap();
    fails_cleanly(&urbancast(&["traj", "generate", "--model", "m", "--od", "bad.csv"], w), &["row 2", "987654321"]);
    fails_cleanly(&urbancast(&["traj", "generate", "--model", "nope", "--sample", "3"], w), &["nope", "not a model folder"]);
    // A model trained on another network: a copy of the bundle whose meta names Porto.
    std::fs::create_dir_all(w.join("porto")).unwrap();
    for f in ["model.bpk", "context.json", "train.csv"] {
        std::fs::copy(w.join("m").join(f), w.join("porto").join(f)).unwrap();
    }
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(w.join("m/meta.json")).unwrap()).unwrap();
    meta["network"] = serde_json::json!({ "name": "porto-osm", "roads": 11095, "id_checksum": 12345 });
    std::fs::write(w.join("porto/meta.json"), meta.to_string()).unwrap();
    fails_cleanly(&urbancast(&["traj", "generate", "--model", "porto", "--sample", "3"], w), &["trained on network `porto-osm`"]);
    fails_cleanly(&urbancast(&["traj", "generate", "--model", "m", "--sample", "3", "--from", "missing.csv"], w), &["missing.csv"]);
    let both = urbancast(&["traj", "generate", "--model", "m", "--sample", "3", "--od", "od.csv"], w);
    assert!(!both.status.success() && text(&both).contains("cannot be used with"), "{}", text(&both));
    assert!(!urbancast(&["traj", "generate", "--model", "m"], w).status.success());
}

#[test]
fn bench_traj_prints_throughput() {
    let d = tempfile::tempdir().unwrap();
    let t = ok(&urbancast(&["bench", "traj", "--requests", "16", "--beam", "2", "--iters", "3", "--json", "b.json"], d.path()));
    assert!(t.contains("trajectories/s") && t.contains("graph encoding") && t.contains("latency"), "{t}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("b.json")).unwrap()).unwrap();
    assert_eq!(v["hoser"]["trajectories"], 16);
    assert!(v["hoser"]["trajectories_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["distance_scorer"]["trajectories_per_s"].as_f64().unwrap() > 0.0);
}
