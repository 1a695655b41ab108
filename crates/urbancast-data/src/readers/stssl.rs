//! ST-SSL (Echo-Ji/ST-SSL, WJiang0/P-GASR) sliding-window directories.
//!
//! A directory holds `train.npz` / `val.npz` / `test.npz` (any of them, used in that order), each
//! with `x (N, Lx, R, 2)`, `y (N, Ly, R, 2)`, `x_offsets (Lx, 1)` and `y_offsets (Ly, 1)`, plus an
//! optional `adj_mx.npz (R, R)`. Window `i` is anchored at time `t0 + i` and holds the values at
//! `t0 + i + offset`. The offsets are *not* contiguous in the real data (NYCBike1 uses
//! `-73..-69, -49..-45, -25..-21, -3..0` for `x` and `1` for `y`: closeness, daily and weekly
//! context), so the series is rebuilt from the offsets: every value of every window is placed at
//! its time step and must agree with what earlier windows (and earlier files, which the next file
//! must continue directly) put there. Channels are `[in, out]` = `[Dropoff, Pickup]`.
use std::path::{Path, PathBuf};

use ndarray::{Array3, Array4, ArrayView2, Ix4, s};

use super::common::nonempty;
use super::npy::{check_shape, in_file, read_npz_array};
use crate::city::{Channel, City, Layout};
use crate::error::{DataError, Result};

/// The grid and interval of the published ST-SSL datasets, by region count `R`:
/// 128 -> 16x8 hourly (NYCBike1), 200 -> 10x20 every 30 minutes (NYCBike2, NYCTaxi).
/// Returns `(height, width, interval_min)`.
pub fn stssl_known_grid(num_regions: usize) -> Option<(usize, usize, u32)> {
    match num_regions {
        128 => Some((16, 8, 60)),
        200 => Some((10, 20, 30)),
        _ => None,
    }
}

/// Reads an ST-SSL directory whose grid is `height x width` (`R = height * width`, row-major)
/// with `interval_min` minutes per step. The city is named after the directory.
pub fn read_stssl(dir: impl AsRef<Path>, height: usize, width: usize, interval_min: u32) -> Result<City> {
    let dir = dir.as_ref();
    let (series, first) = rebuild_series(dir)?;
    let r = series.dim().1;
    if r != height * width {
        return Err(DataError::format(
            first,
            format!("key `x`: {r} regions, but the grid given is {height}x{width} = {} regions", height * width),
        ));
    }
    let name = dir.file_name().map_or_else(|| "stssl".to_string(), |n| n.to_string_lossy().into_owned());
    City::new(name, interval_min, series, vec![Channel::Dropoff, Channel::Pickup], Layout::Grid { height, width }).map_err(in_file(dir))
}

/// Like [`read_stssl`], inferring grid and interval with [`stssl_known_grid`] from `R`.
pub fn read_stssl_auto(dir: impl AsRef<Path>) -> Result<City> {
    let dir = dir.as_ref();
    let (series, first) = rebuild_series(dir)?;
    let r = series.dim().1;
    let (h, w, interval) = stssl_known_grid(r).ok_or_else(|| {
        DataError::format(
            &first,
            format!("key `x`: {r} regions is not a known ST-SSL grid (128 or 200); call read_stssl with the grid shape"),
        )
    })?;
    let name = dir.file_name().map_or_else(|| "stssl".to_string(), |n| n.to_string_lossy().into_owned());
    City::new(name, interval, series, vec![Channel::Dropoff, Channel::Pickup], Layout::Grid { height: h, width: w }).map_err(in_file(dir))
}

/// One split file: its windows and the time offset of every `x` step then every `y` step.
struct Split {
    path: PathBuf,
    x: Array4<f32>,
    y: Array4<f32>,
    offsets: Vec<i64>,
}

/// Where a series value came from, for error messages.
#[derive(Clone, Copy)]
struct Source {
    file: usize,
    window: usize,
    step: usize,
}

