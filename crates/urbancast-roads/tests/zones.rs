//! Zones: METIS partition of a toy grid (balance, cut recount, reproducibility), transition
//! matrices on hand-made trajectories, and the real Porto OSM network when present.
use std::path::{Path, PathBuf};

use urbancast_roads::zones::{count_edge_cut, partition_zones, zone_transition_matrix};
use urbancast_roads::{RoadError, RoadNetwork, RoadSpec, Trajectory, UTurns};

/// An `n × n` grid of junctions 0.001° apart with a road each way between neighbours.
fn grid(n: u64) -> RoadNetwork {
    let pos = |i: u64| [-8.6 + 0.001 * (i % n) as f64, 41.15 + 0.001 * (i / n) as f64];
    let mut specs = Vec::new();
    for i in 0..n * n {
        let mut nbrs = Vec::new();
        if i % n + 1 < n {
            nbrs.push(i + 1);
        }
        if i / n + 1 < n {
            nbrs.push(i + n);
        }
        for j in nbrs {
            for (a, b) in [(i, j), (j, i)] {
                let mut s = RoadSpec::new(specs.len() as u64, vec![pos(a), pos(b)]);
                s.start_node = Some(a);
                s.end_node = Some(b);
                specs.push(s);
            }
        }
    }
    RoadNetwork::from_junctions("grid", specs, UTurns::OnlyIfDeadEnd).unwrap()
}

/// `../shared/data` seen from the crate, or `None` (with a message) when absent.
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

#[test]
fn grid_partition_is_balanced_and_reproducible() {
    let net = grid(20);
    assert_eq!(net.len(), 2 * 2 * 19 * 20);
    for k in [2, 7, 16, 40] {
        let z = partition_zones(&net, k, 42).unwrap();
        assert_eq!(z.zone_of.len(), net.len());
        assert_eq!(z.sizes.len(), k);
        assert!(z.sizes.iter().all(|&s| s > 0), "k={k}: empty zone in {:?}", z.sizes);
        assert_eq!(z.sizes.iter().sum::<usize>(), net.len());
        assert!(z.imbalance <= 1.1, "k={k}: imbalance {}", z.imbalance);
        // brute-force recount over the directed successor pairs, each undirected edge once
        let mut pairs = std::collections::BTreeSet::new();
        for (i, s) in net.successors.iter().enumerate() {
            for &j in s {
                let (a, b) = (i.min(j as usize), i.max(j as usize));
                if a != b {
                    pairs.insert((a, b));
                }
            }
        }
        let cut = pairs.iter().filter(|&&(a, b)| z.zone_of[a] != z.zone_of[b]).count();
        assert_eq!(z.edge_cut, cut, "k={k}");
        assert_eq!(z.edge_cut, count_edge_cut(&net.undirected(), &z.zone_of));
        assert_eq!(z.repaired_empty, 0);
        assert_eq!(z.edge_cut, z.metis_edge_cut, "k={k}: our cut vs METIS'");
        assert!(cut < pairs.len() / 2, "k={k}: a partition should cut few edges ({cut} of {})", pairs.len());
        let again = partition_zones(&net, k, 42).unwrap();
        assert!(again.zone_of == z.zone_of, "k={k}: same seed, same zones");
    }
    let json = serde_json::to_string(&partition_zones(&net, 4, 1).unwrap()).unwrap();
    assert!(json.contains("\"edge_cut\""));
}

