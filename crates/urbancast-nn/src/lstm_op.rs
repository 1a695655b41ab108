//! The fused LSTM as a burn op on the Flex backend: one node in the autodiff graph, hand-written
//! forward and backward on raw f32 slices ([`crate::lstm_kernel`]).

use std::sync::Arc;

use burn::Tensor;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{DType, TensorData};

use crate::lstm_kernel::{self, Dims, Saved};

type Ad = Autodiff<Flex>;

fn contiguous(t: &FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused LSTM supports f32 only");
    if t.as_slice::<f32>().is_some() { t.clone() } else { t.to_contiguous() }
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32 tensor")
}

fn from_vec<const D: usize>(v: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape))
}

fn dims_of(x: &FlexTensor, w_hh: &FlexTensor) -> Dims {
    let xs = x.layout().shape();
    let ws = w_hh.layout().shape();
    Dims { t: xs[0], n: xs[1], f: xs[2], h: ws[0] }
}

#[derive(Clone, Debug)]
struct State {
    dims: Dims,
    x: FlexTensor,
    w_ih: FlexTensor,
    w_hh: FlexTensor,
    saved: Arc<Saved>,
}

#[derive(Debug)]
struct LstmBackward;

impl Backward<Flex, 4> for LstmBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 4>, grads: &mut Gradients, _cp: &mut Checkpointer) {
        let grad = contiguous(&grads.consume::<Flex>(&ops.node));
        let st = ops.state;
        let d = st.dims;
        let g = lstm_kernel::backward(d, slice(&st.x), slice(&st.w_ih), slice(&st.w_hh), &st.saved, slice(&grad));
        let [px, pwi, pwh, pb] = ops.parents;
        let gh = 4 * d.h;
        if let Some(node) = px {
            grads.register::<Flex>(node.id, from_vec(g.dx, [d.t, d.n, d.f]));
        }
        if let Some(node) = pwi {
            grads.register::<Flex>(node.id, from_vec(g.dw_ih, [d.f, gh]));
        }
        if let Some(node) = pwh {
            grads.register::<Flex>(node.id, from_vec(g.dw_hh, [d.h, gh]));
        }
        if let Some(node) = pb {
            grads.register::<Flex>(node.id, from_vec(g.db, [gh]));
        }
    }
}

type AdTensor = burn::backend::tensor::FloatTensor<Ad>;

fn autodiff_lstm(x: AdTensor, w_ih: AdTensor, w_hh: AdTensor, b: AdTensor) -> AdTensor {
    let nodes = [x.node(), w_ih.node(), w_hh.node(), b.node()];
    let xc = contiguous(x.primitive());
    let wi = contiguous(w_ih.primitive());
    let wh = contiguous(w_hh.primitive());
    let bc = contiguous(b.primitive());
    let d = dims_of(&xc, &wh);
    match LstmBackward.prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (h, saved) = lstm_kernel::forward(d, slice(&xc), slice(&wi), slice(&wh), slice(&bc), true);
            let state = State { dims: d, x: xc, w_ih: wi, w_hh: wh, saved: Arc::new(saved.expect("training forward saves state")) };
            prep.finish(state, from_vec(h, [d.n, d.h]))
        }
        OpsKind::UnTracked(prep) => {
            let (h, _) = lstm_kernel::forward(d, slice(&xc), slice(&wi), slice(&wh), slice(&bc), false);
            prep.finish(from_vec(h, [d.n, d.h]))
        }
    }
}

fn flex_lstm(x: FlexTensor, w_ih: FlexTensor, w_hh: FlexTensor, b: FlexTensor) -> FlexTensor {
    let (x, wi, wh, bc) = (contiguous(&x), contiguous(&w_ih), contiguous(&w_hh), contiguous(&b));
    let d = dims_of(&x, &wh);
    let (h, _) = lstm_kernel::forward(d, slice(&x), slice(&wi), slice(&wh), slice(&bc), false);
    from_vec(h, [d.n, d.h])
}

/// Runs the fused op when all four tensors live on Flex (plain or autodiff); `None` otherwise.
pub(crate) fn try_fused(x: &Tensor<3>, w_ih: &Tensor<2>, w_hh: &Tensor<2>, b: &Tensor<1>) -> Option<Tensor<2>> {
    if let (Ok(x), Ok(wi), Ok(wh), Ok(b)) = (
        x.clone().try_into_primitive::<Ad>(),
        w_ih.clone().try_into_primitive::<Ad>(),
        w_hh.clone().try_into_primitive::<Ad>(),
        b.clone().try_into_primitive::<Ad>(),
    ) {
        return Some(Tensor::from_primitive::<Ad>(autodiff_lstm(x, wi, wh, b)));
    }
    if let (Ok(x), Ok(wi), Ok(wh), Ok(b)) = (
        x.clone().try_into_primitive::<Flex>(),
        w_ih.clone().try_into_primitive::<Flex>(),
        w_hh.clone().try_into_primitive::<Flex>(),
        b.clone().try_into_primitive::<Flex>(),
    ) {
        return Some(Tensor::from_primitive::<Flex>(flex_lstm(x, wi, wh, b)));
    }
    None
}
