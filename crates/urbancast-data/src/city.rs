//! The in-memory model of one city's flow data.
use ndarray::{Array2, Array3, Axis};

use crate::error::{DataError, Result};

/// The meaning of a flow channel. Sources and targets are aligned by meaning, not position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Pick-ups = outflow (trips leaving a region).
    Pickup,
    /// Drop-offs = inflow (trips arriving in a region).
    Dropoff,
    /// Anything else (speed, a single volume series...).
    Other,
}

impl Channel {
    /// Lower-case label used in messages and output columns: `pickup`, `dropoff` or `value`.
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Pickup => "pickup",
            Channel::Dropoff => "dropoff",
            Channel::Other => "value",
        }
    }
}

/// How regions are laid out in space.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// A regular grid; region `r = row * width + col` (row-major, the first spatial axis of the
    /// source file is the row).
    Grid {
        /// Number of grid rows.
        height: usize,
        /// Number of grid columns.
        width: usize,
    },
    /// Irregular zones with a (possibly weighted) adjacency matrix `[R, R]` and optional
    /// `(x, y)` coordinates (lon/lat or projected) per zone.
    Graph {
        /// Non-negative edge weights `[R, R]` (0 = no edge).
        adjacency: Array2<f32>,
        /// Optional `(x, y)` position of each zone, length `R`.
        coords: Option<Vec<(f64, f64)>>,
    },
}

impl Layout {
    /// Number of regions `R`: `height * width` for a grid, the adjacency size for a graph.
    pub fn num_regions(&self) -> usize {
        match self {
            Layout::Grid { height, width } => height * width,
            Layout::Graph { adjacency, .. } => adjacency.nrows(),
        }
    }
    /// Short human-readable summary for messages, e.g. `grid 32x32` or `graph of 69 zones`.
    pub fn describe(&self) -> String {
        match self {
            Layout::Grid { height, width } => format!("grid {height}x{width}"),
            Layout::Graph { adjacency, .. } => format!("graph of {} zones", adjacency.nrows()),
        }
    }
}

/// One city: a flow series `[T, R, C]` plus everything needed to interpret it.
#[derive(Debug, Clone)]
pub struct City {
    /// City / dataset name, used in messages and reports.
    pub name: String,
    /// Minutes between consecutive time steps.
    pub interval_min: u32,
    /// Flow counts `[T, R, C]`, non-negative and finite.
    pub flow: Array3<f32>,
    /// Meaning of each flow channel, length `C`.
    pub channels: Vec<Channel>,
    /// Spatial arrangement of the `R` regions.
    pub layout: Layout,
    /// Active regions: total flow over the series > 0 (computed by [`City::new`]).
    pub mask: Vec<bool>,
    /// Optional POI counts `[R, K]`.
    pub poi: Option<Array2<f32>>,
    /// Hour of week (0 = Monday 00:00) of the first step, when known.
    pub start_hour_of_week: Option<u32>,
}

