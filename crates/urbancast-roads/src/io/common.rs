//! Shared plumbing of the readers: transparent gzip, CSV column lookup, time parsing,
//! coordinate checks and splitting a point stream into tracks at time gaps.
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::ReadSummary;
use crate::error::{Result, RoadError};
use crate::traj::{GpsPoint, GpsTrack};

/// Opens a text file for reading; gzip content (by its magic bytes, whatever the name) is
/// decompressed on the fly.
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let f = File::open(path).map_err(|e| RoadError::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let gz = r.fill_buf().map_err(|e| RoadError::io(path, e))?.starts_with(&[0x1f, 0x8b]);
    if gz { Ok(Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(r)))) } else { Ok(Box::new(r)) }
}

/// A file being written, gzip-compressed when its name ends in `.gz`: the bytes go to a
/// temporary file beside the destination ([`urbancast_io::temp_path`]), renamed over it by
/// [`Sink::finish`] (a destination that is not a regular file, e.g. a device, is written
/// directly).
pub(crate) struct Sink {
    out: SinkWriter,
    /// Where the bytes go now, and the destination when that is a temporary file.
    rename: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

enum SinkWriter {
    Plain(BufWriter<File>),
    Gz(Box<GzEncoder<BufWriter<File>>>),
}

impl Sink {
    pub(crate) fn create(path: &Path) -> Result<Sink> {
        let direct = path.exists() && !path.is_file();
        let target = if direct { path.to_path_buf() } else { urbancast_io::temp_path(path) };
        let f = BufWriter::new(File::create(&target).map_err(|e| RoadError::io(path, e))?);
        let gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let out = if gz { SinkWriter::Gz(Box::new(GzEncoder::new(f, Compression::default()))) } else { SinkWriter::Plain(f) };
        Ok(Sink { out, rename: (!direct).then(|| (target, path.to_path_buf())) })
    }
    /// Flushes everything (and writes the gzip trailer), then renames the temporary file.
    pub(crate) fn finish(self) -> io::Result<()> {
        let res = match self.out {
            SinkWriter::Plain(mut w) => w.flush(),
            SinkWriter::Gz(g) => g.finish().and_then(|mut w| w.flush()),
        };
        match (res, &self.rename) {
            (Ok(()), Some((tmp, dest))) => std::fs::rename(tmp, dest),
            (Err(e), Some((tmp, _))) => {
                let _ = std::fs::remove_file(tmp);
                Err(e)
            }
            (r, None) => r,
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            SinkWriter::Plain(w) => w.write(buf),
            SinkWriter::Gz(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            SinkWriter::Plain(w) => w.flush(),
            SinkWriter::Gz(w) => w.flush(),
        }
    }
}

/// A CSV reader over a (possibly gzipped) file, with a header row.
pub(crate) fn csv_reader(path: &Path) -> Result<csv::Reader<Box<dyn BufRead + Send>>> {
    Ok(csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(open_text(path)?))
}

/// Maps a CSV error to one that names the file and, when known, the 1-based data row.
pub(crate) fn csv_error(path: &Path, e: csv::Error) -> RoadError {
    let row = e.position().map(|p| p.record() as usize);
    match (e.into_kind(), row) {
        (csv::ErrorKind::Io(io), _) => RoadError::io(path, io),
        (kind, Some(row)) if row > 0 => RoadError::row(path, row, format!("malformed CSV: {}", kind_text(kind))),
        (kind, _) => RoadError::format(path, format!("malformed CSV: {}", kind_text(kind))),
    }
}

fn kind_text(kind: csv::ErrorKind) -> String {
    match kind {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 ({err})"),
        other => format!("{other:?}"),
    }
}

/// Lower-cased, trimmed header names (a UTF-8 BOM on the first one removed).
pub(crate) fn header_names(h: &csv::StringRecord) -> Vec<String> {
    h.iter().map(|s| s.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()).collect()
}

/// Index of the first header equal (case-insensitively) to one of `aliases`, in alias order.
pub(crate) fn find_col(names: &[String], aliases: &[&str]) -> Option<usize> {
    aliases.iter().find_map(|a| names.iter().position(|n| n == a))
}

/// Why `[lon, lat]` is not a usable WGS84 position, or `None` when it is.
pub(crate) fn bad_pos(lon: f64, lat: f64) -> Option<String> {
    if !lon.is_finite() || !lat.is_finite() {
        Some(format!("coordinate (lon {lon}, lat {lat}) is not a number"))
    } else if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        Some(format!("coordinate (lon {lon}, lat {lat}) is out of range (lon -180..180, lat -90..90)"))
    } else {
        None
    }
}

/// `YYYY-MM-DD?HH:MM:SS` (separator `T` or space) with an optional trailing `Z`, without
/// going through a format string (these dominate the big files).
fn fast_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let b = match b.len() {
        19 => b,
        20 if b[19] == b'Z' => &b[..19],
        _ => return None,
    };
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    Some(date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?.and_utc().timestamp())
}

/// Parses an ISO 8601 / RFC 3339 date-time (`2008-10-23T05:53:05Z`, `...+08:00`,
/// `2008-10-23 05:53:05`, optional fraction, `/` as date separator) to Unix seconds
/// (fractions truncated). Times without an offset are taken as UTC.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(t) = fast_iso(s) {
        return Some(t);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp());
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y/%m/%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| n.and_utc().timestamp())
}

/// `%Y-%m-%dT%H:%M:%SZ` of Unix seconds (the bare number if chrono cannot represent it).
pub(crate) fn iso_utc(t: i64) -> String {
    match DateTime::from_timestamp(t, 0) {
        Some(d) => format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", d.year(), d.month(), d.day(), d.hour(), d.minute(), d.second()),
        None => t.to_string(),
    }
}

/// Sorts a stream of (row, point) by time (stably) and cuts it wherever two consecutive
/// fixes are more than `gap_s` seconds apart; pieces are named `{name}_{k}` (k from 0).
pub(crate) fn split_stream(name: &str, driver: Option<&str>, mut pts: Vec<(usize, GpsPoint)>, gap_s: i64, out: &mut ReadSummary) {
    pts.sort_by_key(|(_, p)| p.time);
    let mut start = 0;
    let mut k = 0;
    for i in 1..=pts.len() {
        if i == pts.len() || pts[i].1.time - pts[i - 1].1.time > gap_s {
            let piece = &pts[start..i];
            let track =
                GpsTrack { id: format!("{name}_{k}"), driver: driver.map(str::to_string), points: piece.iter().map(|(_, p)| *p).collect() };
            out.push(piece.iter().map(|(r, _)| *r).min().unwrap_or(0), track);
            start = i;
            k += 1;
        }
    }
}
