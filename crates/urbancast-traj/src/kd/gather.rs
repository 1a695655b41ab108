//! The teacher's next-token distribution over grid cells, read at the student's candidates:
//! `q_k ∝ P_teacher(ψ(c_k))` over the real candidates `c_k` of a step.
//!
//! Rule, identical in the tensor and the plain-Rust version:
//! * padded candidates get exactly 0;
//! * the gathered values of the real candidates are divided by their sum;
//! * when that sum is ≤ [`MIN_MASS`] (the teacher puts (almost) no mass on any candidate's
//!   cell, or gives exact zeros), the row falls back to the uniform distribution over the real
//!   candidates — "the teacher has no opinion" rather than a division by ~0;
//! * a row without any real candidate is all zeros.
//!
//! Several candidates may share a cell: each gets the full cell probability before the
//! renormalisation (the teacher cannot tell them apart, so they are equally likely).
use anyhow::{Result, bail, ensure};
use burn::tensor::{Bool, Int, Tensor};

/// Gathered mass at or below which a row falls back to uniform over its real candidates.
pub const MIN_MASS: f32 = 1e-12;

/// Tensor version: `teacher_probs [M, V]` (probabilities; pass `log_probs.exp()` when the
/// teacher gives log-probabilities), `cand_cells [M, K]` the cell token ψ(c) of each candidate
/// (padded entries arbitrary), `mask [M, K]` true for real candidates → `q [M, K]`.
///
/// Errors on mismatched shapes or when a real candidate's cell is outside `0..V` (this check
/// reads two scalars back from the device). The result carries no gradient that matters: the
/// teacher is frozen, and [`super::kd_loss`] detaches it anyway.
pub fn gather_candidate_distribution(teacher_probs: Tensor<2>, cand_cells: Tensor<2, Int>, mask: Tensor<2, Bool>) -> Result<Tensor<2>> {
    let [m, v] = teacher_probs.dims();
    let [mc, k] = cand_cells.dims();
    ensure!(m == mc, "gather_candidate_distribution: teacher_probs has {m} rows but cand_cells has {mc}");
    ensure!(mask.dims() == [m, k], "gather_candidate_distribution: mask is {:?} but cand_cells is [{m}, {k}]", mask.dims());
    ensure!(v > 0 && k > 0, "gather_candidate_distribution: empty vocabulary (V = {v}) or no candidate slot (K = {k})");
    if m == 0 {
        return Ok(Tensor::zeros([0, k], &teacher_probs.device()));
    }
    let padded = mask.clone().bool_not();
    let cells = cand_cells.mask_fill(padded.clone(), 0);
    let lo: i64 = cells.clone().min().into_scalar();
    let hi: i64 = cells.clone().max().into_scalar();
    if lo < 0 || hi >= v as i64 {
        bail!(
            "gather_candidate_distribution: a real candidate has cell token {} outside the vocabulary 0..{v}",
            if lo < 0 { lo } else { hi }
        );
    }
    let g = teacher_probs.gather(1, cells).mask_fill(padded, 0.0);
    Ok(normalise_or_uniform(g, mask))
}

/// Divides each row of `g [M, K]` (zeros on padded slots) by its sum, or gives the uniform
/// distribution over the row's real candidates when the sum is ≤ [`MIN_MASS`].
pub(crate) fn normalise_or_uniform(g: Tensor<2>, mask: Tensor<2, Bool>) -> Tensor<2> {
    let real = mask.float();
    let count = real.clone().sum_dim(1).clamp_min(1.0); // [M, 1]
    let uniform = real / count;
    let sum = g.clone().sum_dim(1); // [M, 1]
    let ok = sum.clone().greater_elem(MIN_MASS).float(); // [M, 1]
    g / sum.clamp_min(MIN_MASS) * ok.clone() + uniform * ok.neg().add_scalar(1.0)
}

/// Plain-Rust version for one step (for caching the frozen teacher's gathered distributions):
/// `probs` the teacher's next-token probabilities (length `V`), `cells[k]` the cell of
/// candidate `k`, `mask[k]` true for real candidates → `q` of length `K`, same rule as the
/// tensor version (sums in f64).
///
/// Errors on length mismatch, a real candidate's cell outside `0..V`, or a gathered
/// probability that is negative or not finite.
pub fn gather_candidate_row(probs: &[f32], cells: &[i64], mask: &[bool]) -> Result<Vec<f32>> {
    ensure!(cells.len() == mask.len(), "gather_candidate_row: {} candidate cells but {} mask entries", cells.len(), mask.len());
    let v = probs.len();
    let mut g = vec![0f64; cells.len()];
    for (k, (&c, &real)) in cells.iter().zip(mask).enumerate() {
        if !real {
            continue;
        }
        if c < 0 || c as u64 >= v as u64 {
            bail!("gather_candidate_row: candidate {k} has cell token {c} outside the vocabulary 0..{v}");
        }
        let p = probs[c as usize];
        ensure!(p.is_finite() && p >= 0.0, "gather_candidate_row: teacher probability of cell {c} (candidate {k}) is {p}");
        g[k] = p as f64;
    }
    let sum: f64 = g.iter().sum();
    let n_real = mask.iter().filter(|&&r| r).count();
    Ok(if sum > MIN_MASS as f64 {
        g.iter().map(|&x| (x / sum) as f32).collect()
    } else {
        mask.iter().map(|&r| if r { 1.0 / n_real as f32 } else { 0.0 }).collect()
    })
}

/// [`gather_candidate_row`] over `M` rows stored flat: `probs` is `[M, V]` row-major,
/// `cells` and `mask` are `[M, K]` row-major → `q [M, K]` row-major. Errors name the row.
pub fn gather_candidate_rows(probs: &[f32], v: usize, cells: &[i64], mask: &[bool], k: usize) -> Result<Vec<f32>> {
    ensure!(v > 0 && k > 0, "gather_candidate_rows: V = {v} and K = {k} must both be > 0");
    ensure!(probs.len().is_multiple_of(v), "gather_candidate_rows: {} probabilities is not a multiple of V = {v}", probs.len());
    let m = probs.len() / v;
    ensure!(
        cells.len() == m * k && mask.len() == m * k,
        "gather_candidate_rows: {m} teacher rows need {} cells and mask entries (K = {k}), got {} and {}",
        m * k,
        cells.len(),
        mask.len()
    );
    let mut out = Vec::with_capacity(m * k);
    for i in 0..m {
        let row = gather_candidate_row(&probs[i * v..(i + 1) * v], &cells[i * k..(i + 1) * k], &mask[i * k..(i + 1) * k])
            .map_err(|e| anyhow::anyhow!("row {i}: {e}"))?;
        out.extend(row);
    }
    Ok(out)
}
