//! Graph WaveNet's gate `tanh(f) · sigmoid(g)` as one burn op on the Flex backend.
//!
//! burn-flex evaluates `tanh` and `sigmoid` one scalar `libm` call at a time and keeps four
//! intermediate tensors for the backward pass; this op reads the filter-and-gate tensor once,
//! evaluates both with the vectorised [`crate::fastmath`] kernels, and recomputes them in the
//! backward pass from the saved input. Other backends take the composite path.
use burn::Tensor;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::activation::sigmoid;
use burn::tensor::{DType, TensorData};
use rayon::prelude::*;

use crate::fastmath::{sigmoid_fast, tanh_fast};
use crate::simd_fn;

type Ad = Autodiff<Flex>;

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

simd_fn! {
    /// `out = tanh(f) · sigmoid(g)`.
    fn gate_fwd(f: &[f32], g: &[f32], out: &mut [f32]) {
        for ((o, &a), &b) in out.iter_mut().zip(f).zip(g) {
            *o = tanh_fast(a) * sigmoid_fast(b);
        }
    }
}

simd_fn! {
    /// `df = dy · σ(g) · (1 − tanh²f)`, `dg = dy · tanh f · σ(g) · (1 − σ(g))`.
    fn gate_bwd(f: &[f32], g: &[f32], dy: &[f32], df: &mut [f32], dg: &mut [f32]) {
        for i in 0..dy.len().min(f.len()).min(g.len()).min(df.len()).min(dg.len()) {
            let th = tanh_fast(f[i]);
            let s = sigmoid_fast(g[i]);
            df[i] = dy[i] * s * (1.0 - th * th);
            dg[i] = dy[i] * th * s * (1.0 - s);
        }
    }
}

/// Block layout of `[B, 2C, T, N]`: `b` blocks of `2·len` values, the filter's `len` first.
#[derive(Clone, Copy, Debug)]
struct Dims {
    b: usize,
    c: usize,
    t: usize,
    n: usize,
}

impl Dims {
    fn of(t: &FlexTensor) -> Dims {
        let s = t.layout().shape();
        assert_eq!(s.len(), 4, "gate: expected a 4-d tensor");
        assert_eq!(s[1] % 2, 0, "gate: odd channel count {}", s[1]);
        Dims { b: s[0], c: s[1] / 2, t: s[2], n: s[3] }
    }
    fn len(&self) -> usize {
        self.c * self.t * self.n
    }
}

fn contiguous(t: &FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused gate supports f32 only");
    if t.as_slice::<f32>().is_some() { t.clone() } else { t.to_contiguous() }
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32 tensor")
}

/// Forward over `fg` (contiguous `[B, 2C, T, N]`) -> `[B, C, T, N]` values.
fn forward(d: Dims, fg: &[f32]) -> Vec<f32> {
    let len = d.len();
    let mut out = vec![0.0f32; d.b * len];
    out.par_chunks_mut(len).zip(fg.par_chunks(2 * len)).for_each(|(o, x)| {
        let (f, g) = x.split_at(len);
        o.par_chunks_mut(CHUNK).zip(f.par_chunks(CHUNK).zip(g.par_chunks(CHUNK))).for_each(|(o, (f, g))| gate_fwd(f, g, o));
    });
    out
}

/// Gradient with respect to `fg` given `dy [B, C, T, N]`.
fn backward(d: Dims, fg: &[f32], dy: &[f32]) -> Vec<f32> {
    let len = d.len();
    let mut dfg = vec![0.0f32; d.b * 2 * len];
    dfg.par_chunks_mut(2 * len).zip(fg.par_chunks(2 * len)).zip(dy.par_chunks(len)).for_each(|((dx, x), dy)| {
        let (f, g) = x.split_at(len);
        let (df, dg) = dx.split_at_mut(len);
        df.par_chunks_mut(CHUNK)
            .zip(dg.par_chunks_mut(CHUNK))
            .zip(f.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)).zip(dy.par_chunks(CHUNK)))
            .for_each(|((df, dg), ((f, g), dy))| gate_bwd(f, g, dy, df, dg));
    });
    dfg
}

#[derive(Debug)]
struct GateBackward;

impl Backward<Flex, 1> for GateBackward {
    type State = (Dims, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _cp: &mut Checkpointer) {
        let dy = contiguous(&grads.consume::<Flex>(&ops.node));
        let (d, fg) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent {
            let g = backward(d, slice(&fg), slice(&dy));
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(g, [d.b, 2 * d.c, d.t, d.n])));
        }
    }
}

type AdTensor = burn::backend::tensor::FloatTensor<Ad>;

fn out_tensor(d: Dims, v: Vec<f32>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, [d.b, d.c, d.t, d.n]))
}

fn autodiff_gate(fg: AdTensor) -> AdTensor {
    let node = fg.node();
    let x = contiguous(fg.primitive());
    let d = Dims::of(&x);
    match GateBackward.prepare::<NoCheckpointing>([node]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let y = forward(d, slice(&x));
            prep.finish((d, x), out_tensor(d, y))
        }
        OpsKind::UnTracked(prep) => prep.finish(out_tensor(d, forward(d, slice(&x)))),
    }
}

/// `tanh(fg[:, :C]) · sigmoid(fg[:, C:])` of `fg [B, 2C, T, N]` -> `[B, C, T, N]`: one fused
/// op on Flex (plain or autodiff), the composite elsewhere.
pub(super) fn gate(fg: Tensor<4>) -> Tensor<4> {
    if super::ops::reference() {
        return composite(fg);
    }
    if let Ok(p) = fg.clone().try_into_primitive::<Ad>() {
        return Tensor::from_primitive::<Ad>(autodiff_gate(p));
    }
    if let Ok(p) = fg.clone().try_into_primitive::<Flex>() {
        let x = contiguous(&p);
        let d = Dims::of(&x);
        return Tensor::from_primitive::<Flex>(out_tensor(d, forward(d, slice(&x))));
    }
    composite(fg)
}

/// The gate from burn's own ops (the reference for the fused op).
pub(super) fn composite(fg: Tensor<4>) -> Tensor<4> {
    let c = fg.dims()[1] / 2;
    fg.clone().narrow(1, 0, c).tanh() * sigmoid(fg.narrow(1, c, c))
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};

    use super::*;

    #[test]
    fn fused_gate_matches_the_composite_forward_and_backward() {
        for dev in [Device::flex(), Device::flex().autodiff()] {
            let x = Tensor::<4>::random([3, 8, 5, 7], Distribution::Uniform(-4.0, 4.0), &dev);
            let e = (gate(x.clone()) - composite(x.clone())).abs().max().into_scalar::<f32>();
            assert!(e < 1e-6, "forward {e}");
        }
        let dev = Device::flex().autodiff();
        let x = Tensor::<4>::random([3, 8, 5, 7], Distribution::Uniform(-4.0, 4.0), &dev).require_grad();
        let w = Tensor::<4>::random([3, 4, 5, 7], Distribution::Uniform(-1.0, 1.0), &dev);
        let g1 = (gate(x.clone()) * w.clone()).sum().backward();
        let g2 = (composite(x.clone()) * w).sum().backward();
        let (a, b) = (x.grad(&g1).unwrap(), x.grad(&g2).unwrap());
        let e = (a - b).abs().max().into_scalar::<f32>();
        assert!(e < 1e-5, "backward {e}");
    }
}
