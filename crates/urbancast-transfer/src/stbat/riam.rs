//! Regional Imbalance Acquisition Module (RIAM): a regional pattern autoencoder over a region's
//! POI distribution, whose embedding `phi_r` gives region densities (Gaussian KDE) and
//! region similarities (cosine).
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu, softplus};
use ndarray::Array2;

/// Encoder `K -> 16 -> D`, POI classifier `D -> 32 -> K`, feature-distribution predictor
/// `D -> 32 -> J` for the mean and (softplus) standard deviation.
#[derive(Module, Debug)]
pub struct Riam {
    enc1: Linear,
    enc2: Linear,
    cls1: Linear,
    cls2: Linear,
    mu1: Linear,
    mu2: Linear,
    sg1: Linear,
    sg2: Linear,
}

/// Hidden width of the encoder (paper: 16) and of the decoder heads (paper: 32).
pub const ENC_HIDDEN: usize = 16;
pub const DEC_HIDDEN: usize = 32;

impl Riam {
    /// `input` features per region, `classes` POI categories, `d` embedding size, `j` feature size.
    pub fn new(input: usize, classes: usize, d: usize, j: usize, device: &Device) -> Riam {
        let l = |a: usize, b: usize| LinearConfig::new(a, b).init(device);
        Riam {
            enc1: l(input, ENC_HIDDEN),
            enc2: l(ENC_HIDDEN, d),
            cls1: l(d, DEC_HIDDEN),
            cls2: l(DEC_HIDDEN, classes.max(1)),
            mu1: l(d, DEC_HIDDEN),
            mu2: l(DEC_HIDDEN, j),
            sg1: l(d, DEC_HIDDEN),
            sg2: l(DEC_HIDDEN, j),
        }
    }

    /// `phi = FC(ReLU(FC(p)))`, `[R, D]`.
    pub fn embed(&self, p: Tensor<2>) -> Tensor<2> {
        self.enc2.forward(relu(self.enc1.forward(p)))
    }

    /// Log-probabilities of the POI classifier, `[R, K]`.
    pub fn poi_log_probs(&self, phi: Tensor<2>) -> Tensor<2> {
        log_softmax(self.cls2.forward(relu(self.cls1.forward(phi))), 1)
    }

    /// Predicted feature distribution `(mu_hat, sigma_hat)`, each `[R, J]`, `sigma_hat > 0`.
    pub fn feature_dist(&self, phi: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let mu = self.mu2.forward(relu(self.mu1.forward(phi.clone())));
        let sg = softplus(self.sg2.forward(relu(self.sg1.forward(phi))), 1.0).add_scalar(1e-4);
        (mu, sg)
    }
}

/// Cross-entropy `-sum_k p_k log p_hat_k`, averaged over regions.
pub fn poi_cross_entropy(log_probs: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    let [r, _] = target.dims();
    (log_probs * target).sum().neg().div_scalar(r.max(1) as f32)
}

/// POI counts `[R, K]` -> distributions (rows sum to 1; all-zero rows stay zero).
pub fn poi_distribution(counts: &Array2<f32>) -> Array2<f32> {
    let mut p = counts.mapv(|v| v.max(0.0));
    for mut row in p.rows_mut() {
        let s: f32 = row.sum();
        if s > 0.0 {
            row.mapv_inplace(|v| v / s);
        }
    }
    p
}

/// Gaussian-kernel density of each embedding among all (eq. in the RIAM):
/// `rho_r = 1/(h |R|) sum_i K((phi_r - phi_i) / h)`, `K(u) = (2 pi)^(-D/2) exp(-|u|^2 / 2)`.
/// Returned as natural logarithms (densities underflow quickly in 32 dimensions).
pub fn log_density(phi: &Array2<f64>, h: f64) -> Vec<f64> {
    let (n, d) = phi.dim();
    let norm = -((h * n as f64).ln()) - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
    (0..n)
        .map(|r| {
            let e: Vec<f64> = (0..n)
                .map(|i| {
                    let sq: f64 = phi.row(r).iter().zip(phi.row(i)).map(|(a, b)| (a - b) * (a - b)).sum();
                    -sq / (2.0 * h * h)
                })
                .collect();
            norm + log_sum_exp(&e)
        })
        .collect()
}

/// Weights `omega_r ∝ 1 / rho_r`, normalised to mean 1 (eq. 15), from log-densities.
pub fn inverse_density_weights(log_rho: &[f64]) -> Vec<f64> {
    if log_rho.is_empty() {
        return vec![];
    }
    let neg: Vec<f64> = log_rho.iter().map(|v| -v).collect();
    let log_mean = log_sum_exp(&neg) - (neg.len() as f64).ln();
    neg.iter().map(|v| (v - log_mean).exp()).collect()
}

/// Cosine similarity of every pair of embeddings, `[R, R]` (0 against a zero vector).
pub fn cosine_similarity(phi: &Array2<f64>) -> Array2<f64> {
    let n = phi.nrows();
    let norms: Vec<f64> = phi.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect();
    let g = phi.dot(&phi.t());
    Array2::from_shape_fn((n, n), |(i, j)| {
        let q = norms[i] * norms[j];
        if q > 0.0 { g[[i, j]] / q } else { 0.0 }
    })
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}
