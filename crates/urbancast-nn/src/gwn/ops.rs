//! Graph WaveNet's convolutions as channel matmuls on the `[B, C, T, N]` layout.
//!
//! Every convolution of the model is 1x1 or `(K, 1)` along time (no padding, stride 1), so it
//! is a sum over taps of `W_k · x[.., t + k·d, ..]` with `W_k [out, in]`. burn-flex's `Conv2d`
//! runs these through its general im2col path (and the graph convolution through a channel
//! concatenation first); one broadcast matmul per tap over `[B, in, T·N]` does the same
//! arithmetic several times faster. The parameters stay in burn's `Conv2d` modules, so
//! checkpoints and initialisation are unchanged. With `URBANCAST_REFERENCE_GWN` set, every
//! function here (and the gate) takes burn's own path instead, for A/B measurements.
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

/// Whether `URBANCAST_REFERENCE_GWN` asks for burn's own `Conv2d`, concatenation and gate.
pub(super) fn reference() -> bool {
    std::env::var_os("URBANCAST_REFERENCE_GWN").is_some()
}

/// `w [out, in]` applied over the channel axis of `x [B, in, T, N]` -> `[B, out, T, N]`.
fn channel_mm(w: Tensor<2>, x: Tensor<4>) -> Tensor<4> {
    let [b, c, t, n] = x.dims();
    let out = w.dims()[0];
    w.unsqueeze::<3>().matmul(x.reshape([b, c, t * n])).reshape([b, out, t, n])
}

/// Tap `k` of a `[out, in, K, 1]` weight as `[out, in]`.
fn tap(weight: &Tensor<4>, k: usize) -> Tensor<2> {
    let [out, inp, _, _] = weight.dims();
    weight.clone().narrow(2, k, 1).reshape([out, inp])
}

fn add_bias(y: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    match bias {
        Some(b) => {
            let out = b.dims()[0];
            y + b.reshape([1, out, 1, 1])
        }
        None => y,
    }
}

/// A `(K, 1)` convolution along time with dilation `d`, no padding: `[B, in, T, N]` ->
/// `[B, out, T - d·(K - 1), N]`, given the weight `[out, in, K, 1]` and bias.
fn time_conv(weight: Tensor<4>, bias: Option<Tensor<1>>, dilation: usize, x: Tensor<4>) -> Tensor<4> {
    let k = weight.dims()[2];
    let t = x.dims()[2];
    let span = dilation * (k - 1);
    assert!(t > span, "time convolution: {t} steps for a span of {span}");
    let steps = t - span;
    let mut y: Option<Tensor<4>> = None;
    for i in 0..k {
        let xi = if k == 1 { x.clone() } else { x.clone().narrow(2, i * dilation, steps) };
        let yi = channel_mm(tap(&weight, i), xi);
        y = Some(match y {
            Some(acc) => acc + yi,
            None => yi,
        });
    }
    add_bias(y.expect("a convolution has at least one tap"), bias)
}

/// The convolution `conv` (1x1, or `(K, 1)` along time with its dilation) applied to `x`.
pub(super) fn conv(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if reference() {
        return conv.forward(x);
    }
    time_conv(conv.weight.val(), conv.bias.as_ref().map(|b| b.val()), conv.dilation[0], x)
}

/// The filter and gate convolutions of a layer in one pass: `[B, in, T, N]` ->
/// `[B, 2·out, T', N]`, the filter's channels first (the input of [`super::gate_op::gate`]).
pub(super) fn filter_gate(filter: &Conv2d, gate: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if reference() {
        return Tensor::cat(vec![filter.forward(x.clone()), gate.forward(x)], 1);
    }
    let w = Tensor::cat(vec![filter.weight.val(), gate.weight.val()], 0);
    let b = match (&filter.bias, &gate.bias) {
        (Some(f), Some(g)) => Some(Tensor::cat(vec![f.val(), g.val()], 0)),
        _ => None,
    };
    time_conv(w, b, filter.dilation[0], x)
}