/// Rebuilds the `[T, R, 2]` series from every split present; also returns the first file's path.
fn rebuild_series(dir: &Path) -> Result<(Array3<f32>, PathBuf)> {
    let paths: Vec<PathBuf> = ["train", "val", "test"].iter().map(|n| dir.join(format!("{n}.npz"))).filter(|p| p.is_file()).collect();
    if paths.is_empty() {
        return Err(DataError::format(dir, "no train.npz, val.npz or test.npz in this directory"));
    }
    let splits = paths.iter().map(|p| load_split(p)).collect::<Result<Vec<_>>>()?;
    let (r, c) = (splits[0].x.dim().2, splits[0].x.dim().3);
    for s in &splits[1..] {
        if s.offsets != splits[0].offsets || s.x.dim().2 != r {
            return Err(DataError::format(
                &s.path,
                format!(
                    "windows differ from {}: offsets {:?} vs {:?}, {} vs {r} regions",
                    splits[0].path.display(),
                    s.offsets,
                    splits[0].offsets,
                    s.x.dim().2
                ),
            ));
        }
    }
    let adj = dir.join("adj_mx.npz");
    if adj.is_file() {
        let a = read_npz_array(&adj, "adj_mx")?;
        check_shape(&adj, "adj_mx", a.shape(), &format!("{r}, {r}"))?;
    }

    let offsets = &splits[0].offsets;
    let (lo, hi) = (*offsets.iter().min().unwrap_or(&0), *offsets.iter().max().unwrap_or(&0));
    let windows: usize = splits.iter().map(|s| s.x.dim().0).sum();
    let len = windows + (hi - lo) as usize;
    // Every step must be covered by some window value: check before allocating the series.
    if len > windows * offsets.len() {
        return Err(DataError::format(dir, format!("{windows} windows with offsets {offsets:?} cannot cover the {len} steps they span")));
    }
    let mut series = Array3::<f32>::zeros((len, r, c));
    let mut source: Vec<Option<Source>> = vec![None; len];
    let mut g = 0usize; // global window index
    for (f, split) in splits.iter().enumerate() {
        for i in 0..split.x.dim().0 {
            for (step, &o) in offsets.iter().enumerate() {
                let lx = split.x.dim().1;
                let slab = if step < lx { split.x.slice(s![i, step, .., ..]) } else { split.y.slice(s![i, step - lx, .., ..]) };
                let t = (g as i64 + o - lo) as usize;
                match source[t] {
                    None => {
                        series.slice_mut(s![t, .., ..]).assign(&slab);
                        source[t] = Some(Source { file: f, window: i, step });
                    }
                    Some(src) => check_same(&splits, f, i, step, slab, series.slice(s![t, .., ..]), src)?,
                }
            }
            g += 1;
        }
    }
    if let Some(t) = source.iter().position(Option::is_none) {
        return Err(DataError::format(
            dir,
            format!("rebuilt time step {t} of {len} is covered by no window (offsets {offsets:?} leave a gap)"),
        ));
    }
    Ok((series, paths[0].clone()))
}

/// Compares a window's slab with the value already placed at its time step.
fn check_same(
    splits: &[Split],
    f: usize,
    i: usize,
    step: usize,
    slab: ArrayView2<f32>,
    placed: ArrayView2<f32>,
    src: Source,
) -> Result<()> {
    let same = |a: f32, b: f32| a == b || (a.is_nan() && b.is_nan());
    let Some(((ri, ci), v)) = slab.indexed_iter().find(|(idx, v)| !same(**v, placed[*idx])) else {
        return Ok(());
    };
    let name = |file: usize, step: usize| {
        let lx = splits[file].x.dim().1;
        let part = if step < lx { format!("x step {step}") } else { format!("y step {}", step - lx) };
        format!("{part} (offset {})", splits[file].offsets[step])
    };
    let earlier = if src.file == f {
        format!("window {}", src.window)
    } else {
        format!("window {} of {}", src.window, splits[src.file].path.display())
    };
    Err(DataError::format(
        &splits[f].path,
        format!(
            "window {i}: {} at region {ri}, channel {ci} is {v}, but {earlier} {} gave {} for the same time step: \
             the windows are not consecutive (each window must start one step after the previous one{})",
            name(f, step),
            name(src.file, src.step),
            placed[(ri, ci)],
            if src.file == f { "" } else { ", and this file must continue the previous file directly" }
        ),
    ))
}

/// Reads and shape-checks one split file.
fn load_split(path: &Path) -> Result<Split> {
    let x = read_npz_array(path, "x")?;
    check_shape(path, "x", x.shape(), "N, Lx, R, 2")?;
    nonempty(path, "x", &x)?;
    let (n, r) = (x.shape()[0], x.shape()[2]);
    let y = read_npz_array(path, "y")?;
    check_shape(path, "y", y.shape(), &format!("{n}, Ly, {r}, 2"))?;
    let mut offsets = read_offsets(path, "x_offsets", x.shape()[1])?;
    offsets.extend(read_offsets(path, "y_offsets", y.shape()[1])?);
    let four = |a: ndarray::ArrayD<f32>, key: &str| {
        a.into_dimensionality::<Ix4>().map_err(|e| DataError::format(path, format!("key `{key}`: {e}")))
    };
    Ok(Split { path: path.into(), x: four(x, "x")?, y: four(y, "y")?, offsets })
}

/// Reads `len` integer offsets stored as `(len, 1)` or `(len,)`.
fn read_offsets(path: &Path, key: &str, len: usize) -> Result<Vec<i64>> {
    let a = read_npz_array(path, key)?;
    if a.len() != len || a.ndim() > 2 {
        return Err(DataError::Shape {
            path: path.into(),
            key: key.into(),
            expected: format!("shape ({len}, 1) matching the windows"),
            found: a.shape().to_vec(),
        });
    }
    a.iter()
        .enumerate()
        .map(|(k, &v)| {
            if v.fract() == 0.0 && v.abs() < 1e6 {
                Ok(v as i64)
            } else {
                Err(DataError::BadValue {
                    path: path.into(),
                    key: key.into(),
                    what: format!("offset {v} is not a whole number"),
                    index: vec![k],
                })
            }
        })
        .collect()
}
