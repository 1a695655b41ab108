//! Single-layer LSTM whose four gates come from one input and one recurrent matrix
//! (PyTorch gate order `[i | f | g | o]`), returning the last hidden state.
//!
//! On the Flex backend (plain or autodiff) the whole recurrence is a single fused op with a
//! hand-written backward (see `lstm_op`); on other backends [`reference_lstm`] (plain tensor
//! ops, differentiated by burn) is used.

use burn::module::{Initializer, Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Configuration of a [`FusedLstm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FusedLstmConfig {
    /// Input features.
    pub input: usize,
    /// Hidden size.
    pub hidden: usize,
}

impl FusedLstmConfig {
    /// Initialises weights like PyTorch: U(-1/sqrt(H), 1/sqrt(H)); one bias (= b_ih + b_hh).
    pub fn init(&self, device: &Device) -> FusedLstm {
        let k = 1.0 / (self.hidden as f64).sqrt();
        let init = Initializer::Uniform { min: -k, max: k };
        let g = 4 * self.hidden;
        FusedLstm {
            w_ih: init.init([self.input, g], device),
            w_hh: init.init([self.hidden, g], device),
            bias: init.init([g], device),
            hidden: self.hidden,
        }
    }
}

/// LSTM layer (see module docs). Parameters: `w_ih [F, 4H]`, `w_hh [H, 4H]`, `bias [4H]`.
#[derive(Module, Debug)]
pub struct FusedLstm {
    /// Input-to-gates weights `[F, 4H]`.
    pub w_ih: Param<Tensor<2>>,
    /// Hidden-to-gates weights `[H, 4H]`.
    pub w_hh: Param<Tensor<2>>,
    /// Gate bias `[4H]`.
    pub bias: Param<Tensor<1>>,
    /// Hidden size.
    pub hidden: usize,
}

impl FusedLstm {
    /// `x`: time-major sequence `[T, N, F]` -> last hidden state `[N, H]` (zero initial state).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        fused_lstm(x, self.w_ih.val(), self.w_hh.val(), self.bias.val())
    }

    /// Same as [`FusedLstm::forward`] but always through [`reference_lstm`] (for tests).
    pub fn forward_reference(&self, x: Tensor<3>) -> Tensor<2> {
        reference_lstm(x, self.w_ih.val(), self.w_hh.val(), self.bias.val())
    }
}

/// LSTM over `x [T, N, F]` with `w_ih [F, 4H]`, `w_hh [H, 4H]`, `b [4H]` -> last hidden
/// `[N, H]`: the fused op on Flex (plain or autodiff), [`reference_lstm`] elsewhere or when the
/// environment variable `URBANCAST_REFERENCE_LSTM` is set (for A/B measurements).
pub fn fused_lstm(x: Tensor<3>, w_ih: Tensor<2>, w_hh: Tensor<2>, b: Tensor<1>) -> Tensor<2> {
    if std::env::var_os("URBANCAST_REFERENCE_LSTM").is_none()
        && let Some(h) = crate::lstm_op::try_fused(&x, &w_ih, &w_hh, &b)
    {
        return h;
    }
    reference_lstm(x, w_ih, w_hh, b)
}

/// Plain-tensor LSTM (burn ops only): `x [T, N, F]`, `w_ih [F, 4H]`, `w_hh [H, 4H]`, `b [4H]`
/// -> last hidden state `[N, H]`.
pub fn reference_lstm(x: Tensor<3>, w_ih: Tensor<2>, w_hh: Tensor<2>, b: Tensor<1>) -> Tensor<2> {
    let [t, n, f] = x.dims();
    let h = w_hh.dims()[0];
    let device = x.device();
    let xg = (x.reshape([t * n, f]).matmul(w_ih) + b.unsqueeze_dim(0)).reshape([t, n, 4 * h]);
    let mut hs = Tensor::<2>::zeros([n, h], &device);
    let mut c = Tensor::<2>::zeros([n, h], &device);
    for s in 0..t {
        let gates = xg.clone().narrow(0, s, 1).reshape([n, 4 * h]) + hs.matmul(w_hh.clone());
        let i = sigmoid(gates.clone().narrow(1, 0, h));
        let fg = sigmoid(gates.clone().narrow(1, h, h));
        let g = gates.clone().narrow(1, 2 * h, h).tanh();
        let o = sigmoid(gates.narrow(1, 3 * h, h));
        c = fg * c + i * g;
        hs = o * c.clone().tanh();
    }
    hs
}
