//! Temporal `(1, K)` convolution (dilation 1) on a channels-last layout as one burn op on the
//! Flex backend (plain or autodiff), with a hand-written backward: no unfolded copy of the
//! input in the forward pass, no per-tap gradient buffers in the backward pass.
//!
//! `x [R, T, C]`, tap-major weight `w [K·C, O]` (row `j·C + c`), bias `b [O]` ->
//! `y [R, T - K + 1, O]`, `y[r, t, o] = b[o] + Σ_{j, c} x[r, t + j, c] w[j·C + c, o]`.
//! For a fixed `r`, the window of output step `t` is the contiguous slice
//! `x[r, t.., ..][..K·C]`, so each row block is a GEMM whose left operand has row stride `C`.

use burn::Tensor;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;

use crate::gemm_util::{Mat, gemm1, matmul};

type Ad = Autodiff<Flex>;
type AdTensor = burn::backend::tensor::FloatTensor<Ad>;

/// Sizes of one temporal convolution.
#[derive(Clone, Copy, Debug)]
struct Dims {
    r: usize,
    t: usize,
    c: usize,
    k: usize,
    o: usize,
}

impl Dims {
    fn t_out(&self) -> usize {
        self.t + 1 - self.k
    }
}

/// Rows `r` per parallel task.
const R_BLOCK: usize = 32;

fn contiguous(t: &FlexTensor) -> Option<FlexTensor> {
    if t.dtype() != DType::F32 {
        return None;
    }
    Some(if t.as_slice::<f32>().is_some() { t.clone() } else { t.to_contiguous() })
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32 tensor")
}

fn from_vec<const D: usize>(v: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape))
}

fn forward(d: Dims, x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let (tt, kc) = (d.t_out(), d.k * d.c);
    let mut y = vec![0.0f32; d.r * tt * d.o];
    let per = tt * d.o;
    y.par_chunks_mut(R_BLOCK * per).enumerate().for_each(|(bi, yb)| {
        for (i, yr) in yb.chunks_mut(per).enumerate() {
            let r = bi * R_BLOCK + i;
            for row in yr.chunks_mut(d.o) {
                row.copy_from_slice(b);
            }
            let xr = &x[r * d.t * d.c..(r + 1) * d.t * d.c];
            gemm1(tt, d.o, kc, yr, true, Mat::new(xr, d.c, 1), Mat::new(w, d.o, 1));
        }
    });
    y
}

struct Grads {
    dx: Option<Vec<f32>>,
    dw: Vec<f32>,
    db: Vec<f32>,
}

fn backward(d: Dims, x: &[f32], w: &[f32], dy: &[f32], need_dx: bool) -> Grads {
    let (tt, kc) = (d.t_out(), d.k * d.c);
    // db
    let mut db = vec![0.0f32; d.o];
    for row in dy.chunks(d.o) {
        db.iter_mut().zip(row).for_each(|(a, v)| *a += v);
    }
    // dW = Σ_r U_rᵀ dy_r: one GEMM over the flat windows of all rows (r, t), `t` up to
    // `T - 1 - (K - 1)` of the flattened input; windows crossing a row boundary get zero dy.
    let flat_rows = d.r * d.t - (d.k - 1);
    let mut dy_full = vec![0.0f32; d.r * d.t * d.o];
    dy_full.par_chunks_mut(R_BLOCK * d.t * d.o).enumerate().for_each(|(bi, blk)| {
        for (i, dst) in blk.chunks_mut(d.t * d.o).enumerate() {
            let r = bi * R_BLOCK + i;
            dst[..tt * d.o].copy_from_slice(&dy[r * tt * d.o..(r + 1) * tt * d.o]);
        }
    });
    let mut dw = vec![0.0f32; kc * d.o];
    // lhs = Uᵀ [K·C, flat_rows]: element (q, p) = x[p·C + q] -> row stride 1, col stride C
    matmul(kc, d.o, flat_rows, &mut dw, false, Mat::new(x, 1, d.c), Mat::new(&dy_full, d.o, 1));
    drop(dy_full);
    // dX: per row r, dU_r = dy_r Wᵀ [T', K·C], overlap-added into dx_r.
    let dx = need_dx.then(|| {
        let mut dx = vec![0.0f32; d.r * d.t * d.c];
        let per = d.t * d.c;
        dx.par_chunks_mut(R_BLOCK * per).enumerate().for_each(|(bi, blk)| {
            let mut du = vec![0.0f32; tt * kc];
            for (i, dxr) in blk.chunks_mut(per).enumerate() {
                let r = bi * R_BLOCK + i;
                let dyr = &dy[r * tt * d.o..(r + 1) * tt * d.o];
                // rhs = Wᵀ [O, K·C]: element (o, q) = w[q·O + o] -> row stride 1, col stride O
                gemm1(tt, kc, d.o, &mut du, false, Mat::new(dyr, d.o, 1), Mat::new(w, 1, d.o));
                for (t, dur) in du.chunks(kc).enumerate() {
                    let dst = &mut dxr[t * d.c..t * d.c + kc];
                    dst.iter_mut().zip(dur).for_each(|(a, v)| *a += v);
                }
            }
        });
        dx
    });
    Grads { dx, dw, db }
}

