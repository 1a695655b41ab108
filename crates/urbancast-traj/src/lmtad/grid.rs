//! LM-TAD's vocabulary: square grid cells over the road network plus three special tokens.
//!
//! * The grid covers the bounding box of the road **centroids** ([`urbancast_roads::Road::centroid`])
//!   with square cells of `cell_deg` degrees (default [`DEFAULT_CELL_DEG`] = 0.001°, about
//!   110 m north–south). Column `col = ⌊(lon − min_lon) / cell_deg⌋`, row
//!   `row = ⌊(lat − min_lat) / cell_deg⌋` (row 0 is the southern edge), cell id
//!   `row · cols + col`.
//! * Token ids: cells are `0 .. cols·rows`, then [`CellGrid::pad`] = `cols·rows`,
//!   [`CellGrid::sot`] = `cols·rows + 1`, [`CellGrid::eot`] = `cols·rows + 2`; the vocabulary
//!   has `cols·rows + 3` tokens. Every cell is a token, including cells no road centroid falls
//!   in (they are never seen in training and their embeddings only feel weight decay).
//! * A trajectory (road indices `i_1 … i_n`) becomes `SOT ψ(i_1) … ψ(i_n) EOT`, with ψ the road
//!   → cell map ([`Tokenizer::psi`]). **Consecutive duplicate cells are kept** (several roads
//!   in one cell give repeated tokens, as the mapping gives them); nothing is merged.
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use urbancast_roads::{RoadNetwork, Trajectory};

/// Default cell size (degrees of longitude and of latitude).
pub const DEFAULT_CELL_DEG: f64 = 0.001;

/// The cell grid and the special tokens (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellGrid {
    /// Western edge (smallest road-centroid longitude).
    pub min_lon: f64,
    /// Southern edge (smallest road-centroid latitude).
    pub min_lat: f64,
    /// Cell side in degrees.
    pub cell_deg: f64,
    /// Number of columns `W`.
    pub cols: u32,
    /// Number of rows `H`.
    pub rows: u32,
}

impl CellGrid {
    /// The grid over the bounding box of `net`'s road centroids with cells of `cell_deg` degrees.
    pub fn new(net: &RoadNetwork, cell_deg: f64) -> Result<Self> {
        ensure!(cell_deg.is_finite() && cell_deg > 0.0, "cell size must be a positive number of degrees, got {cell_deg}");
        ensure!(!net.roads.is_empty(), "network `{}` has no roads", net.name);
        let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for r in &net.roads {
            let [lon, lat] = r.centroid;
            ensure!(lon.is_finite() && lat.is_finite(), "road {} has a non-finite centroid {:?}", r.id, r.centroid);
            b = [b[0].min(lon), b[1].min(lat), b[2].max(lon), b[3].max(lat)];
        }
        let span = |lo: f64, hi: f64| ((hi - lo) / cell_deg).floor() + 1.0;
        let (cols, rows) = (span(b[0], b[2]), span(b[1], b[3]));
        if cols * rows + 3.0 > u32::MAX as f64 {
            bail!("a grid of {cols} × {rows} cells of {cell_deg}° does not fit 32-bit token ids: use larger cells");
        }
        Ok(CellGrid { min_lon: b[0], min_lat: b[1], cell_deg, cols: cols as u32, rows: rows as u32 })
    }

    /// [`CellGrid::new`] with the default cell size ([`DEFAULT_CELL_DEG`]).
    pub fn from_network(net: &RoadNetwork) -> Result<Self> {
        Self::new(net, DEFAULT_CELL_DEG)
    }

    /// Number of cells `W · H`.
    pub fn num_cells(&self) -> usize {
        self.cols as usize * self.rows as usize
    }

    /// Vocabulary size `W · H + 3`.
    pub fn vocab_size(&self) -> usize {
        self.num_cells() + 3
    }

    /// Padding token (`W · H`).
    pub fn pad(&self) -> u32 {
        self.num_cells() as u32
    }

    /// Start-of-trajectory token (`W · H + 1`).
    pub fn sot(&self) -> u32 {
        self.num_cells() as u32 + 1
    }

    /// End-of-trajectory token (`W · H + 2`).
    pub fn eot(&self) -> u32 {
        self.num_cells() as u32 + 2
    }

    /// Whether `token` is one of PAD / SOT / EOT.
    pub fn is_special(&self, token: u32) -> bool {
        (token as usize) >= self.num_cells() && (token as usize) < self.vocab_size()
    }

    /// Cell of a point, or `None` when it is not finite or lies outside the grid
    /// (`[min_lon, min_lon + W·cell) × [min_lat, min_lat + H·cell)`).
    pub fn cell_of(&self, lon: f64, lat: f64) -> Option<u32> {
        let col = ((lon - self.min_lon) / self.cell_deg).floor();
        let row = ((lat - self.min_lat) / self.cell_deg).floor();
        if !col.is_finite() || !row.is_finite() || col < 0.0 || row < 0.0 {
            return None;
        }
        let (col, row) = (col as u64, row as u64);
        if col >= self.cols as u64 || row >= self.rows as u64 {
            return None;
        }
        Some((row * self.cols as u64 + col) as u32)
    }

