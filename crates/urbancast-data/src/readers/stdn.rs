//! STDN (tangxianfeng/STDN, also copied by ST-TIS) volume files.
use std::path::Path;

use super::common::grid_city;
use super::npy::read_npz_array;
use crate::city::{Channel, City};
use crate::error::Result;

/// Reads an STDN `volume_*.npz`: key `volume` of shape `(T, H, W, 2)`, 30-minute steps,
/// channels `[Pickup, Dropoff]`, layout `Grid { height: H, width: W }`. Named after the file stem.
pub fn read_stdn(path: impl AsRef<Path>) -> Result<City> {
    let path = path.as_ref();
    let a = read_npz_array(path, "volume")?;
    grid_city(path, "volume", "T, H, W, 2", a, 30, vec![Channel::Pickup, Channel::Dropoff])
}