#[derive(Clone, Debug)]
struct State {
    dims: Dims,
    x: FlexTensor,
    w: FlexTensor,
}

#[derive(Debug)]
struct TconvBackward;

impl Backward<Flex, 3> for TconvBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _cp: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let grad = contiguous(&grad).expect("f32 gradient");
        let st = ops.state;
        let d = st.dims;
        let [px, pw, pb] = ops.parents;
        let g = backward(d, slice(&st.x), slice(&st.w), slice(&grad), px.is_some());
        if let (Some(node), Some(dx)) = (px, g.dx) {
            grads.register::<Flex>(node.id, from_vec(dx, [d.r, d.t, d.c]));
        }
        if let Some(node) = pw {
            grads.register::<Flex>(node.id, from_vec(g.dw, [d.k * d.c, d.o]));
        }
        if let Some(node) = pb {
            grads.register::<Flex>(node.id, from_vec(g.db, [d.o]));
        }
    }
}

fn dims_of(x: &FlexTensor, w: &FlexTensor, k: usize) -> Dims {
    let xs = x.layout().shape();
    let ws = w.layout().shape();
    Dims { r: xs[0], t: xs[1], c: xs[2], k, o: ws[1] }
}

fn autodiff_tconv(x: AdTensor, w: AdTensor, b: AdTensor, k: usize) -> Option<AdTensor> {
    let nodes = [x.node(), w.node(), b.node()];
    let xc = contiguous(x.primitive())?;
    let wc = contiguous(w.primitive())?;
    let bc = contiguous(b.primitive())?;
    let d = dims_of(&xc, &wc, k);
    let out = from_vec(forward(d, slice(&xc), slice(&wc), slice(&bc)), [d.r, d.t_out(), d.o]);
    Some(match TconvBackward.prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(State { dims: d, x: xc, w: wc }, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    })
}

fn flex_tconv(x: FlexTensor, w: FlexTensor, b: FlexTensor, k: usize) -> Option<FlexTensor> {
    let (x, w, b) = (contiguous(&x)?, contiguous(&w)?, contiguous(&b)?);
    let d = dims_of(&x, &w, k);
    Some(from_vec(forward(d, slice(&x), slice(&w), slice(&b)), [d.r, d.t_out(), d.o]))
}

/// `x [R, T, C]`, `w [K·C, O]`, `b [O]` -> `[R, T - K + 1, O]` when all tensors live on Flex
/// (plain or autodiff) as f32; `None` otherwise.
pub(super) fn try_tconv(x: &Tensor<3>, w: &Tensor<2>, b: &Tensor<1>, k: usize) -> Option<Tensor<3>> {
    let [_, t, c] = x.dims();
    let [kc, _] = w.dims();
    if k == 0 || kc != k * c || t < k {
        return None;
    }
    if let (Ok(x), Ok(w), Ok(b)) =
        (x.clone().try_into_primitive::<Ad>(), w.clone().try_into_primitive::<Ad>(), b.clone().try_into_primitive::<Ad>())
    {
        return autodiff_tconv(x, w, b, k).map(Tensor::from_primitive::<Ad>);
    }
    if let (Ok(x), Ok(w), Ok(b)) =
        (x.clone().try_into_primitive::<Flex>(), w.clone().try_into_primitive::<Flex>(), b.clone().try_into_primitive::<Flex>())
    {
        return flex_tconv(x, w, b, k).map(Tensor::from_primitive::<Flex>);
    }
    None
}
