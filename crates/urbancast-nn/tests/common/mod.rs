//! Helpers shared by the network tests: the RNG lock, tensor constructors, ring graphs,
//! tolerance checks and per-parameter gradients.
// Each test file uses a subset.
#![allow(dead_code)]

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Gradients, Tensor, TensorData};

/// The burn-flex RNG is process-global: tests that seed or draw random tensors run one at a time.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the RNG for the rest of a test (a poisoned lock is taken over).
pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// The values of `t`, row-major.
pub fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// Uniform `[lo, hi)` values of `shape`.
pub fn uniform4(shape: [usize; 4], lo: f64, hi: f64, dev: &Device) -> Tensor<4> {
    Tensor::random(shape, Distribution::Uniform(lo, hi), dev)
}

/// Uniform `[0, 1)` values of `shape`.
pub fn rand4(shape: [usize; 4], dev: &Device) -> Tensor<4> {
    uniform4(shape, 0.0, 1.0, dev)
}

/// A matrix from its rows.
pub fn mat(rows: &[&[f32]], dev: &Device) -> Tensor<2> {
    let n = rows.len();
    let m = rows[0].len();
    Tensor::from_data(TensorData::new(rows.iter().flat_map(|r| r.iter().copied()).collect::<Vec<_>>(), [n, m]), dev)
}

/// 0/1 adjacency of an undirected ring of `n` nodes, row-major.
pub fn ring_values(n: usize) -> Vec<f32> {
    let mut a = vec![0.0f32; n * n];
    for i in 0..n {
        a[i * n + (i + 1) % n] = 1.0;
        a[((i + 1) % n) * n + i] = 1.0;
    }
    a
}

/// 0/1 adjacency of an undirected ring of `n` nodes.
pub fn ring_adj(n: usize, dev: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(ring_values(n), [n, n]), dev)
}

/// Every `got[i]` within `tol · (1 + |want[i]|)` of `want[i]`.
pub fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: {g} vs {w}");
    }
}

/// The gradient of every trainable float tensor of `m`, in visiting order (`None` when it got
/// none), and how many float tensors are not trainable (e.g. BatchNorm's running statistics).
pub fn param_grads<M: Module>(m: &M, grads: &Gradients) -> (Vec<Option<Vec<f32>>>, usize) {
    struct Collect<'a> {
        grads: &'a Gradients,
        out: Vec<Option<Vec<f32>>>,
        frozen: usize,
    }
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            if t.is_require_grad() {
                self.out.push(t.grad(self.grads).map(vals));
            } else {
                self.frozen += 1;
            }
        }
    }
    let mut c = Collect { grads, out: vec![], frozen: 0 };
    m.visit(&mut c);
    (c.out, c.frozen)
}
