//! Winograd F(2x2, 3x3) convolution (stride 1, zero padding 1) in NHWC layout: 2.25x fewer
//! multiplications than im2col for the 64->64 layers. Per chunk of 2x2 output tiles: input
//! transform `V = B^T d B`, 16 GEMMs `M[p] = V[p] U[p]` over channels, output transform
//! `Y = A^T M A`; chunks run in parallel (rayon), GEMMs single-threaded.

#![allow(clippy::needless_range_loop)] // index loops over small fixed arrays are the SIMD idiom here

use rayon::prelude::*;

use crate::conv_kernel::ConvDims;
use crate::gemm_util::{Mat, gemm1};

/// Tiles per chunk.
const TILES: usize = 256;
/// Channel block (one AVX2 register).
const LB: usize = 8;

/// Loads one full block (channel counts are multiples of `LB`, see [`supports`]).
#[inline(always)]
fn load(dst: &mut [f32; LB], src: &[f32]) {
    *dst = src[..LB].try_into().expect("full block");
}

/// Stores one full block.
#[inline(always)]
fn store(dst: &mut [f32], src: &[f32; LB]) {
    dst[..LB].copy_from_slice(src);
}

/// Whether [`forward`] handles these channel counts (multiples of 8).
pub fn supports(cin: usize, cout: usize) -> bool {
    cin.is_multiple_of(LB) && cout.is_multiple_of(LB) && cin > 0 && cout > 0
}

/// `U[p][ci][co] = (G g G^T)[p]` for every (ci, co), from `weight [(kh, kw, ci), co]`.
fn transform_weight(d: ConvDims, weight: &[f32]) -> Vec<f32> {
    let (ci_n, co_n) = (d.cin, d.cout);
    let mut u = vec![0.0f32; 16 * ci_n * co_n];
    for ci in 0..ci_n {
        for co in 0..co_n {
            let g = |kh: usize, kw: usize| weight[((kh * 3 + kw) * ci_n + ci) * co_n + co];
            // rows: G g  (4 x 3)
            let mut gg = [[0.0f32; 3]; 4];
            for c in 0..3 {
                let (g0, g1, g2) = (g(0, c), g(1, c), g(2, c));
                gg[0][c] = g0;
                gg[1][c] = 0.5 * (g0 + g1 + g2);
                gg[2][c] = 0.5 * (g0 - g1 + g2);
                gg[3][c] = g2;
            }
            // columns: (G g) G^T  (4 x 4)
            for (r, row) in gg.iter().enumerate() {
                let (a0, a1, a2) = (row[0], row[1], row[2]);
                let vals = [a0, 0.5 * (a0 + a1 + a2), 0.5 * (a0 - a1 + a2), a2];
                for (c, v) in vals.into_iter().enumerate() {
                    u[((r * 4 + c) * ci_n + ci) * co_n + co] = v;
                }
            }
        }
    }
    u
}

/// `B^T d B` on 8 channels at once: `d[i*4+j]` -> `v[i*4+j]`.
#[inline(always)]
fn input_tile(d: &[[f32; LB]; 16], v: &mut [[f32; LB]; 16]) {
    let mut t = [[0.0f32; LB]; 16];
    for j in 0..4 {
        for l in 0..LB {
            let (d0, d1, d2, d3) = (d[j][l], d[4 + j][l], d[8 + j][l], d[12 + j][l]);
            t[j][l] = d0 - d2;
            t[4 + j][l] = d1 + d2;
            t[8 + j][l] = d2 - d1;
            t[12 + j][l] = d1 - d3;
        }
    }
    for i in 0..4 {
        for l in 0..LB {
            let (t0, t1, t2, t3) = (t[i * 4][l], t[i * 4 + 1][l], t[i * 4 + 2][l], t[i * 4 + 3][l]);
            v[i * 4][l] = t0 - t2;
            v[i * 4 + 1][l] = t1 + t2;
            v[i * 4 + 2][l] = t2 - t1;
            v[i * 4 + 3][l] = t1 - t3;
        }
    }
}

