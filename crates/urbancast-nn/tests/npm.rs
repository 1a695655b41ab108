//! TSJT's Node Prompting Module: shapes, node-count independence, adjacency normalisation, bank
//! identities, the graph support, input checks, gradients and seeding.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use urbancast_nn::npm::{PromptBank, graph_support, sym_norm_adjacency};
use urbancast_nn::{Npm, NpmConfig};

mod common;
use common::{assert_close, lock, mat, param_grads, ring_adj, uniform4, vals};

/// `D = 16`, `M = 4`, two input features.
fn tiny(bank: PromptBank) -> NpmConfig {
    NpmConfig { hidden: 16, bank_size: 4, bank, ..NpmConfig::new(2) }
}

fn rand4(shape: [usize; 4], dev: &Device) -> Tensor<4> {
    uniform4(shape, -1.0, 1.0, dev)
}

/// Normalised adjacency of a ring of `n` nodes.
fn ring(n: usize, dev: &Device) -> Tensor<2> {
    sym_norm_adjacency(&ring_adj(n, dev))
}

fn assert_symmetric(g: &[f32], n: usize, what: &str) {
    for i in 0..n {
        for j in 0..n {
            let (a, b) = (g[i * n + j], g[j * n + i]);
            assert!((a - b).abs() <= 1e-4 * (1.0 + a.abs()), "{what} not symmetric at ({i}, {j}): {a} vs {b}");
        }
    }
}

#[test]
fn output_shapes() {
    let _g = lock();
    let dev = Device::flex();
    let x = rand4([2, 12, 5, 2], &dev);
    for bank in [PromptBank::Attention, PromptBank::Sum] {
        let m = tiny(bank).init_seeded(&dev, 1);
        let out = m.forward(x.clone(), &ring(5, &dev));
        assert_eq!(out.prompt.dims(), [2, 12, 5, 16], "{bank:?}");
        assert_eq!(out.input.dims(), [2, 12, 5, 18], "{bank:?}");
        assert_eq!(out.graph.dims(), [5, 5], "{bank:?}");
        // input = concat(X, P): the raw X (no time encoding) first, then the prompts
        assert_eq!(vals(out.input.clone().narrow(3, 0, 2)), vals(x.clone()), "{bank:?}");
        assert_eq!(vals(out.input.narrow(3, 2, 16)), vals(out.prompt.clone()), "{bank:?}");
        let p = vals(out.prompt);
        assert!(p.iter().all(|v| v.is_finite()) && p.iter().any(|&v| v != 0.0), "{bank:?}");
        let g = vals(out.graph);
        assert_symmetric(&g, 5, "graph");
        // the diagonal is a sum of squares
        assert!((0..5).all(|i| g[i * 5 + i] > 0.0), "{g:?}");
    }
    // paper sizes (D = 128, M = 150) on an autodiff device (dropout active)
    let ad = Device::flex().autodiff();
    let out = NpmConfig::default().init(&ad).forward(rand4([1, 12, 4, 2], &ad), &ring(4, &ad));
    assert_eq!(out.input.dims(), [1, 12, 4, 130]);
    assert!(vals(out.input).iter().all(|v| v.is_finite()));
}

#[test]
fn graph_is_batch_mean_of_prompt_gram() {
    let _g = lock();
    let dev = Device::flex();
    let m = tiny(PromptBank::Attention).init_seeded(&dev, 2);
    let x = rand4([3, 4, 5, 2], &dev);
    let out = m.forward(x, &ring(5, &dev));
    let (p, g) = (vals(out.prompt), vals(out.graph));
    let (b, t, n, d) = (3, 4, 5, 16);
    let mut want = vec![0.0f32; n * n];
    for bi in 0..b {
        for ti in 0..t {
            for i in 0..n {
                for j in 0..n {
                    let at = |k: usize, e: usize| p[((bi * t + ti) * n + k) * d + e];
                    want[i * n + j] += (0..d).map(|e| at(i, e) * at(j, e)).sum::<f32>() / b as f32;
                }
            }
        }
    }
    assert_close(&g, &want, 1e-4, "graph");
}

#[test]
fn any_node_count() {
    let _g = lock();
    for dev in [Device::flex(), Device::flex().autodiff()] {
        let m = tiny(PromptBank::Attention).init_seeded(&dev, 3);
        for (n, t) in [(5, 12), (7, 12), (7, 6), (1, 1)] {
            let out = m.forward(rand4([2, t, n, 2], &dev), &ring(n, &dev));
            assert_eq!(out.prompt.dims(), [2, t, n, 16]);
            assert_eq!(out.input.dims(), [2, t, n, 18]);
            assert_eq!(out.graph.dims(), [n, n]);
            assert!(vals(out.input).iter().all(|v| v.is_finite()), "N={n} T={t}");
        }
    }
    // no parameter tensor has an N-sized axis: the parameter count is that of a hand count
    let (c, d, m) = (2, 16, 4);
    let lin = |i: usize, o: usize| i * o + o;
    let encoder = 2 * lin(c, d) + 5 * lin(d, d) + 2 * 2 * d;
    let dev = Device::flex();
    assert_eq!(tiny(PromptBank::Attention).init(&dev).num_params(), encoder + m * d * d + m * d);
    assert_eq!(tiny(PromptBank::Sum).init(&dev).num_params(), encoder + m * d * d);
}

