//! Raw-slice LSTM kernels (forward over a whole sequence, and its backward), used by the fused
//! LSTM autodiff op. Gate layout `[i | f | g | o]` (PyTorch order), each `H` wide, `G = 4H`.
//!
//! Shapes (all row-major, contiguous):
//! - `x`: `[T, N, F]` time-major input, `w_ih`: `[F, G]`, `w_hh`: `[H, G]`, `b`: `[G]`.
//!
//! Matrix products go through the `gemm` crate (rayon-parallel); the element-wise gate math runs
//! in rayon chunks of rows with the vectorisable activations of [`crate::fastmath`].

use crate::fastmath::{sigmoid_fast, tanh_fast};
use crate::simd_fn;
use rayon::prelude::*;

/// Rows per rayon task for element-wise work.
const ROWS: usize = 64;

/// SIMD block width of the element-wise loops (one AVX2 register).
const LANES: usize = 8;

/// Loads `src[j..j+w]` into a lane block (constant-size copy in the common full case).
#[inline(always)]
fn ld(dst: &mut [f32; LANES], src: &[f32], j: usize, w: usize) {
    if w == LANES {
        *dst = src[j..j + LANES].try_into().expect("full block");
    } else {
        dst[..w].copy_from_slice(&src[j..j + w]);
    }
}

/// Stores the first `w` lanes of `src` into `dst[j..j+w]`.
#[inline(always)]
fn st(dst: &mut [f32], j: usize, w: usize, src: &[f32; LANES]) {
    if w == LANES {
        dst[j..j + LANES].copy_from_slice(src);
    } else {
        dst[j..j + w].copy_from_slice(&src[..w]);
    }
}

use crate::gemm_util::{Mat, matmul as mm};

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

simd_fn! {
    /// Gate non-linearities and state update for a block of rows.
    /// `pre`: pre-activations `[rows, G]` (bias not yet added), overwritten with the activated
    /// gates. `c_prev`: `[rows, H]`. Writes `c`, `tanh(c)` and `h` (`[rows, H]` each).
    fn cell_rows(
        h: usize,
        pre: &mut [f32],
        b: &[f32],
        c_prev: &[f32],
        c_out: &mut [f32],
        tc_out: &mut [f32],
        h_out: &mut [f32],
    ) {
        let g = 4 * h;
        let (bi, rest) = b.split_at(h);
        let (bf, rest) = rest.split_at(h);
        let (bg, bo) = rest.split_at(h);
        for ((((p, cp), co), tco), ho) in pre
            .chunks_exact_mut(g)
            .zip(c_prev.chunks_exact(h))
            .zip(c_out.chunks_exact_mut(h))
            .zip(tc_out.chunks_exact_mut(h))
            .zip(h_out.chunks_exact_mut(h))
        {
            let (pi, rest) = p.split_at_mut(h);
            let (pf, rest) = rest.split_at_mut(h);
            let (pg, po) = rest.split_at_mut(h);
            // equal, statically known lengths: no bounds checks, so the loop vectorises
            let (pi, pf, pg, po) = (&mut pi[..h], &mut pf[..h], &mut pg[..h], &mut po[..h]);
            let (bi, bf, bg, bo) = (&bi[..h], &bf[..h], &bg[..h], &bo[..h]);
            let (cp, co, tco, ho) = (&cp[..h], &mut co[..h], &mut tco[..h], &mut ho[..h]);
            // 8-lane blocks through local arrays: LLVM cannot prove the slices disjoint and
            // would keep a scalar loop; on locals it vectorises the whole block.
            let mut j = 0;
            while j < h {
                let w = LANES.min(h - j);
                let mut a = [[0.0f32; LANES]; 5];
                ld(&mut a[0], pi, j, w);
                ld(&mut a[1], pf, j, w);
                ld(&mut a[2], pg, j, w);
                ld(&mut a[3], po, j, w);
                ld(&mut a[4], cp, j, w);
                let mut bb = [[0.0f32; LANES]; 4];
                ld(&mut bb[0], bi, j, w);
                ld(&mut bb[1], bf, j, w);
                ld(&mut bb[2], bg, j, w);
                ld(&mut bb[3], bo, j, w);
                let mut out = [[0.0f32; LANES]; 3];
                for l in 0..LANES {
                    let i = sigmoid_fast(a[0][l] + bb[0][l]);
                    let f = sigmoid_fast(a[1][l] + bb[1][l]);
                    let gg = tanh_fast(a[2][l] + bb[2][l]);
                    let o = sigmoid_fast(a[3][l] + bb[3][l]);
                    let c = f * a[4][l] + i * gg;
                    let tc = tanh_fast(c);
                    out[0][l] = c;
                    out[1][l] = tc;
                    out[2][l] = o * tc;
                    a[0][l] = i;
                    a[1][l] = f;
                    a[2][l] = gg;
                    a[3][l] = o;
                }
                st(pi, j, w, &a[0]);
                st(pf, j, w, &a[1]);
                st(pg, j, w, &a[2]);
                st(po, j, w, &a[3]);
                st(co, j, w, &out[0]);
                st(tco, j, w, &out[1]);
                st(ho, j, w, &out[2]);
                j += w;
            }
        }
    }
}

