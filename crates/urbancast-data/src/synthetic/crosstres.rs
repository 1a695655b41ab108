//! Export of a grid city in the CrossTReS / CrossGTP `.npy` layout.
use std::path::Path;

use ndarray::Array3;

use crate::city::{Channel, City, Layout};
use crate::error::{DataError, Result};

/// Writes `city` in the CrossTReS directory layout:
///
/// - `{dir}/{name}/{mode}{name}_pickup.npy` and `..._dropoff.npy`: `f32` arrays
///   `(T, lng, lat)` = `(T, height, width)` (region `r = row * width + col`);
/// - `{dir}/{name}/{name}_poi.npy`: `f32` array `(lng, lat, K)`, only when the city has POIs.
///
/// `mode` is the data set name, `"Taxi"` or `"Bike"` in CrossTReS (any non-empty name without
/// path separators is accepted). The city needs a [`Layout::Grid`] and both a
/// [`Channel::Pickup`] and a [`Channel::Dropoff`] channel. Directories are created as needed.
pub fn write_crosstres(city: &City, dir: &Path, mode: &str) -> Result<()> {
    let Layout::Grid { height, width } = city.layout else {
        return Err(DataError::city(&city.name, format!("CrossTReS export needs a grid layout, not a {}", city.layout.describe())));
    };
    for (what, s) in [("city name", city.name.as_str()), ("mode", mode)] {
        if s.is_empty() || s == "." || s == ".." || s.contains(['/', '\\']) {
            return Err(DataError::city(&city.name, format!("{what} `{s}` cannot be used in a CrossTReS file name")));
        }
    }
    let name = &city.name;
    let out_dir = dir.join(name);
    std::fs::create_dir_all(&out_dir).map_err(|e| DataError::io(&out_dir, e))?;
    let t = city.num_steps();
    for ch in [Channel::Pickup, Channel::Dropoff] {
        let ci = city.channels.iter().position(|c| *c == ch).ok_or_else(|| {
            DataError::city(name, format!("CrossTReS export needs a `{}` channel (it has: {:?})", ch.name(), city.channels))
        })?;
        let arr = Array3::from_shape_fn((t, height, width), |(s, i, j)| city.flow[[s, i * width + j, ci]]);
        let path = out_dir.join(format!("{mode}{name}_{}.npy", ch.name()));
        urbancast_io::with_temp(&path, |p| ndarray_npy::write_npy(p, &arr)).map_err(|e| DataError::format(&path, e.to_string()))?;
    }
    if let Some(poi) = &city.poi {
        let k = poi.ncols();
        let arr = Array3::from_shape_fn((height, width, k), |(i, j, c)| poi[[i * width + j, c]]);
        let path = out_dir.join(format!("{name}_poi.npy"));
        urbancast_io::with_temp(&path, |p| ndarray_npy::write_npy(p, &arr)).map_err(|e| DataError::format(&path, e.to_string()))?;
    }
    Ok(())
}
