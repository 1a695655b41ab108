//! Trajectory and raw-GPS files.
//!
//! * Map-matched trajectories: the HOSER CSV (`mm_id,user_id,traj_id,rid_list,time_list`),
//!   read and written ([`read_hoser_csv`], [`HoserCsvReader`], [`write_hoser_csv`]).
//! * Raw GPS, read into [`GpsTrack`]s: Porto taxi ([`read_porto`]), Chengdu in the DeepTTE
//!   JSON-lines format ([`read_chengdu`]), GeoLife `.plt` files and the scikit-mobility
//!   GeoLife CSV ([`read_geolife`]), a plain `id,time,lat,lon` CSV ([`read_gps_csv`]), and
//!   [`read_gps_auto`], which recognises all of them.
//!
//! Every reader decompresses gzip transparently (recognised by content, not by name) and
//! every error names the file and the 1-based data row (CSV: records after the header) or
//! line (JSON lines, `.plt`). GPS readers check coordinates (finite, lon in -180..180,
//! lat in -90..90; positions are always `[lon, lat]`), drop tracks with fewer than
//! [`MIN_TRACK_POINTS`] fixes — listed in [`ReadSummary::skipped`] — and fail with
//! "no GPS tracks" when nothing is left.
use std::fmt;
use std::io::BufRead as _;
use std::path::Path;

use crate::error::{Result, RoadError};
use crate::traj::GpsTrack;

mod chengdu;
mod common;
mod geolife;
mod gps_csv;
mod hoser_csv;
mod porto;

pub use chengdu::{CHENGDU_DAY0_UNIX, ChengduOptions, read_chengdu, read_chengdu_with};
pub use common::parse_datetime;
pub use geolife::{GEOLIFE_GAP_S, read_geolife, read_geolife_with, read_plt};
pub use gps_csv::{read_gps_csv, read_gps_csv_with};
pub use hoser_csv::{HOSER_HEADER, HOSER_TIME_FORMAT, HoserCsvReader, format_time, parse_time, read_hoser_csv, write_hoser_csv};
pub use porto::{PORTO_STEP_S, read_porto};

/// Tracks with fewer fixes than this are skipped (and reported) by the GPS readers.
pub const MIN_TRACK_POINTS: usize = 2;

/// A track a GPS reader left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based data row (CSV) or line (JSON lines, `.plt`) where the track starts.
    pub row: usize,
    /// The track's id as given by the file (or derived by the reader).
    pub id: String,
    /// Number of fixes it had.
    pub points: usize,
    /// Why it was left out (e.g. "fewer than 2 points").
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: track {} ({} points): {}", self.row, self.id, self.points, self.reason)
    }
}

/// What a GPS reader returns: the tracks, in file order, and the ones it skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadSummary {
    /// Tracks kept, in file order.
    pub tracks: Vec<GpsTrack>,
    /// Tracks left out, in file order.
    pub skipped: Vec<Skipped>,
}

impl ReadSummary {
    /// Total fixes in the kept tracks.
    pub fn num_points(&self) -> usize {
        self.tracks.iter().map(|t| t.points.len()).sum()
    }
    /// Total fixes in the skipped tracks.
    pub fn num_skipped_points(&self) -> usize {
        self.skipped.iter().map(|s| s.points).sum()
    }
    /// The kept tracks, dropping the list of skipped ones.
    pub fn into_tracks(self) -> Vec<GpsTrack> {
        self.tracks
    }

    /// Keeps `track`, or records it as skipped when it is too short.
    pub(crate) fn push(&mut self, row: usize, track: GpsTrack) {
        let n = track.points.len();
        if n < MIN_TRACK_POINTS {
            let reason = format!("fewer than {MIN_TRACK_POINTS} points");
            self.skipped.push(Skipped { row, id: track.id, points: n, reason });
        } else {
            self.tracks.push(track);
        }
    }

    /// Fails with "no GPS tracks" when nothing was kept.
    pub(crate) fn finish(self, path: &Path) -> Result<Self> {
        if !self.tracks.is_empty() {
            return Ok(self);
        }
        let what = match self.skipped.len() {
            0 => "no GPS tracks".to_string(),
            n => format!("no GPS tracks ({n} skipped, first: {})", self.skipped[0]),
        };
        Err(RoadError::format(path, what))
    }
}

/// Formats [`read_gps_auto`] recognises, for its error message.
pub const ACCEPTED_GPS_FORMATS: &str = "accepted GPS formats: Porto taxi CSV (`shape` WKT + \
`timestamps`, or Kaggle `POLYLINE` + `TIMESTAMP`); Chengdu DeepTTE JSON lines (`lngs`, \
`lats`, `time_gap`, `dateID`, `timeID`); GeoLife `.plt` file or a directory of them; CSV with \
lat/latitude, lon/lng/longitude, time/timestamp/datetime and optionally traj_id/trip_id/id \
and a user column (uid/user_id/driver/taxi_id); any of them gzipped";

/// Reads any supported raw-GPS file, recognised by name and content: a directory or `.plt`
/// → [`read_geolife`]; JSON lines → [`read_chengdu`]; a CSV with `POLYLINE` or
/// `shape`+`timestamps` → [`read_porto`]; a CSV with lat/lon/time columns →
/// [`read_gps_csv`] (this includes the GeoLife sample CSV: rows grouped by `uid` and split
/// at gaps of more than [`GEOLIFE_GAP_S`]).
pub fn read_gps_auto(path: impl AsRef<Path>) -> Result<ReadSummary> {
    let path = path.as_ref();
    if path.is_dir() {
        return read_geolife(path);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".plt") {
        return read_geolife(path);
    }
    let mut first = String::new();
    let mut r = common::open_text(path)?;
    while first.trim().is_empty() {
        first.clear();
        if r.read_line(&mut first).map_err(|e| RoadError::io(path, e))? == 0 {
            return Err(RoadError::format(path, "empty file: no GPS tracks"));
        }
    }
    let first = first.trim_start_matches('\u{feff}').trim();
    if first.starts_with('{') {
        return read_chengdu(path);
    }
    if first.to_ascii_lowercase().starts_with("geolife trajectory") {
        return read_geolife(path);
    }
    let cols: Vec<String> = first.split(',').map(|c| c.trim().trim_matches('"').trim().to_ascii_lowercase()).collect();
    let has = |n: &str| cols.iter().any(|c| c == n);
    if has("rid_list") {
        return Err(RoadError::format(path, "a HOSER map-matched trajectory file (rid_list, road ids, not GPS): use read_hoser_csv"));
    }
    if has("polyline") || (has("shape") && has("timestamps")) {
        return read_porto(path);
    }
    let any = |names: &[&str]| names.iter().any(|n| has(n));
    if any(gps_csv::LAT) && any(gps_csv::LON) && any(gps_csv::TIME) {
        return read_gps_csv(path);
    }
    Err(RoadError::format(path, format!("unrecognised GPS file (header `{first}`); {ACCEPTED_GPS_FORMATS}")))
}
