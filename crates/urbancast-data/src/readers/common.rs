//! Small helpers shared by the readers.
use std::path::Path;

use std::path::PathBuf;

use ndarray::{Array3, ArrayD, Axis, Ix3, stack};

use super::npy::{check_shape, in_file};
use crate::city::{Channel, City, Layout};
use crate::error::{DataError, Result};

/// The file name without its extension, used as a default city name.
pub(crate) fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(|| "city".to_string(), |s| s.to_string_lossy().into_owned())
}

/// Reshapes a row-major `[T, R, C]` array (any rank-3 `ArrayD`) into an `Array3`.
pub(crate) fn to3(path: &Path, a: ArrayD<f32>) -> Result<Array3<f32>> {
    let a = if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() };
    a.into_dimensionality::<Ix3>().map_err(|e| DataError::format(path, format!("internal reshape to [T, R, C] failed: {e}")))
}

/// Fails on an array without elements: City::new would refuse it anyway, and refusing early keeps
/// absurd sizes of the other axes (a `(0, 10^12)` header) from reaching any allocation.
pub(crate) fn nonempty(path: &Path, key: &str, a: &ArrayD<f32>) -> Result<()> {
    if a.is_empty() {
        return Err(DataError::Shape {
            path: path.into(),
            key: key.into(),
            expected: "a non-empty array".into(),
            found: a.shape().to_vec(),
        });
    }
    Ok(())
}

/// Stacks two per-channel files of the same shape along a new last axis (`[.., 2]`),
/// e.g. pick-up + drop-off or inflow + outflow. `first_name` names the first file in the
/// error when the second one's shape differs.
pub(crate) fn stack_channel_files(
    (first, first_path): (ArrayD<f32>, PathBuf),
    (second, second_path): (ArrayD<f32>, PathBuf),
    key: &str,
    first_name: &str,
) -> Result<(ArrayD<f32>, PathBuf)> {
    if second.shape() != first.shape() {
        return Err(DataError::Shape {
            path: second_path,
            key: key.into(),
            expected: format!("the {first_name} file's shape {:?}", first.shape()),
            found: second.shape().to_vec(),
        });
    }
    let both = stack(Axis(first.ndim()), &[first.view(), second.view()]).map_err(|e| DataError::format(&first_path, e.to_string()))?;
    Ok((both, first_path))
}

/// Builds a gridded city from a `(T, height, width, C)` array checked against `pattern`
/// (e.g. `"T, lng, lat, 2"`); region `r = row * width + col`.
pub(crate) fn grid_city(path: &Path, key: &str, pattern: &str, a: ArrayD<f32>, interval_min: u32, channels: Vec<Channel>) -> Result<City> {
    check_shape(path, key, a.shape(), pattern)?;
    nonempty(path, key, &a)?;
    let (t, h, w, c) = (a.shape()[0], a.shape()[1], a.shape()[2], a.shape()[3]);
    let a = a.as_standard_layout().into_owned();
    let flow = a
        .into_shape_with_order((t, h * w, c))
        .map_err(|e| DataError::format(path, format!("key `{key}`: cannot reshape to [T, R, C]: {e}")))?;
    City::new(stem(path), interval_min, flow, channels, Layout::Grid { height: h, width: w }).map_err(in_file(path))
}
