//! Road network readers: small files written here (every format and error path), and the real
//! networks in `../shared/data/roads` when present (skipped with a message otherwise).
use std::fs;
use std::path::{Path, PathBuf};

use shapefile::dbase::{FieldValue, Record, TableWriterBuilder};
use shapefile::{Point, Polyline, Writer};
use urbancast_roads::geo::{haversine_m, polyline_length_m};
use urbancast_roads::readers::*;
use urbancast_roads::{RoadError, RoadNetwork};

/// `shared/data/roads/<name>`: `$URBANCAST_SHARED/roads/<name>` or `../shared/data` seen from
/// the repository, or `None` (with a message) when absent.
fn shared_roads(name: &str) -> Option<PathBuf> {
    let base = std::env::var_os("URBANCAST_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let p = base.join("roads").join(name);
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

/// Successor ids of the road with id `id`.
fn succ_ids(net: &RoadNetwork, id: u64) -> Vec<u64> {
    let mut v: Vec<u64> = net.successors(net.index_of(id).unwrap()).iter().map(|&j| net.roads[j as usize].id).collect();
    v.sort_unstable();
    v
}

// ------------------------------------------------------------------ LibCity / HOSER .geo/.rel

const GEO: &str = "\
extra,coordinates,geo_id,type,highway,lanes,maxspeed,oneway,length
x,\"[[116.30,39.90],[116.301,39.90]]\",10,LineString,primary,2,50,True,90.5
x,\"[[116.301,39.90],[116.302,39.90]]\",11,LineString,3,\"['2', '1']\",30 mph,False,
x,\"[[116.302,39.90],[116.302,39.901]]\",12,LineString,\"['secondary', 'primary']\",,\"['50', '30']\",1,
x,\"[[116.302,39.901],[116.301,39.901]]\",13,LineString,\"[\"\"unclassified\"\", \"\"residential\"\"]\",x,RU:urban,no,
x,\"[[116.301,39.901],[116.30,39.901]]\",14,LineString,['unclassified'],,,,
";
const REL: &str = "rel_id,type,origin_id,destination_id\n0,geo,10,11\n1,geo,11,12\n2,geo,12,13\n3,geo,13,14\n4,geo,12,14\n";

#[test]
fn geo_rel_reads_attributes_and_relations() {
    let d = tempfile::tempdir().unwrap();
    let net = read_geo_rel(write(d.path(), "roadmap.geo", GEO), write(d.path(), "roadmap.rel", REL)).unwrap();
    assert_eq!(net.len(), 5);
    let r = |id| net.road(net.index_of(id).unwrap());
    let class = |id| net.class_name(net.index_of(id).unwrap()).to_string();
    assert_eq!([class(10), class(11), class(12), class(13), class(14)], ["primary", "3", "secondary", "residential", "unclassified"]);
    assert_eq!((r(10).lanes, r(11).lanes, r(12).lanes, r(13).lanes), (Some(2), Some(2), None, None));
    assert_eq!(r(10).maxspeed_kmh, Some(50.0));
    assert!((r(11).maxspeed_kmh.unwrap() - 48.28).abs() < 0.01);
    assert_eq!((r(12).maxspeed_kmh, r(13).maxspeed_kmh), (Some(50.0), None));
    assert_eq!(
        (r(10).oneway, r(11).oneway, r(12).oneway, r(13).oneway, r(14).oneway),
        (Some(true), Some(false), Some(true), Some(false), None)
    );
    assert_eq!(r(10).length_m, 90.5);
    assert!((r(11).length_m - polyline_length_m(&r(11).polyline)).abs() < 1e-9);
    assert_eq!(succ_ids(&net, 12), vec![13, 14]);
    assert_eq!(succ_ids(&net, 14), Vec::<u64>::new());
    assert_eq!(net.name, d.path().file_name().unwrap().to_str().unwrap());
}

fn geo_rel_err(geo: &str, rel: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let e = read_geo_rel(write(d.path(), "roadmap.geo", geo), write(d.path(), "roadmap.rel", rel)).unwrap_err();
    e.to_string()
}

#[test]
fn geo_rel_errors_name_file_row_and_column() {
    let e = geo_rel_err("geo_id,type\n1,LineString\n", REL);
    assert!(e.contains("roadmap.geo") && e.contains("missing column `coordinates`"), "{e}");
    let e = geo_rel_err(GEO, "rel_id,origin_id\n0,10\n");
    assert!(e.contains("roadmap.rel") && e.contains("missing column `destination_id`"), "{e}");
    let bad = GEO.replace("[[116.302,39.90],[116.302,39.901]]", "[[116.302,39.90],[116.302 39.901]]");
    let e = geo_rel_err(&bad, REL);
    assert!(e.contains("roadmap.geo") && e.contains("row 3") && e.contains("coordinates"), "{e}");
    let e = geo_rel_err(&GEO.replace("[[116.30,39.90],[116.301,39.90]]", "[[116.30,39.90]]"), REL);
    assert!(e.contains("row 1") && e.contains("at least two points"), "{e}");
    let e = geo_rel_err(GEO, &format!("{REL}5,geo,12,99\n"));
    assert!(e.contains("roadmap.rel") && e.contains("row 6") && e.contains("unknown road id 99"), "{e}");
    let e = geo_rel_err(GEO, "rel_id,type,origin_id,destination_id\n0,geo,x,10\n");
    assert!(e.contains("row 1") && e.contains("origin_id"), "{e}");
    let e = geo_rel_err(&GEO.replace(",11,LineString", ",10,LineString"), REL);
    assert!(e.contains("row 2") && e.contains("appears twice"), "{e}");
    let e = geo_rel_err(&GEO.replace(",12,LineString", ",12,Point"), REL);
    assert!(e.contains("row 3") && e.contains("Point"), "{e}");
    let e = geo_rel_err(&GEO.replace(",90.5\n", ",-3\n"), REL);
    assert!(e.contains("row 1") && e.contains("length"), "{e}");
    let e = geo_rel_err("geo_id,type,coordinates\n", REL);
    assert!(e.contains("no roads"), "{e}");
    let d = tempfile::tempdir().unwrap();
    let err = read_geo_rel(d.path().join("nope.geo"), d.path().join("nope.rel")).unwrap_err();
    assert!(matches!(&err, RoadError::Io { path, .. } if path.ends_with("nope.geo")), "{err}");
}

// ------------------------------------------------------------------ OSM edge CSV

const EDGES: &str = "\
shape,start_node,end_node,osmid,oneway,length
\"LINESTRING (-8.6400 41.1600, -8.6390 41.1600)\",1,2,100,False,84.0
\"LINESTRING(-8.6390 41.1600,-8.6400 41.1600)\",2,1,100,False,84.0
\"linestring (-8.6390 41.1600, -8.6390 41.1610)\",2,3,\"[101, 102]\",True,
\"LINESTRING Z (-8.6390 41.1610 5, -8.6380 41.1610 5)\",3,4,103,True,84.1
";

#[test]
fn osm_csv_wkt_variants_ids_and_successors() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "edges.csv", EDGES);
    let net = read_osm_csv(d.path()).unwrap();
    assert_eq!(net.len(), 4);
    assert_eq!(net.roads.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_eq!(succ_ids(&net, 0), vec![2]); // not the U-turn 1
    assert_eq!(succ_ids(&net, 1), vec![0]); // junction 1 is a dead end: U-turn allowed
    assert_eq!(succ_ids(&net, 2), vec![3]);
    assert_eq!(succ_ids(&net, 3), Vec::<u64>::new());
    assert_eq!(net.roads[1].polyline[0], [-8.639, 41.16]);
    assert!((net.roads[2].length_m - 111.2).abs() < 0.5);
    assert_eq!((net.roads[0].oneway, net.roads[2].oneway), (Some(false), Some(true)));
    assert_eq!(net.class_name(0), "unknown");
    // The file itself works too.
    assert_eq!(read_osm_csv(d.path().join("edges.csv")).unwrap().len(), 4);
}

#[test]
fn osm_csv_errors_name_file_and_row() {
    let d = tempfile::tempdir().unwrap();
    let err = |text: &str| read_osm_csv(write(d.path(), "edges.csv", text)).unwrap_err().to_string();
    let e = err(&EDGES.replace("LINESTRING(-8.6390 41.1600,", "LINESTRING(-8.6390,"));
    assert!(e.contains("edges.csv") && e.contains("row 2") && e.contains("shape"), "{e}");
    let e = err(&EDGES.replace("\"LINESTRING Z (-8.6390 41.1610 5, -8.6380 41.1610 5)\"", "POINT(1 2)"));
    assert!(e.contains("row 4") && e.contains("LINESTRING"), "{e}");
    let e = err(&EDGES.replace(",2,3,", ",2,x,"));
    assert!(e.contains("row 3") && e.contains("end_node"), "{e}");
    let e = err("shape,end_node\n");
    assert!(e.contains("missing column `start_node`"), "{e}");
    let e = err("shape,start_node,end_node\n");
    assert!(e.contains("no roads"), "{e}");
    let e = read_osm_csv(d.path().join("missing")).unwrap_err();
    assert!(matches!(e, RoadError::Io { .. }), "{e}");
}

// ------------------------------------------------------------------ shapefiles

fn num(x: f64) -> FieldValue {
    FieldValue::Numeric(Some(x))
}
fn chr(s: &str) -> FieldValue {
    FieldValue::Character(Some(s.to_string()))
}

/// Writes a polyline shapefile with the given numeric and character fields.
fn write_shp(path: &Path, numeric: &[&str], character: &[&str], rows: &[(Vec<[f64; 2]>, Vec<FieldValue>)]) {
    let mut b = TableWriterBuilder::new();
    for n in numeric {
        b = b.add_numeric_field((*n).try_into().unwrap(), 18, 3);
    }
    for c in character {
        b = b.add_character_field((*c).try_into().unwrap(), 40);
    }
    let mut w = Writer::from_path(path, b).unwrap();
    for (pts, vals) in rows {
        let line = Polyline::new(pts.iter().map(|p| Point::new(p[0], p[1])).collect());
        let mut rec = Record::default();
        for (name, v) in numeric.iter().chain(character).zip(vals) {
            rec.insert(name.to_string(), v.clone());
        }
        w.write_shape_and_record(&line, &rec).unwrap();
    }
}

#[test]
fn shapefile_osmnx_fields_and_orientation() {
    let d = tempfile::tempdir().unwrap();
    let (a, b, c) = ([18.06, 59.34], [18.061, 59.34], [18.061, 59.341]);
    let nums = ["u", "v", "fid", "length", "oneway"];
    let chars = ["highway", "maxspeed", "lanes"];
    let row = |pts: Vec<[f64; 2]>, u, v, fid, hw: &str, ms: &str| {
        (pts, vec![num(u), num(v), num(fid), num(57.0), num(0.0), chr(hw), chr(ms), chr("['2', '1']")])
    };
    let rows = vec![
        row(vec![a, b], 1.0, 2.0, 5.0, "residential", "30"),
        row(vec![a, b], 2.0, 1.0, 6.0, "['unclassified', 'tertiary']", "['50', '30']"), // digitised u <- v
        row(vec![b, c], 2.0, 3.0, 7.0, "primary", ""),
    ];
    write_shp(&d.path().join("edges.shp"), &nums, &chars, &rows);
    // nodes.shp with osmid lets the reader fix the orientation of fid 6.
    let mut w =
        Writer::from_path(d.path().join("nodes.shp"), TableWriterBuilder::new().add_numeric_field("osmid".try_into().unwrap(), 18, 0))
            .unwrap();
    for (id, p) in [(1.0, a), (2.0, b), (3.0, c)] {
        let mut rec = Record::default();
        rec.insert("osmid".into(), num(id));
        w.write_shape_and_record(&Point::new(p[0], p[1]), &rec).unwrap();
    }
    drop(w);
    let net = read_shapefile_network(d.path()).unwrap();
    assert_eq!(net.roads.iter().map(|r| r.id).collect::<Vec<_>>(), vec![5, 6, 7]);
    let r6 = net.road(1);
    assert_eq!((r6.polyline[0], r6.start_node, r6.end_node), (b, Some(2), Some(1)));
    assert_eq!(net.class_name(1), "tertiary");
    assert_eq!((r6.maxspeed_kmh, r6.lanes, r6.oneway, r6.length_m), (Some(50.0), Some(2), Some(false), 57.0));
    assert_eq!(net.road(2).maxspeed_kmh, None);
    assert_eq!(succ_ids(&net, 5), vec![7]);
    assert_eq!(succ_ids(&net, 6), vec![5]); // dead end at node 1
}

#[test]
fn shapefile_snapped_junctions_and_record_ids() {
    let d = tempfile::tempdir().unwrap();
    let (a, b, b2, c) = ([117.0, 36.6], [117.001, 36.6], [117.001_000_01, 36.600_000_02], [117.002, 36.6]);
    let rows = vec![(vec![a, b], vec![chr("primary")]), (vec![b2, c], vec![chr("residential")]), (vec![c, b], vec![chr("")])];
    let shp = d.path().join("roads.shp");
    write_shp(&shp, &[], &["highway"], &rows);
    let net = read_shapefile_network(&shp).unwrap();
    assert_eq!(net.roads.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0, 1, 2]); // record index
    assert_eq!(succ_ids(&net, 0), vec![1]); // b and b2 snap to one junction
    assert_eq!(succ_ids(&net, 1), vec![2]); // dead end: U-turn
    assert_eq!(net.class_name(2), "unknown");
    assert_eq!(read_shapefile_network(d.path()).unwrap().len(), 3); // the folder's only .shp
    // eid wins over the record index.
    write_shp(&d.path().join("edges.shp"), &["eid"], &["highway"], &[(vec![a, b], vec![num(42.0), chr("trunk")])]);
    let net = read_shapefile_network(d.path()).unwrap();
    assert_eq!((net.roads[0].id, net.class_name(0)), (42, "trunk"));
}

