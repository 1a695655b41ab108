//! ESRI shapefile road networks (`edges.shp` + `.dbf`, WGS84 lon/lat), as exported by OSMnx
//! (`osmid, oneway, highway, maxspeed, length, lanes, u, v, key, fid`, e.g. the fmm Stockholm
//! sample) or MTrajRec (`eid, raw_eid, highway`, Jinan).
//!
//! - Geometry: `Polyline` / `PolylineM` / `PolylineZ`, parts joined in order.
//! - Road id: field `eid`, else `fid`, else the 0-based record index.
//! - Attributes: `highway` (class), `lanes`, `maxspeed`, `length` (metres), `oneway`, read
//!   leniently (see [`super::attrs`]).
//! - Junctions: fields `u`, `v` (OSMnx node ids) when both exist; otherwise the end points
//!   are snapped to a 1e-6 degree lattice (about 0.1 m) and equal keys are one junction.
//!   Successors use [`UTurns::OnlyIfDeadEnd`].
//! - Direction: every record is one directed edge (both exports write a two-way street as two
//!   records with reversed geometry); nothing is added. With `u`, `v` and a sibling
//!   `nodes.shp` + `.dbf` holding `osmid`, a geometry digitised `v -> u` is reversed so that
//!   the polyline runs in driving direction (some OSMnx versions wrote reverse edges so).
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use shapefile::dbase::{FieldValue, Record};
use shapefile::{Reader, Shape};

use super::attrs::{parse_highway, parse_id, parse_lanes, parse_length_m, parse_maxspeed_kmh, parse_oneway};
use super::{check_points, has_ext, network_name};
use crate::error::{Result, RoadError};
use crate::geo::{LonLat, haversine_m};
use crate::network::{RoadNetwork, RoadSpec, UTurns};

/// Reads a shapefile road network: `path` is the `.shp` file, or a folder holding `edges.shp`
/// (or exactly one `.shp`).
pub fn read_shapefile_network(path: impl AsRef<Path>) -> Result<RoadNetwork> {
    let shp = resolve(path.as_ref())?;
    let rows = read_rows(&shp)?;
    if rows.is_empty() {
        return Err(RoadError::format(&shp, "no roads: the shapefile has no records"));
    }
    let has = |name: &str| rows[0].1.contains_key(name);
    let id_field = ["eid", "fid"].into_iter().find(|f| has(f));
    let with_uv = has("u") && has("v");
    let nodes = if with_uv { node_positions(&shp.with_file_name("nodes.shp"))? } else { HashMap::new() };
    let mut snapped: HashMap<(i64, i64), u64> = HashMap::new();
    let mut snap = |p: LonLat| -> u64 {
        let key = ((p[0] * 1e6).round() as i64, (p[1] * 1e6).round() as i64);
        let next = snapped.len() as u64;
        *snapped.entry(key).or_insert(next)
    };
    let mut specs = Vec::with_capacity(rows.len());
    for (k, (mut polyline, f)) in rows.into_iter().enumerate() {
        let row = k + 1;
        let id_of = |name: &str| -> Result<u64> {
            let raw = f.get(name).map(String::as_str).unwrap_or("");
            parse_id(raw).ok_or_else(|| RoadError::row(&shp, row, format!("field `{name}` = `{raw}` is not a non-negative integer")))
        };
        let id = match id_field {
            Some(name) => id_of(name)?,
            None => k as u64,
        };
        let (u, v) = if with_uv {
            let (u, v) = (id_of("u")?, id_of("v")?);
            if let (Some(&pu), Some(&pv)) = (nodes.get(&u), nodes.get(&v)) {
                let (a, b) = (polyline[0], polyline[polyline.len() - 1]);
                if haversine_m(a, pv) + haversine_m(b, pu) + 1.0 < haversine_m(a, pu) + haversine_m(b, pv) {
                    polyline.reverse();
                }
            }
            (u, v)
        } else {
            (snap(polyline[0]), snap(polyline[polyline.len() - 1]))
        };
        let text = |name: &str| f.get(name).map(String::as_str).unwrap_or("");
        let mut spec = RoadSpec::new(id, polyline);
        spec.start_node = Some(u);
        spec.end_node = Some(v);
        spec.class = parse_highway(text("highway"));
        spec.lanes = parse_lanes(text("lanes"));
        spec.maxspeed_kmh = parse_maxspeed_kmh(text("maxspeed"));
        spec.oneway = parse_oneway(text("oneway"));
        spec.length_m = parse_length_m(text("length")).map_err(|w| RoadError::row(&shp, row, w))?;
        specs.push(spec);
    }
    RoadNetwork::from_junctions(network_name(&shp), specs, UTurns::OnlyIfDeadEnd)
}

