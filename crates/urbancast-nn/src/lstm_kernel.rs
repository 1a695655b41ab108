//! Raw-slice LSTM kernels (forward over a whole sequence, and its backward), used by the fused
//! LSTM autodiff op. Gate layout `[i | f | g | o]` (PyTorch order), each `H` wide, `G = 4H`.
//!
//! Shapes (all row-major, contiguous):
//! - `x`: `[T, N, F]` time-major input, `w_ih`: `[F, G]`, `w_hh`: `[H, G]`, `b`: `[G]`.
//!
//! Matrix products go through the `gemm` crate (rayon-parallel); the element-wise gate math runs
//! in rayon chunks of rows with the vectorisable activations of [`crate::fastmath`].

use crate::fastmath::{sigmoid_fast, tanh_fast, with_simd};
use rayon::prelude::*;

/// Rows per rayon task for element-wise work.
const ROWS: usize = 64;

/// `dst[m,n] (+)= lhs[m,k] * rhs[k,n]` with explicit strides (row stride, col stride).
#[allow(clippy::too_many_arguments)]
fn mm(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    accumulate: bool,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= m * n);
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    assert!(lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    assert!(rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    let par = if m * n * k >= 64 * 64 * 64 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: bounds of all three operands were checked above for the given strides.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

/// Problem dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Sequence length.
    pub t: usize,
    /// Number of sequences (batch).
    pub n: usize,
    /// Input features.
    pub f: usize,
    /// Hidden size.
    pub h: usize,
}

impl Dims {
    fn g(&self) -> usize {
        4 * self.h
    }
}

/// Everything the backward pass needs from a training forward.
#[derive(Default)]
pub struct Saved {
    /// Activated gates `[T, N, G]`.
    pub acts: Vec<f32>,
    /// Cell states `[T, N, H]`.
    pub cs: Vec<f32>,
    /// `tanh(c_t)` `[T, N, H]`.
    pub tcs: Vec<f32>,
    /// Hidden states `[T, N, H]`.
    pub hs: Vec<f32>,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "lstm::Saved({} gate values)", self.acts.len())
    }
}

/// Gate non-linearities and state update for a block of rows.
/// `pre`: pre-activations `[rows, G]` (bias not yet added), overwritten with activated gates when
/// `store_acts`. `c_prev`: `[rows, H]` or `None` (zeros).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cell_rows(
    h: usize,
    pre: &mut [f32],
    b: &[f32],
    c_prev: Option<&[f32]>,
    c_out: &mut [f32],
    tc_out: Option<&mut [f32]>,
    h_out: &mut [f32],
    store_acts: bool,
) {
    let g = 4 * h;
    let rows = h_out.len() / h;
    let mut tc_out = tc_out;
    for r in 0..rows {
        let p = &mut pre[r * g..(r + 1) * g];
        let (pi, rest) = p.split_at_mut(h);
        let (pf, rest) = rest.split_at_mut(h);
        let (pg, po) = rest.split_at_mut(h);
        let (bi, rest) = b.split_at(h);
        let (bf, rest) = rest.split_at(h);
        let (bg, bo) = rest.split_at(h);
        let co = &mut c_out[r * h..(r + 1) * h];
        let ho = &mut h_out[r * h..(r + 1) * h];
        let mut tco = tc_out.as_deref_mut().map(|t| &mut t[r * h..(r + 1) * h]);
        let cp = c_prev.map(|c| &c[r * h..(r + 1) * h]);
        for j in 0..h {
            let i = sigmoid_fast(pi[j] + bi[j]);
            let f = sigmoid_fast(pf[j] + bf[j]);
            let gg = tanh_fast(pg[j] + bg[j]);
            let o = sigmoid_fast(po[j] + bo[j]);
            let c = match cp {
                Some(cp) => f * cp[j] + i * gg,
                None => i * gg,
            };
            let tc = tanh_fast(c);
            co[j] = c;
            ho[j] = o * tc;
            if let Some(t) = tco.as_deref_mut() {
                t[j] = tc;
            }
            if store_acts {
                pi[j] = i;
                pf[j] = f;
                pg[j] = gg;
                po[j] = o;
            }
        }
    }
}