#[test]
fn shapefile_errors() {
    let d = tempfile::tempdir().unwrap();
    let shp = d.path().join("proj.shp");
    write_shp(&shp, &[], &["highway"], &[(vec![[500_000.0, 4_000_000.0], [500_100.0, 4_000_000.0]], vec![chr("x")])]);
    let e = read_shapefile_network(&shp).unwrap_err().to_string();
    assert!(e.contains("proj.shp") && e.contains("row 1") && e.contains("WGS84"), "{e}");
    let pts = d.path().join("pts.shp");
    let mut w = Writer::from_path(&pts, TableWriterBuilder::new().add_character_field("a".try_into().unwrap(), 4)).unwrap();
    let mut rec = Record::default();
    rec.insert("a".into(), chr("x"));
    w.write_shape_and_record(&Point::new(1.0, 2.0), &rec).unwrap();
    drop(w);
    let e = read_shapefile_network(&pts).unwrap_err().to_string();
    assert!(e.contains("pts.shp") && e.contains("row 1") && e.contains("polylines"), "{e}");
    fs::remove_file(d.path().join("proj.dbf")).unwrap();
    let e = read_shapefile_network(&shp).unwrap_err();
    assert!(matches!(&e, RoadError::Io { path, .. } if path.ends_with("proj.dbf")), "{e}");
    let e = read_shapefile_network(d.path()).unwrap_err().to_string();
    assert!(e.contains("2 `.shp` files"), "{e}");
    let e = read_shapefile_network(d.path().join("none.shp")).unwrap_err();
    assert!(matches!(e, RoadError::Io { .. }), "{e}");
}

