//! MTGNN (Wu et al., KDD 2020, "Connecting the Dots: Multivariate Time Series Forecasting with
//! Graph Neural Networks"), the teacher of LightST: graph learning + dilated inception
//! temporal convolutions + mix-hop graph convolutions, following the reference code, with an
//! optional extra mix-hop branch over a given adjacency (as in LightST).

mod config;
mod fast;
mod graph;
mod io;
mod layers;
mod tconv_op;

use burn::module::Module;
use burn::nn::Dropout;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor};

pub use config::MtgnnConfig;
pub use graph::{GraphLearner, MixProp, mix_hop, normalize_with_self_loops};
pub use io::{load_mtgnn, read_mtgnn_config, save_mtgnn};
pub use layers::{DilatedInception, INCEPTION_KERNELS, NodeLayerNorm};

use crate::error::{NnError, Result};

/// Output of [`Mtgnn::forward`].
#[derive(Clone, Debug)]
pub struct MtgnnOut {
    /// Predictions `[B, H, N, C]`.
    pub pred: Tensor<4>,
    /// Node representation after `end_conv_1` + ReLU, `[B, N, end_channels]` (for distillation).
    pub hidden: Tensor<3>,
}

/// One temporal + graph layer of MTGNN.
#[derive(Module, Debug)]
pub struct MtgnnLayer {
    filter: DilatedInception,
    gate: DilatedInception,
    skip: Conv2d,
    /// Mix-hop over the learned adjacency (learn_graph).
    gconv1: Option<MixProp>,
    /// Mix-hop over the transposed learned adjacency (learn_graph).
    gconv2: Option<MixProp>,
    /// Mix-hop over the given adjacency (use_given_adj).
    gconv3: Option<MixProp>,
    /// 1x1 convolution used instead of graph convolutions when no graph is used at all.
    residual: Option<Conv2d>,
    norm: NodeLayerNorm,
}

/// Normalised adjacencies of one forward pass.
struct Graphs {
    learned: Option<(Tensor<2>, Tensor<2>)>,
    given: Option<Tensor<2>>,
}

impl MtgnnLayer {
    fn forward(&self, x: Tensor<4>, g: &Graphs, dropout: &Dropout) -> (Tensor<4>, Tensor<4>) {
        let residual = x.clone();
        let filter = self.filter.forward(x.clone()).tanh();
        let gate = sigmoid(self.gate.forward(x));
        let x = dropout.forward(filter * gate);
        let s = self.skip.forward(x.clone());
        let mut terms = Vec::with_capacity(3);
        if let (Some((a, at)), Some(g1), Some(g2)) = (&g.learned, &self.gconv1, &self.gconv2) {
            terms.push(g1.forward(x.clone(), a.clone()));
            terms.push(g2.forward(x.clone(), at.clone()));
        }
        if let (Some(a), Some(g3)) = (&g.given, &self.gconv3) {
            terms.push(g3.forward(x.clone(), a.clone()));
        }
        if let Some(r) = &self.residual {
            terms.push(r.forward(x));
        }
        let mut y = terms.into_iter().reduce(|a, b| a + b).expect("at least one branch");
        let t = y.dims()[3];
        let rt = residual.dims()[3];
        y = y + residual.narrow(3, rt - t, t);
        (self.norm.forward(y), s)
    }
}

/// The MTGNN model (see module docs and [`MtgnnConfig`]).
#[derive(Module, Debug)]
pub struct Mtgnn {
    graph: Option<GraphLearner>,
    start_conv: Conv2d,
    skip0: Conv2d,
    layers: Vec<MtgnnLayer>,
    skip_e: Conv2d,
    end_conv_1: Conv2d,
    end_conv_2: Conv2d,
    dropout: Dropout,
    #[module(skip)]
    config: MtgnnConfig,
}

impl Mtgnn {
    /// Configuration the model was built with.
    pub fn config(&self) -> &MtgnnConfig {
        &self.config
    }

    fn device(&self) -> Device {
        self.start_conv.weight.device()
    }