fn resolve(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let edges = path.join("edges.shp");
    if edges.is_file() {
        return Ok(edges);
    }
    let rd = std::fs::read_dir(path).map_err(|e| RoadError::io(path, e))?;
    let shps: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| has_ext(p, "shp")).collect();
    match shps.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(RoadError::format(path, "no `edges.shp` (nor any `.shp`) in this folder")),
        _ => Err(RoadError::format(path, format!("{} `.shp` files and no `edges.shp`: name the file", shps.len()))),
    }
}

/// Opens a shapefile with clear errors for missing parts.
fn open(shp: &Path) -> Result<Reader<std::io::BufReader<std::fs::File>, std::io::BufReader<std::fs::File>>> {
    for p in [shp.to_path_buf(), shp.with_extension("dbf")] {
        std::fs::File::open(&p).map_err(|e| RoadError::io(&p, e))?;
    }
    Reader::from_path(shp).map_err(|e| RoadError::format(shp, format!("cannot read the shapefile: {e}")))
}

/// A record's polyline and its fields as text (field names lower-cased).
type Row = (Vec<LonLat>, HashMap<String, String>);

fn read_rows(shp: &Path) -> Result<Vec<Row>> {
    let mut reader = open(shp)?;
    let mut out = Vec::new();
    for (k, item) in reader.iter_shapes_and_records().enumerate() {
        let row = k + 1;
        let (shape, record) = item.map_err(|e| RoadError::row(shp, row, format!("cannot read the record: {e}")))?;
        let pts = polyline_points(shape).map_err(|w| RoadError::row(shp, row, w))?;
        check_points(shp, row, &pts)?;
        out.push((pts, fields_as_text(record)));
    }
    Ok(out)
}

fn polyline_points(shape: Shape) -> std::result::Result<Vec<LonLat>, String> {
    let parts: Vec<Vec<LonLat>> = match shape {
        Shape::Polyline(l) => l.into_inner().into_iter().map(|p| p.into_iter().map(|q| [q.x, q.y]).collect()).collect(),
        Shape::PolylineM(l) => l.into_inner().into_iter().map(|p| p.into_iter().map(|q| [q.x, q.y]).collect()).collect(),
        Shape::PolylineZ(l) => l.into_inner().into_iter().map(|p| p.into_iter().map(|q| [q.x, q.y]).collect()).collect(),
        Shape::NullShape => return Err("the record has no geometry (null shape)".into()),
        other => return Err(format!("shape type {:?}: roads must be polylines", other.shapetype())),
    };
    // Parts are joined in order; a part starting where the previous one ended does not repeat
    // that point. Points inside a part are kept as they are (even a zero-length edge).
    let mut out: Vec<LonLat> = Vec::new();
    for part in parts {
        let skip = usize::from(!out.is_empty() && out.last() == part.first());
        out.extend_from_slice(&part[skip.min(part.len())..]);
    }
    Ok(out)
}

fn fields_as_text(record: Record) -> HashMap<String, String> {
    let map: HashMap<String, FieldValue> = record.into();
    map.into_iter().map(|(k, v)| (k.trim().to_ascii_lowercase(), value_text(v))).collect()
}

fn num_text(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { x.to_string() }
}

fn value_text(v: FieldValue) -> String {
    match v {
        FieldValue::Character(s) => s.unwrap_or_default(),
        FieldValue::Memo(s) => s,
        FieldValue::Numeric(x) => x.map(num_text).unwrap_or_default(),
        FieldValue::Float(x) => x.map(|x| num_text(x as f64)).unwrap_or_default(),
        FieldValue::Integer(i) => i.to_string(),
        FieldValue::Double(x) | FieldValue::Currency(x) => num_text(x),
        FieldValue::Logical(b) => b.map(|b| b.to_string()).unwrap_or_default(),
        FieldValue::Date(_) | FieldValue::DateTime(_) => String::new(),
    }
}

/// OSMnx node positions by `osmid` from a `nodes.shp` beside the edges; empty when the file or
/// the field is absent.
fn node_positions(nodes_shp: &Path) -> Result<HashMap<u64, LonLat>> {
    if !nodes_shp.is_file() || !nodes_shp.with_extension("dbf").is_file() {
        return Ok(HashMap::new());
    }
    let mut reader = open(nodes_shp)?;
    let mut out = HashMap::new();
    for (k, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = item.map_err(|e| RoadError::row(nodes_shp, k + 1, format!("cannot read the record: {e}")))?;
        let p = match shape {
            Shape::Point(p) => [p.x, p.y],
            Shape::PointM(p) => [p.x, p.y],
            Shape::PointZ(p) => [p.x, p.y],
            _ => return Ok(HashMap::new()),
        };
        match fields_as_text(record).get("osmid").and_then(|s| parse_id(s)) {
            Some(id) => out.insert(id, p),
            None => return Ok(HashMap::new()),
        };
    }
    Ok(out)
}