/// `A^T m A` on 8 channels: 16 -> 4 values (`y[a*2+b]`).
#[inline(always)]
fn output_tile(m: &[[f32; LB]; 16], y: &mut [[f32; LB]; 4]) {
    let mut t = [[0.0f32; LB]; 8]; // 2 x 4
    for j in 0..4 {
        for l in 0..LB {
            let (m0, m1, m2, m3) = (m[j][l], m[4 + j][l], m[8 + j][l], m[12 + j][l]);
            t[j][l] = m0 + m1 + m2;
            t[4 + j][l] = m1 - m2 - m3;
        }
    }
    for a in 0..2 {
        for l in 0..LB {
            let (t0, t1, t2, t3) = (t[a * 4][l], t[a * 4 + 1][l], t[a * 4 + 2][l], t[a * 4 + 3][l]);
            y[a * 2][l] = t0 + t1 + t2;
            y[a * 2 + 1][l] = t1 - t2 - t3;
        }
    }
}

crate::simd_fn! {
    /// Input transform of tiles `t0 .. t0 + nt` into `v [16][nt][cin]`.
    fn input_chunk(
        d: ConvDims,
        x: &[f32],
        relu: bool,
        t0: usize,
        nt: usize,
        v: &mut [f32],
    ) {
        let (h, w, c) = (d.h, d.w, d.cin);
        let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
        for tl in 0..nt {
            let t = t0 + tl;
            let (img, ty, tx) = tile_position(t, th, tw);
            // input rows 2ty-1 .. 2ty+2, cols 2tx-1 .. 2tx+2; `None` = padding
            let mut src: [Option<usize>; 16] = [None; 16];
            for i in 0..4 {
                let yy = (2 * ty + i).wrapping_sub(1);
                for j in 0..4 {
                    let xx = (2 * tx + j).wrapping_sub(1);
                    if yy < h && xx < w {
                        src[i * 4 + j] = Some(((img * h + yy) * w + xx) * c);
                    }
                }
            }
            let mut c0 = 0;
            while c0 < c {
                let lw = LB;
                let mut dt = [[0.0f32; LB]; 16];
                for (p, s) in src.iter().enumerate() {
                    if let Some(off) = s {
                        load(&mut dt[p], &x[off + c0..off + c0 + lw]);
                        if relu {
                            for l in 0..LB {
                                dt[p][l] = dt[p][l].max(0.0);
                            }
                        }
                    }
                }
                let mut vt = [[0.0f32; LB]; 16];
                input_tile(&dt, &mut vt);
                for (p, vals) in vt.iter().enumerate() {
                    let o = (p * nt + tl) * c + c0;
                    store(&mut v[o..o + lw], vals);
                }
                c0 += lw;
            }
        }
    }
}

crate::simd_fn! {
    /// Output transform of `m [16][nt][cout]` (+ bias) into the NHWC output `out`.
    fn output_chunk(
        d: ConvDims,
        m: &[f32],
        bias: Option<&[f32]>,
        t0: usize,
        nt: usize,
        p0: usize,
        out: &mut [f32],
    ) {
        // `out` holds the output pixels from global pixel index `p0` on
        let (h, w, k) = (d.h, d.w, d.cout);
        let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
        for tl in 0..nt {
            let t = t0 + tl;
            let (img, ty, tx) = tile_position(t, th, tw);
            let mut c0 = 0;
            while c0 < k {
                let lw = LB;
                let mut mt = [[0.0f32; LB]; 16];
                for (p, row) in mt.iter_mut().enumerate() {
                    let o = (p * nt + tl) * k + c0;
                    load(row, &m[o..o + lw]);
                }
                let mut y = [[0.0f32; LB]; 4];
                output_tile(&mt, &mut y);
                for a in 0..2 {
                    let yy = 2 * ty + a;
                    if yy >= h {
                        continue;
                    }
                    for b in 0..2 {
                        let xx = 2 * tx + b;
                        if xx >= w {
                            continue;
                        }
                        let o = (((img * h + yy) * w + xx) - p0) * k + c0;
                        let dst = &mut out[o..o + lw];
                        let mut val = y[a * 2 + b];
                        if let Some(bs) = bias {
                            let mut bb = [0.0f32; LB];
                            load(&mut bb, &bs[c0..c0 + lw]);
                            for l in 0..LB {
                                val[l] += bb[l];
                            }
                        }
                        store(dst, &val);
                    }
                }
                c0 += lw;
            }
        }
    }
}