#[test]
fn sym_norm_adjacency_by_hand() {
    let dev = Device::flex();
    // weighted path 0 -2- 1 -1- 2: A + I = [[1, 2, 0], [2, 1, 1], [0, 1, 1]], degrees 3, 4, 2
    let a = mat(&[&[0.0, 2.0, 0.0], &[2.0, 0.0, 1.0], &[0.0, 1.0, 0.0]], &dev);
    let (s12, s8) = (12f32.sqrt(), 8f32.sqrt());
    let want = [1.0 / 3.0, 2.0 / s12, 0.0, 2.0 / s12, 0.25, 1.0 / s8, 0.0, 1.0 / s8, 0.5];
    assert_close(&vals(sym_norm_adjacency(&a)), &want, 1e-6, "D^-1/2 (A + I) D^-1/2");
    // no edges: the identity
    assert_close(&vals(sym_norm_adjacency(&Tensor::zeros([3, 3], &dev))), &vals(Tensor::<2>::eye(3, &dev)), 0.0, "empty graph");
}

#[test]
fn bank_identities() {
    let _g = lock();
    let dev = Device::flex();
    let x = rand4([2, 12, 5, 2], &dev);
    let adj = ring(5, &dev);
    let prompt = |m: &Npm| vals(m.forward(x.clone(), &adj).prompt);
    // one matrix: the softmax weight is 1, attention equals the sum (same seed: same encoder
    // and bank, the keys are drawn last)
    let one = |bank| NpmConfig { bank_size: 1, ..tiny(bank) }.init_seeded(&dev, 4);
    assert_close(&prompt(&one(PromptBank::Attention)), &prompt(&one(PromptBank::Sum)), 1e-5, "M = 1");
    // zero keys: uniform weights 1/M, attention equals the sum divided by M
    let mut att = tiny(PromptBank::Attention).init_seeded(&dev, 5);
    let sum = tiny(PromptBank::Sum).init_seeded(&dev, 5);
    let want: Vec<f32> = prompt(&sum).iter().map(|v| v / 4.0).collect();
    assert_ne!(prompt(&att), want, "random keys give non-uniform weights");
    att.keys = Some(Param::from_tensor(Tensor::zeros([4, 16], &dev)));
    assert_close(&prompt(&att), &want, 1e-5, "zero keys");
    // the prompts are linear in the bank (the weights depend on the keys only): doubling the
    // bank doubles the prompts and quadruples the graph
    for mut m in [att, sum] {
        let before = m.forward(x.clone(), &adj);
        m.bank = Param::from_tensor(m.bank.val().mul_scalar(2.0));
        let after = m.forward(x.clone(), &adj);
        let twice: Vec<f32> = vals(before.prompt).iter().map(|v| 2.0 * v).collect();
        assert_close(&vals(after.prompt), &twice, 1e-5, "2 W");
        let four: Vec<f32> = vals(before.graph).iter().map(|v| 4.0 * v).collect();
        assert_close(&vals(after.graph), &four, 1e-4, "graph of 2 W");
    }
}

