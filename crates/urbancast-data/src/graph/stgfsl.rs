//! The ST-GFSL layout (`RobinLu1209/ST-GFSL`, used by TSJT and the cross-city graph
//! baselines): one folder per city holding `dataset.npy`, the series `(T, N, C)`, and
//! `matrix.npy`, the `(N, N)` adjacency. ST-GFSL's cities are METR-LA (207 nodes, 34,272 steps),
//! PEMS-BAY (325, 52,116), Didi-Chengdu (524, 17,280) and Didi-Shenzhen (627, 17,280), all
//! traffic speed every 5 minutes with C = 2 (`message_dim`).
use std::path::Path;

use ndarray::{Array2, Ix2};

use super::SensorGraph;
use super::readers::read_series_npy;
use crate::error::{DataError, Result};
use crate::readers::{check_shape, in_file, read_npy_array};

/// Minutes between steps in ST-GFSL's data.
pub const STGFSL_INTERVAL_MIN: u32 = 5;

/// Reads an ST-GFSL city folder `dir` (`dataset.npy` `(T, N, C)`, `matrix.npy` `(N, N)`,
/// weights finite and ≥ 0) sampled every `interval_min` minutes (ST-GFSL's: 5). The name is the
/// folder's; features are `speed` for C = 1, else `feature0 .. feature{C-1}` (the files do not
/// name them; ST-GFSL's first feature is the speed); zeros are missing readings (speed data);
/// the start time is unknown.
pub fn read_stgfsl(dir: &Path, interval_min: u32) -> Result<SensorGraph> {
    let data = dir.join("dataset.npy");
    let matrix = dir.join("matrix.npy");
    for p in [&data, &matrix] {
        if !p.is_file() {
            return Err(DataError::format(dir, format!("not an ST-GFSL city folder: `{}` is missing", p.display())));
        }
    }
    let series = read_series_npy(&data, "T, nodes, features")?;
    let n = series.dim().1;
    let a = read_npy_array(&matrix)?;
    check_shape(&matrix, "matrix", a.shape(), "nodes, nodes")?;
    let adjacency: Array2<f32> =
        a.into_dimensionality::<Ix2>().map_err(|e| DataError::format(&matrix, format!("internal reshape failed: {e}")))?;
    if adjacency.dim() != (n, n) {
        return Err(DataError::format(&matrix, format!("the adjacency is {:?} but dataset.npy has {n} nodes", adjacency.dim())));
    }
    let c = series.dim().2;
    let features = if c == 1 { vec!["speed".to_string()] } else { (0..c).map(|k| format!("feature{k}")).collect() };
    let name = dir.file_name().map_or_else(|| "stgfsl".to_string(), |f| f.to_string_lossy().into_owned());
    let g = SensorGraph::new(name, interval_min, series, features, adjacency).map_err(in_file(&data))?;
    Ok(g.with_zero_is_missing(true))
}
