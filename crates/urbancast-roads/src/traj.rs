//! Trajectories: map-matched road sequences with timestamps, and raw GPS tracks.
use serde::{Deserialize, Serialize};

use crate::error::{Result, RoadError};
use crate::geo::LonLat;

/// A map-matched trajectory: the roads entered, in order, with the time (Unix seconds, UTC)
/// at which each was entered. Road ids are the user's ids ([`crate::Road::id`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// Row/trip identifier (HOSER `traj_id`, or the raw trip id a matching came from).
    pub id: Option<String>,
    /// Driver or user (HOSER `user_id`).
    pub driver: Option<String>,
    /// User road ids entered, in order (at least one).
    pub roads: Vec<u64>,
    /// Unix seconds (UTC) at which each road of `roads` was entered; same length,
    /// non-decreasing.
    pub times: Vec<i64>,
}

impl Trajectory {
    /// Checks that roads and times have the same, non-zero length and times do not go back.
    pub fn new(id: Option<String>, driver: Option<String>, roads: Vec<u64>, times: Vec<i64>) -> Result<Self> {
        let t = Trajectory { id, driver, roads, times };
        t.validate()?;
        Ok(t)
    }

    /// Checks the invariants of [`Trajectory::new`]: at least one road, as many times as
    /// roads, times non-decreasing. The error names the trajectory id.
    pub fn validate(&self) -> Result<()> {
        let name = self.id.as_deref().unwrap_or("?");
        if self.roads.is_empty() {
            return Err(RoadError::invalid(format!("trajectory {name}: no roads")));
        }
        if self.roads.len() != self.times.len() {
            return Err(RoadError::invalid(format!("trajectory {name}: {} roads but {} timestamps", self.roads.len(), self.times.len())));
        }
        if let Some(k) = self.times.windows(2).position(|w| w[1] < w[0]) {
            return Err(RoadError::invalid(format!(
                "trajectory {name}: timestamp at position {} (0-based) goes back in time ({} < {})",
                k + 1,
                self.times[k + 1],
                self.times[k]
            )));
        }
        Ok(())
    }

    /// Number of roads.
    pub fn len(&self) -> usize {
        self.roads.len()
    }
    /// Whether there are no roads (never true for a valid trajectory).
    pub fn is_empty(&self) -> bool {
        self.roads.is_empty()
    }
    /// Id of the first road (panics when empty).
    pub fn origin(&self) -> u64 {
        self.roads[0]
    }
    /// Id of the last road (panics when empty).
    pub fn destination(&self) -> u64 {
        *self.roads.last().unwrap()
    }
    /// Unix seconds (UTC) at which the first road was entered (panics when empty).
    pub fn start_time(&self) -> i64 {
        self.times[0]
    }
    /// Seconds from the first to the last road entry.
    pub fn duration_s(&self) -> i64 {
        self.times.last().unwrap() - self.times[0]
    }
}

/// One GPS fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsPoint {
    /// `[lon, lat]` degrees.
    pub pos: LonLat,
    /// Unix seconds (UTC).
    pub time: i64,
}

/// A raw GPS track (not map-matched).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpsTrack {
    /// Track identifier (from the file, or made up by the reader).
    pub id: String,
    /// Driver, user or vehicle, when the source has one.
    pub driver: Option<String>,
    /// The fixes, in time order as read.
    pub points: Vec<GpsPoint>,
}
