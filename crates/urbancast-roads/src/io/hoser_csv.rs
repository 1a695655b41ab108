//! HOSER map-matched trajectory CSV (`train.csv`/`val.csv`/`test.csv` of the HOSER data):
//!
//! ```text
//! mm_id,user_id,traj_id,rid_list,time_list
//! 0,17,1042,"[3048, 3051, 3060]","2015-11-05T08:01:12Z,2015-11-05T08:01:40Z,2015-11-05T08:02:31Z"
//! ```
//!
//! HOSER's scripts read `rid_list` as a Python list literal and split `time_list` on commas,
//! parsing each item with `%Y-%m-%dT%H:%M:%SZ` (UTC). Here columns are found by header name;
//! only `rid_list` and `time_list` are required. Both lists are accepted with or without
//! brackets, spaces and quotes around the list or its items (never evaluated).
use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::common::{Sink, csv_error, csv_reader, header_names, iso_utc, parse_datetime};
use crate::error::{Result, RoadError};
use crate::traj::Trajectory;

/// The header [`write_hoser_csv`] writes.
pub const HOSER_HEADER: [&str; 5] = ["mm_id", "user_id", "traj_id", "rid_list", "time_list"];
/// The timestamp format of `time_list` (UTC).
pub const HOSER_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Unix seconds as `%Y-%m-%dT%H:%M:%SZ` (UTC), e.g. `2015-11-05T08:01:12Z`.
pub fn format_time(t: i64) -> String {
    iso_utc(t)
}

/// Parses `%Y-%m-%dT%H:%M:%SZ` (also a space for `T`, no `Z`, a fraction or an offset) to
/// Unix seconds; `None` when it is not a date-time.
pub fn parse_time(s: &str) -> Option<i64> {
    parse_datetime(s)
}

/// The items of a list literal: `[1, 2]`, `1,2`, `"[1,2]"`, `['a', 'b']`, `(1, 2)`.
/// A trailing comma is allowed; an empty list gives no items.
fn list_items(s: &str) -> Vec<&str> {
    let s = unquote(s.trim());
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .or_else(|| s.strip_prefix('(').and_then(|x| x.strip_suffix(')')))
        .unwrap_or(s);
    if s.trim().is_empty() {
        return Vec::new();
    }
    let mut items: Vec<&str> = s.split(',').map(|x| unquote(x.trim())).collect();
    if items.len() > 1 && items.last().is_some_and(|x| x.is_empty()) {
        items.pop();
    }
    items
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return inner.trim();
        }
    }
    s
}

struct Cols {
    mm_id: Option<usize>,
    user_id: Option<usize>,
    traj_id: Option<usize>,
    rid_list: usize,
    time_list: usize,
}

/// Streams the trajectories of a HOSER CSV one row at a time (for files too big to hold).
/// After a bad row it goes on with the next; after malformed CSV or an I/O error it ends.
pub struct HoserCsvReader {
    path: PathBuf,
    rdr: csv::Reader<Box<dyn BufRead + Send>>,
    cols: Cols,
    record: csv::StringRecord,
    row: usize,
    done: bool,
}

