//! The NHWC 3x3 convolution (optional fused input ReLU) as a burn op on the Flex backend:
//! one autodiff node with the hand-written backward of [`crate::conv_kernel`].

use burn::Tensor;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{DType, TensorData};

use crate::conv_kernel::{self, ConvDims};

type Ad = Autodiff<Flex>;
type AdTensor = burn::backend::tensor::FloatTensor<Ad>;

fn contiguous(t: &FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused conv supports f32 only");
    if t.as_slice::<f32>().is_some() { t.clone() } else { t.to_contiguous() }
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32 tensor")
}

fn from_vec<const D: usize>(v: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape))
}

fn dims_of(x: &FlexTensor, w: &FlexTensor) -> ConvDims {
    let xs = x.layout().shape();
    let ws = w.layout().shape();
    ConvDims { n: xs[0], h: xs[1], w: xs[2], cin: xs[3], cout: ws[1] }
}

#[derive(Clone, Debug)]
struct State {
    dims: ConvDims,
    relu: bool,
    x: FlexTensor,
    w: FlexTensor,
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _cp: &mut Checkpointer) {
        let grad = contiguous(&grads.consume::<Flex>(&ops.node));
        let st = ops.state;
        let d = st.dims;
        let [px, pw, pb] = ops.parents;
        let g = conv_kernel::backward(d, slice(&st.x), slice(&st.w), st.relu, slice(&grad), px.is_some());
        if let (Some(node), Some(dx)) = (px, g.dx) {
            grads.register::<Flex>(node.id, from_vec(dx, [d.n, d.h, d.w, d.cin]));
        }
        if let Some(node) = pw {
            grads.register::<Flex>(node.id, from_vec(g.dw, [9 * d.cin, d.cout]));
        }
        if let Some(node) = pb {
            grads.register::<Flex>(node.id, from_vec(g.db, [d.cout]));
        }
    }
}

fn autodiff_conv(x: AdTensor, w: AdTensor, b: AdTensor, relu: bool) -> AdTensor {
    let nodes = [x.node(), w.node(), b.node()];
    let xc = contiguous(x.primitive());
    let wc = contiguous(w.primitive());
    let bc = contiguous(b.primitive());
    let d = dims_of(&xc, &wc);
    let out = conv_kernel::forward(d, slice(&xc), slice(&wc), Some(slice(&bc)), relu);
    let out = from_vec(out, [d.n, d.h, d.w, d.cout]);
    match ConvBackward.prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(State { dims: d, relu, x: xc, w: wc }, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

fn flex_conv(x: FlexTensor, w: FlexTensor, b: FlexTensor, relu: bool) -> FlexTensor {
    let (x, w, b) = (contiguous(&x), contiguous(&w), contiguous(&b));
    let d = dims_of(&x, &w);
    let out = conv_kernel::forward(d, slice(&x), slice(&w), Some(slice(&b)), relu);
    from_vec(out, [d.n, d.h, d.w, d.cout])
}

/// Runs the fused conv when all tensors live on Flex (plain or autodiff); `None` otherwise.
pub(crate) fn try_fused(x: &Tensor<4>, w: &Tensor<2>, b: &Tensor<1>, relu: bool) -> Option<Tensor<4>> {
    if let (Ok(x), Ok(w), Ok(b)) =
        (x.clone().try_into_primitive::<Ad>(), w.clone().try_into_primitive::<Ad>(), b.clone().try_into_primitive::<Ad>())
    {
        return Some(Tensor::from_primitive::<Ad>(autodiff_conv(x, w, b, relu)));
    }
    if let (Ok(x), Ok(w), Ok(b)) =
        (x.clone().try_into_primitive::<Flex>(), w.clone().try_into_primitive::<Flex>(), b.clone().try_into_primitive::<Flex>())
    {
        return Some(Tensor::from_primitive::<Flex>(flex_conv(x, w, b, relu)));
    }
    None
}
