//! The ASTGCN-style PEMS format: an `.npz` series plus a `from,to,cost` distance list.
use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;

use super::SensorGraph;
use super::adjacency::{AdjacencyKind, gaussian_kernel};
use super::readers::read_series;
use crate::error::{DataError, Result};
use crate::readers::in_file;

/// Reads an ASTGCN PEMS dataset: `npz` key `data` `(T, N, F)` at 5 min (`F = 3` flow,
/// occupancy, speed for PEMS04/08; `F = 1` flow for PEMS03/07) and `distances_csv`, an optional
/// `from,to,cost` header then rows of node indices and a cost. With `id_file` (one sensor id per
/// line, as PEMS03.txt) the CSV holds sensor ids, mapped to their line index, and `node_ids` is
/// set. Edges count in both directions; `kind` picks the weights. Start unknown; zeros are real
/// values; the name is the `npz` file stem lowercased. Unknown ids, out-of-range indices and bad
/// costs are [`DataError::Row`] naming the CSV line.
pub fn read_pems(npz: &Path, distances_csv: &Path, kind: AdjacencyKind, id_file: Option<&Path>) -> Result<SensorGraph> {
    let series = read_series(npz, "data", "T, N, F")?;
    let (_, n, f) = series.dim();
    let ids = id_file.map(|p| read_ids(p, n)).transpose()?;
    let index: Option<HashMap<&str, usize>> = ids.as_ref().map(|ids| ids.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect());
    let edges = read_edges(distances_csv, n, index.as_ref())?;
    let adjacency = match kind {
        AdjacencyKind::Binary | AdjacencyKind::Distance => {
            let mut a = Array2::<f32>::zeros((n, n));
            for &(i, j, c) in &edges {
                let w = if kind == AdjacencyKind::Binary { 1.0 } else { c };
                a[(i, j)] = w;
                a[(j, i)] = w;
            }
            a
        }
        AdjacencyKind::Gaussian { threshold } => {
            let mut d = Array2::<f32>::from_elem((n, n), f32::INFINITY);
            d.diag_mut().fill(0.0);
            for &(i, j, c) in &edges {
                d[(i, j)] = c;
                d[(j, i)] = c;
            }
            gaussian_kernel(&d, threshold)
        }
    };
    let features: Vec<String> = match f {
        1 => vec!["flow".into()],
        3 => ["flow", "occupancy", "speed"].map(String::from).to_vec(),
        _ => (0..f).map(|i| format!("f{i}")).collect(),
    };
    let name = npz.file_stem().map_or("pems".into(), |s| s.to_string_lossy().to_lowercase());
    let mut g = SensorGraph::new(name, 5, series, features, adjacency).map_err(in_file(npz))?;
    if let Some(ids) = ids {
        g = g.with_node_ids(ids).map_err(in_file(npz))?;
    }
    Ok(g)
}

/// One sensor id per non-blank line; exactly `n` distinct ids.
fn read_ids(path: &Path, n: usize) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let mut ids = Vec::new();
    let mut seen = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let id = line.trim();
        if id.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(id.to_string(), i + 1) {
            let what = format!("sensor id `{id}` repeats line {first}");
            return Err(DataError::Row { path: path.into(), row: i + 1, what });
        }
        ids.push(id.to_string());
    }
    if ids.len() != n {
        return Err(DataError::format(path, format!("{} sensor ids for {n} nodes in the series", ids.len())));
    }
    Ok(ids)
}

/// Parses the `from,to,cost` rows into `(i, j, cost)` with node indices `< n`.
fn read_edges(path: &Path, n: usize, ids: Option<&HashMap<&str, usize>>) -> Result<Vec<(usize, usize, f32)>> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let mut edges = Vec::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let header_allowed = std::mem::take(&mut first);
        let row = |what: String| DataError::Row { path: path.into(), row: i + 1, what };
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != 3 {
            return Err(row(format!("{} columns, expected 3 (from,to,cost)", cells.len())));
        }
        if header_allowed && cells[2].parse::<f32>().is_err() {
            continue; // the header line
        }
        let node = |cell: &str| -> Result<usize> {
            match ids {
                Some(ids) => ids.get(cell).copied().ok_or_else(|| row(format!("unknown sensor id `{cell}` (not in the id file)"))),
                None => cell
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v < n as f64)
                    .map(|v| v as usize)
                    .ok_or_else(|| row(format!("`{cell}` is not a node index in 0..{n}"))),
            }
        };
        let (a, b) = (node(cells[0])?, node(cells[1])?);
        let cost = cells[2]
            .parse::<f32>()
            .ok()
            .filter(|c| c.is_finite() && *c >= 0.0)
            .ok_or_else(|| row(format!("cost `{}` is not a finite number >= 0", cells[2])))?;
        edges.push((a, b, cost));
    }
    Ok(edges)
}