/// The 1x1 convolution `conv` over the channel concatenation of `parts` (each `[B, C, T, N]`,
/// `conv` has `parts.len() · C` input channels), computed part by part without concatenating.
pub(super) fn conv_parts(conv: &Conv2d, parts: Vec<Tensor<4>>) -> Tensor<4> {
    if reference() {
        return conv.forward(Tensor::cat(parts, 1));
    }
    let w = conv.weight.val();
    let [out, inp, _, _] = w.dims();
    let c = parts[0].dims()[1];
    assert_eq!(inp, c * parts.len(), "graph convolution: {inp} input channels for {} parts of {c}", parts.len());
    let w = w.reshape([out, inp]);
    let mut y: Option<Tensor<4>> = None;
    for (p, x) in parts.into_iter().enumerate() {
        let yp = channel_mm(w.clone().narrow(1, p * c, c), x);
        y = Some(match y {
            Some(acc) => acc + yp,
            None => yp,
        });
    }
    add_bias(y.expect("at least one part"), conv.bias.as_ref().map(|b| b.val()))
}

#[cfg(test)]
mod tests {
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Device, Distribution, Tensor};

    use super::*;

    fn max_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
        assert_eq!(a.dims(), b.dims());
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn matmul_convolutions_match_burns_conv2d() {
        let dev = Device::flex();
        let x = Tensor::<4>::random([2, 5, 9, 7], Distribution::Uniform(-1.0, 1.0), &dev);
        for (k, d) in [(1, 1), (2, 1), (2, 2), (2, 4), (3, 2)] {
            let c = Conv2dConfig::new([5, 4], [k, 1]).with_dilation([d, 1]).init(&dev);
            let e = max_diff(conv(&c, x.clone()), c.forward(x.clone()));
            assert!(e < 1e-5, "kernel {k} dilation {d}: {e}");
        }
        let f = Conv2dConfig::new([5, 3], [2, 1]).with_dilation([2, 1]).init(&dev);
        let g = Conv2dConfig::new([5, 3], [2, 1]).with_dilation([2, 1]).init(&dev);
        let fg = filter_gate(&f, &g, x.clone());
        assert!(max_diff(fg.clone().narrow(1, 0, 3), f.forward(x.clone())) < 1e-5);
        assert!(max_diff(fg.narrow(1, 3, 3), g.forward(x.clone())) < 1e-5);
        let parts: Vec<Tensor<4>> = (0..3).map(|i| x.clone().mul_scalar(i as f32 + 1.0)).collect();
        let gc = Conv2dConfig::new([15, 6], [1, 1]).init(&dev);
        let want = gc.forward(Tensor::cat(parts.clone(), 1));
        assert!(max_diff(conv_parts(&gc, parts), want) < 1e-5);
    }

    #[test]
    fn matmul_convolutions_backpropagate_like_conv2d() {
        let dev = Device::flex().autodiff();
        let x = Tensor::<4>::random([2, 3, 6, 4], Distribution::Uniform(-1.0, 1.0), &dev).require_grad();
        let c = Conv2dConfig::new([3, 2], [2, 1]).with_dilation([2, 1]).init(&dev);
        let g1 = conv(&c, x.clone()).powi_scalar(2).sum().backward();
        let g2 = c.forward(x.clone()).powi_scalar(2).sum().backward();
        let gw1 = c.weight.val().grad(&g1).unwrap();
        let gw2 = c.weight.val().grad(&g2).unwrap();
        assert!(max_diff(gw1, gw2) < 1e-4);
        let gx1 = x.grad(&g1).unwrap();
        let gx2 = x.grad(&g2).unwrap();
        assert!(max_diff(gx1, gx2) < 1e-4);
        let gb1 = c.bias.as_ref().unwrap().val().grad(&g1).unwrap();
        let gb2 = c.bias.as_ref().unwrap().val().grad(&g2).unwrap();
        assert!((gb1 - gb2).abs().max().into_scalar::<f32>() < 1e-4);
    }
}