/// One step of element-wise work over all rows, in parallel row blocks.
fn cell_step(h: usize, pre: &mut [f32], b: &[f32], c_prev: &[f32], c_out: &mut [f32], tc_out: &mut [f32], h_out: &mut [f32]) {
    let g = 4 * h;
    pre.par_chunks_mut(ROWS * g)
        .zip(c_prev.par_chunks(ROWS * h))
        .zip(c_out.par_chunks_mut(ROWS * h))
        .zip(tc_out.par_chunks_mut(ROWS * h))
        .zip(h_out.par_chunks_mut(ROWS * h))
        .for_each(|((((p, cp), c), tc), hh)| cell_rows(h, p, b, cp, c, tc, hh));
}

/// Forward over the whole sequence. Returns the last hidden state `[N, H]` and, when `train`,
/// the saved activations for [`backward`].
pub fn forward(d: Dims, x: &[f32], w_ih: &[f32], w_hh: &[f32], b: &[f32], train: bool) -> (Vec<f32>, Option<Saved>) {
    let Dims { t, n, f, h } = d;
    let g = d.g();
    assert_eq!(x.len(), t * n * f);
    assert_eq!(w_ih.len(), f * g);
    assert_eq!(w_hh.len(), h * g);
    assert_eq!(b.len(), g);
    assert!(t > 0);
    if train {
        let mut s = Saved { acts: vec![0.0; t * n * g], cs: vec![0.0; t * n * h], tcs: vec![0.0; t * n * h], hs: vec![0.0; t * n * h] };
        let zeros = vec![0.0f32; n * h];
        // all input projections at once
        mm(t * n, g, f, &mut s.acts, false, Mat::new(x, f, 1), Mat::new(w_ih, g, 1));
        for step in 0..t {
            let (hs_prev, hs_cur) = s.hs.split_at_mut(step * n * h);
            let hs_cur = &mut hs_cur[..n * h];
            let (cs_prev, cs_cur) = s.cs.split_at_mut(step * n * h);
            let cs_cur = &mut cs_cur[..n * h];
            let tcs_cur = &mut s.tcs[step * n * h..(step + 1) * n * h];
            let pre = &mut s.acts[step * n * g..(step + 1) * n * g];
            let c_prev = if step > 0 {
                let hp = &hs_prev[(step - 1) * n * h..];
                mm(n, g, h, pre, true, Mat::new(hp, h, 1), Mat::new(w_hh, g, 1));
                &cs_prev[(step - 1) * n * h..]
            } else {
                &zeros[..]
            };
            cell_step(h, pre, b, c_prev, cs_cur, tcs_cur, hs_cur);
        }
        let h_last = s.hs[(t - 1) * n * h..].to_vec();
        (h_last, Some(s))
    } else {
        let mut pre = vec![0.0; n * g];
        let mut hs = vec![0.0; n * h];
        let mut tc = vec![0.0; n * h];
        let mut c_a = vec![0.0; n * h];
        let mut c_b = vec![0.0; n * h];
        for step in 0..t {
            let xt = &x[step * n * f..(step + 1) * n * f];
            mm(n, g, f, &mut pre, false, Mat::new(xt, f, 1), Mat::new(w_ih, g, 1));
            if step > 0 {
                mm(n, g, h, &mut pre, true, Mat::new(&hs, h, 1), Mat::new(w_hh, g, 1));
            }
            // c_b holds zeros at step 0
            let (c_prev, c_cur) = if step % 2 == 0 { (&c_b, &mut c_a) } else { (&c_a, &mut c_b) };
            cell_step(h, &mut pre, b, c_prev, c_cur, &mut tc, &mut hs);
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

simd_fn! {
    /// Per-row backward through the cell non-linearities at one step. `dh`: grad of `h_t`;
    /// `dc`: in: grad of `c_t` from step t+1, out: grad of `c_{t-1}`. Writes the gradients of
    /// the gate pre-activations into `dgates` `[rows, G]`.
    fn cell_back_rows(
        h: usize,
        acts: &[f32],
        tcs: &[f32],
        c_prev: &[f32],
        dh: &[f32],
        dc: &mut [f32],
        dgates: &mut [f32],
    ) {
        let g = 4 * h;
        for (((((a, tc), cp), dhr), dcr), dgr) in acts
            .chunks_exact(g)
            .zip(tcs.chunks_exact(h))
            .zip(c_prev.chunks_exact(h))
            .zip(dh.chunks_exact(h))
            .zip(dc.chunks_exact_mut(h))
            .zip(dgates.chunks_exact_mut(g))
        {
            let (ai, rest) = a.split_at(h);
            let (af, rest) = rest.split_at(h);
            let (ag, ao) = rest.split_at(h);
            let (di_, rest) = dgr.split_at_mut(h);
            let (df_, rest) = rest.split_at_mut(h);
            let (dg_, do_) = rest.split_at_mut(h);
            let (ai, af, ag, ao) = (&ai[..h], &af[..h], &ag[..h], &ao[..h]);
            let (di_, df_, dg_, do_) = (&mut di_[..h], &mut df_[..h], &mut dg_[..h], &mut do_[..h]);
            let (tc, cp, dhr, dcr) = (&tc[..h], &cp[..h], &dhr[..h], &mut dcr[..h]);
            let mut j = 0;
            while j < h {
                let w = LANES.min(h - j);
                let mut a = [[0.0f32; LANES]; 8];
                ld(&mut a[0], ai, j, w);
                ld(&mut a[1], af, j, w);
                ld(&mut a[2], ag, j, w);
                ld(&mut a[3], ao, j, w);
                ld(&mut a[4], tc, j, w);
                ld(&mut a[5], cp, j, w);
                ld(&mut a[6], dhr, j, w);
                ld(&mut a[7], dcr, j, w);
                let mut out = [[0.0f32; LANES]; 5];
                for l in 0..LANES {
                    let (i, f, gg, o) = (a[0][l], a[1][l], a[2][l], a[3][l]);
                    let t = a[4][l];
                    let dhj = a[6][l];
                    let dcj = a[7][l] + dhj * o * (1.0 - t * t);
                    out[0][l] = dcj * gg * i * (1.0 - i);
                    out[1][l] = dcj * a[5][l] * f * (1.0 - f);
                    out[2][l] = dcj * i * (1.0 - gg * gg);
                    out[3][l] = dhj * t * o * (1.0 - o);
                    out[4][l] = dcj * f;
                }
                st(di_, j, w, &out[0]);
                st(df_, j, w, &out[1]);
                st(dg_, j, w, &out[2]);
                st(do_, j, w, &out[3]);
                st(dcr, j, w, &out[4]);
                j += w;
            }
        }
    }
}

simd_fn! {
    /// `acc[j] += sum_r rows[r, j]`.
    fn col_sums(g: usize, rows: &[f32], acc: &mut [f32]) {
        for row in rows.chunks_exact(g) {
            for (a, v) in acc.iter_mut().zip(row) {
                *a += v;
            }
        }
    }
}

/// Backward of [`forward`] given the gradient of the last hidden state `dh_last` `[N, H]`.
pub fn backward(d: Dims, x: &[f32], w_ih: &[f32], w_hh: &[f32], s: &Saved, dh_last: &[f32]) -> Grads {
    let Dims { t, n, f, h } = d;
    let g = d.g();
    assert_eq!(dh_last.len(), n * h);
    let mut dgates = vec![0.0f32; t * n * g];
    let mut dh = dh_last.to_vec();
    let mut dc = vec![0.0f32; n * h];
    let zeros = vec![0.0f32; n * h];
    for step in (0..t).rev() {
        let acts = &s.acts[step * n * g..(step + 1) * n * g];
        let tcs = &s.tcs[step * n * h..(step + 1) * n * h];
        let c_prev = if step > 0 { &s.cs[(step - 1) * n * h..step * n * h] } else { &zeros[..] };
        let dg_t = &mut dgates[step * n * g..(step + 1) * n * g];
        let dh_ref = &dh;
        dg_t.par_chunks_mut(ROWS * g)
            .zip(dc.par_chunks_mut(ROWS * h))
            .zip(acts.par_chunks(ROWS * g))
            .zip(tcs.par_chunks(ROWS * h))
            .zip(c_prev.par_chunks(ROWS * h))
            .zip(dh_ref.par_chunks(ROWS * h))
            .for_each(|(((((dgr, dcr), a), tc), cp), dhr)| cell_back_rows(h, a, tc, cp, dhr, dcr, dgr));
        if step > 0 {
            // dh_{t-1} = dgates_t * w_hh^T
            mm(n, h, g, &mut dh, false, Mat::new(dg_t, g, 1), Mat::new(w_hh, 1, g));
        }
    }
    // dx = dgates * w_ih^T : [T*N, G] x [G, F]
    let mut dx = vec![0.0f32; t * n * f];
    mm(t * n, f, g, &mut dx, false, Mat::new(&dgates, g, 1), Mat::new(w_ih, 1, g));
    // dw_ih = x^T * dgates : [F, T*N] x [T*N, G]
    let mut dw_ih = vec![0.0f32; f * g];
    mm(f, g, t * n, &mut dw_ih, false, Mat::new(x, 1, f), Mat::new(&dgates, g, 1));
    // dw_hh = sum_{t>=1} h_{t-1}^T * dgates_t : [H, (T-1)N] x [(T-1)N, G]
    let mut dw_hh = vec![0.0f32; h * g];
    if t > 1 {
        mm(h, g, (t - 1) * n, &mut dw_hh, false, Mat::new(&s.hs, 1, h), Mat::new(&dgates[n * g..], g, 1));
    }
    // db = column sums of dgates
    // Partial sums per chunk, added in chunk order (deterministic whatever the scheduling).
    let parts: Vec<Vec<f32>> = dgates
        .par_chunks(ROWS * 4 * g)
        .map(|chunk| {
            let mut acc = vec![0.0f32; g];
            col_sums(g, chunk, &mut acc);
            acc
        })
        .collect();
    let db = parts.into_iter().fold(vec![0.0f32; g], crate::gemm_util::add_into);
    Grads { dx, dw_ih, dw_hh, db }
}
