//! MetaST (huaxiuyao/MetaST) city files.
use std::path::Path;

use super::common::grid_city;
use super::npy::read_npz_array;
use crate::city::{Channel, City};
use crate::error::Result;

/// Reads a MetaST `.npz` (e.g. `boston.npz`): member `traffic.npy` of shape `(T, lng, lat, 2)`,
/// hourly, channels `[Pickup, Dropoff]`, layout `Grid { height: lng, width: lat }`.
/// The pickled `config.npy` member is never read. The city is named after the file stem.
pub fn read_metast(path: impl AsRef<Path>) -> Result<City> {
    let path = path.as_ref();
    let a = read_npz_array(path, "traffic")?;
    grid_city(path, "traffic", "T, lng, lat, 2", a, 60, vec![Channel::Pickup, Channel::Dropoff])
}
