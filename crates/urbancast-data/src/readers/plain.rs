//! Any `.npy` / `.npz` flow array, given its axis order.
use std::path::Path;

use ndarray::Array2;

use super::common::{nonempty, stem};
use super::npy::{in_file, npz_keys, read_npy_array, read_npz_array};
use crate::city::{Channel, City, Layout};
use crate::error::{DataError, Result};

/// Reads a flow array whose axes are declared by `axes`, one letter per axis: `T` time
/// (required), `H` and `W` grid rows and columns, or `R` regions, and `C` channels (optional: a
/// missing `C` means one channel). Examples: `"THWC"`, `"TCHW"`, `"TRC"`, `"TR"`.
///
/// For `.npz`, `key` names the member (it may be omitted when the archive holds exactly one);
/// for `.npy` it must be `None`. The array is permuted to `[T, R, C]` (grid regions row-major).
/// Layout: `Grid` for `H`/`W`; for `R`, a `Graph` with an all-zero adjacency (no known edges,
/// replace it if you have one). `channels` names the channels in file order. Named after the
/// file stem.
pub fn read_plain(path: impl AsRef<Path>, key: Option<&str>, axes: &str, interval_min: u32, channels: Vec<Channel>) -> Result<City> {
    let path = path.as_ref();
    let axes_up = axes.to_ascii_uppercase();
    let letters: Vec<char> = axes_up.chars().collect();
    let spec_err = |what: &str| DataError::Spec { spec: axes.into(), what: what.into() };
    if let Some(c) = letters.iter().find(|c| !"THWRC".contains(**c)) {
        return Err(spec_err(&format!("unknown axis letter `{c}` (use T, H, W, R, C)")));
    }
    if let Some(c) = letters.iter().find(|c| letters.iter().filter(|d| d == c).count() > 1) {
        return Err(spec_err(&format!("axis `{c}` appears more than once")));
    }
    let pos = |c: char| letters.iter().position(|&d| d == c);
    let (t, h, w, r, c) = (pos('T'), pos('H'), pos('W'), pos('R'), pos('C'));
    let Some(t) = t else {
        return Err(spec_err("no time axis `T`"));
    };
    let spatial: Vec<usize> = match (h, w, r) {
        (Some(h), Some(w), None) => vec![h, w],
        (None, None, Some(r)) => vec![r],
        _ => {
            return Err(spec_err("need either `R` or both `H` and `W` for the regions"));
        }
    };

    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let (a, label) = match (ext.as_deref(), key) {
        (Some("npz"), Some(k)) => (read_npz_array(path, k)?, k.to_string()),
        (Some("npz"), None) => {
            let keys = npz_keys(path)?;
            let [only] = keys.as_slice() else {
                return Err(DataError::format(path, format!("give a key: the archive holds {}", keys.join(", "))));
            };
            (read_npz_array(path, only)?, only.clone())
        }
        (Some("npy"), None) => (read_npy_array(path)?, "(whole file)".to_string()),
        (Some("npy"), Some(k)) => {
            return Err(DataError::format(path, format!("key `{k}` given for a .npy file")));
        }
        _ => return Err(DataError::format(path, "expected a .npy or .npz file")),
    };
    if a.ndim() != letters.len() {
        return Err(DataError::Shape {
            path: path.into(),
            key: label,
            expected: format!("rank {} for axes `{axes}`", letters.len()),
            found: a.shape().to_vec(),
        });
    }

    nonempty(path, &label, &a)?;
    let mut perm = vec![t];
    perm.extend(&spatial);
    perm.extend(c);
    let a = a.permuted_axes(perm).as_standard_layout().into_owned();
    let sh = a.shape().to_vec();
    let regions: usize = sh[1..=spatial.len()].iter().product();
    let nc = if c.is_some() { sh[sh.len() - 1] } else { 1 };
    let flow = a
        .into_shape_with_order((sh[0], regions, nc))
        .map_err(|e| DataError::format(path, format!("key `{label}`: cannot reshape to [T, R, C]: {e}")))?;
    let layout = match spatial.len() {
        2 => Layout::Grid { height: sh[1], width: sh[2] },
        _ => Layout::Graph { adjacency: Array2::zeros((regions, regions)), coords: None },
    };
    City::new(stem(path), interval_min, flow, channels, layout).map_err(in_file(path))
}
