//! MTGNN teacher: shapes, learned graph, mix-hop propagation, seeding, given adjacency,
//! training and checkpoints.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use urbancast_nn::mtgnn::{mix_hop, normalize_with_self_loops};
use urbancast_nn::{MtgnnConfig, load_mtgnn, save_mtgnn};
use urbancast_train::{OptimConfig, Stepper};

mod common;
use common::{lock, rand4, ring_adj, vals};

fn tiny(n: usize, in_dim: usize, c: usize) -> MtgnnConfig {
    MtgnnConfig {
        seq_len: 12,
        horizon: 3,
        node_dim: 4,
        top_k: 2,
        gcn_depth: 2,
        conv_channels: 8,
        residual_channels: 8,
        skip_channels: 8,
        end_channels: 6,
        layers: 2,
        ..MtgnnConfig::new(n, in_dim, c)
    }
}

#[test]
fn output_shapes() {
    let _g = lock();
    let dev = Device::flex();
    let mut cfgs = vec![tiny(5, 3, 2)]; // seq 12 < R = 13: padded
    cfgs.push(MtgnnConfig { layers: 3, top_k: 50, ..tiny(4, 2, 1) }); // R = 19, k clamps
    cfgs.push(MtgnnConfig { seq_len: 15, layers: 1, ..tiny(3, 1, 1) }); // seq > R = 7
    cfgs.push(MtgnnConfig { learn_graph: false, ..tiny(3, 2, 2) });
    cfgs.push(MtgnnConfig { learn_graph: false, use_given_adj: false, ..tiny(3, 2, 2) });
    for cfg in cfgs {
        let (n, f) = (cfg.num_nodes, cfg.in_dim);
        let m = cfg.init_seeded(&dev, 1);
        let out = m.forward(rand4([2, cfg.seq_len, n, f], &dev), ring_adj(n, &dev));
        assert_eq!(out.pred.dims(), [2, cfg.horizon, n, cfg.out_channels], "{cfg:?}");
        assert_eq!(out.hidden.dims(), [2, n, cfg.end_channels]);
        assert!(vals(out.pred).iter().all(|v| v.is_finite()));
    }
    // dropout active on an autodiff device
    let ad = Device::flex().autodiff();
    let m = MtgnnConfig { dropout: 0.5, ..tiny(3, 2, 1) }.init_seeded(&ad, 2);
    let out = m.forward(rand4([2, 12, 3, 2], &ad), ring_adj(3, &ad));
    assert_eq!(out.pred.dims(), [2, 3, 3, 1]);
    assert!(vals(out.pred).iter().all(|v| v.is_finite()));
    // default config too
    let cfg = MtgnnConfig::new(6, 2, 1);
    assert_eq!(cfg.receptive_field(), 19);
    let m = cfg.init(&dev);
    let out = m.forward(rand4([1, 12, 6, 2], &dev), ring_adj(6, &dev));
    assert_eq!(out.pred.dims(), [1, 12, 6, 1]);
    assert_eq!(out.hidden.dims(), [1, 6, 128]);
}

#[test]
fn bad_input_is_an_error() {
    let _g = lock();
    let dev = Device::flex();
    let cfg = tiny(4, 2, 1);
    let m = cfg.init(&dev);
    assert!(m.try_forward(rand4([1, 11, 4, 2], &dev), ring_adj(4, &dev)).is_err());
    assert!(m.try_forward(rand4([1, 12, 5, 2], &dev), ring_adj(4, &dev)).is_err());
    assert!(m.try_forward(rand4([1, 12, 4, 2], &dev), ring_adj(3, &dev)).is_err());
    assert!(m.try_forward(rand4([1, 12, 4, 2], &dev), ring_adj(4, &dev)).is_ok());
    for bad in [
        MtgnnConfig { conv_channels: 6, ..cfg.clone() },
        MtgnnConfig { kernel_size: 5, ..cfg.clone() },
        MtgnnConfig { num_nodes: 0, ..cfg.clone() },
        MtgnnConfig { dropout: 1.0, ..cfg.clone() },
    ] {
        assert!(bad.try_init(&dev).is_err());
    }
}

#[test]
fn learned_adjacency_is_sparse_and_nonnegative() {
    let _g = lock();
    let dev = Device::flex();
    for (n, k) in [(7, 3), (4, 9)] {
        let cfg = MtgnnConfig { top_k: k, ..tiny(n, 2, 1) };
        let a = vals(cfg.init_seeded(&dev, 3).learned_adjacency());
        assert_eq!(a.len(), n * n);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        for row in a.chunks(n) {
            assert!(row.iter().filter(|&&v| v != 0.0).count() <= k.min(n));
        }
        assert!(a.iter().any(|&v| v > 0.0));
    }
}

