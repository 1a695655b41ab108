//! STBaT's losses: regional feature statistics (eq. 10), the similarity-aware distribution
//! contrastive loss SimDCL (eq. 13), the Gaussian KL of the feature-distribution predictor
//! (eq. 5) and the density-weighted prediction loss (eq. 14-15).
use burn::prelude::*;
use burn::tensor::{Int, TensorData};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Similarity `sim(d_i, d_j)` between projected regional distributions in SimDCL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DclSim {
    /// Cosine similarity, bounded in [-1, 1]: the `sim` of eq. 7, which eq. 13 reuses (the
    /// default).
    #[default]
    Cosine,
    /// Negative Euclidean distance `-||d_i - d_j||` (as Rank-N-Contrast, which SimDCL extends;
    /// an option).
    NegL2,
}

/// Floor added to the variance of eq. 10 before its square root.
pub const VAR_FLOOR: f32 = 1e-5;

/// Per-region mean and unbiased standard deviation of the features over the batch axis (eq.
/// 10): `z [B, R, J]` -> (`mu [R, J]`, `sigma = sqrt(var + 1e-5) [R, J]`). Needs `B >= 2`. The
/// floor ([`VAR_FLOOR`]) keeps the square root's gradient bounded where a region's features are
/// (nearly) constant.
pub fn regional_stats(z: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
    let [b, r, j] = z.dims();
    let mu = z.clone().mean_dim(0); // [1, R, J]
    let var = (z - mu.clone()).square().sum_dim(0).div_scalar((b.max(2) - 1) as f32);
    (mu.reshape([r, j]), var.add_scalar(VAR_FLOOR).sqrt().reshape([r, j]))
}

/// Pairwise similarities `[R, R]` of the rows of `d [R, P]`.
pub fn pairwise_sim(d: Tensor<2>, sim: DclSim) -> Tensor<2> {
    match sim {
        DclSim::Cosine => {
            let n = d.clone().square().sum_dim(1).add_scalar(1e-12).sqrt(); // [R, 1]
            let u = d / n;
            u.clone().matmul(u.transpose())
        }
        DclSim::NegL2 => {
            let sq = d.clone().square().sum_dim(1); // [R, 1]
            let g = d.clone().matmul(d.transpose());
            let d2 = (sq.clone() + sq.transpose() - g.mul_scalar(2.0)).clamp_min(0.0);
            d2.add_scalar(1e-10).sqrt().neg()
        }
    }
}

/// The constant part of SimDCL for one city: for every anchor `i`, the other regions sorted
/// by `delta(i, .)` ascending (`order [R, R-1]`), and for each sorted position the last
/// position whose `delta` equals it (`end [R, R-1]`), so that the prefix up to `end` is
/// exactly `{j != i : delta(i, j) <= delta(i, k)}`. Sorting makes this O(R^2 log R).
#[derive(Debug, Clone)]
pub struct DclOrder {
    /// Number of regions `R` of the city.
    pub regions: usize,
    /// Row-major `[R, R-1]`: row `i` lists the regions `j != i` by ascending `delta(i, j)`.
    pub order: Vec<i64>,
    /// Row-major `[R, R-1]`: for each sorted position, the last position of its tie group.
    pub end: Vec<i64>,
}

impl DclOrder {
    /// Sorts the off-diagonal entries of each row of `delta [R, R]` (the region similarities
    /// that rank SimDCL's negatives, e.g. cosine similarities of RIAM embeddings).
    pub fn new(delta: &Array2<f64>) -> DclOrder {
        let r = delta.nrows();
        let n = r.saturating_sub(1);
        let mut order = Vec::with_capacity(r * n);
        let mut end = vec![0i64; r * n];
        for i in 0..r {
            let mut others: Vec<usize> = (0..r).filter(|&j| j != i).collect();
            others.sort_by(|&a, &b| delta[[i, a]].total_cmp(&delta[[i, b]]));
            let row = &mut end[i * n..(i + 1) * n];
            let mut m = n;
            while m > 0 {
                // the tie group ending at m - 1
                let last = m - 1;
                let v = delta[[i, others[last]]];
                let mut first = last;
                while first > 0 && delta[[i, others[first - 1]]] == v {
                    first -= 1;
                }
                for slot in row.iter_mut().take(last + 1).skip(first) {
                    *slot = last as i64;
                }
                m = first;
            }
            order.extend(others.iter().map(|&j| j as i64));
        }
        DclOrder { regions: r, order, end }
    }
}