#[test]
fn graph_support_is_row_stochastic() {
    let _g = lock();
    let dev = Device::flex();
    // by hand: relu, then every row divided by its sum
    let g = mat(&[&[4.0, -1.0, 2.0], &[-1.0, 1.0, 0.0], &[2.0, 0.0, 0.0]], &dev);
    let want = [4.0 / 6.0, 0.0, 2.0 / 6.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
    assert_close(&vals(graph_support(&g)), &want, 1e-6, "D^-1 relu(G)");
    for bank in [PromptBank::Attention, PromptBank::Sum] {
        let m = tiny(bank).init_seeded(&dev, 6);
        let s = vals(graph_support(&m.forward(rand4([2, 12, 7, 2], &dev), &ring(7, &dev)).graph));
        assert!(s.iter().all(|&v| (0.0..=1.0).contains(&v)), "{s:?}");
        for row in s.chunks(7) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
    }
}

#[test]
fn bad_input_and_config_are_errors() {
    let _g = lock();
    let dev = Device::flex();
    let cfg = tiny(PromptBank::Attention);
    let m = cfg.init(&dev);
    let adj = ring(5, &dev);
    assert!(m.try_forward(rand4([1, 12, 5, 2], &dev), &adj).is_ok());
    let err = m.try_forward(rand4([1, 12, 5, 3], &dev), &adj).unwrap_err();
    assert!(err.to_string().contains("in_channels = 2"), "{err}");
    let err = m.try_forward(rand4([1, 12, 5, 2], &dev), &ring(4, &dev)).unwrap_err();
    assert!(err.to_string().contains("expected [5, 5]"), "{err}");
    assert!(m.try_forward(rand4([1, 12, 5, 2], &dev), &Tensor::zeros([5, 4], &dev)).is_err());
    assert!(m.try_forward(rand4([0, 12, 5, 2], &dev), &adj).is_err());
    for bad in [
        NpmConfig { in_channels: 0, ..cfg.clone() },
        NpmConfig { hidden: 0, ..cfg.clone() },
        NpmConfig { bank_size: 0, ..cfg.clone() },
        NpmConfig { dropout: 1.0, ..cfg.clone() },
        NpmConfig { dropout: f64::NAN, ..cfg.clone() },
    ] {
        let err = bad.validate().unwrap_err();
        assert!(err.to_string().contains("invalid NPM config"), "{err}");
        assert!(bad.try_init(&dev).is_err() && bad.try_init_seeded(&dev, 1).is_err(), "{bad:?}");
    }
    // serde: missing fields take the defaults
    let back: NpmConfig = serde_json::from_str(r#"{"in_channels": 3}"#).unwrap();
    assert_eq!(back, NpmConfig::new(3));
    assert_eq!(back.hidden, 128);
    assert_eq!(back.bank_size, 150);
    assert_eq!(back.bank, PromptBank::Attention);
    let sum: NpmConfig = serde_json::from_str(r#"{"bank": "sum"}"#).unwrap();
    assert_eq!(sum, NpmConfig { bank: PromptBank::Sum, ..NpmConfig::default() });
    assert_eq!(serde_json::from_str::<NpmConfig>(&serde_json::to_string(&cfg).unwrap()).unwrap(), cfg);
}

#[test]
#[should_panic(expected = "Npm::forward")]
fn forward_panics_on_bad_input() {
    let dev = Device::flex();
    let m = tiny(PromptBank::Sum).init(&dev);
    let _ = m.forward(Tensor::zeros([1, 12, 5, 3], &dev), &Tensor::eye(5, &dev));
}

#[test]
fn gradients_reach_every_parameter() {
    let _g = lock();
    let dev = Device::flex().autodiff();
    for bank in [PromptBank::Attention, PromptBank::Sum] {
        let m = tiny(bank).init_seeded(&dev, 7);
        let x = rand4([2, 12, 5, 2], &dev);
        let out = m.forward(x, &ring(5, &dev));
        let target = rand4([2, 12, 5, 18], &dev);
        let support = graph_support(&out.graph);
        let loss = (out.input - target).powi_scalar(2).mean() + out.graph.mean().mul_scalar(1e-3) + support.narrow(1, 0, 1).mean();
        let (grads, frozen) = param_grads(&m, &loss.backward());
        assert_eq!(frozen, 0, "every NPM tensor is trainable");
        // encoder: 7 linear layers (weight + bias) and 2 LayerNorms (scale + shift); bank; keys
        let expect = 7 * 2 + 2 * 2 + 1 + usize::from(bank == PromptBank::Attention);
        assert_eq!(grads.len(), expect, "{bank:?}");
        for (p, g) in grads.iter().enumerate() {
            let g = g.as_ref().unwrap_or_else(|| panic!("{bank:?}: parameter {p} got no gradient"));
            assert!(g.iter().all(|v| v.is_finite()), "{bank:?} param {p}");
            assert!(g.iter().any(|&v| v != 0.0), "{bank:?}: parameter {p} has an all-zero gradient");
        }
    }
}

#[test]
fn same_seed_same_output() {
    let _g = lock();
    let dev = Device::flex();
    let x = rand4([2, 12, 5, 2], &dev);
    let adj = ring(5, &dev);
    for bank in [PromptBank::Attention, PromptBank::Sum] {
        let run = |seed: u64| {
            let out = tiny(bank).init_seeded(&dev, seed).forward(x.clone(), &adj);
            (vals(out.input), vals(out.graph))
        };
        let a = run(1);
        assert_eq!(a, run(1), "{bank:?}");
        assert_ne!(a.0, run(2).0, "{bank:?}");
    }
}

/// Forward and training-step timings at TSJT sizes (`D = 128`, `M = 150`)
/// (`cargo test --release --test npm -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing_default_config() {
    let _g = lock();
    for bank in [PromptBank::Sum, PromptBank::Attention] {
        for (b, n) in [(8, 207), (32, 207)] {
            let dev = Device::flex().autodiff();
            let m = NpmConfig { bank, ..NpmConfig::default() }.init_seeded(&dev, 1);
            let x = rand4([b, 12, n, 2], &dev);
            let adj = ring(n, &dev);
            let t = std::time::Instant::now();
            let out = m.forward(x, &adj);
            let loss = out.input.powi_scalar(2).mean() + out.graph.mean();
            let _ = loss.backward();
            eprintln!("NPM {bank:?} B={b} N={n}: forward + backward {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
        }
    }
}