// ------------------------------------------------------------------ auto-detection

#[test]
fn auto_detects_every_layout() {
    let d = tempfile::tempdir().unwrap();
    let (geo, csv, shp) = (d.path().join("geo"), d.path().join("csv"), d.path().join("shp"));
    for p in [&geo, &csv, &shp] {
        fs::create_dir(p).unwrap();
    }
    write(&geo, "Porto.geo", GEO);
    write(&geo, "Porto.rel", REL);
    assert_eq!(read_network_auto(&geo).unwrap().len(), 5);
    assert_eq!(read_network_auto(geo.join("Porto.rel")).unwrap().len(), 5);
    write(&geo, "roadmap.geo", GEO);
    write(&geo, "roadmap.rel", REL);
    assert_eq!(read_network_auto(&geo).unwrap().len(), 5);
    write(&csv, "edges.csv", EDGES);
    assert_eq!(read_network_auto(&csv).unwrap().len(), 4);
    assert_eq!(read_network_auto(csv.join("edges.csv")).unwrap().len(), 4);
    write_shp(&shp.join("edges.shp"), &[], &["highway"], &[(vec![[1.0, 2.0], [1.001, 2.0]], vec![chr("x")])]);
    assert_eq!(read_network_auto(&shp).unwrap().len(), 1);
    assert_eq!(read_network_auto(shp.join("edges.shp")).unwrap().len(), 1);
    let e = read_network_auto(d.path()).unwrap_err().to_string();
    assert!(e.contains("accepted road network layouts") && e.contains("roadmap.geo"), "{e}");
    let e = read_network_auto(write(d.path(), "x.txt", "")).unwrap_err().to_string();
    assert!(e.contains("accepted road network layouts"), "{e}");
    assert!(matches!(read_network_auto(d.path().join("nothing")).unwrap_err(), RoadError::Io { .. }));
}

