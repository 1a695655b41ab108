//! urbancast-roads: road networks and what runs on them — readers (HOSER/LibCity atomic
//! files, OSM edge CSV, shapefiles), a spatial index, trajectories and raw GPS readers, HMM
//! map matching, shortest paths, synthetic trip demand, a synthetic city network, and zones.
pub mod demand;
pub mod error;
pub mod geo;
pub mod io;
pub mod matching;
pub mod network;
pub mod outliers;
pub mod path;
pub mod readers;
pub mod spatial;
pub mod summary;
pub mod synthetic_city;
pub mod traj;
pub mod zones;

pub use error::{Result, RoadError};
pub use geo::LonLat;
pub use network::{Road, RoadNetwork, RoadSpec, UTurns};
pub use traj::{GpsPoint, GpsTrack, Trajectory};