/// Forward over the whole sequence. Returns the last hidden state `[N, H]` and, when `train`,
/// the saved activations for [`backward`].
pub fn forward(
    d: Dims,
    x: &[f32],
    w_ih: &[f32],
    w_hh: &[f32],
    b: &[f32],
    train: bool,
) -> (Vec<f32>, Option<Saved>) {
    let Dims { t, n, f, h } = d;
    let g = d.g();
    assert_eq!(x.len(), t * n * f);
    assert_eq!(w_ih.len(), f * g);
    assert_eq!(w_hh.len(), h * g);
    assert_eq!(b.len(), g);
    assert!(t > 0);
    if train {
        let mut s = Saved {
            acts: vec![0.0; t * n * g],
            cs: vec![0.0; t * n * h],
            tcs: vec![0.0; t * n * h],
            hs: vec![0.0; t * n * h],
        };
        // all input projections at once
        mm(t * n, g, f, &mut s.acts, false, x, f, 1, w_ih, g, 1);
        for step in 0..t {
            let (hs_prev, hs_cur) = s.hs.split_at_mut(step * n * h);
            let hs_cur = &mut hs_cur[..n * h];
            let (cs_prev, cs_cur) = s.cs.split_at_mut(step * n * h);
            let cs_cur = &mut cs_cur[..n * h];
            let tcs_cur = &mut s.tcs[step * n * h..(step + 1) * n * h];
            let pre = &mut s.acts[step * n * g..(step + 1) * n * g];
            let c_prev = if step > 0 {
                let hp = &hs_prev[(step - 1) * n * h..];
                mm(n, g, h, pre, true, hp, h, 1, w_hh, g, 1);
                Some(&cs_prev[(step - 1) * n * h..])
            } else {
                None
            };
            with_simd(|| {
                pre.par_chunks_mut(ROWS * g)
                    .zip(cs_cur.par_chunks_mut(ROWS * h))
                    .zip(tcs_cur.par_chunks_mut(ROWS * h))
                    .zip(hs_cur.par_chunks_mut(ROWS * h))
                    .enumerate()
                    .for_each(|(ci, (((p, c), tc), hh))| {
                        let cp = c_prev.map(|cp| &cp[ci * ROWS * h..]);
                        with_simd(|| cell_rows(h, p, b, cp, c, Some(tc), hh, true));
                    });
            });
        }
        let h_last = s.hs[(t - 1) * n * h..].to_vec();
        (h_last, Some(s))
    } else {
        let mut pre = vec![0.0; n * g];
        let mut hs = vec![0.0; n * h];
        let mut c_a = vec![0.0; n * h];
        let mut c_b = vec![0.0; n * h];
        for step in 0..t {
            let xt = &x[step * n * f..(step + 1) * n * f];
            mm(n, g, f, &mut pre, false, xt, f, 1, w_ih, g, 1);
            if step > 0 {
                mm(n, g, h, &mut pre, true, &hs, h, 1, w_hh, g, 1);
            }
            let (c_prev, c_cur) = if step % 2 == 0 { (&c_b, &mut c_a) } else { (&c_a, &mut c_b) };
            let c_prev = (step > 0).then_some(c_prev.as_slice());
            pre.par_chunks_mut(ROWS * g)
                .zip(c_cur.par_chunks_mut(ROWS * h))
                .zip(hs.par_chunks_mut(ROWS * h))
                .enumerate()
                .for_each(|(ci, ((p, c), hh))| {
                    let cp = c_prev.map(|cp| &cp[ci * ROWS * h..]);
                    with_simd(|| cell_rows(h, p, b, cp, c, None, hh, false));
                });
        }
        (hs, None)
    }
}

/// Gradients of the loss w.r.t. the inputs of [`forward`].
pub struct Grads {
    /// `[T, N, F]`
    pub dx: Vec<f32>,
    /// `[F, G]`
    pub dw_ih: Vec<f32>,
    /// `[H, G]`
    pub dw_hh: Vec<f32>,
    /// `[G]`
    pub db: Vec<f32>,
}

