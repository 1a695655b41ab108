//! LibCity / HOSER atomic road files.
//!
//! `roadmap.geo` is a CSV with at least `geo_id` and `coordinates` (a JSON LineString
//! `[[lon, lat], ...]`); a `type` column, when present, must say `LineString`. Optional columns
//! `highway`, `lanes`, `oneway`, `length` (metres) and `maxspeed` are read leniently (see
//! [`super::attrs`]); all other columns are ignored. Columns are found by header name.
//!
//! `roadmap.rel` is a CSV with `origin_id` and `destination_id` (plus `rel_id`, `type`): road
//! `destination_id` may follow road `origin_id`.
use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::attrs::{parse_highway, parse_id, parse_lanes, parse_length_m, parse_maxspeed_kmh, parse_oneway};
use super::{CsvTable, cell, check_points, network_name, opt_cell};
use crate::error::{Result, RoadError};
use crate::geo::LonLat;
use crate::network::{RoadNetwork, RoadSpec};

/// Reads `roadmap.geo` (roads) and `roadmap.rel` (successor pairs). The network is named after
/// the folder holding the `.geo` file.
pub fn read_geo_rel(geo_path: impl AsRef<Path>, rel_path: impl AsRef<Path>) -> Result<RoadNetwork> {
    let (geo_path, rel_path) = (geo_path.as_ref(), rel_path.as_ref());
    let specs = read_geo(geo_path)?;
    let ids: HashSet<u64> = specs.iter().map(|s| s.id).collect();
    let pairs = read_rel(rel_path, &ids)?;
    RoadNetwork::new(network_name(geo_path), specs, &pairs)
}

fn read_geo(path: &Path) -> Result<Vec<RoadSpec>> {
    let mut t = CsvTable::open(path)?;
    let c_id = t.col("geo_id")?;
    let c_coords = t.col("coordinates")?;
    let c_type = t.opt_col("type");
    let c_highway = t.opt_col("highway");
    let c_lanes = t.opt_col("lanes");
    let c_oneway = t.opt_col("oneway");
    let c_length = t.opt_col("length");
    let c_maxspeed = t.opt_col("maxspeed");
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut specs = Vec::new();
    for item in t.rows() {
        let (row, rec) = item?;
        let raw_id = cell(&rec, c_id);
        let id = parse_id(raw_id).ok_or_else(|| RoadError::row(path, row, format!("geo_id `{raw_id}` is not a non-negative integer")))?;
        if let Some(first) = seen.insert(id, row) {
            return Err(RoadError::row(path, row, format!("geo_id {id} appears twice (first at row {first})")));
        }
        let kind = opt_cell(&rec, c_type);
        if !kind.is_empty() && !kind.eq_ignore_ascii_case("linestring") {
            return Err(RoadError::row(path, row, format!("type `{kind}`: only LineString roads are supported")));
        }
        let polyline = parse_coordinates(cell(&rec, c_coords)).map_err(|what| RoadError::row(path, row, what))?;
        check_points(path, row, &polyline)?;
        let mut spec = RoadSpec::new(id, polyline);
        spec.class = parse_highway(opt_cell(&rec, c_highway));
        spec.lanes = parse_lanes(opt_cell(&rec, c_lanes));
        spec.oneway = parse_oneway(opt_cell(&rec, c_oneway));
        spec.maxspeed_kmh = parse_maxspeed_kmh(opt_cell(&rec, c_maxspeed));
        spec.length_m = parse_length_m(opt_cell(&rec, c_length)).map_err(|what| RoadError::row(path, row, what))?;
        specs.push(spec);
    }
    if specs.is_empty() {
        return Err(RoadError::format(path, "no roads: the file has no data rows"));
    }
    Ok(specs)
}

/// Parses a JSON LineString coordinate list `[[lon, lat], ...]` (extra values such as a
/// height are ignored).
pub(crate) fn parse_coordinates(raw: &str) -> std::result::Result<Vec<LonLat>, String> {
    let short = |s: &str| if s.len() > 60 { format!("{}...", &s[..s.floor_char_boundary(60)]) } else { s.to_string() };
    let v: Vec<Vec<f64>> =
        serde_json::from_str(raw).map_err(|e| format!("coordinates `{}` are not a JSON list of [lon, lat] pairs: {e}", short(raw)))?;
    v.into_iter()
        .enumerate()
        .map(
            |(k, p)| {
                if p.len() >= 2 {
                    Ok([p[0], p[1]])
                } else {
                    Err(format!("coordinates: point {k} has {} values, needs [lon, lat]", p.len()))
                }
            },
        )
        .collect()
}

fn read_rel(path: &Path, ids: &HashSet<u64>) -> Result<Vec<(u64, u64)>> {
    let mut t = CsvTable::open(path)?;
    let c_from = t.col("origin_id")?;
    let c_to = t.col("destination_id")?;
    let mut pairs = Vec::new();
    for item in t.rows() {
        let (row, rec) = item?;
        let mut ends = [0u64; 2];
        for (k, (col, name)) in [(c_from, "origin_id"), (c_to, "destination_id")].into_iter().enumerate() {
            let raw = cell(&rec, col);
            let id = parse_id(raw).ok_or_else(|| RoadError::row(path, row, format!("{name} `{raw}` is not a non-negative integer")))?;
            if !ids.contains(&id) {
                return Err(RoadError::row(path, row, format!("unknown road id {id} in {name}: no such geo_id in the .geo file")));
            }
            ends[k] = id;
        }
        pairs.push((ends[0], ends[1]));
    }
    Ok(pairs)
}