/// Forward convolution, same contract as [`crate::conv_kernel::forward`].
pub fn forward(d: ConvDims, x: &[f32], weight: &[f32], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
    assert_eq!(x.len(), d.pixels() * d.cin);
    assert_eq!(weight.len(), 9 * d.cin * d.cout);
    assert!(supports(d.cin, d.cout), "winograd: channels must be multiples of {LB}");
    let u = transform_weight(d, weight);
    let (th, tw) = (d.h.div_ceil(2), d.w.div_ceil(2));
    let tile_rows = d.n * th;
    let per = (TILES / tw).max(1); // tile rows per chunk
    // first output row (global, over all images) of tile row r
    let row_start = |r: usize| (r / th) * d.h + 2 * (r % th);
    let mut out = vec![0.0f32; d.pixels() * d.cout];
    // split the output into the disjoint pixel ranges owned by each chunk of tile rows
    let mut parts = Vec::with_capacity(tile_rows.div_ceil(per));
    let mut rest: &mut [f32] = &mut out;
    let mut r0 = 0;
    while r0 < tile_rows {
        let r1 = (r0 + per).min(tile_rows);
        let end_row = if r1 == tile_rows { d.n * d.h } else { row_start(r1) };
        let len = (end_row - row_start(r0)) * d.w * d.cout;
        let (head, tail) = rest.split_at_mut(len);
        parts.push((r0, r1, head));
        rest = tail;
        r0 = r1;
    }
    parts.into_par_iter().for_each_init(
        || (vec![0.0f32; 16 * per * tw * d.cin], vec![0.0f32; 16 * per * tw * d.cout]),
        |(v, m), (r0, r1, o)| {
            let t0 = r0 * tw;
            let nt = (r1 - r0) * tw;
            input_chunk(d, x, relu, t0, nt, v);
            for p in 0..16 {
                let vp = &v[p * nt * d.cin..(p + 1) * nt * d.cin];
                let up = &u[p * d.cin * d.cout..(p + 1) * d.cin * d.cout];
                let mp = &mut m[p * nt * d.cout..(p + 1) * nt * d.cout];
                gemm1(nt, d.cout, d.cin, mp, false, Mat::new(vp, d.cin, 1), Mat::new(up, d.cout, 1));
            }
            output_chunk(d, m, bias, t0, nt, row_start(r0) * d.w, o);
        },
    );
    out
}

/// `Z = A dY A^T` on 8 channels: 2x2 gradient tile `y[a*2+b]` -> 16 values.
#[inline(always)]
fn grad_tile(y: &[[f32; LB]; 4], z: &mut [[f32; LB]; 16]) {
    let mut t = [[0.0f32; LB]; 8]; // 4 x 2
    for b in 0..2 {
        for l in 0..LB {
            let (y0, y1) = (y[b][l], y[2 + b][l]);
            t[b][l] = y0;
            t[2 + b][l] = y0 + y1;
            t[4 + b][l] = y0 - y1;
            t[6 + b][l] = -y1;
        }
    }
    for i in 0..4 {
        for l in 0..LB {
            let (u0, u1) = (t[i * 2][l], t[i * 2 + 1][l]);
            z[i * 4][l] = u0;
            z[i * 4 + 1][l] = u0 + u1;
            z[i * 4 + 2][l] = u0 - u1;
            z[i * 4 + 3][l] = -u1;
        }
    }
}

crate::simd_fn! {
    /// Gradient transform of tiles `t0 .. t0 + nt` of `dout` (NHWC) into `z [16][nt][cout]`.
    fn grad_chunk(d: ConvDims, dout: &[f32], t0: usize, nt: usize, z: &mut [f32]) {
        let (h, w, k) = (d.h, d.w, d.cout);
        let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
        for tl in 0..nt {
            let t = t0 + tl;
            let (img, ty, tx) = tile_position(t, th, tw);
            let mut c0 = 0;
            while c0 < k {
                let mut y = [[0.0f32; LB]; 4];
                for a in 0..2 {
                    for b in 0..2 {
                        let (yy, xx) = (2 * ty + a, 2 * tx + b);
                        if yy < h && xx < w {
                            let o = ((img * h + yy) * w + xx) * k + c0;
                            load(&mut y[a * 2 + b], &dout[o..o + LB]);
                        }
                    }
                }
                let mut zt = [[0.0f32; LB]; 16];
                grad_tile(&y, &mut zt);
                for (p, vals) in zt.iter().enumerate() {
                    let o = (p * nt + tl) * k + c0;
                    store(&mut z[o..o + LB], vals);
                }
                c0 += LB;
            }
        }
    }
}

