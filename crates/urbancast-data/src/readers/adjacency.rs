//! Square adjacency matrices stored as CSV text.
use std::path::Path;

use ndarray::Array2;

use crate::error::{DataError, Result};

/// Reads an `n x n` numeric CSV matrix. With `header`, the first line is skipped. Line ends may
/// be `\n`, `\r\n` or `\r\r\n` (as written by some Windows tools); blank trailing lines are
/// ignored. Errors are [`DataError::Row`] with the 1-based line number in the file.
pub fn read_adjacency_csv(path: impl AsRef<Path>, n: usize, header: bool) -> Result<Array2<f32>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let mut lines: Vec<(usize, &str)> = text.split('\n').map(|l| l.trim_end_matches('\r')).enumerate().map(|(i, l)| (i + 1, l)).collect();
    while lines.last().is_some_and(|(_, l)| l.trim().is_empty()) {
        lines.pop();
    }
    let rows = if header { lines.get(1..).unwrap_or_default() } else { &lines[..] };
    let mut m = Array2::<f32>::zeros((n, n));
    for (i, &(line, text)) in rows.iter().enumerate() {
        if i >= n {
            return Err(DataError::Row { path: path.into(), row: line, what: format!("more than {n} data rows") });
        }
        let cells: Vec<&str> = text.split(',').map(str::trim).collect();
        if cells.len() != n {
            return Err(DataError::Row { path: path.into(), row: line, what: format!("{} columns, expected {n}", cells.len()) });
        }
        for (j, cell) in cells.iter().enumerate() {
            m[(i, j)] = cell.parse::<f32>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| DataError::Row {
                path: path.into(),
                row: line,
                what: format!("column {j}: `{cell}` is not a finite number >= 0"),
            })?;
        }
    }
    if rows.len() < n {
        let row = lines.last().map_or(1, |(l, _)| l + 1);
        return Err(DataError::Row { path: path.into(), row, what: format!("only {} data rows, expected {n}", rows.len()) });
    }
    Ok(m)
}
