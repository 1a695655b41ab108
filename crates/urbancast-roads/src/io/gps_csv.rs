//! Plain GPS CSV: one fix per row, columns found by (case-insensitive) name:
//!
//! * latitude: `lat`, `latitude`; longitude: `lon`, `lng`, `long`, `longitude`;
//! * time: `time`, `timestamp`, `datetime`, `date_time` — Unix seconds or a date-time
//!   ([`parse_datetime`]: ISO 8601, `%Y-%m-%d %H:%M:%S`, UTC unless an offset is given);
//! * track id (optional): `traj_id`, `trip_id`, `track_id`, `tid`, `id`;
//! * driver/user (optional): `driver`, `driver_id`, `uid`, `user_id`, `user`, `taxi_id`,
//!   `vehicle_id`.
//!
//! With an id column, rows are grouped by id (tracks in order of first appearance) and sorted
//! by time within a track. Without one, rows are grouped by user (or the whole file is one
//! stream) and each stream is cut at gaps longer than `gap_s` into tracks `{user}_{k}` — this
//! is how the scikit-mobility GeoLife sample (`lat,lng,datetime,uid`) is read.
use std::collections::HashMap;
use std::path::Path;

use super::common::{bad_pos, csv_error, csv_reader, find_col, header_names, parse_datetime, split_stream};
use super::{GEOLIFE_GAP_S, ReadSummary};
use crate::error::{Result, RoadError};
use crate::traj::{GpsPoint, GpsTrack};

pub(crate) const LAT: &[&str] = &["lat", "latitude"];
pub(crate) const LON: &[&str] = &["lon", "lng", "long", "longitude"];
pub(crate) const TIME: &[&str] = &["time", "timestamp", "datetime", "date_time"];
const ID: &[&str] = &["traj_id", "trip_id", "track_id", "tid", "id"];
const USER: &[&str] = &["driver", "driver_id", "uid", "user_id", "user", "taxi_id", "vehicle_id"];

/// Reads a plain GPS CSV, cutting id-less streams at gaps of more than [`GEOLIFE_GAP_S`].
pub fn read_gps_csv(path: impl AsRef<Path>) -> Result<ReadSummary> {
    read_gps_csv_with(path, GEOLIFE_GAP_S)
}

/// Unix seconds from a time cell: a number (seconds, fraction truncated) or a date-time.
fn parse_cell_time(s: &str) -> Option<i64> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() < 1e15 => Some(v.floor() as i64),
        Ok(_) => None,
        Err(_) => parse_datetime(s),
    }
}

/// As [`read_gps_csv`], with the gap (seconds) that cuts id-less streams.
pub fn read_gps_csv_with(path: impl AsRef<Path>, gap_s: i64) -> Result<ReadSummary> {
    let path = path.as_ref();
    let mut rdr = csv_reader(path)?;
    let names = header_names(rdr.headers().map_err(|e| csv_error(path, e))?);
    if names.iter().all(|n| n.is_empty()) {
        return Err(RoadError::format(path, "empty file: no GPS tracks"));
    }
    let (lat_c, lon_c, time_c) = match (find_col(&names, LAT), find_col(&names, LON), find_col(&names, TIME)) {
        (Some(a), Some(o), Some(t)) => (a, o, t),
        _ => {
            return Err(RoadError::format(
                path,
                format!(
                    "needs columns lat ({}), lon ({}) and time ({}); header: `{}`",
                    LAT.join("/"),
                    LON.join("/"),
                    TIME.join("/"),
                    names.join(",")
                ),
            ));
        }
    };
    let id_c = find_col(&names, ID);
    let user_c = find_col(&names, USER);
    // Groups in order of first appearance: (key, driver, first row, points with their rows).
    type Group = (String, Option<String>, Vec<(usize, GpsPoint)>);
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let cell = |c: usize| rec.get(c).unwrap_or("").trim();
        let err = |what: String| RoadError::row(path, row, what);
        let num = |c: usize, name: &str| cell(c).parse::<f64>().map_err(|_| err(format!("column {name}: `{}` is not a number", cell(c))));
        let (lat, lon) = (num(lat_c, &names[lat_c])?, num(lon_c, &names[lon_c])?);
        if let Some(why) = bad_pos(lon, lat) {
            return Err(err(why));
        }
        let time = parse_cell_time(cell(time_c)).ok_or_else(|| {
            err(format!("column {}: `{}` is not a time (Unix seconds, ISO 8601 or %Y-%m-%d %H:%M:%S)", names[time_c], cell(time_c)))
        })?;
        let user = user_c.map(|c| cell(c).to_string()).filter(|s| !s.is_empty());
        let key = match id_c {
            Some(c) if cell(c).is_empty() => return Err(err(format!("column {}: empty track id", names[c]))),
            Some(c) => cell(c).to_string(),
            None => user.clone().unwrap_or_default(),
        };
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, user, Vec::new()));
            groups.len() - 1
        });
        groups[g].2.push((row, GpsPoint { pos: [lon, lat], time }));
    }
    let mut out = ReadSummary::default();
    for (key, driver, mut pts) in groups {
        if id_c.is_some() {
            pts.sort_by_key(|(_, p)| p.time);
            let row = pts.iter().map(|(r, _)| *r).min().unwrap_or(0);
            let points = pts.into_iter().map(|(_, p)| p).collect();
            out.push(row, GpsTrack { id: key, driver, points });
        } else {
            let name = if key.is_empty() { path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default() } else { key };
            split_stream(&name, driver.as_deref(), pts, gap_s, &mut out);
        }
    }
    out.finish(path)
}
