//! CrossTReS (KDD 2022) city folders: `{dir}/{City}/{Bike|Taxi}{City}_{pickup|dropoff}.npy`.
use std::path::Path;

use super::common::{grid_city, stack_channel_files};
use super::npy::{check_shape, in_file, read_npy_array};
use crate::city::{Channel, City};
use crate::error::{DataError, Result};

/// Reads city `city` (e.g. `"NY"`, `"CHI"`, `"DC"`) for `mode` `"bike"` or `"taxi"`:
/// `{Mode}{city}_pickup.npy` and `_dropoff.npy`, each `(T, lng, lat)`, hourly, channels
/// `[Pickup, Dropoff]`, layout `Grid { height: lng, width: lat }`. When `{city}_poi.npy`
/// `(lng, lat, K)` exists (K = 14 in the release) it becomes the POI table `[R, K]`.
/// The city is named `{city}-{mode}`.
pub fn read_crosstres(dir: impl AsRef<Path>, city: &str, mode: &str) -> Result<City> {
    let folder = dir.as_ref().join(city);
    let mode_dir = match mode.to_ascii_lowercase().as_str() {
        "bike" => "Bike",
        "taxi" => "Taxi",
        _ => {
            return Err(DataError::Spec { spec: mode.into(), what: "mode must be `bike` or `taxi`".into() });
        }
    };
    let read = |kind: &str| -> Result<_> {
        let path = folder.join(format!("{mode_dir}{city}_{kind}.npy"));
        let a = read_npy_array(&path)?;
        check_shape(&path, "(whole file)", a.shape(), "T, lng, lat")?;
        Ok((a, path))
    };
    let drop_path = folder.join(format!("{mode_dir}{city}_dropoff.npy"));
    let (both, pick_path) = stack_channel_files(read("pickup")?, read("dropoff")?, "(whole file)", "pick-up")?;
    let (lng, lat) = (both.shape()[1], both.shape()[2]);
    let channels = vec![Channel::Pickup, Channel::Dropoff];
    let mut c = grid_city(&pick_path, "(whole file)", "T, lng, lat, 2", both, 60, channels).map_err(|e| match e {
        // City checks index the stacked tensor: say which file each channel came from.
        DataError::Format { what, .. } => {
            DataError::format(&folder, format!("{what} (channel 0 = {}, channel 1 = {})", pick_path.display(), drop_path.display()))
        }
        other => other,
    })?;
    c.name = format!("{city}-{}", mode.to_ascii_lowercase());

    let poi_path = folder.join(format!("{city}_poi.npy"));
    if !poi_path.is_file() {
        return Ok(c);
    }
    let poi = read_npy_array(&poi_path)?;
    check_shape(&poi_path, "(whole file)", poi.shape(), &format!("{lng}, {lat}, K"))?;
    let k = poi.shape()[2];
    let poi = poi
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((lng * lat, k))
        .map_err(|e| DataError::format(&poi_path, e.to_string()))?;
    c.with_poi(poi).map_err(in_file(&poi_path))
}