    /// The learned adjacency `[N, N]` after top-k sparsification (all zeros when
    /// `learn_graph` is false).
    pub fn learned_adjacency(&self) -> Tensor<2> {
        match &self.graph {
            Some(g) => g.adjacency(),
            None => {
                let n = self.config.num_nodes;
                Tensor::zeros([n, n], &self.device())
            }
        }
    }

    /// Checks the shapes of `x` (`[B, T, N, in_dim]`) and `adj` (`[N, N]`, only when
    /// `use_given_adj`).
    pub fn check_input(&self, x: [usize; 4], adj: [usize; 2]) -> Result<()> {
        let c = &self.config;
        let [b, t, n, f] = x;
        if b == 0 {
            return Err(NnError::Shape("empty batch".into()));
        }
        if t != c.seq_len || n != c.num_nodes || f != c.in_dim {
            return Err(NnError::Shape(format!(
                "input is [B, T={t}, N={n}, F={f}], model expects T={}, N={}, F={}",
                c.seq_len, c.num_nodes, c.in_dim
            )));
        }
        if c.use_given_adj && adj != [n, n] {
            return Err(NnError::Shape(format!("adjacency is {adj:?}, expected [{n}, {n}]")));
        }
        Ok(())
    }

    /// Like [`Mtgnn::forward`], but returns [`NnError::Shape`] for inputs that do not fit.
    pub fn try_forward(&self, x: Tensor<4>, adj: Tensor<2>) -> Result<MtgnnOut> {
        self.check_input(x.dims(), adj.dims())?;
        Ok(self.forward_fast(x, adj))
    }

    /// The straightforward implementation (NCHW Conv2d layers, one mix-hop per graph); kept as
    /// the reference [`Mtgnn::forward`] is tested against. Same checks and outputs.
    #[doc(hidden)]
    pub fn forward_reference(&self, x: Tensor<4>, adj: Tensor<2>) -> MtgnnOut {
        if let Err(e) = self.check_input(x.dims(), adj.dims()) {
            panic!("Mtgnn::forward_reference: {e}");
        }
        self.forward_unchecked(x, adj)
    }

    /// `x [B, T = seq_len, N, in_dim]`, `adj` the given raw adjacency `[N, N]` (normalised
    /// here; ignored when `use_given_adj` is false) -> predictions `[B, H, N, C]` and node
    /// representations `[B, N, end_channels]`.
    ///
    /// # Panics
    /// When the shapes do not fit the model; use [`Mtgnn::try_forward`] for unchecked input.
    pub fn forward(&self, x: Tensor<4>, adj: Tensor<2>) -> MtgnnOut {
        match self.try_forward(x, adj) {
            Ok(out) => out,
            Err(e) => panic!("Mtgnn::forward: {e}"),
        }
    }

    fn forward_unchecked(&self, x: Tensor<4>, adj: Tensor<2>) -> MtgnnOut {
        let c = &self.config;
        let [b, t, n, f] = x.dims();
        let mut x = x.permute([0, 3, 2, 1]); // [B, F, N, T]
        let rf = c.receptive_field();
        if t < rf {
            let pad = Tensor::zeros([b, f, n, rf - t], &x.device());
            x = Tensor::cat(vec![pad, x], 3);
        }
        let graphs = Graphs {
            learned: self.graph.as_ref().map(|g| {
                let a = g.adjacency();
                (normalize_with_self_loops(a.clone()), normalize_with_self_loops(a.transpose()))
            }),
            given: c.use_given_adj.then(|| normalize_with_self_loops(adj)),
        };
        let mut skip = self.skip0.forward(self.dropout.forward(x.clone()));
        let mut h = self.start_conv.forward(x);
        for layer in &self.layers {
            let (y, s) = layer.forward(h, &graphs, &self.dropout);
            h = y;
            skip = skip + s;
        }
        skip = skip + self.skip_e.forward(h);
        let z = relu(self.end_conv_1.forward(relu(skip))); // [B, end, N, 1]
        let hidden = z.clone().reshape([b, c.end_channels, n]).swap_dims(1, 2);
        let pred = self.end_conv_2.forward(z).reshape([b, c.horizon, c.out_channels, n]).permute([0, 1, 3, 2]);
        MtgnnOut { pred, hidden }
    }
}