#[test]
fn partition_edge_cases() {
    let net = grid(3);
    let one = partition_zones(&net, 1, 0).unwrap();
    assert!(one.zone_of.iter().all(|&z| z == 0));
    assert_eq!((one.edge_cut, one.imbalance), (0, 1.0));
    let err = partition_zones(&net, net.len() + 1, 0).unwrap_err().to_string();
    assert!(err.contains("at most"), "{err}");
    assert!(partition_zones(&net, 0, 0).is_err());
    // every road its own zone still works
    let all = partition_zones(&net, net.len(), 0).unwrap();
    assert!(all.sizes.iter().all(|&s| s == 1), "{:?}", all.sizes);
    // two components plus isolated roads (no successors either way)
    let mut specs = Vec::new();
    for (base, count) in [(0u64, 30u64), (1000, 30)] {
        for i in 0..count {
            let a = base + i;
            let b = base + (i + 1) % count; // a directed ring
            let mut s = RoadSpec::new(specs.len() as u64, vec![[0.001 * a as f64, 0.0], [0.001 * b as f64, 0.001]]);
            s.start_node = Some(a);
            s.end_node = Some(b);
            specs.push(s);
        }
    }
    for i in 0..5u64 {
        let mut s = RoadSpec::new(specs.len() as u64, vec![[1.0, 0.001 * i as f64], [1.001, 0.001 * i as f64]]);
        s.start_node = Some(5000 + 2 * i);
        s.end_node = Some(5001 + 2 * i);
        specs.push(s);
    }
    let net = RoadNetwork::from_junctions("parts", specs, UTurns::OnlyIfDeadEnd).unwrap();
    let z = partition_zones(&net, 6, 3).unwrap();
    assert!(z.sizes.iter().all(|&s| s > 0), "{:?}", z.sizes);
    assert_eq!(z.sizes.iter().sum::<usize>(), 65);
    assert_eq!(z.edge_cut, count_edge_cut(&net.undirected(), &z.zone_of));
}

#[test]
fn transition_matrix_by_hand() {
    let net = grid(4);
    let mut z = partition_zones(&net, 3, 0).unwrap();
    // overwrite with a hand-made assignment: road index i in zone i % 3
    z.zone_of = (0..net.len() as u32).map(|i| i % 3).collect();
    let id = |i: usize| net.roads[i].id;
    let t = |name: &str, ix: &[usize]| {
        Trajectory::new(Some(name.into()), None, ix.iter().map(|&i| id(i)).collect(), vec![0; ix.len()]).unwrap()
    };
    // zones: [0,1,2,0] -> 0→1, 1→2, 2→0 ; [3,6,4] -> 0→0, 0→1 ; [5] -> nothing
    let trajs = vec![t("a", &[0, 1, 2, 3]), t("b", &[3, 6, 4]), t("c", &[5])];
    let m = zone_transition_matrix(&z, &net, &trajs).unwrap();
    assert_eq!(m.k, 3);
    assert_eq!((m.total, m.cross_zone, m.trajectories), (5.0, 4.0, 3));
    assert_eq!(m.count(0, 1), 2.0);
    assert_eq!(m.count(1, 2), 1.0);
    assert_eq!(m.count(2, 0), 1.0);
    assert_eq!(m.count(0, 0), 1.0);
    assert_eq!(m.count(1, 0), 0.0);
    assert!((m.probability(0, 1) - 2.0 / 3.0).abs() < 1e-12);
    assert!((m.probability(0, 0) - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(m.probability(1, 2), 1.0);
    assert_eq!(m.triplets(false), vec![(0, 1, 2.0), (1, 2, 1.0), (2, 0, 1.0)]);
    assert_eq!(m.triplets(true).len(), 4);
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains("\"probabilities\""));

    let bad = vec![t("a", &[0, 1]), Trajectory::new(Some("oops".into()), None, vec![id(0), 99_999], vec![0, 1]).unwrap()];
    let err = zone_transition_matrix(&z, &net, &bad).unwrap_err();
    assert!(matches!(err, RoadError::UnknownRoad { id: 99_999, .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("oops") && msg.contains("position 1"), "{msg}");
}

#[test]
fn porto_300_zones() {
    let Some(path) = porto() else { return };
    let net = read_edges(&path);
    let z = partition_zones(&net, 300, 7).unwrap();
    println!(
        "porto: {} roads, {} undirected edges -> 300 zones in {:.3} s: edge cut {} (METIS {}), imbalance {:.3}, sizes {}..{}, repaired {}",
        net.len(),
        net.undirected().iter().map(Vec::len).sum::<usize>() / 2,
        z.seconds,
        z.edge_cut,
        z.metis_edge_cut,
        z.imbalance,
        z.sizes.iter().min().unwrap(),
        z.sizes.iter().max().unwrap(),
        z.repaired_empty
    );
    assert!(z.sizes.iter().all(|&s| s > 0));
    assert!(z.imbalance < 1.1, "{}", z.imbalance);
    assert_eq!(z.edge_cut, count_edge_cut(&net.undirected(), &z.zone_of));
    assert!(partition_zones(&net, 300, 7).unwrap().zone_of == z.zone_of, "same seed, same zones");
}
