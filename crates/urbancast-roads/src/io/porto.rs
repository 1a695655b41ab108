//! Porto taxi trips (ECML/PKDD 2015 challenge), in two layouts, told apart by the header:
//!
//! * the shared sample: `shape` = `LINESTRING (lon lat, lon lat, ...)` (WKT) and
//!   `timestamps` = `"1408039037, 1408039052, ..."` (Unix seconds, one per point);
//! * the original Kaggle `train.csv`: `POLYLINE` = `[[lon,lat],[lon,lat],...]` (JSON) and
//!   `TIMESTAMP` = the start (Unix seconds), one point every [`PORTO_STEP_S`] seconds.
//!
//! Track id = `TRIP_ID` (the row number when absent), driver = `TAXI_ID`. `MISSING_DATA` is
//! not used (trips flagged there are kept as they are).
use std::path::Path;

use super::ReadSummary;
use super::common::{bad_pos, csv_error, csv_reader, find_col, header_names};
use crate::error::{Result, RoadError};
use crate::geo::LonLat;
use crate::traj::{GpsPoint, GpsTrack};

/// Seconds between consecutive `POLYLINE` points in the Kaggle data.
pub const PORTO_STEP_S: i64 = 15;

enum Layout {
    Wkt { shape: usize, stamps: usize },
    Kaggle { polyline: usize, start: usize },
}

/// Reads a Porto taxi CSV (either layout; gzip decompressed transparently).
pub fn read_porto(path: impl AsRef<Path>) -> Result<ReadSummary> {
    let path = path.as_ref();
    let mut rdr = csv_reader(path)?;
    let names = header_names(rdr.headers().map_err(|e| csv_error(path, e))?);
    let layout = match (find_col(&names, &["polyline"]), find_col(&names, &["shape"])) {
        (Some(polyline), _) => match find_col(&names, &["timestamp"]) {
            Some(start) => Layout::Kaggle { polyline, start },
            None => return Err(RoadError::format(path, "column POLYLINE without a TIMESTAMP column")),
        },
        (None, Some(shape)) => match find_col(&names, &["timestamps"]) {
            Some(stamps) => Layout::Wkt { shape, stamps },
            None => return Err(RoadError::format(path, "column shape without a timestamps column")),
        },
        _ if names.iter().all(|n| n.is_empty()) => return Err(RoadError::format(path, "empty file: no GPS tracks")),
        _ => {
            return Err(RoadError::format(
                path,
                format!("not a Porto taxi file: needs POLYLINE+TIMESTAMP or shape+timestamps (header: `{}`)", names.join(",")),
            ));
        }
    };
    let trip_col = find_col(&names, &["trip_id"]);
    let taxi_col = find_col(&names, &["taxi_id"]);
    let mut out = ReadSummary::default();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let err = |what: String| RoadError::row(path, row, what);
        let cell = |c: usize| rec.get(c).unwrap_or("").trim();
        let (pos, times) = match layout {
            Layout::Wkt { shape, stamps } => {
                let pos = parse_wkt(cell(shape)).map_err(|w| err(format!("column shape: {w}")))?;
                let times = parse_stamps(cell(stamps)).map_err(|w| err(format!("column timestamps: {w}")))?;
                (pos, times)
            }
            Layout::Kaggle { polyline, start } => {
                let pos: Vec<LonLat> = serde_json::from_str(cell(polyline))
                    .map_err(|e| err(format!("column POLYLINE: not a JSON list of [lon, lat] pairs ({e})")))?;
                let t0 = parse_stamps(cell(start))
                    .ok()
                    .filter(|v| v.len() == 1)
                    .ok_or_else(|| err(format!("column TIMESTAMP: `{}` is not Unix seconds", cell(start))))?[0];
                let times = (0..pos.len() as i64).map(|k| t0 + PORTO_STEP_S * k).collect();
                (pos, times)
            }
        };
        if pos.len() != times.len() {
            return Err(err(format!("{} points but {} timestamps", pos.len(), times.len())));
        }
        for (k, p) in pos.iter().enumerate() {
            if let Some(why) = bad_pos(p[0], p[1]) {
                return Err(err(format!("point {}: {why}", k + 1)));
            }
        }
        if let Some(k) = times.windows(2).position(|w| w[1] < w[0]) {
            return Err(err(format!("timestamp {} goes back in time ({} < {})", k + 2, times[k + 1], times[k])));
        }
        let id = trip_col.map(|c| cell(c).to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| row.to_string());
        let driver = taxi_col.map(|c| cell(c).to_string()).filter(|s| !s.is_empty());
        let points = pos.into_iter().zip(times).map(|(pos, time)| GpsPoint { pos, time }).collect();
        out.push(row, GpsTrack { id, driver, points });
    }
    out.finish(path)
}

/// `LINESTRING (x y, x y)` → points; `LINESTRING EMPTY` and an empty cell → none.
fn parse_wkt(s: &str) -> std::result::Result<Vec<LonLat>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let body = s
        .get(..10)
        .filter(|p| p.eq_ignore_ascii_case("linestring"))
        .map(|_| s[10..].trim())
        .ok_or_else(|| format!("`{}` is not a WKT LINESTRING", short(s)))?;
    if body.eq_ignore_ascii_case("empty") {
        return Ok(Vec::new());
    }
    let inner =
        body.strip_prefix('(').and_then(|b| b.strip_suffix(')')).ok_or_else(|| format!("`{}` is not a WKT LINESTRING", short(s)))?;
    let mut pts = Vec::new();
    for (k, p) in inner.split(',').enumerate() {
        let xy: Vec<f64> = p.split_whitespace().map_while(|v| v.parse().ok()).collect();
        if xy.len() < 2 || p.split_whitespace().count() > 3 {
            return Err(format!("point {} `{}` is not `lon lat`", k + 1, p.trim()));
        }
        pts.push([xy[0], xy[1]]);
    }
    Ok(pts)
}

/// `"1408039037, 1408039052"` (optionally in brackets) → Unix seconds.
fn parse_stamps(s: &str) -> std::result::Result<Vec<i64>, String> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']').trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .enumerate()
        .map(|(k, v)| {
            let v = v.trim();
            v.parse::<i64>()
                .ok()
                .or_else(|| v.parse::<f64>().ok().filter(|f| f.is_finite() && f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| format!("item {} `{v}` is not Unix seconds", k + 1))
        })
        .collect()
}

fn short(s: &str) -> String {
    if s.chars().count() > 40 { format!("{}...", s.chars().take(40).collect::<String>()) } else { s.to_string() }
}
