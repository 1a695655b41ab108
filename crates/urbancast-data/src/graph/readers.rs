//! Readers for the benchmark sensor-graph datasets. Every reader returns a checked
//! [`SensorGraph`] or a [`DataError`] naming the file, key, row or index at fault.
use std::path::Path;

use ndarray::{Array3, ArrayD, Dimension, Ix3};

use super::SensorGraph;
use crate::city::Channel;
use crate::error::{DataError, Result};
use crate::readers::{in_file, read_adjacency_csv, read_npz_array, read_nyc69};

pub use super::pems::read_pems;
pub use super::stgfsl::{STGFSL_INTERVAL_MIN, read_stgfsl};

/// Minute of week of 2015-01-01 00:00 (a Thursday), the first step of the Shenzhen data.
pub const SZ_START_MINUTE_OF_WEEK: u32 = 3 * 1440;

/// Speeds below this (km/h) in `SZ_taxi.npz` are floating-point residue and read as 0 (missing).
pub const SZ_RESIDUE: f32 = 1e-6;

/// Reads `SZ_taxi.npz` (key `data`, `(T, N, 1)` taxi speed km/h, 15 min) and `sz_adj.csv`
/// (`N x N` 0/1, no header) from `dir`. Starts Thursday 2015-01-01 00:00; zeros (and the
/// residue below [`SZ_RESIDUE`]) are missing readings; feature `"speed"`; name `"sz-taxi"`.
pub fn read_sz_taxi(dir: &Path) -> Result<SensorGraph> {
    let path = dir.join("SZ_taxi.npz");
    let mut series = read_series(&path, "data", "T, roads, 1")?;
    // The file holds floating-point residue such as 2.4e-17 km/h (15 values below 1e-6) next to
    // its true zeros (missing readings); as "speeds" they would make MAPE explode (1e17 %).
    series.mapv_inplace(|v| if v.abs() < SZ_RESIDUE { 0.0 } else { v });
    let adjacency = read_adjacency_csv(dir.join("sz_adj.csv"), series.dim().1, false)?;
    let g = SensorGraph::new("sz-taxi", 15, series, vec!["speed".into()], adjacency).map_err(in_file(&path))?;
    Ok(g.with_start_minute_of_week(SZ_START_MINUTE_OF_WEEK).with_zero_is_missing(true))
}

/// Reads `los_speed.csv` (a header row of sensor ids, then `T` rows of `N` speeds in mph,
/// 5 min) and `los_adj.csv` (`N x N` weighted, no header) from `dir`. The start time is not
/// recorded in the files (`None`); zeros are missing readings; feature `"speed"`; name
/// `"la-loop"`; `node_ids` from the header.
pub fn read_los_loop(dir: &Path) -> Result<SensorGraph> {
    let path = dir.join("los_speed.csv");
    let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r')).enumerate();
    let ids: Vec<String> = match lines.next() {
        Some((_, h)) if !h.trim().is_empty() => h.split(',').map(|s| s.trim().to_string()).collect(),
        _ => return Err(DataError::format(&path, "empty file: expected a header row of sensor ids")),
    };
    let n = ids.len();
    let mut values = Vec::new();
    let mut rows = 0usize;
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let row = |what: String| DataError::Row { path: path.clone(), row: i + 1, what };
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != n {
            return Err(row(format!("{} columns, expected {n} (one per header id)", cells.len())));
        }
        for (j, c) in cells.iter().enumerate() {
            let v = c.parse::<f32>().ok().filter(|v| v.is_finite());
            values.push(v.ok_or_else(|| row(format!("column {j}: `{c}` is not a finite number")))?);
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(DataError::format(&path, "no data rows after the header (empty series)"));
    }
    let series =
        Array3::from_shape_vec((rows, n, 1), values).map_err(|e| DataError::format(&path, format!("internal reshape failed: {e}")))?;
    let adjacency = read_adjacency_csv(dir.join("los_adj.csv"), n, false)?;
    let g = SensorGraph::new("la-loop", 5, series, vec!["speed".into()], adjacency).map_err(in_file(&path))?;
    g.with_node_ids(ids).map_err(in_file(&path)).map(|g| g.with_zero_is_missing(true))
}

