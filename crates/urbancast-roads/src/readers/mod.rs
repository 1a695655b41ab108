//! Road network readers.
//!
//! | layout | reader | road ids | successors |
//! |---|---|---|---|
//! | LibCity / HOSER atomic files `roadmap.geo` + `roadmap.rel` | [`read_geo_rel`] | `geo_id` | the `.rel` pairs |
//! | OSM edge table `edges.csv` (WKT `shape`, `start_node`, `end_node`) | [`read_osm_csv`] | 0-based row index | junction ids |
//! | ESRI shapefile `edges.shp` + `.dbf` (OSMnx export, MTrajRec) | [`read_shapefile_network`] | `eid` / `fid` / record index | `u`,`v` or snapped end points |
//!
//! [`read_network_auto`] picks the reader from what a path holds. Every error names the file
//! and, for data problems, the 1-based data row (the header line is not counted).
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Result, RoadError};
use crate::geo::LonLat;
use crate::network::RoadNetwork;

pub mod attrs;
mod geo_rel;
mod osm_csv;
mod shp;
pub mod wkt;

pub use geo_rel::read_geo_rel;
pub use osm_csv::read_osm_csv;
pub use shp::read_shapefile_network;

/// The layouts [`read_network_auto`] accepts, for error messages.
pub const ACCEPTED_LAYOUTS: &str = "accepted road network layouts: a folder with `roadmap.geo` + `roadmap.rel` \
(LibCity/HOSER; or one `<name>.geo` + `<name>.rel` pair), a `.geo` or `.rel` file with its partner beside it, \
a folder with `edges.csv` or an `edges.csv`-style `.csv` file (OSM edges with a WKT `shape`), \
a folder with `edges.shp` (or exactly one `.shp`) or a `.shp` file (with its `.dbf`)";

/// Reads a road network from whatever `path` holds: see [`ACCEPTED_LAYOUTS`].
pub fn read_network_auto(path: impl AsRef<Path>) -> Result<RoadNetwork> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| RoadError::io(path, e))?;
    if meta.is_dir() {
        let (geo, rel) = (path.join("roadmap.geo"), path.join("roadmap.rel"));
        if geo.is_file() && rel.is_file() {
            return read_geo_rel(geo, rel);
        }
        let listing = list_dir(path)?;
        let with_ext = |ext: &str| -> Vec<&PathBuf> { listing.iter().filter(|p| has_ext(p, ext)).collect() };
        let (geos, rels) = (with_ext("geo"), with_ext("rel"));
        if let ([g], [r]) = (geos.as_slice(), rels.as_slice()) {
            return read_geo_rel(g, r);
        }
        if path.join("edges.csv").is_file() {
            return read_osm_csv(path);
        }
        if path.join("edges.shp").is_file() {
            return read_shapefile_network(path);
        }
        if let [shp] = with_ext("shp").as_slice() {
            return read_shapefile_network(shp);
        }
        return Err(RoadError::format(path, format!("no road network found in this folder; {ACCEPTED_LAYOUTS}")));
    }
    if has_ext(path, "geo") {
        let rel = path.with_extension("rel");
        if !rel.is_file() {
            return Err(RoadError::format(path, format!("`.geo` file without its `.rel` partner {}", rel.display())));
        }
        return read_geo_rel(path, rel);
    }
    if has_ext(path, "rel") {
        return read_geo_rel(path.with_extension("geo"), path);
    }
    if has_ext(path, "csv") {
        return read_osm_csv(path);
    }
    if has_ext(path, "shp") {
        return read_shapefile_network(path);
    }
    Err(RoadError::format(path, format!("unknown road network file type; {ACCEPTED_LAYOUTS}")))
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| RoadError::io(dir, e))?;
    let mut out: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    out.sort();
    Ok(out)
}

pub(crate) fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// A network name from a file path: its folder's name, else the file stem.
pub(crate) fn network_name(file: &Path) -> String {
    let dir = file.parent().and_then(|d| d.file_name()).and_then(|n| n.to_str());
    let stem = file.file_stem().and_then(|n| n.to_str());
    dir.or(stem).unwrap_or("roads").to_string()
}

/// `file` itself, or `dir/default_name` when `file` is a folder.
pub(crate) fn file_in(path: &Path, default_name: &str) -> PathBuf {
    if path.is_dir() { path.join(default_name) } else { path.to_path_buf() }
}

/// Checks reader-side that a polyline is usable, so that the error can name the row.
pub(crate) fn check_points(path: &Path, row: usize, pts: &[LonLat]) -> Result<()> {
    if pts.len() < 2 {
        return Err(RoadError::row(path, row, format!("a road needs at least two points, this one has {}", pts.len())));
    }
    if let Some(p) = pts.iter().find(|p| !(p[0].is_finite() && p[1].is_finite() && p[0].abs() <= 180.0 && p[1].abs() <= 90.0)) {
        return Err(RoadError::row(
            path,
            row,
            format!("point {p:?} is not a [lon, lat] in degrees (projected coordinates are not supported: export in WGS84)"),
        ));
    }
    Ok(())
}

/// A CSV file with a header, columns found by (case-insensitive, trimmed) name.
pub(crate) struct CsvTable {
    pub path: PathBuf,
    reader: csv::Reader<File>,
    header: Vec<String>,
    cols: HashMap<String, usize>,
}

impl CsvTable {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| RoadError::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| RoadError::format(path, format!("cannot read the CSV header: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let mut cols = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            cols.entry(h.to_ascii_lowercase()).or_insert(i);
        }
        Ok(CsvTable { path: path.to_path_buf(), reader, header, cols })
    }

    pub fn opt_col(&self, name: &str) -> Option<usize> {
        self.cols.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn col(&self, name: &str) -> Result<usize> {
        self.opt_col(name)
            .ok_or_else(|| RoadError::format(&self.path, format!("missing column `{name}` (the header has: {})", self.header.join(", "))))
    }

    /// Data rows with their 1-based row number (header not counted).
    pub fn rows(&mut self) -> impl Iterator<Item = Result<(usize, csv::StringRecord)>> + '_ {
        let path = self.path.clone();
        self.reader
            .records()
            .enumerate()
            .map(move |(i, r)| r.map(|rec| (i + 1, rec)).map_err(|e| RoadError::row(&path, i + 1, format!("cannot read CSV row: {e}"))))
    }
}

/// The trimmed cell of column `col`, empty when the row is short.
pub(crate) fn cell(rec: &csv::StringRecord, col: usize) -> &str {
    rec.get(col).unwrap_or("").trim()
}

/// The trimmed cell of an optional column.
pub(crate) fn opt_cell(rec: &csv::StringRecord, col: Option<usize>) -> &str {
    col.map_or("", |c| cell(rec, c))
}
