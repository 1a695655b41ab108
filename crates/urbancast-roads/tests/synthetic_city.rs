//! The built-in synthetic city: size, classes, connectivity, determinism, bad configs.
use std::collections::HashSet;

use urbancast_roads::RoadNetwork;
use urbancast_roads::geo::haversine_m;
use urbancast_roads::synthetic_city::{SyntheticCityConfig, synthetic_city};

/// Roads reachable from road 0 along `adj`.
fn reached(adj: &[Vec<u32>]) -> usize {
    let mut seen = vec![false; adj.len()];
    let mut stack = vec![0u32];
    seen[0] = true;
    while let Some(r) = stack.pop() {
        for &s in &adj[r as usize] {
            if !seen[s as usize] {
                seen[s as usize] = true;
                stack.push(s);
            }
        }
    }
    seen.iter().filter(|&&x| x).count()
}

fn assert_strongly_connected(net: &RoadNetwork) {
    assert_eq!(reached(&net.successors), net.len(), "road 0 must reach every road");
    assert_eq!(reached(&net.predecessors()), net.len(), "every road must reach road 0");
}

fn count(net: &RoadNetwork, class: &str) -> usize {
    (0..net.len()).filter(|&i| net.class_name(i) == class).count()
}

#[test]
fn default_city_shape_classes_and_connectivity() {
    let cfg = SyntheticCityConfig::default();
    let net = synthetic_city(&cfg).unwrap();
    let (trunk, primary, residential) = (count(&net, "trunk"), count(&net, "primary"), count(&net, "residential"));
    eprintln!(
        "default synthetic city: {} roads ({trunk} trunk, {primary} primary, {residential} residential), {} transitions, bbox {:?}",
        net.len(),
        net.num_transitions(),
        net.bbox()
    );
    assert_eq!(net.name, "synthetic-city");
    assert_eq!(net.len(), 2_958); // the number stated in the module docs
    assert_eq!(residential, 2 * (432 - 43)); // 10 % of the 432 local streets removed
    assert_eq!(trunk + primary + residential, net.len());
    assert_strongly_connected(&net);
    // Every street is two-way: each road has its reverse.
    let pairs: HashSet<_> = net.roads.iter().map(|r| (r.start_node, r.end_node)).collect();
    assert!(net.roads.iter().all(|r| pairs.contains(&(r.end_node, r.start_node))));
    // No U-turn successors (there are no dead ends).
    for (i, s) in net.successors.iter().enumerate() {
        assert!(!s.is_empty());
        let r = &net.roads[i];
        assert!(s.iter().all(|&j| net.roads[j as usize].end_node != r.start_node || net.roads[j as usize].start_node != r.end_node));
    }
    for (i, r) in net.roads.iter().enumerate() {
        let want = match net.class_name(i) {
            "trunk" => 80.0,
            "primary" => 50.0,
            _ => 30.0,
        };
        assert_eq!(r.maxspeed_kmh, Some(want));
        assert_eq!(r.oneway, Some(false));
        assert!(r.length_m > 50.0 && r.length_m < 450.0, "road {i}: {} m", r.length_m);
    }
    // 4.8 km x 4.8 km from the south-west corner.
    let b = net.bbox();
    let (w, h) = (haversine_m([b[0], b[1]], [b[2], b[1]]), haversine_m([b[0], b[1]], [b[0], b[3]]));
    assert!((w - 4800.0).abs() < 30.0 && (h - 4800.0).abs() < 30.0, "{w} x {h}");
    assert!((b[0] - cfg.origin[0]).abs() < 1e-3 && (b[1] - cfg.origin[1]).abs() < 1e-3);
    assert_eq!(net.roads.iter().map(|r| r.id).collect::<Vec<_>>(), (0..net.len() as u64).collect::<Vec<_>>());
}

#[test]
fn seeds_are_deterministic_and_matter() {
    let cfg = SyntheticCityConfig { blocks_x: 4, blocks_y: 3, seed: 7, ..Default::default() };
    let a = synthetic_city(&cfg).unwrap();
    let b = synthetic_city(&cfg).unwrap();
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    let c = synthetic_city(&SyntheticCityConfig { seed: 8, ..cfg.clone() }).unwrap();
    let pts = |n: &RoadNetwork| n.roads.iter().flat_map(|r| r.polyline.clone()).collect::<Vec<_>>();
    assert_ne!(pts(&a), pts(&c));
    // Without removals the road sets coincide: only the jitter differs.
    let no_drop = SyntheticCityConfig { drop_local: 0.0, ..cfg.clone() };
    let (d, e) = (synthetic_city(&no_drop).unwrap(), synthetic_city(&SyntheticCityConfig { seed: 9, ..no_drop }).unwrap());
    assert_eq!(d.len(), e.len());
    assert_ne!(pts(&d), pts(&e));
    // Jitter stays within bounds: junction displacement <= jitter_m per axis.
    let flat = synthetic_city(&SyntheticCityConfig { jitter_m: 0.0, drop_local: 0.0, ..cfg }).unwrap();
    for (r, s) in d.roads.iter().zip(&flat.roads) {
        assert!(haversine_m(r.start(), s.start()) <= 8.0 * 2f64.sqrt() + 1e-6);
    }
}

#[test]
fn variants_stay_strongly_connected() {
    let cases = [
        SyntheticCityConfig { blocks_x: 1, blocks_y: 1, local_per_block: 1, ..Default::default() },
        SyntheticCityConfig { blocks_x: 2, blocks_y: 1, local_per_block: 0, ..Default::default() },
        SyntheticCityConfig { blocks_x: 3, blocks_y: 5, drop_local: 1.0, ..Default::default() },
        SyntheticCityConfig { blocks_x: 6, blocks_y: 2, local_per_block: 5, drop_local: 0.5, seed: 3, ..Default::default() },
        SyntheticCityConfig { blocks_x: 2, blocks_y: 2, origin: [-8.65, 41.15], block_m: 250.0, ..Default::default() },
    ];
    for cfg in &cases {
        let net = synthetic_city(cfg).unwrap();
        assert_strongly_connected(&net);
        assert!(net.len() >= 8, "{cfg:?}");
    }
    let only_arterials = synthetic_city(&cases[2]).unwrap();
    assert_eq!(count(&only_arterials, "residential"), 0);
}

#[test]
fn bad_configs_are_errors() {
    let d = SyntheticCityConfig::default();
    let bad = [
        SyntheticCityConfig { blocks_x: 0, ..d.clone() },
        SyntheticCityConfig { block_m: f64::NAN, ..d.clone() },
        SyntheticCityConfig { drop_local: 1.5, ..d.clone() },
        SyntheticCityConfig { jitter_m: 60.0, ..d.clone() },
        SyntheticCityConfig { origin: [200.0, 0.0], ..d.clone() },
        SyntheticCityConfig { local_per_block: 500, ..d.clone() },
    ];
    for cfg in &bad {
        let e = synthetic_city(cfg).unwrap_err().to_string();
        assert!(e.contains("synthetic city"), "{e}");
    }
    // A single block without local streets is a ring: no U-turns means two separate loops.
    let ring = SyntheticCityConfig { blocks_x: 1, blocks_y: 1, local_per_block: 0, ..d };
    let e = synthetic_city(&ring).unwrap_err().to_string();
    assert!(e.contains("strongly connected"), "{e}");
}
