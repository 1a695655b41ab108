//! Raw-slice 3x3 / stride 1 / padding 1 convolution in NHWC layout (channels last), with an
//! optional ReLU fused on the input, via chunked im2col + single-threaded GEMMs run in parallel
//! over pixel chunks (rayon).
//!
//! Layouts: `x [N, H, W, Cin]`, weight `[9 * Cin, Cout]` with rows ordered `(kh, kw, cin)`,
//! bias `[Cout]`, output `[N, H, W, Cout]`.

use rayon::prelude::*;

use crate::simd_fn;

/// Output pixels per chunk (one im2col buffer of `PIX * 9 * Cin` floats per task).
const PIX: usize = 256;

/// Spatial shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvDims {
    /// Images.
    pub n: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
}

impl ConvDims {
    /// Total pixels `N * H * W`.
    pub fn pixels(&self) -> usize {
        self.n * self.h * self.w
    }
}

simd_fn! {
    fn relu_copy(dst: &mut [f32], src: &[f32]) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = s.max(0.0);
        }
    }
}

/// im2col rows for pixels `p0 .. p0 + rows` into `cols [rows, 9 * cin]`.
fn im2col(d: ConvDims, x: &[f32], relu: bool, p0: usize, rows: usize, cols: &mut [f32]) {
    let (h, w, c) = (d.h, d.w, d.cin);
    let k = 9 * c;
    for (r, row) in cols[..rows * k].chunks_exact_mut(k).enumerate() {
        let p = p0 + r;
        let img = p / (h * w);
        let y = (p / w) % h;
        let xx = p % w;
        for kh in 0..3 {
            for kw in 0..3 {
                let dst = &mut row[(kh * 3 + kw) * c..(kh * 3 + kw + 1) * c];
                let (yy, xs) = (y + kh, xx + kw); // shifted by +1 (padding)
                if yy == 0 || yy > h || xs == 0 || xs > w {
                    dst.fill(0.0);
                } else {
                    let off = ((img * h + yy - 1) * w + xs - 1) * c;
                    let src = &x[off..off + c];
                    if relu { relu_copy(dst, src) } else { dst.copy_from_slice(src) }
                }
            }
        }
    }
}

use crate::gemm_util::gemm1 as mm1;
use crate::gemm_util::{Mat, add_into, ordered_fold};

/// Channel count from which [`forward`] uses Winograd F(2x2, 3x3) instead of im2col.
pub const WINOGRAD_MIN_CHANNELS: usize = 16;

/// Forward: `out = conv(relu?(x), weight) + bias` (bias optional). Winograd F(2x2, 3x3) when
/// both channel counts are multiples of 8 and at least [`WINOGRAD_MIN_CHANNELS`] (unless the environment variable
/// `URBANCAST_NO_WINOGRAD` is set), im2col + GEMM otherwise.
pub fn forward(d: ConvDims, x: &[f32], weight: &[f32], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
    if use_winograd(d) {
        return crate::winograd::forward(d, x, weight, bias, relu);
    }
    forward_im2col(d, x, weight, bias, relu)
}

fn use_winograd(d: ConvDims) -> bool {
    d.cin >= WINOGRAD_MIN_CHANNELS
        && d.cout >= WINOGRAD_MIN_CHANNELS
        && crate::winograd::supports(d.cin, d.cout)
        && std::env::var_os("URBANCAST_NO_WINOGRAD").is_none()
}

/// im2col + GEMM forward (any channel count).
pub fn forward_im2col(d: ConvDims, x: &[f32], weight: &[f32], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
    let p = d.pixels();
    let k = 9 * d.cin;
    assert_eq!(x.len(), p * d.cin);
    assert_eq!(weight.len(), k * d.cout);
    let mut out = vec![0.0f32; p * d.cout];
    out.par_chunks_mut(PIX * d.cout).enumerate().for_each_init(
        || vec![0.0f32; PIX * k],
        |cols, (ci, o)| {
            let rows = o.len() / d.cout;
            im2col(d, x, relu, ci * PIX, rows, cols);
            if let Some(b) = bias {
                for row in o.chunks_exact_mut(d.cout) {
                    row.copy_from_slice(b);
                }
            }
            mm1(rows, d.cout, k, o, bias.is_some(), Mat::new(cols, k, 1), Mat::new(weight, d.cout, 1));
        },
    );
    out
}