impl HoserCsvReader {
    /// Opens a HOSER CSV (gzip or plain) and checks its header: `rid_list` and `time_list`
    /// are required, `mm_id`, `user_id` and `traj_id` optional.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut rdr = csv_reader(&path)?;
        let names = header_names(rdr.headers().map_err(|e| csv_error(&path, e))?);
        if names.iter().all(|n| n.is_empty()) {
            return Err(RoadError::format(&path, format!("empty file: expected header `{}`", HOSER_HEADER.join(","))));
        }
        let col = |n: &str| names.iter().position(|c| c == n);
        let (Some(rid_list), Some(time_list)) = (col("rid_list"), col("time_list")) else {
            return Err(RoadError::format(&path, format!("missing column rid_list or time_list (header: `{}`)", names.join(","))));
        };
        let cols = Cols { mm_id: col("mm_id"), user_id: col("user_id"), traj_id: col("traj_id"), rid_list, time_list };
        Ok(HoserCsvReader { path, rdr, cols, record: csv::StringRecord::new(), row: 0, done: false })
    }

    /// 1-based data row of the last record read.
    pub fn row(&self) -> usize {
        self.row
    }

    fn err(&self, what: String) -> RoadError {
        RoadError::row(&self.path, self.row, what)
    }

    fn cell(&self, c: Option<usize>) -> Option<String> {
        c.and_then(|c| self.record.get(c)).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
    }

    fn parse(&self) -> Result<Trajectory> {
        let mm_id = self.cell(self.cols.mm_id);
        if let Some(m) = &mm_id
            && m.parse::<u64>().is_err()
        {
            return Err(self.err(format!("column mm_id: `{m}` is not an integer id")));
        }
        let driver = self.cell(self.cols.user_id);
        let id = self.cell(self.cols.traj_id).or(mm_id);

        let rid_text = self.record.get(self.cols.rid_list).unwrap_or("");
        let rids = list_items(rid_text);
        if rids.is_empty() {
            return Err(self.err("column rid_list: empty list".into()));
        }
        let mut roads = Vec::with_capacity(rids.len());
        for (k, r) in rids.iter().enumerate() {
            match r.parse::<u64>() {
                Ok(v) => roads.push(v),
                Err(_) => {
                    return Err(self.err(format!("column rid_list: item {} `{r}` is not a road id", k + 1)));
                }
            }
        }
        let items = list_items(self.record.get(self.cols.time_list).unwrap_or(""));
        if items.is_empty() {
            return Err(self.err("column time_list: empty list".into()));
        }
        let mut times = Vec::with_capacity(items.len());
        for (k, t) in items.iter().enumerate() {
            match parse_time(t) {
                Some(v) => times.push(v),
                None => {
                    return Err(self.err(format!("column time_list: item {} `{t}` is not a timestamp {HOSER_TIME_FORMAT}", k + 1)));
                }
            }
        }
        if roads.len() != times.len() {
            return Err(self.err(format!("column rid_list has {} roads but column time_list has {} timestamps", roads.len(), times.len())));
        }
        Trajectory::new(id, driver, roads, times).map_err(|e| self.err(format!("column time_list: {e}")))
    }
}

impl Iterator for HoserCsvReader {
    type Item = Result<Trajectory>;
    fn next(&mut self) -> Option<Result<Trajectory>> {
        if self.done {
            return None;
        }
        match self.rdr.read_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                self.row += 1;
                Some(self.parse())
            }
            Err(e) => {
                self.done = true;
                Some(Err(csv_error(&self.path, e)))
            }
        }
    }
}

/// Reads a whole HOSER CSV (gzip is decompressed transparently). `id` is `traj_id` (or
/// `mm_id` when there is no `traj_id`), `driver` is `user_id`; empty cells are `None`.
pub fn read_hoser_csv(path: impl AsRef<Path>) -> Result<Vec<Trajectory>> {
    HoserCsvReader::open(path)?.collect()
}

/// Writes trajectories as a HOSER CSV (gzipped when the name ends in `.gz`): `mm_id` is the
/// 0-based row index, `user_id` the driver (or empty), `traj_id` the id (or the row index),
/// `rid_list` as `"[a, b, c]"` and `time_list` as comma-separated [`HOSER_TIME_FORMAT`].
/// [`read_hoser_csv`] gives back exactly what was written, except that a missing id comes
/// back as the row index and an empty driver or id as `None`.
pub fn write_hoser_csv(path: impl AsRef<Path>, trajs: &[Trajectory]) -> Result<()> {
    let path = path.as_ref();
    let mut w = csv::WriterBuilder::new().from_writer(Sink::create(path)?);
    let wr = |e: csv::Error| csv_error(path, e);
    w.write_record(HOSER_HEADER).map_err(wr)?;
    for (i, t) in trajs.iter().enumerate() {
        t.validate().map_err(|e| RoadError::invalid(format!("{}: trajectory {i}: {e}", path.display())))?;
        if let Some(&bad) = t.times.iter().find(|&&x| parse_time(&format_time(x)) != Some(x)) {
            return Err(RoadError::invalid(format!(
                "{}: trajectory {i}: time {bad} cannot be written as {HOSER_TIME_FORMAT}",
                path.display()
            )));
        }
        let roads: Vec<String> = t.roads.iter().map(u64::to_string).collect();
        let times: Vec<String> = t.times.iter().map(|&x| format_time(x)).collect();
        let index = i.to_string();
        w.write_record([
            index.as_str(),
            t.driver.as_deref().unwrap_or(""),
            t.id.as_deref().unwrap_or(&index),
            &format!("[{}]", roads.join(", ")),
            &times.join(","),
        ])
        .map_err(wr)?;
    }
    let sink = w.into_inner().map_err(|e| RoadError::io(path, e.into_error()))?;
    sink.finish().map_err(|e| RoadError::io(path, e))
}
