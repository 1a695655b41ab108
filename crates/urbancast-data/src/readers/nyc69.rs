//! The 69 Manhattan taxi zones of Evens1sen/Deep-NYC-Taxi-Bike (2019-01-01 .. 2020-12-31).
use std::path::Path;

use super::adjacency::read_adjacency_csv;
use super::common::{nonempty, stack_channel_files, to3};
use super::npy::{check_shape, in_file, read_npz_array};
use crate::city::{Channel, City, Layout};
use crate::error::{DataError, Result};

/// Hour of week of 2019-01-01 00:00, a Tuesday (0 = Monday 00:00).
pub const NYC69_START_HOUR_OF_WEEK: u32 = 24;

/// Reads the hourly series of [`read_nyc69_interval`].
pub fn read_nyc69(dir: impl AsRef<Path>, mode: &str) -> Result<City> {
    read_nyc69_interval(dir, mode, 60)
}

/// Reads the `nyc-manhattan-69` folder for `mode` `"taxi"` or `"bike"` at 60 or 30 minutes.
///
/// * 60: `data-NYC{Taxi|Bike}/60min/201901-202012-NYC{taxi|bike}-inoutflow.npz`, key `arr_0`
///   `(T, 69, 2)` = `[inflow, outflow]`;
/// * 30: `.../30min/...-inflow.npz` and `...-outflow.npz`, key `arr_0`, `(T, 69)` each.
///
/// Channels are `[Dropoff, Pickup]` (inflow = drop-offs). The layout is a graph whose adjacency is
/// `data-NYCZones/adjmatrix/W_adj_matrix.csv` (69 x 69 with a header row); no coordinates.
/// The first step is Tuesday 2019-01-01 00:00 ([`NYC69_START_HOUR_OF_WEEK`]).
pub fn read_nyc69_interval(dir: impl AsRef<Path>, mode: &str, interval_min: u32) -> Result<City> {
    let dir = dir.as_ref();
    let (folder, stem) = match mode.to_ascii_lowercase().as_str() {
        "taxi" => ("data-NYCTaxi", "201901-202012-NYCtaxi"),
        "bike" => ("data-NYCBike", "201901-202012-NYCbike"),
        _ => {
            return Err(DataError::Spec { spec: mode.into(), what: "mode must be `taxi` or `bike`".into() });
        }
    };
    let base = dir.join(folder).join(format!("{interval_min}min"));
    let (flow, path) = match interval_min {
        60 => {
            let path = base.join(format!("{stem}-inoutflow.npz"));
            let a = read_npz_array(&path, "arr_0")?;
            check_shape(&path, "arr_0", a.shape(), "T, zones, 2")?;
            nonempty(&path, "arr_0", &a)?;
            (to3(&path, a)?, path)
        }
        30 => {
            let read = |kind: &str| -> Result<_> {
                let path = base.join(format!("{stem}-{kind}.npz"));
                let a = read_npz_array(&path, "arr_0")?;
                check_shape(&path, "arr_0", a.shape(), "T, zones")?;
                nonempty(&path, "arr_0", &a)?;
                Ok((a, path))
            };
            let (both, in_path) = stack_channel_files(read("inflow")?, read("outflow")?, "arr_0", "inflow")?;
            (to3(&in_path, both)?, in_path)
        }
        _ => {
            return Err(DataError::Spec {
                spec: format!("{interval_min}min"),
                what: "the nyc-manhattan-69 data exists at 30 or 60 minutes".into(),
            });
        }
    };
    let zones = flow.dim().1;
    let adj_path = dir.join("data-NYCZones").join("adjmatrix").join("W_adj_matrix.csv");
    let adjacency = read_adjacency_csv(&adj_path, zones, true)?;
    let layout = Layout::Graph { adjacency, coords: None };
    let name = format!("nyc69-{}", mode.to_ascii_lowercase());
    let city = City::new(name, interval_min, flow, vec![Channel::Dropoff, Channel::Pickup], layout).map_err(in_file(&path))?;
    Ok(city.with_start_hour_of_week(NYC69_START_HOUR_OF_WEEK))
}