#[test]
fn mix_hop_matches_hand_computation() {
    let _g = lock();
    let dev = Device::flex();
    // path graph 0 - 1 - 2 with weights 1 and 2
    let a = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0, 0.0, 1.0, 0.0, 2.0, 0.0, 2.0, 0.0], [3, 3]), &dev);
    let an = normalize_with_self_loops(a);
    let expect_a = [[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.0, 2.0 / 3.0, 1.0 / 3.0]];
    let got = vals(an.clone());
    for i in 0..3 {
        for j in 0..3 {
            assert!((got[i * 3 + j] - expect_a[i][j]).abs() < 1e-6);
        }
    }
    // x: [B=1, C=2, N=3, T=1]
    let xs = [[1.0f32, 2.0, 4.0], [-1.0, 0.0, 3.0]];
    let x = Tensor::<4>::from_data(TensorData::new(xs.iter().flatten().copied().collect::<Vec<_>>(), [1, 2, 3, 1]), &dev);
    let alpha = 0.1f32;
    let hops = mix_hop(x, an, 2, alpha);
    assert_eq!(hops.len(), 3);
    for (c, xc) in xs.iter().enumerate() {
        let mut h = *xc;
        for (k, hop) in hops.iter().enumerate() {
            if k > 0 {
                let prev = h;
                for v in 0..3 {
                    let ah: f32 = (0..3).map(|w| expect_a[v][w] * prev[w]).sum();
                    h[v] = alpha * xc[v] + (1.0 - alpha) * ah;
                }
            }
            let got = vals(hop.clone());
            for v in 0..3 {
                assert!((got[c * 3 + v] - h[v]).abs() < 1e-5, "hop {k} c {c} v {v}");
            }
        }
    }
}

#[test]
fn seeding_and_given_adjacency() {
    let _g = lock();
    let dev = Device::flex();
    let cfg = tiny(5, 2, 1);
    let x = rand4([2, 12, 5, 2], &dev);
    let adj = ring_adj(5, &dev);
    let run = |cfg: &MtgnnConfig, seed: u64, adj: Tensor<2>| vals(cfg.init_seeded(&dev, seed).forward(x.clone(), adj).pred);
    let a = run(&cfg, 7, adj.clone());
    assert_eq!(a, run(&cfg, 7, adj.clone()));
    assert_ne!(a, run(&cfg, 8, adj.clone()));
    let other = Tensor::<2>::ones([5, 5], &dev);
    assert_ne!(a, run(&cfg, 7, other.clone()));
    let no_given = MtgnnConfig { use_given_adj: false, ..cfg };
    assert_eq!(run(&no_given, 7, adj), run(&no_given, 7, other));
}

#[test]
fn adam_reduces_mse() {
    let _g = lock();
    let dev = Device::flex().autodiff();
    let cfg = MtgnnConfig { dropout: 0.0, ..tiny(4, 2, 1) };
    let mut model = cfg.init_seeded(&dev, 5);
    let x = rand4([4, 12, 4, 2], &dev);
    let y = Tensor::<4>::random([4, 3, 4, 1], Distribution::Uniform(0.0, 1.0), &dev);
    let adj = ring_adj(4, &dev);
    let mut stepper = Stepper::new(&OptimConfig::adam(0.0), 0.0);
    let mut losses: Vec<f32> = vec![];
    for _ in 0..15 {
        let pred = model.forward(x.clone(), adj.clone()).pred;
        let loss = (pred - y.clone()).powi_scalar(2).mean();
        let (m, info) = stepper.step(model, loss, 1e-2, &|| "mtgnn test".into()).unwrap();
        model = m;
        losses.push(info.loss as f32);
    }
    assert!(losses.last().unwrap() < &(losses[0] * 0.5), "{losses:?}");
    // the node embeddings are trained
    let fresh = cfg.init_seeded(&dev, 5);
    assert_ne!(vals(model.learned_adjacency()), vals(fresh.learned_adjacency()));
}

#[test]
fn checkpoint_round_trip() {
    let _g = lock();
    let dev = Device::flex();
    let cfg = tiny(4, 2, 2);
    let m = cfg.init_seeded(&dev, 11);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mtgnn.bpk");
    save_mtgnn(&m, &path).unwrap();
    let l = load_mtgnn(&cfg, &path, &dev).unwrap();
    let x = rand4([2, 12, 4, 2], &dev);
    let adj = ring_adj(4, &dev);
    let (a, b) = (m.forward(x.clone(), adj.clone()), l.forward(x, adj));
    assert_eq!(vals(a.pred), vals(b.pred));
    assert_eq!(vals(a.hidden), vals(b.hidden));
    assert!(load_mtgnn(&MtgnnConfig { top_k: 3, ..cfg.clone() }, &path, &dev).is_err());
    assert!(load_mtgnn(&cfg, dir.path().join("missing.bpk"), &dev).is_err());
}