    /// `(row, col)` of a cell token, `None` for special or out-of-range tokens.
    pub fn row_col(&self, cell: u32) -> Option<(u32, u32)> {
        ((cell as usize) < self.num_cells()).then(|| (cell / self.cols, cell % self.cols))
    }

    /// Centre `[lon, lat]` of a cell token, `None` for special or out-of-range tokens.
    pub fn cell_center(&self, cell: u32) -> Option<[f64; 2]> {
        let (row, col) = self.row_col(cell)?;
        Some([self.min_lon + (col as f64 + 0.5) * self.cell_deg, self.min_lat + (row as f64 + 0.5) * self.cell_deg])
    }

    /// ψ: the cell of every road's centroid, indexed like `net.roads`. Fails when a centroid
    /// lies outside this grid (a grid built for another network).
    pub fn psi(&self, net: &RoadNetwork) -> Result<Vec<u32>> {
        net.roads
            .iter()
            .map(|r| {
                self.cell_of(r.centroid[0], r.centroid[1]).with_context(|| {
                    format!(
                        "road {} (centroid {:?}) lies outside the LM-TAD grid: was the grid built for another network?",
                        r.id, r.centroid
                    )
                })
            })
            .collect()
    }

    /// Writes the grid as pretty JSON.
    pub fn save_json(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        urbancast_io::write_atomic(path, serde_json::to_string_pretty(self)?).with_context(|| format!("writing {}", path.display()))
    }

    /// Reads a grid written by [`CellGrid::save_json`].
    pub fn load_json(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let s = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let g: CellGrid = serde_json::from_str(&s).with_context(|| format!("parsing LM-TAD grid {}", path.display()))?;
        ensure!(g.cell_deg.is_finite() && g.cell_deg > 0.0 && g.cols > 0 && g.rows > 0, "{}: invalid grid {g:?}", path.display());
        Ok(g)
    }
}

/// Grid plus the precomputed road → cell map ψ: turns road sequences into token sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct Tokenizer {
    /// The cell grid.
    pub grid: CellGrid,
    /// `psi[i]`: cell token of `net.roads[i]`'s centroid.
    pub psi: Vec<u32>,
}

impl Tokenizer {
    /// Computes ψ of `net` on `grid` (see [`CellGrid::psi`]).
    pub fn new(grid: CellGrid, net: &RoadNetwork) -> Result<Self> {
        let psi = grid.psi(net)?;
        Ok(Tokenizer { grid, psi })
    }

    /// A grid of `cell_deg`-degree cells over `net` and its ψ.
    pub fn from_network(net: &RoadNetwork, cell_deg: f64) -> Result<Self> {
        Self::new(CellGrid::new(net, cell_deg)?, net)
    }

    /// `SOT ψ(i_1) … ψ(i_n) EOT` for road indices `i_1 … i_n` (indices into `net.roads`).
    /// Consecutive duplicate cells are kept. Fails on an empty sequence or an index outside ψ.
    pub fn encode(&self, roads: &[usize]) -> Result<Vec<u32>> {
        ensure!(!roads.is_empty(), "cannot encode an empty trajectory");
        let mut out = Vec::with_capacity(roads.len() + 2);
        out.push(self.grid.sot());
        for (k, &i) in roads.iter().enumerate() {
            let Some(&c) = self.psi.get(i) else {
                bail!("road index {i} at position {k} is outside the network ({} roads)", self.psi.len());
            };
            out.push(c);
        }
        out.push(self.grid.eot());
        Ok(out)
    }

    /// [`Tokenizer::encode`] of a trajectory of road ids (looked up with
    /// [`RoadNetwork::index_of`]).
    pub fn encode_trajectory(&self, net: &RoadNetwork, traj: &Trajectory) -> Result<Vec<u32>> {
        ensure!(
            net.len() == self.psi.len(),
            "network `{}` has {} roads but the tokenizer was built for {}",
            net.name,
            net.len(),
            self.psi.len()
        );
        let name = traj.id.as_deref().unwrap_or("<no id>");
        let idx = traj
            .roads
            .iter()
            .map(|&id| net.index_of(id).map_err(|e| anyhow::anyhow!("trajectory {name}: {e}")))
            .collect::<Result<Vec<usize>>>()?;
        self.encode(&idx).with_context(|| format!("trajectory {name}"))
    }

    /// Encodes many trajectories (fails on the first bad one, naming it).
    pub fn encode_all(&self, net: &RoadNetwork, trajs: &[Trajectory]) -> Result<Vec<Vec<u32>>> {
        trajs.iter().map(|t| self.encode_trajectory(net, t)).collect()
    }
}