/// SimDCL (eq. 13), O(R^2 log R): mean over ordered pairs `(i, k), k != i` of
/// `-log( exp(s_ik / tau) / sum_{j != i, delta(i,j) <= delta(i,k)} exp(s_ij / tau) )`, with the
/// denominators as prefix log-sum-exps over each anchor's `delta`-sorted row.
pub fn simdcl(d: Tensor<2>, order: &DclOrder, tau: f64, sim: DclSim) -> Tensor<1> {
    let r = order.regions;
    assert_eq!(d.dims()[0], r, "SimDCL: {} projected regions for an order over {r}", d.dims()[0]);
    let device = d.device();
    let n = r - 1;
    let s = pairwise_sim(d, sim).div_scalar(tau as f32);
    let idx = |v: &[i64]| Tensor::<2, Int>::from_data(TensorData::new(v.to_vec(), [r, n]), &device);
    let sorted = s.gather(1, idx(&order.order)); // [R, R-1]
    let m = sorted.clone().detach().max_dim(1); // [R, 1], constant shift for stability
    let prefix = (sorted.clone() - m.clone()).exp().cumsum(1).log() + m;
    let denom = prefix.gather(1, idx(&order.end));
    (denom - sorted).mean()
}

/// SimDCL computed directly, O(R^3): the reference for tests.
pub fn simdcl_direct(d: Tensor<2>, delta: &Array2<f64>, tau: f64, sim: DclSim) -> Tensor<1> {
    let r = delta.nrows();
    let device = d.device();
    let s = pairwise_sim(d, sim).div_scalar(tau as f32);
    // mask[i, k, j] = 1 when j != i, k != i and delta(i, j) <= delta(i, k)
    let mut mask = vec![0f32; r * r * r];
    let mut pair = vec![0f32; r * r];
    for i in 0..r {
        for k in 0..r {
            if k == i {
                continue;
            }
            pair[i * r + k] = 1.0;
            for j in 0..r {
                if j != i && delta[[i, j]] <= delta[[i, k]] {
                    mask[(i * r + k) * r + j] = 1.0;
                }
            }
        }
    }
    let mask = Tensor::<3>::from_data(TensorData::new(mask, [r, r, r]), &device);
    let pair = Tensor::<2>::from_data(TensorData::new(pair, [r, r]), &device);
    let e = s.clone().exp().reshape([r, 1, r]); // over j
    let denom = (e * mask).sum_dim(2).reshape([r, r]).clamp_min(1e-30).log();
    ((denom - s) * pair).sum().div_scalar((r * (r - 1)) as f32)
}

/// Floor of the observed feature standard deviation `sigma` inside the KL of eq. 5 (it divides
/// by `sigma^2`).
pub const KL_SIGMA_FLOOR: f32 = 1e-3;

/// The KL of eq. 5 as the paper prints it, `KL(N(mu_hat, sigma_hat^2) || N(mu, sigma^2))` —
/// the predictor's Gaussian first:
/// `log(sigma / sigma_hat) + (sigma_hat^2 + (mu_hat - mu)^2) / (2 sigma^2) - 1/2`,
/// summed over the `J` feature dimensions and averaged over regions. The statistics
/// `mu, sigma [R, J]` are constants; `sigma` is floored at [`KL_SIGMA_FLOOR`].
pub fn gaussian_kl(mu: Tensor<2>, sigma: Tensor<2>, mu_hat: Tensor<2>, sigma_hat: Tensor<2>) -> Tensor<1> {
    let [r, _] = mu.dims();
    let sigma = sigma.clamp_min(KL_SIGMA_FLOOR);
    let var = sigma.clone().square();
    let kl = sigma.log() - sigma_hat.clone().log() + (sigma_hat.square() + (mu_hat - mu).square()) / var.mul_scalar(2.0) - 0.5;
    kl.sum().div_scalar(r.max(1) as f32)
}

/// Density-weighted prediction loss (eq. 14-15): `sum_r w_r sum_{b,c} (p - y)^2 / (B * C)`,
/// summed over regions as eq. 15 and averaged over the batch and channels, with the weights
/// `w [1, R, 1]` (0 at inactive regions, mean 1 over active ones); equals the plain loss
/// ([`crate::batch::masked_mse`]) when every active weight is 1.
pub fn weighted_mse(pred: Tensor<3>, target: Tensor<3>, weights: Tensor<3>) -> Tensor<1> {
    let [b, _, c] = pred.dims();
    ((pred - target).square() * weights).sum().div_scalar((b * c) as f32)
}