// ------------------------------------------------------------------ real data

/// Roads without successors (checked to be exactly the roads ending where no road leaves: dead
/// ends of the data), and roads whose reverse (same junctions swapped) exists.
fn report(net: &RoadNetwork) -> (usize, usize) {
    let pairs: std::collections::HashSet<_> = net.roads.iter().map(|r| (r.start_node, r.end_node)).collect();
    let starts: std::collections::HashSet<_> = net.roads.iter().map(|r| r.start_node).collect();
    let no_succ = net.successors.iter().filter(|s| s.is_empty()).count();
    assert_eq!(no_succ, net.roads.iter().filter(|r| !starts.contains(&r.end_node)).count());
    let rev = net.roads.iter().filter(|r| pairs.contains(&(r.end_node, r.start_node))).count();
    eprintln!(
        "{}: {} roads, {} transitions, {} without successors, {} with a reverse edge, classes {:?}, bbox {:?}",
        net.name,
        net.len(),
        net.num_transitions(),
        no_succ,
        rev,
        net.classes,
        net.bbox()
    );
    (no_succ, rev)
}

#[test]
fn real_porto_osm_csv() {
    let Some(dir) = shared_roads("porto-osm") else { return };
    let net = read_osm_csv(&dir).unwrap();
    assert_eq!(net.len(), 11_109);
    let b = net.bbox();
    assert!((b[0] + 8.689).abs() < 0.005 && (b[2] + 8.556).abs() < 0.005, "{b:?}");
    assert!((b[1] - 41.141).abs() < 0.005 && (b[3] - 41.186).abs() < 0.005, "{b:?}");
    let (no_succ, rev) = report(&net);
    assert!(no_succ < 100 && rev > 7_000, "{no_succ} {rev}");
    let close = net.roads.iter().filter(|r| (r.length_m / polyline_length_m(&r.polyline) - 1.0).abs() < 0.02).count();
    eprintln!("porto: {close} of {} lengths within 2% of the polyline", net.len());
    assert!(close as f64 > 0.99 * net.len() as f64);
    assert_eq!(read_network_auto(&dir).unwrap().len(), 11_109);
}

