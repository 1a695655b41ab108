//! Adjacency construction: the DCRNN Gaussian kernel of road distances, grid neighbours, and how
//! a distance list becomes a weight matrix ([`AdjacencyKind`]).
use ndarray::Array2;

/// How the `from,to,cost` edges of a distance CSV become adjacency weights. The default is
/// [`AdjacencyKind::Binary`], as ASTGCN does.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum AdjacencyKind {
    /// 1 where an edge is listed (both directions), 0 elsewhere, diagonal 0 (as ASTGCN).
    #[default]
    Binary,
    /// [`gaussian_kernel`] of the distances (non-edges = no edge, diagonal distance 0 => 1),
    /// weights below `threshold` set to 0.
    Gaussian {
        /// Weights below this are dropped (DCRNN uses 0.1).
        threshold: f32,
    },
    /// The raw cost where an edge is listed, 0 elsewhere.
    Distance,
}

/// The DCRNN thresholded Gaussian kernel: `w = exp(-(d / sigma)^2)` with `sigma` the (population)
/// standard deviation of the finite entries of `dist`; `+inf` (or NaN) entries mean "no edge"
/// and give 0; weights `< threshold` become 0. The diagonal keeps what the rule gives (a distance
/// of 0 gives 1). When `sigma` is 0 (all finite distances equal) it is taken as 1.
pub fn gaussian_kernel(dist: &Array2<f32>, threshold: f32) -> Array2<f32> {
    let finite: Vec<f64> = dist.iter().filter(|v| v.is_finite()).map(|&v| v as f64).collect();
    let n = finite.len().max(1) as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let var = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let sigma = if var > 0.0 && var.is_finite() { var.sqrt() } else { 1.0 };
    dist.mapv(|d| {
        if !d.is_finite() {
            return 0.0;
        }
        let w = (-(d as f64 / sigma).powi(2)).exp() as f32;
        if w < threshold { 0.0 } else { w }
    })
}

/// 0/1 4-neighbour (rook) adjacency of a `height x width` grid, region `r = row * width + col`,
/// diagonal 0.
pub fn rook_adjacency(height: usize, width: usize) -> Array2<f32> {
    let n = height * width;
    let mut a = Array2::<f32>::zeros((n, n));
    for row in 0..height {
        for col in 0..width {
            let r = row * width + col;
            if col + 1 < width {
                a[(r, r + 1)] = 1.0;
                a[(r + 1, r)] = 1.0;
            }
            if row + 1 < height {
                a[(r, r + width)] = 1.0;
                a[(r + width, r)] = 1.0;
            }
        }
    }
    a
}
