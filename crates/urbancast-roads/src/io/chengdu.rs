//! Chengdu taxi trips in the DeepTTE format: one JSON object per line with `driverID`,
//! `dateID`, `weekID`, `timeID`, `time_gap[]`, `lngs[]`, `lats[]` (and `states[]`,
//! `dist_gap[]`, `dist`, `time`, not used here).
//!
//! The DeepTTE README defines `timeID` as the start minute of the day (0..1439), `weekID`
//! as the day of the week (0 = Monday) and `time_gap` as seconds since the first point;
//! `dateID` is "the date in a month". The DeepTTE paper's Chengdu data is from August 2014,
//! and in the data `weekID` matches `dateID` taken as the day of August 2014 (dateID 24 is
//! a Sunday, weekID 6), so by default `dateID = d` is 2014-08-d. Clock times are taken as
//! China Standard Time (UTC+8). Both are settings ([`ChengduOptions`]).
//!
//! Time of point k = day0 + dateID·86400 + timeID·60 + round(time_gap[k]).
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::ReadSummary;
use super::common::{bad_pos, open_text};
use crate::error::{Result, RoadError};
use crate::traj::{GpsPoint, GpsTrack};

/// Unix seconds of local (UTC+8) midnight of the day with `dateID` 0, 2014-07-31, so that
/// `dateID = d` is 2014-08-d: 2014-07-30T16:00:00Z.
pub const CHENGDU_DAY0_UNIX: i64 = 1_406_736_000;

/// How `dateID`/`timeID` map to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChengduOptions {
    /// Unix seconds of (local) midnight of the day with `dateID` 0.
    pub day0_unix: i64,
}

impl Default for ChengduOptions {
    fn default() -> Self {
        ChengduOptions { day0_unix: CHENGDU_DAY0_UNIX }
    }
}

impl ChengduOptions {
    /// `dateID` 0 is local midnight of `year-month-day` in a zone `utc_offset_s` east of UTC.
    pub fn from_date(year: i32, month: u32, day: u32, utc_offset_s: i64) -> Option<Self> {
        let d = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
        Some(ChengduOptions { day0_unix: d.and_hms_opt(0, 0, 0)?.and_utc().timestamp() - utc_offset_s })
    }
}

#[derive(Deserialize)]
struct Trip {
    #[serde(rename = "driverID", default)]
    driver: Option<Value>,
    #[serde(rename = "dateID")]
    date_id: f64,
    #[serde(rename = "timeID")]
    time_id: f64,
    time_gap: Vec<f64>,
    lngs: Vec<f64>,
    lats: Vec<f64>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    traj_id: Option<Value>,
    #[serde(default)]
    trip_id: Option<Value>,
}

fn value_text(v: &Option<Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

/// Reads DeepTTE JSON lines with the default [`ChengduOptions`].
pub fn read_chengdu(path: impl AsRef<Path>) -> Result<ReadSummary> {
    read_chengdu_with(path, &ChengduOptions::default())
}

/// Reads DeepTTE JSON lines (gzip decompressed transparently; blank lines ignored). Track id
/// = `id`/`traj_id`/`trip_id` when present, else the 1-based line number; driver =
/// `driverID`. Errors (as `row` = line) on bad JSON, missing fields, arrays of different
/// lengths, bad coordinates and `time_gap` negative or going back.
pub fn read_chengdu_with(path: impl AsRef<Path>, opts: &ChengduOptions) -> Result<ReadSummary> {
    let path = path.as_ref();
    let mut out = ReadSummary::default();
    for (i, line) in open_text(path)?.lines().enumerate() {
        let line = line.map_err(|e| RoadError::io(path, e))?;
        let row = i + 1;
        let err = |what: String| RoadError::row(path, row, what);
        let text = line.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        let trip: Trip = serde_json::from_str(text).map_err(|e| err(format!("bad JSON: {e}")))?;
        let n = trip.lngs.len();
        if trip.lats.len() != n || trip.time_gap.len() != n {
            return Err(err(format!("arrays of different lengths: lngs {n}, lats {}, time_gap {}", trip.lats.len(), trip.time_gap.len())));
        }
        let whole = |v: f64| v.is_finite() && v.fract() == 0.0 && v >= 0.0;
        if !whole(trip.date_id) || !whole(trip.time_id) {
            return Err(err(format!("dateID {} / timeID {} are not non-negative integers", trip.date_id, trip.time_id)));
        }
        let start = opts.day0_unix + trip.date_id as i64 * 86_400 + trip.time_id as i64 * 60;
        let mut points = Vec::with_capacity(n);
        for k in 0..n {
            let (lon, lat, gap) = (trip.lngs[k], trip.lats[k], trip.time_gap[k]);
            if let Some(why) = bad_pos(lon, lat) {
                return Err(err(format!("point {}: {why}", k + 1)));
            }
            if !gap.is_finite() || gap < 0.0 {
                return Err(err(format!("point {}: time_gap {gap} is not a non-negative number", k + 1)));
            }
            let time = start + gap.round() as i64;
            if let Some(prev) = points.last().map(|p: &GpsPoint| p.time)
                && time < prev
            {
                return Err(err(format!("point {}: time_gap goes back in time ({gap} s)", k + 1)));
            }
            points.push(GpsPoint { pos: [lon, lat], time });
        }
        let id = value_text(&trip.id)
            .or_else(|| value_text(&trip.traj_id))
            .or_else(|| value_text(&trip.trip_id))
            .unwrap_or_else(|| row.to_string());
        out.push(row, GpsTrack { id, driver: value_text(&trip.driver), points });
    }
    out.finish(path)
}