#[test]
fn num_params_matches_hand_count() {
    let _g = lock();
    let dev = Device::flex();
    let (n, f, c, h, d) = (3, 2, 1, 2, 4);
    let (conv, res, skip, end, depth) = (4, 4, 8, 8, 1);
    let cfg = MtgnnConfig {
        seq_len: 7,
        horizon: h,
        node_dim: d,
        top_k: 2,
        gcn_depth: depth,
        conv_channels: conv,
        residual_channels: res,
        skip_channels: skip,
        end_channels: end,
        layers: 1,
        ..MtgnnConfig::new(n, f, c)
    };
    let conv_p = |ci: usize, co: usize, k: usize| ci * co * k + co;
    let r = 7; // receptive field, T' = 1 after the layer
    let graph = 2 * n * d + 2 * (d * d + d);
    let inception: usize = [2, 3, 6, 7].iter().map(|&k| conv_p(res, conv / 4, k)).sum();
    let mixprop = conv_p((depth + 1) * conv, res, 1);
    let layer = 2 * inception + conv_p(conv, skip, 1) + 3 * mixprop + 2 * res * n;
    let expect =
        graph + conv_p(f, res, 1) + conv_p(f, skip, r) + layer + conv_p(res, skip, 1) + conv_p(skip, end, 1) + conv_p(end, h * c, 1);
    let m = cfg.init(&dev);
    assert!(m.num_params() > 0);
    assert_eq!(m.num_params(), expect);
}

fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    let (a, b) = (vals(a), vals(b));
    assert_eq!(a.len(), b.len());
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Random (non-trivial) layer-norm affine params and biases, so the comparison covers them.
fn perturbed(cfg: &MtgnnConfig, dev: &Device, seed: u64) -> urbancast_nn::Mtgnn {
    use burn::module::{ModuleMapper, Param};
    struct Jitter;
    impl ModuleMapper for Jitter {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, t, mapper) = param.consume();
            let noise = Tensor::random(t.shape(), Distribution::Uniform(-0.2, 0.2), &t.device());
            let ad = t.is_require_grad();
            let t = (t + noise).detach();
            Param::from_mapped_value(id, if ad { t.require_grad() } else { t }, mapper)
        }
    }
    cfg.init_seeded(dev, seed).map(&mut Jitter)
}

fn fast_vs_reference_configs() -> Vec<MtgnnConfig> {
    vec![
        tiny(5, 3, 2), // padded input
        MtgnnConfig { use_given_adj: false, ..tiny(6, 2, 1) },
        MtgnnConfig { learn_graph: false, ..tiny(4, 2, 2) },
        MtgnnConfig { learn_graph: false, use_given_adj: false, ..tiny(4, 2, 1) },
        MtgnnConfig { seq_len: 24, layers: 3, gcn_depth: 3, ..tiny(7, 3, 2) }, // seq > R
        MtgnnConfig { gcn_depth: 1, conv_channels: 12, residual_channels: 6, ..tiny(5, 2, 1) },
        MtgnnConfig { seq_len: 12, ..MtgnnConfig::new(9, 3, 2) },
        MtgnnConfig { seq_len: 24, ..MtgnnConfig::new(8, 2, 1) },
    ]
}

#[test]
fn fast_forward_matches_reference() {
    let _g = lock();
    let dev = Device::flex();
    for (i, cfg) in fast_vs_reference_configs().into_iter().enumerate() {
        let (n, f) = (cfg.num_nodes, cfg.in_dim);
        let m = perturbed(&cfg, &dev, 20 + i as u64);
        let x = rand4([3, cfg.seq_len, n, f], &dev);
        let adj = ring_adj(n, &dev) + Tensor::random([n, n], Distribution::Uniform(0.0, 0.5), &dev);
        let fast = m.forward(x.clone(), adj.clone());
        let slow = m.forward_reference(x, adj);
        let dp = max_abs_diff(fast.pred, slow.pred);
        let dh = max_abs_diff(fast.hidden, slow.hidden);
        assert!(dp < 1e-4 && dh < 1e-4, "cfg {i}: pred diff {dp}, hidden diff {dh}");
    }
}