impl City {
    /// Builds a city and checks it: shape agreement, finite non-negative values, a non-empty
    /// active mask. The mask is computed from the data.
    pub fn new(name: impl Into<String>, interval_min: u32, flow: Array3<f32>, channels: Vec<Channel>, layout: Layout) -> Result<City> {
        let name = name.into();
        let (t, r, c) = flow.dim();
        if t == 0 || r == 0 || c == 0 {
            return Err(DataError::city(&name, format!("empty flow tensor of shape [{t}, {r}, {c}]")));
        }
        if interval_min == 0 {
            return Err(DataError::city(&name, "time interval must be > 0 minutes"));
        }
        if channels.len() != c {
            return Err(DataError::city(&name, format!("{} channel names given for {c} channels", channels.len())));
        }
        if layout.num_regions() != r {
            return Err(DataError::city(
                &name,
                format!("layout {} has {} regions but the flow has {r}", layout.describe(), layout.num_regions()),
            ));
        }
        if let Layout::Graph { adjacency, coords } = &layout {
            if adjacency.ncols() != adjacency.nrows() {
                return Err(DataError::city(&name, format!("adjacency is not square: {:?}", adjacency.dim())));
            }
            if let Some(idx) = adjacency.indexed_iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
                return Err(DataError::city(&name, format!("adjacency value {} at {:?} is not a finite weight >= 0", idx.1, idx.0)));
            }
            if let Some(c) = coords
                && c.len() != r
            {
                return Err(DataError::city(&name, format!("{} coordinates for {r} zones", c.len())));
            }
        }
        if let Some(((ti, ri, ci), v)) = flow.indexed_iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
            let what = if v.is_finite() { "negative count" } else { "non-finite value" };
            return Err(DataError::city(&name, format!("{what} {v} at step {ti}, region {ri}, channel {ci}")));
        }
        let totals = flow.sum_axis(Axis(2)).sum_axis(Axis(0));
        let mask: Vec<bool> = totals.iter().map(|&s| s > 0.0).collect();
        if !mask.iter().any(|&m| m) {
            return Err(DataError::city(&name, "no active region: every region has zero total flow"));
        }
        Ok(City { name, interval_min, flow, channels, layout, mask, poi: None, start_hour_of_week: None })
    }

    /// Attaches POI counts `[R, K]` (finite, >= 0); fails if the row count is not `R`.
    pub fn with_poi(mut self, poi: Array2<f32>) -> Result<City> {
        if poi.nrows() != self.num_regions() {
            return Err(DataError::city(&self.name, format!("POI table has {} rows for {} regions", poi.nrows(), self.num_regions())));
        }
        if let Some((idx, v)) = poi.indexed_iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
            return Err(DataError::city(&self.name, format!("POI value {v} at {idx:?} is not a count >= 0")));
        }
        self.poi = Some(poi);
        Ok(self)
    }

    /// Sets the hour of week (0 = Monday 00:00) of the first step; `h` is taken modulo 168.
    pub fn with_start_hour_of_week(mut self, h: u32) -> City {
        self.start_hour_of_week = Some(h % 168);
        self
    }

    /// Number of time steps `T`.
    pub fn num_steps(&self) -> usize {
        self.flow.dim().0
    }
    /// Number of regions `R` (active or not).
    pub fn num_regions(&self) -> usize {
        self.flow.dim().1
    }
    /// Number of flow channels `C`.
    pub fn num_channels(&self) -> usize {
        self.flow.dim().2
    }
    /// Number of active regions (`true` entries of [`City::mask`]).
    pub fn num_active(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }
    /// Steps per day at this city's interval.
    pub fn steps_per_day(&self) -> usize {
        (24 * 60 / self.interval_min as usize).max(1)
    }

    /// Keeps only the named channels, in the given order (aligning a city to another's meaning).
    pub fn select_channels(&self, wanted: &[Channel]) -> Result<City> {
        let mut idx = Vec::with_capacity(wanted.len());
        for w in wanted {
            match self.channels.iter().position(|c| c == w) {
                Some(i) => idx.push(i),
                None => {
                    return Err(DataError::city(&self.name, format!("has no `{}` channel (it has: {:?})", w.name(), self.channels)));
                }
            }
        }
        let flow = self.flow.select(Axis(2), &idx);
        let mut c = City::new(self.name.clone(), self.interval_min, flow, wanted.to_vec(), self.layout.clone())?;
        c.poi = self.poi.clone();
        c.start_hour_of_week = self.start_hour_of_week;
        Ok(c)
    }

    /// Resamples to a coarser interval by summing `factor = new / old` consecutive steps.
    /// A trailing partial block is dropped.
    pub fn resample(&self, new_interval_min: u32) -> Result<City> {
        if new_interval_min == self.interval_min {
            return Ok(self.clone());
        }
        if new_interval_min < self.interval_min || !new_interval_min.is_multiple_of(self.interval_min) {
            return Err(DataError::city(
                &self.name,
                format!(
                    "cannot resample from {} min to {new_interval_min} min: the new interval must be a multiple of the old",
                    self.interval_min
                ),
            ));
        }
        let f = (new_interval_min / self.interval_min) as usize;
        let (t, r, c) = self.flow.dim();
        let nt = t / f;
        if nt == 0 {
            return Err(DataError::city(&self.name, format!("{t} steps are too few to resample by {f}")));
        }
        let mut out = Array3::<f32>::zeros((nt, r, c));
        for i in 0..nt {
            let block = self.flow.slice(ndarray::s![i * f..(i + 1) * f, .., ..]).sum_axis(Axis(0));
            out.slice_mut(ndarray::s![i, .., ..]).assign(&block);
        }
        let mut city = City::new(self.name.clone(), new_interval_min, out, self.channels.clone(), self.layout.clone())?;
        city.poi = self.poi.clone();
        city.start_hour_of_week = self.start_hour_of_week;
        Ok(city)
    }

    /// Hour of week (0..168) of step `t`, when the start is known.
    pub fn hour_of_week(&self, t: usize) -> Option<u32> {
        self.start_hour_of_week.map(|h0| ((h0 as usize * 60 + t * self.interval_min as usize) / 60 % 168) as u32)
    }
}