/// Weight gradient `[(kh, kw, ci), co]` of [`forward`] (without bias) given `dout`:
/// `dU[p] = sum_tiles V[p]^T Z[p]` (16 GEMMs over tiles), then `dW = G^T dU G`.
pub fn weight_grad(d: ConvDims, x: &[f32], relu: bool, dout: &[f32]) -> Vec<f32> {
    assert!(supports(d.cin, d.cout), "winograd: channels must be multiples of {LB}");
    assert_eq!(x.len(), d.pixels() * d.cin);
    assert_eq!(dout.len(), d.pixels() * d.cout);
    let (ci_n, co_n) = (d.cin, d.cout);
    let (th, tw) = (d.h.div_ceil(2), d.w.div_ceil(2));
    let tile_rows = d.n * th;
    let per = (TILES / tw).max(1);
    let chunks = tile_rows.div_ceil(per);
    let du = crate::gemm_util::ordered_fold(
        chunks,
        || (vec![0.0f32; 16 * per * tw * ci_n], vec![0.0f32; 16 * per * tw * co_n], vec![0.0f32; 16 * ci_n * co_n]),
        |(mut v, mut z, mut du), c| {
            let r0 = c * per;
            let r1 = (r0 + per).min(tile_rows);
            let (t0, nt) = (r0 * tw, (r1 - r0) * tw);
            input_chunk(d, x, relu, t0, nt, &mut v);
            grad_chunk(d, dout, t0, nt, &mut z);
            for p in 0..16 {
                let vp = &v[p * nt * ci_n..(p + 1) * nt * ci_n];
                let zp = &z[p * nt * co_n..(p + 1) * nt * co_n];
                let dp = &mut du[p * ci_n * co_n..(p + 1) * ci_n * co_n];
                gemm1(ci_n, co_n, nt, dp, true, Mat::new(vp, 1, ci_n), Mat::new(zp, co_n, 1));
            }
            (v, z, du)
        },
        |(v, z, a), (_, _, b)| (v, z, crate::gemm_util::add_into(a, b)),
    )
    .2;
    // dW = G^T dU G, per (ci, co)
    let mut dw = vec![0.0f32; 9 * ci_n * co_n];
    for ci in 0..ci_n {
        for co in 0..co_n {
            let u = |p: usize| du[(p * ci_n + ci) * co_n + co];
            let mut r = [[0.0f32; 4]; 3]; // G^T dU: 3 x 4
            for j in 0..4 {
                let (u0, u1, u2, u3) = (u(j), u(4 + j), u(8 + j), u(12 + j));
                r[0][j] = u0 + 0.5 * (u1 + u2);
                r[1][j] = 0.5 * (u1 - u2);
                r[2][j] = 0.5 * (u1 + u2) + u3;
            }
            for (kh, row) in r.iter().enumerate() {
                let (a0, a1, a2, a3) = (row[0], row[1], row[2], row[3]);
                let vals = [a0 + 0.5 * (a1 + a2), 0.5 * (a1 - a2), 0.5 * (a1 + a2) + a3];
                for (kw, v) in vals.into_iter().enumerate() {
                    dw[((kh * 3 + kw) * ci_n + ci) * co_n + co] = v;
                }
            }
        }
    }
    dw
}

/// Image index and tile row/column of global tile `t` (tiles of 2x2 output pixels, `th x tw`
/// per image, row-major).
#[inline(always)]
fn tile_position(t: usize, th: usize, tw: usize) -> (usize, usize, usize) {
    (t / (th * tw), (t / tw) % th, t % tw)
}
