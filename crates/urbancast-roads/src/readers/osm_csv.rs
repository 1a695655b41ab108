//! OSM drive-network edge tables as exported by st4ml (Porto): `edges.csv` with a WKT
//! `shape` (`LINESTRING (lon lat, ...)`, in driving direction), `start_node`, `end_node`
//! (OSM node ids), and optionally `osmid`, `oneway`, `length` (metres), `highway`, `lanes`,
//! `maxspeed`. Each row is one directed edge: a two-way street appears as two rows.
//!
//! Road ids are the 0-based data row index of `edges.csv` (`osmid` is not unique per edge: an
//! OSM way is split into many edges, and merged edges list several ways). `nodes.csv` is not
//! needed: the geometry is in `shape`. Successors come from the junction ids with
//! [`UTurns::OnlyIfDeadEnd`].
use std::path::Path;

use super::attrs::{parse_highway, parse_id, parse_lanes, parse_length_m, parse_maxspeed_kmh, parse_oneway};
use super::wkt::parse_linestring;
use super::{CsvTable, cell, check_points, file_in, network_name, opt_cell};
use crate::error::{Result, RoadError};
use crate::network::{RoadNetwork, RoadSpec, UTurns};

/// Reads an OSM edge CSV: `path` is the `edges.csv` file or the folder holding it.
pub fn read_osm_csv(path: impl AsRef<Path>) -> Result<RoadNetwork> {
    let path = file_in(path.as_ref(), "edges.csv");
    let mut t = CsvTable::open(&path)?;
    let c_shape = t.col("shape")?;
    let c_start = t.col("start_node")?;
    let c_end = t.col("end_node")?;
    let c_oneway = t.opt_col("oneway");
    let c_length = t.opt_col("length");
    let c_highway = t.opt_col("highway");
    let c_lanes = t.opt_col("lanes");
    let c_maxspeed = t.opt_col("maxspeed");
    let mut specs = Vec::new();
    for item in t.rows() {
        let (row, rec) = item?;
        let polyline = parse_linestring(cell(&rec, c_shape)).map_err(|w| RoadError::row(&path, row, format!("shape: {w}")))?;
        check_points(&path, row, &polyline)?;
        let node = |col: usize, name: &str| -> Result<u64> {
            let raw = cell(&rec, col);
            parse_id(raw).ok_or_else(|| RoadError::row(&path, row, format!("{name} `{raw}` is not a node id")))
        };
        let mut spec = RoadSpec::new((row - 1) as u64, polyline);
        spec.start_node = Some(node(c_start, "start_node")?);
        spec.end_node = Some(node(c_end, "end_node")?);
        spec.oneway = parse_oneway(opt_cell(&rec, c_oneway));
        spec.length_m = parse_length_m(opt_cell(&rec, c_length)).map_err(|w| RoadError::row(&path, row, w))?;
        spec.class = parse_highway(opt_cell(&rec, c_highway));
        spec.lanes = parse_lanes(opt_cell(&rec, c_lanes));
        spec.maxspeed_kmh = parse_maxspeed_kmh(opt_cell(&rec, c_maxspeed));
        specs.push(spec);
    }
    if specs.is_empty() {
        return Err(RoadError::format(&path, "no roads: the file has no data rows"));
    }
    RoadNetwork::from_junctions(network_name(&path), specs, UTurns::OnlyIfDeadEnd)
}