/// Weight for the input gradient: `wf[(kh,kw,co), ci] = w[(2-kh, 2-kw, ci), co]`.
fn flipped_weight(d: ConvDims, weight: &[f32]) -> Vec<f32> {
    let (ci_n, co_n) = (d.cin, d.cout);
    let mut wf = vec![0.0f32; 9 * co_n * ci_n];
    for kh in 0..3 {
        for kw in 0..3 {
            let src_k = (2 - kh) * 3 + (2 - kw);
            let dst_k = kh * 3 + kw;
            for ci in 0..ci_n {
                for co in 0..co_n {
                    wf[(dst_k * co_n + co) * ci_n + ci] = weight[(src_k * ci_n + ci) * co_n + co];
                }
            }
        }
    }
    wf
}

simd_fn! {
    fn relu_mask(dx: &mut [f32], x: &[f32]) {
        for (g, v) in dx.iter_mut().zip(x) {
            *g = if *v > 0.0 { *g } else { 0.0 };
        }
    }
}

simd_fn! {
    fn add_cols(c: usize, rows: &[f32], acc: &mut [f32]) {
        for row in rows.chunks_exact(c) {
            for (a, v) in acc.iter_mut().zip(row) {
                *a += v;
            }
        }
    }
}

/// Gradients of [`forward`].
pub struct ConvGrads {
    /// `[N, H, W, Cin]` (only when requested).
    pub dx: Option<Vec<f32>>,
    /// `[9 * Cin, Cout]`.
    pub dw: Vec<f32>,
    /// `[Cout]`.
    pub db: Vec<f32>,
}

/// Backward of [`forward`] given `dout [N, H, W, Cout]`.
pub fn backward(d: ConvDims, x: &[f32], weight: &[f32], relu: bool, dout: &[f32], need_dx: bool) -> ConvGrads {
    let p = d.pixels();
    let k = 9 * d.cin;
    let co = d.cout;
    assert_eq!(dout.len(), p * co);
    let winograd = use_winograd(d);
    // dw = cols^T dout and db = colsum(dout), accumulated per chunk then reduced
    let (dw, db) = if winograd {
        let chunk = |i: usize| &dout[i * PIX * co..((i + 1) * PIX * co).min(dout.len())];
        let db = ordered_fold(
            dout.len().div_ceil(PIX * co),
            || vec![0.0f32; co],
            |mut db, i| {
                add_cols(co, chunk(i), &mut db);
                db
            },
            add_into,
        );
        (crate::winograd::weight_grad(d, x, relu, dout), db)
    } else {
        let chunk = |i: usize| &dout[i * PIX * co..((i + 1) * PIX * co).min(dout.len())];
        let acc = ordered_fold(
            dout.len().div_ceil(PIX * co),
            || (vec![0.0f32; PIX * k], vec![0.0f32; k * co], vec![0.0f32; co]),
            |(mut cols, mut dw, mut db), ci| {
                let g = chunk(ci);
                let rows = g.len() / co;
                im2col(d, x, relu, ci * PIX, rows, &mut cols);
                mm1(k, co, rows, &mut dw, true, Mat::new(&cols, 1, k), Mat::new(g, co, 1));
                add_cols(co, g, &mut db);
                (cols, dw, db)
            },
            |(cols, a, b), (_, c, e)| (cols, add_into(a, c), add_into(b, e)),
        );
        let (_, dw, db) = acc;
        (dw, db)
    };
    let dx = need_dx.then(|| {
        let wf = flipped_weight(d, weight);
        let bd = ConvDims { cin: co, cout: d.cin, ..d };
        let mut dx = forward(bd, dout, &wf, None, false);
        if relu {
            dx.par_chunks_mut(PIX * d.cin).zip(x.par_chunks(PIX * d.cin)).for_each(|(g, v)| relu_mask(g, v));
        }
        dx
    });
    ConvGrads { dx, dw, db }
}