#[test]
fn real_jinan_shapefile() {
    let Some(dir) = shared_roads("jinan-osm") else { return };
    let net = read_shapefile_network(&dir).unwrap();
    assert_eq!(net.len(), 28_597);
    assert_eq!((net.roads[0].id, net.roads[28_596].id), (1, 28_597)); // `eid`
    let (no_succ, rev) = report(&net);
    let junctions: std::collections::HashSet<_> = net.roads.iter().flat_map(|r| [r.start_node, r.end_node]).collect();
    eprintln!("jinan: {} snapped junctions (nodes.shp has 12,766)", junctions.len());
    assert_eq!(junctions.len(), 12_766);
    assert!(no_succ < 200 && rev > 20_000, "{no_succ} {rev}");
    assert!(net.classes.iter().any(|c| c == "residential") && net.classes.iter().any(|c| c == "motorway"));
}

#[test]
fn real_stockholm_shapefile() {
    let Some(dir) = shared_roads("stockholm-osm") else { return };
    let net = read_shapefile_network(&dir).unwrap();
    assert_eq!(net.len(), 1_308);
    assert_eq!((net.roads[0].id, net.roads[1_307].id), (0, 1_307)); // `fid`
    let (no_succ, rev) = report(&net);
    assert!(no_succ < 30 && rev > 600, "{no_succ} {rev}");
    let two_way = net.roads.iter().filter(|r| r.oneway == Some(false)).count();
    eprintln!(
        "stockholm: {two_way} roads with oneway = 0, {} with maxspeed",
        net.roads.iter().filter(|r| r.maxspeed_kmh.is_some()).count()
    );
    assert!(net.roads.iter().all(|r| (r.length_m / polyline_length_m(&r.polyline) - 1.0).abs() < 0.02));
    assert!(net.roads.iter().all(|r| haversine_m(r.start(), r.end()) < 5_000.0));
    assert_eq!(read_network_auto(&dir).unwrap().len(), 1_308);
}
