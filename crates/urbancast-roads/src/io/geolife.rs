//! Microsoft GeoLife GPS trajectories (Beijing), in two forms:
//!
//! * the original `.plt` files (`Data/<user>/Trajectory/<yyyymmddhhmmss>.plt`): 6 header
//!   lines, then `lat,lon,0,altitude_ft,days_since_1899-12-30,yyyy-mm-dd,hh:mm:ss` (GMT);
//!   a single file or a directory searched recursively;
//! * the scikit-mobility sample CSV `lat,lng,datetime,uid` (often gzipped), read by
//!   [`read_gps_csv_with`](super::read_gps_csv_with).
//!
//! Latitude comes first in both; positions come out as `[lon, lat]`. Each user's stream
//! (each `.plt` file, or each `uid` of the CSV) is sorted by time and cut into tracks at
//! gaps of more than `gap_s` seconds; tracks are `{stream}_{k}` with driver = user.
use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::ReadSummary;
use super::common::{bad_pos, open_text, parse_datetime, split_stream};
use super::gps_csv::read_gps_csv_with;
use crate::error::{Result, RoadError};
use crate::traj::GpsPoint;

/// Default gap (seconds) that ends a GeoLife track: 30 minutes.
pub const GEOLIFE_GAP_S: i64 = 30 * 60;

/// Lines before the first fix in a `.plt` file.
const PLT_HEADER_LINES: usize = 6;
/// Unix day number of 1899-12-30, day 0 of the `.plt` day count.
const PLT_DAY0: f64 = -25_569.0;

/// Reads GeoLife data (a `.plt` file, a directory of them, or the sample CSV), cutting
/// streams at gaps of more than [`GEOLIFE_GAP_S`].
pub fn read_geolife(path: impl AsRef<Path>) -> Result<ReadSummary> {
    read_geolife_with(path, GEOLIFE_GAP_S)
}

/// As [`read_geolife`], with the gap (seconds) that ends a track.
pub fn read_geolife_with(path: impl AsRef<Path>, gap_s: i64) -> Result<ReadSummary> {
    let path = path.as_ref();
    let files = if path.is_dir() {
        let mut files = Vec::new();
        collect_plt(path, &mut files)?;
        files.sort();
        files
    } else if is_plt(path)? {
        vec![path.to_path_buf()]
    } else {
        return read_gps_csv_with(path, gap_s);
    };
    let mut out = ReadSummary::default();
    for f in &files {
        let (user, stem) = plt_names(f);
        split_stream(&format!("{user}/{stem}"), Some(&user), plt_rows(f)?, gap_s, &mut out);
    }
    out.finish(path)
}

/// The fixes of one `.plt` file, in file order.
pub fn read_plt(path: impl AsRef<Path>) -> Result<Vec<GpsPoint>> {
    Ok(plt_rows(path.as_ref())?.into_iter().map(|(_, p)| p).collect())
}

fn is_plt(path: &Path) -> Result<bool> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if name.ends_with(".plt") || name.ends_with(".plt.gz") {
        return Ok(true);
    }
    let mut first = String::new();
    open_text(path)?.read_line(&mut first).map_err(|e| RoadError::io(path, e))?;
    Ok(first.trim_start_matches('\u{feff}').to_ascii_lowercase().starts_with("geolife trajectory"))
}

fn collect_plt(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| RoadError::io(dir, e))? {
        let p = entry.map_err(|e| RoadError::io(dir, e))?.path();
        if p.is_dir() {
            collect_plt(&p, out)?;
        } else if p.file_name().is_some_and(|n| {
            let n = n.to_string_lossy().to_ascii_lowercase();
            n.ends_with(".plt") || n.ends_with(".plt.gz")
        }) {
            out.push(p);
        }
    }
    Ok(())
}

/// (user, file stem): the user is the folder above `Trajectory/`, else the parent folder.
fn plt_names(f: &Path) -> (String, String) {
    let name = |p: Option<&Path>| p.and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
    let parent = f.parent();
    let user = match name(parent) {
        Some(p) if p.eq_ignore_ascii_case("trajectory") => name(parent.and_then(Path::parent)),
        other => other,
    };
    let file = name(Some(f)).unwrap_or_default();
    let lower = file.to_ascii_lowercase();
    let cut = if lower.ends_with(".plt.gz") {
        7
    } else if lower.ends_with(".plt") {
        4
    } else {
        0
    };
    (user.unwrap_or_else(|| "user".into()), file[..file.len() - cut].to_string())
}

/// Fixes with their 1-based line numbers.
fn plt_rows(path: &Path) -> Result<Vec<(usize, GpsPoint)>> {
    let mut pts = Vec::new();
    for (i, line) in open_text(path)?.lines().enumerate() {
        let line = line.map_err(|e| RoadError::io(path, e))?;
        let row = i + 1;
        if row <= PLT_HEADER_LINES || line.trim().is_empty() {
            continue;
        }
        let err = |what: String| RoadError::row(path, row, what);
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() < 7 {
            return Err(err(format!("{} fields where a .plt line has 7 (lat,lon,0,altitude,days,date,time)", f.len())));
        }
        let num = |k: usize, name: &str| f[k].parse::<f64>().map_err(|_| err(format!("{name} `{}` is not a number", f[k])));
        let (lat, lon) = (num(0, "latitude")?, num(1, "longitude")?);
        if let Some(why) = bad_pos(lon, lat) {
            return Err(err(why));
        }
        let time = parse_datetime(&format!("{} {}", f[5], f[6]))
            .or_else(|| {
                let days = f[4].parse::<f64>().ok().filter(|d| d.is_finite())?;
                Some(((days + PLT_DAY0) * 86_400.0).round() as i64)
            })
            .ok_or_else(|| err(format!("date/time `{} {}` is not yyyy-mm-dd hh:mm:ss", f[5], f[6])))?;
        pts.push((row, GpsPoint { pos: [lon, lat], time }));
    }
    Ok(pts)
}