/// Reads the hourly `nyc-manhattan-69` zone flows for `mode` `"taxi"` or `"bike"` (via
/// [`read_nyc69`]) as a graph with features `["inflow", "outflow"]` (inflow = drop-offs),
/// the zone adjacency, and the Tuesday 2019-01-01 start. Name `"nyc69-taxi"` / `"nyc69-bike"`.
pub fn read_nyc69_graph(dir: &Path, mode: &str) -> Result<SensorGraph> {
    let city = read_nyc69(dir, mode)?;
    let mut g = SensorGraph::from_city(&city).map_err(in_file(dir))?;
    g.features = city
        .channels
        .iter()
        .map(|c| match c {
            Channel::Dropoff => "inflow".to_string(),
            Channel::Pickup => "outflow".to_string(),
            Channel::Other => "value".to_string(),
        })
        .collect();
    g.name = format!("nyc69-{}", mode.to_ascii_lowercase());
    Ok(g.with_zero_is_missing(false))
}

/// Picks the reader from what `path` is:
/// * a folder holding `SZ_taxi.npz` (or that file itself) -> [`read_sz_taxi`];
/// * a folder holding `los_speed.csv` (or that file) -> [`read_los_loop`];
/// * a folder holding `data-NYCTaxi` (else `data-NYCBike`) -> [`read_nyc69_graph`];
/// * a folder holding `dataset.npy` and `matrix.npy` (ST-GFSL's layout) -> [`read_stgfsl`]
///   at 5 minutes;
/// * any other `.npz` file -> [`read_pems`] with the sibling `<stem>.csv` distances, binary
///   adjacency (as ASTGCN), and the sibling `<stem>.txt` as sensor-id file when it exists.
pub fn read_graph_auto(path: &Path) -> Result<SensorGraph> {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let parent = path.parent().unwrap_or(Path::new("."));
    if path.is_dir() {
        if path.join("SZ_taxi.npz").is_file() {
            return read_sz_taxi(path);
        }
        if path.join("los_speed.csv").is_file() {
            return read_los_loop(path);
        }
        if path.join("data-NYCTaxi").is_dir() {
            return read_nyc69_graph(path, "taxi");
        }
        if path.join("data-NYCBike").is_dir() {
            return read_nyc69_graph(path, "bike");
        }
        if path.join("dataset.npy").is_file() && path.join("matrix.npy").is_file() {
            return read_stgfsl(path, STGFSL_INTERVAL_MIN);
        }
    } else if file == "SZ_taxi.npz" {
        return read_sz_taxi(parent);
    } else if file == "los_speed.csv" {
        return read_los_loop(parent);
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz")) {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let ids = parent.join(format!("{stem}.txt"));
        let ids = ids.is_file().then_some(ids);
        return read_pems(path, &parent.join(format!("{stem}.csv")), Default::default(), ids.as_deref());
    }
    Err(DataError::format(
        path,
        "not a known sensor-graph layout; accepted: a folder with SZ_taxi.npz + sz_adj.csv, a folder \
         with los_speed.csv + los_adj.csv, the nyc-manhattan-69 folder (data-NYCTaxi / data-NYCBike + \
         data-NYCZones), an ST-GFSL city folder (dataset.npy + matrix.npy), or an ASTGCN-style PEMS .npz (key `data`, (T, N, F)) with <stem>.csv distances",
    ))
}

/// Reads an `.npy` as a non-empty, finite `[T, N, F]` array matching `pattern`.
pub(super) fn read_series_npy(path: &Path, pattern: &str) -> Result<Array3<f32>> {
    let a = crate::readers::read_npy_array(path)?;
    crate::readers::check_shape(path, "array", a.shape(), pattern)?;
    check_values(path, "array", &a)?;
    a.into_dimensionality::<Ix3>().map_err(|e| DataError::format(path, format!("internal reshape failed: {e}")))
}

/// Reads `key` of an `.npz` as a non-empty, finite `[T, N, F]` array matching `pattern`.
pub(super) fn read_series(path: &Path, key: &str, pattern: &str) -> Result<Array3<f32>> {
    let a = read_npz_array(path, key)?;
    crate::readers::check_shape(path, key, a.shape(), pattern)?;
    check_values(path, key, &a)?;
    a.into_dimensionality::<Ix3>().map_err(|e| DataError::format(path, format!("key `{key}`: internal reshape failed: {e}")))
}

/// Fails on an empty array ([`DataError::Shape`]) or a non-finite value ([`DataError::BadValue`]
/// with its index).
fn check_values(path: &Path, key: &str, a: &ArrayD<f32>) -> Result<()> {
    if a.is_empty() {
        return Err(DataError::Shape {
            path: path.into(),
            key: key.into(),
            expected: "a non-empty array".into(),
            found: a.shape().to_vec(),
        });
    }
    if let Some((idx, v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(DataError::BadValue {
            path: path.into(),
            key: key.into(),
            what: format!("non-finite value {v}"),
            index: idx.slice().to_vec(),
        });
    }
    Ok(())
}