/// Per-row backward through the cell non-linearities at one step.
/// `dh`: incoming grad of h_t (read), `dc`: running grad of c_t (in: from step t+1, out: for c_{t-1}).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cell_back_rows(
    h: usize,
    acts: &[f32],
    tcs: &[f32],
    c_prev: Option<&[f32]>,
    dh: &[f32],
    dc: &mut [f32],
    dgates: &mut [f32],
) {
    let g = 4 * h;
    let rows = dh.len() / h;
    for r in 0..rows {
        let a = &acts[r * g..(r + 1) * g];
        let (ai, rest) = a.split_at(h);
        let (af, rest) = rest.split_at(h);
        let (ag, ao) = rest.split_at(h);
        let dgr = &mut dgates[r * g..(r + 1) * g];
        let (di_, rest) = dgr.split_at_mut(h);
        let (df_, rest) = rest.split_at_mut(h);
        let (dg_, do_) = rest.split_at_mut(h);
        let tc = &tcs[r * h..(r + 1) * h];
        let dhr = &dh[r * h..(r + 1) * h];
        let dcr = &mut dc[r * h..(r + 1) * h];
        let cp = c_prev.map(|c| &c[r * h..(r + 1) * h]);
        for j in 0..h {
            let (i, f, gg, o) = (ai[j], af[j], ag[j], ao[j]);
            let t = tc[j];
            let dhj = dhr[j];
            let dcj = dcr[j] + dhj * o * (1.0 - t * t);
            let cpj = match cp {
                Some(cp) => cp[j],
                None => 0.0,
            };
            di_[j] = dcj * gg * i * (1.0 - i);
            df_[j] = dcj * cpj * f * (1.0 - f);
            dg_[j] = dcj * i * (1.0 - gg * gg);
            do_[j] = dhj * t * o * (1.0 - o);
            dcr[j] = dcj * f;
        }
    }
}

/// Backward of [`forward`] given the gradient of the last hidden state `dh_last` `[N, H]`.
pub fn backward(
    d: Dims,
    x: &[f32],
    w_ih: &[f32],
    w_hh: &[f32],
    s: &Saved,
    dh_last: &[f32],
) -> Grads {
    let Dims { t, n, f, h } = d;
    let g = d.g();
    assert_eq!(dh_last.len(), n * h);
    let mut dgates = vec![0.0f32; t * n * g];
    let mut dh = dh_last.to_vec();
    let mut dc = vec![0.0f32; n * h];
    for step in (0..t).rev() {
        let acts = &s.acts[step * n * g..(step + 1) * n * g];
        let tcs = &s.tcs[step * n * h..(step + 1) * n * h];
        let c_prev = (step > 0).then(|| &s.cs[(step - 1) * n * h..step * n * h]);
        let dg_t = &mut dgates[step * n * g..(step + 1) * n * g];
        with_simd(|| {
            dg_t.par_chunks_mut(ROWS * g)
                .zip(dc.par_chunks_mut(ROWS * h))
                .enumerate()
                .for_each(|(ci, (dgr, dcr))| {
                    let r0 = ci * ROWS;
                    let rows = dcr.len() / h;
                    let a = &acts[r0 * g..(r0 + rows) * g];
                    let tc = &tcs[r0 * h..(r0 + rows) * h];
                    let cp = c_prev.map(|c| &c[r0 * h..(r0 + rows) * h]);
                    let dhr = &dh[r0 * h..(r0 + rows) * h];
                    with_simd(|| cell_back_rows(h, a, tc, cp, dhr, dcr, dgr));
                });
        });
        if step > 0 {
            // dh_{t-1} = dgates_t * w_hh^T
            mm(n, h, g, &mut dh, false, dg_t, g, 1, w_hh, 1, g);
        }
    }
    // dx = dgates * w_ih^T : [T*N, G] x [G, F]
    let mut dx = vec![0.0f32; t * n * f];
    mm(t * n, f, g, &mut dx, false, &dgates, g, 1, w_ih, 1, g);
    // dw_ih = x^T * dgates : [F, T*N] x [T*N, G]
    let mut dw_ih = vec![0.0f32; f * g];
    mm(f, g, t * n, &mut dw_ih, false, x, 1, f, &dgates, g, 1);
    // dw_hh = sum_{t>=1} h_{t-1}^T * dgates_t : [H, (T-1)N] x [(T-1)N, G]
    let mut dw_hh = vec![0.0f32; h * g];
    if t > 1 {
        mm(h, g, (t - 1) * n, &mut dw_hh, false, &s.hs, 1, h, &dgates[n * g..], g, 1);
    }
    // db = column sums of dgates
    let db = with_simd(|| {
        dgates
            .par_chunks(ROWS * 4 * g)
            .map(|chunk| {
                let mut acc = vec![0.0f32; g];
                for row in chunk.chunks_exact(g) {
                    for (a, v) in acc.iter_mut().zip(row) {
                        *a += v;
                    }
                }
                acc
            })
            .reduce(
                || vec![0.0f32; g],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(&b) {
                        *x += y;
                    }
                    a
                },
            )
    });
    Grads { dx, dw_ih, dw_hh, db }
}