#[test]
fn fast_gradients_match_reference() {
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::Gradients;
    /// Every parameter gradient (in visiting order) as a flat vector.
    struct Collect<'a> {
        grads: &'a Gradients,
        out: Vec<Vec<f32>>,
    }
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let g = param.val().grad(self.grads).map(vals).unwrap_or_default();
            self.out.push(g);
        }
    }
    let _g = lock();
    let dev = Device::flex().autodiff();
    let cfgs = [
        MtgnnConfig { dropout: 0.0, ..tiny(5, 3, 2) },
        MtgnnConfig { dropout: 0.0, learn_graph: false, seq_len: 24, ..tiny(4, 2, 1) },
        MtgnnConfig { dropout: 0.0, use_given_adj: false, layers: 3, ..tiny(6, 2, 1) },
    ];
    for (i, cfg) in cfgs.into_iter().enumerate() {
        let (n, f) = (cfg.num_nodes, cfg.in_dim);
        let m = perturbed(&cfg, &dev, 40 + i as u64);
        let x = rand4([2, cfg.seq_len, n, f], &dev);
        let y = rand4([2, cfg.horizon, n, cfg.out_channels], &dev);
        let adj = ring_adj(n, &dev);
        let grads = |fast: bool| {
            let out = if fast { m.forward(x.clone(), adj.clone()) } else { m.forward_reference(x.clone(), adj.clone()) };
            let loss = (out.pred - y.clone()).powi_scalar(2).mean() + out.hidden.mean();
            let g = loss.backward();
            let mut c = Collect { grads: &g, out: vec![] };
            m.visit(&mut c);
            c.out
        };
        let (gf, gr) = (grads(true), grads(false));
        assert_eq!(gf.len(), gr.len());
        let mut checked = 0;
        for (p, (a, b)) in gf.iter().zip(&gr).enumerate() {
            assert_eq!(a.len(), b.len(), "cfg {i} param {p}: gradient presence differs");
            let scale = b.iter().map(|v| v.abs()).fold(0.0f32, f32::max).max(1e-6);
            let diff = a.iter().zip(b).map(|(u, v)| (u - v).abs()).fold(0.0f32, f32::max);
            assert!(diff <= 1e-3 * scale + 1e-6, "cfg {i} param {p}: diff {diff} scale {scale}");
            checked += usize::from(!a.is_empty());
        }
        assert!(checked > 10, "cfg {i}: only {checked} gradients");
    }
}

/// Training-step and inference timings at paper sizes, fast vs reference forward
/// (`cargo test --release --test mtgnn -- --ignored --nocapture`). Env knobs: `MTGNN_SIZES=k`
/// (first k sizes only), `MTGNN_FAST_ONLY` (skip the reference), `MTGNN_PHASES` (forward and
/// backward times of each training step).
#[test]
#[ignore]
fn timing_default_config() {
    let _g = lock();
    let ad = Device::flex().autodiff();
    let sizes = [(16, 200, true), (32, 156, true), (64, 207, false)];
    let only: usize = std::env::var("MTGNN_SIZES").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    for (b, n, train) in sizes.into_iter().take(only) {
        let dev = if train { ad.clone() } else { Device::flex() };
        let cfg = MtgnnConfig::new(n, 3, 2);
        let mut model = cfg.init_seeded(&dev, 1);
        let x = rand4([b, 12, n, 3], &dev);
        let y = rand4([b, 12, n, 2], &dev);
        let adj = ring_adj(n, &dev);
        let mut optim = AdamConfig::new().init();
        let refs: &[bool] = if std::env::var("MTGNN_FAST_ONLY").is_ok() { &[false] } else { &[false, true] };
        for &reference in refs {
            let mut ms = vec![];
            for _ in 0..3 {
                let t = std::time::Instant::now();
                let out = if reference { model.forward_reference(x.clone(), adj.clone()) } else { model.forward(x.clone(), adj.clone()) };
                if train {
                    let loss = (out.pred - y.clone()).powi_scalar(2).mean();
                    let tf = t.elapsed().as_secs_f64() * 1e3;
                    let g = loss.backward();
                    let tb = t.elapsed().as_secs_f64() * 1e3;
                    let grads = GradientsParams::from_grads(g, &model);
                    model = optim.step(1e-3, model, grads);
                    if std::env::var("MTGNN_PHASES").is_ok() {
                        eprintln!("  forward {tf:.0} ms, backward {:.0} ms", tb - tf);
                    }
                } else {
                    let _ = vals(out.pred);
                }
                ms.push(format!("{:.0}", t.elapsed().as_secs_f64() * 1e3));
            }
            let what = if train { "train step" } else { "inference" };
            let imp = if reference { "reference" } else { "fast" };
            eprintln!("B={b} N={n} {what} {imp}: {} ms", ms.join(" / "));
        }
    }
}
