//! Spatial fields on the grid: smooth mixtures of functional types and heavy-tailed volumes.
use ndarray::Array2;
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Gamma, StandardNormal};

use super::types::{HUB, NUM_TYPES, WATER};

/// One smoothing pass on a `h x w` grid: half the value itself, half the mean of its 4-neighbours.
pub(crate) fn smooth(v: &[f32], h: usize, w: usize) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for i in 0..h {
        for j in 0..w {
            let (mut s, mut n) = (0.0f32, 0u32);
            let nb = [(i.wrapping_sub(1), j), (i + 1, j), (i, j.wrapping_sub(1)), (i, j + 1)];
            for (a, b) in nb {
                if a < h && b < w {
                    s += v[a * w + b];
                    n += 1;
                }
            }
            let own = v[i * w + j];
            out[i * w + j] = if n == 0 { own } else { 0.5 * own + 0.5 * s / n as f32 };
        }
    }
    out
}

/// A random Gaussian blob ("centre") of one type's influence.
struct Centre {
    y: f32,
    x: f32,
    sigma: f32,
    amp: f32,
}

impl Centre {
    fn at(&self, i: usize, j: usize) -> f32 {
        let (dy, dx) = (i as f32 + 0.5 - self.y, j as f32 + 0.5 - self.x);
        self.amp * (-(dy * dy + dx * dx) / (2.0 * self.sigma * self.sigma)).exp()
    }
}

/// Per-region type weights `[R, NUM_TYPES]`, each row summing to 1.
///
/// `mix` must be normalised with a positive land part. Land types get a background share plus
/// Gaussian blobs around a few random centres per type (more centres for more common types),
/// multiplicative Gamma jitter (Dirichlet-like), two neighbour-smoothing passes and a
/// calibration so the city-wide average share of every land type matches `mix`. Water regions
/// are the `round(mix[water] * R)` regions nearest to blobs placed on the grid border (a coast
/// or lake shore); they are pure water.
pub(crate) fn type_weights(mix: &[f32; NUM_TYPES], h: usize, w: usize, rng: &mut StdRng) -> Array2<f32> {
    let r = h * w;
    let land: f32 = (0..NUM_TYPES).filter(|&k| k != WATER).map(|k| mix[k]).sum();
    let n_water = ((mix[WATER] * r as f32).round() as usize).min(r - 1);

    // Water first: the top-n regions of a field made of border blobs.
    let mut is_water = vec![false; r];
    if n_water > 0 {
        let blobs: Vec<Centre> = (0..(n_water / 10).clamp(1, 3))
            .map(|_| {
                let (y, x) = border_point(h, w, rng);
                Centre { y, x, sigma: rng.random_range(1.5..3.0), amp: 1.0 }
            })
            .collect();
        let field: Vec<f32> = (0..r)
            .map(|idx| {
                let (i, j) = (idx / w, idx % w);
                blobs.iter().map(|c| c.at(i, j)).sum::<f32>() + 0.05 * rng.random::<f32>()
            })
            .collect();
        let mut order: Vec<usize> = (0..r).collect();
        order.sort_by(|&a, &b| field[b].total_cmp(&field[a]).then(a.cmp(&b)));
        order[..n_water].iter().for_each(|&i| is_water[i] = true);
    }

    // Land types: background + blobs, jittered and smoothed.
    let p: Vec<f32> = (0..NUM_TYPES).map(|k| if k == WATER { 0.0 } else { mix[k] / land }).collect();
    let n_centres = (r as f32 / 8.0).max(4.0);
    let jitter = Gamma::new(4.0f32, 0.25).expect("valid Gamma parameters");
    let mut cols: Vec<Vec<f32>> = vec![vec![0.0; r]; NUM_TYPES];
    for k in (0..NUM_TYPES).filter(|&k| p[k] > 0.0) {
        let n = ((n_centres * p[k]).round() as usize).max(1);
        let centres: Vec<Centre> = (0..n)
            .map(|_| Centre {
                y: rng.random_range(0.0..h as f32),
                x: rng.random_range(0.0..w as f32),
                sigma: if k == HUB { rng.random_range(0.6..1.1) } else { rng.random_range(1.2..2.8) },
                amp: rng.random_range(0.6..1.4),
            })
            .collect();
        let base = if k == HUB { 0.05 } else { 0.25 } * p[k];
        let raw: Vec<f32> = (0..r)
            .map(|idx| {
                let v = base + centres.iter().map(|c| c.at(idx / w, idx % w)).sum::<f32>();
                v * jitter.sample(rng)
            })
            .collect();
        // Hubs are point-like: smooth them only once.
        let once = smooth(&raw, h, w);
        cols[k] = if k == HUB { once } else { smooth(&once, h, w) };
    }

    // Calibrate column scales so the average land share of each type matches p.
    let land_idx: Vec<usize> = (0..r).filter(|&i| !is_water[i]).collect();
    for _ in 0..4 {
        let mut share = [0.0f32; NUM_TYPES];
        for &i in &land_idx {
            let tot: f32 = (0..NUM_TYPES).map(|k| cols[k][i]).sum();
            if tot > 0.0 {
                (0..NUM_TYPES).for_each(|k| share[k] += cols[k][i] / tot);
            }
        }
        for k in (0..NUM_TYPES).filter(|&k| share[k] > 0.0) {
            let f = p[k] * land_idx.len() as f32 / share[k];
            cols[k].iter_mut().for_each(|v| *v *= f);
        }
    }

    let mut out = Array2::<f32>::zeros((r, NUM_TYPES));
    for i in 0..r {
        if is_water[i] {
            out[[i, WATER]] = 1.0;
            continue;
        }
        let tot: f32 = (0..NUM_TYPES).map(|k| cols[k][i]).sum();
        for k in 0..NUM_TYPES {
            out[[i, k]] = if tot > 0.0 { cols[k][i] / tot } else { p[k] };
        }
    }
    out
}

/// A random point on the border of the grid (continuous coordinates).
fn border_point(h: usize, w: usize, rng: &mut StdRng) -> (f32, f32) {
    let (hf, wf) = (h as f32, w as f32);
    let t = rng.random_range(0.0..2.0 * (hf + wf));
    if t < wf {
        (0.0, t)
    } else if t < wf + hf {
        (t - wf, wf)
    } else if t < 2.0 * wf + hf {
        (hf, t - wf - hf)
    } else {
        (t - 2.0 * wf - hf, 0.0)
    }
}

/// Per-region volume scales (mean trips per hour per channel for intensity 1): a spatially
/// smooth log-normal field with log-std `sigma`, times `volume_scale`, times
/// `exp(hub_extremeness * hub_weight)`; zero for water.
pub(crate) fn volume_scales(
    weights: &Array2<f32>,
    h: usize,
    w: usize,
    volume_scale: f32,
    sigma: f32,
    hub_extremeness: f32,
    rng: &mut StdRng,
) -> Vec<f32> {
    let r = h * w;
    let mut z: Vec<f32> = (0..r).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    z = smooth(&smooth(&z, h, w), h, w);
    let mean = z.iter().sum::<f32>() / r as f32;
    let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / r as f32).sqrt();
    (0..r)
        .map(|i| {
            if weights[[i, WATER]] >= 1.0 {
                return 0.0;
            }
            let zi = if sd > 1e-6 { (z[i] - mean) / sd } else { 0.0 };
            volume_scale * (sigma * zi + hub_extremeness * weights[[i, HUB]]).exp()
        })
        .collect()
}
