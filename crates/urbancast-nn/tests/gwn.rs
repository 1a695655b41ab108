//! Graph WaveNet: shapes, supports, adaptive adjacency, input checks, gradients, training.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use urbancast_nn::GwnConfig;
use urbancast_nn::gwn::{GwnInit, double_transition, transition_matrix};

mod common;
use common::{assert_close, lock, mat, param_grads, rand4, ring_adj, vals};

/// Row-normalised ring graph.
fn ring(n: usize, dev: &Device) -> Tensor<2> {
    transition_matrix(&ring_adj(n, dev))
}

/// Default architecture (4 blocks x 2 layers, receptive field 13) with narrow channels.
fn tiny(n: usize, c: usize) -> GwnConfig {
    GwnConfig { residual_channels: 8, dilation_channels: 8, skip_channels: 16, end_channels: 16, embed_dim: 4, ..GwnConfig::new(n, c) }
}

#[test]
fn output_shapes() {
    let _g = lock();
    let dev = Device::flex();
    let x = rand4([2, 12, 5, 2], &dev);
    let sup = [ring(5, &dev)];
    let cfg = tiny(5, 2);
    assert_eq!(cfg.receptive_field(), 13);
    assert_eq!(cfg.init(&dev).forward(x.clone(), &sup).dims(), [2, 6, 5, 1]);
    let cfg12 = GwnConfig { out_steps: 12, ..tiny(5, 2) };
    let y = cfg12.init(&dev).forward(x.clone(), &sup);
    assert_eq!(y.dims(), [2, 12, 5, 1]);
    assert!(vals(y).iter().all(|v| v.is_finite()));
    // 0, 1 or 2 given supports, with and without the adaptive one; more out channels
    let [s1, s2] = double_transition(&ring(5, &dev));
    for (k, adaptive) in [(0, true), (0, false), (1, false), (2, true), (2, false)] {
        let cfg = GwnConfig { num_supports: k, adaptive_adj: adaptive, out_channels: 3, ..tiny(5, 2) };
        let sups = [s1.clone(), s2.clone()];
        let y = cfg.init(&dev).forward(x.clone(), &sups[..k]);
        assert_eq!(y.dims(), [2, 6, 5, 3], "{k} supports, adaptive {adaptive}");
        assert!(vals(y).iter().all(|v| v.is_finite()));
    }
    // longer input than the receptive field, other depth, Xavier init
    let cfg = GwnConfig { in_steps: 20, blocks: 2, layers: 3, weight_init: GwnInit::XavierUniform, ..tiny(4, 1) };
    assert_eq!(cfg.receptive_field(), 15);
    assert_eq!(cfg.init(&dev).forward(rand4([3, 20, 4, 1], &dev), &[ring(4, &dev)]).dims(), [3, 6, 4, 1]);
    // default (paper) sizes, and an autodiff device with dropout active
    let y = GwnConfig::new(5, 2).init(&dev).forward(x.clone(), &sup);
    assert_eq!(y.dims(), [2, 6, 5, 1]);
    let ad = Device::flex().autodiff();
    let y = GwnConfig { dropout: 0.5, ..tiny(5, 2) }.init(&ad).forward(rand4([2, 12, 5, 2], &ad), &[ring(5, &ad)]);
    assert_eq!(y.dims(), [2, 6, 5, 1]);
    assert!(vals(y).iter().all(|v| v.is_finite()));
}

#[test]
fn adaptive_adjacency_is_row_stochastic() {
    let _g = lock();
    let dev = Device::flex();
    let m = tiny(7, 1).init_seeded(&dev, 3);
    let a = m.adaptive_adjacency().expect("adaptive_adj is on by default");
    assert_eq!(a.dims(), [7, 7]);
    let a = vals(a);
    assert!(a.iter().all(|&v| v > 0.0 && v <= 1.0));
    for row in a.chunks(7) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
    }
    assert!(GwnConfig { adaptive_adj: false, ..tiny(7, 1) }.init(&dev).adaptive_adjacency().is_none());
}

#[test]
fn transition_matrices_by_hand() {
    let dev = Device::flex();
    // row 2 has no out-edges: stays zero (gwnet's asym_adj maps 1/0 to 0)
    let a = mat(&[&[0.0, 1.0, 2.0], &[3.0, 0.0, 1.0], &[0.0, 0.0, 0.0]], &dev);
    let p = vals(transition_matrix(&a));
    assert_close(&p, &[0.0, 1.0 / 3.0, 2.0 / 3.0, 0.75, 0.0, 0.25, 0.0, 0.0, 0.0], 1e-6, "D^-1 A");
    let [fwd, bwd] = double_transition(&a);
    assert_close(&vals(fwd), &p, 1e-6, "forward transition");
    // Aᵀ = [[0, 3, 0], [1, 0, 0], [2, 1, 0]]
    assert_close(&vals(bwd), &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 2.0 / 3.0, 1.0 / 3.0, 0.0], 1e-6, "backward transition");
}

#[test]
fn bad_input_and_config_are_errors() {
    let _g = lock();
    let dev = Device::flex();
    let cfg = tiny(4, 2);
    let m = cfg.init(&dev);
    let x = rand4([1, 12, 4, 2], &dev);
    let s = ring(4, &dev);
    assert!(m.try_forward(x.clone(), std::slice::from_ref(&s)).is_ok());
    // wrong number of supports
    let err = m.try_forward(x.clone(), &[]).unwrap_err();
    assert!(err.to_string().contains("num_supports = 1"), "{err}");
    assert!(m.try_forward(x.clone(), &[s.clone(), s.clone()]).is_err());
    // wrong support shape
    assert!(m.try_forward(x.clone(), &[ring(5, &dev)]).is_err());
    // wrong x shape: T, N, C
    for shape in [[1, 11, 4, 2], [1, 12, 5, 2], [1, 12, 4, 3]] {
        let err = m.try_forward(rand4(shape, &dev), std::slice::from_ref(&s)).unwrap_err();
        assert!(err.to_string().contains("model expects"), "{shape:?}: {err}");
    }
    let two = GwnConfig { num_supports: 2, ..cfg.clone() }.init(&dev);
    assert!(two.try_forward(x.clone(), std::slice::from_ref(&s)).is_err());
    assert!(two.try_forward(x, &double_transition(&s)).is_ok());
    for bad in [
        GwnConfig { num_nodes: 0, ..cfg.clone() },
        GwnConfig { kernel_size: 1, ..cfg.clone() },
        GwnConfig { dropout: 1.0, ..cfg.clone() },
        GwnConfig { diffusion_order: 0, ..cfg.clone() },
        GwnConfig { embed_dim: 0, ..cfg.clone() },
    ] {
        assert!(bad.validate().is_err() && bad.try_init(&dev).is_err(), "{bad:?}");
    }
    assert!(GwnConfig { diffusion_order: 0, num_supports: 0, adaptive_adj: false, ..cfg.clone() }.validate().is_ok());
    // serde: missing fields take the defaults
    let back: GwnConfig = serde_json::from_str(r#"{"num_nodes": 4, "in_channels": 2}"#).unwrap();
    assert_eq!(back, GwnConfig::new(4, 2));
    assert_eq!(serde_json::from_str::<GwnConfig>(&serde_json::to_string(&cfg).unwrap()).unwrap(), cfg);
}

#[test]
fn gradients_reach_every_parameter() {
    let _g = lock();
    let dev = Device::flex().autodiff();
    let cfgs = [
        tiny(5, 2),
        GwnConfig { num_supports: 2, adaptive_adj: false, weight_init: GwnInit::XavierUniform, ..tiny(5, 2) },
        GwnConfig { num_supports: 0, adaptive_adj: false, blocks: 2, ..tiny(5, 2) },
    ];
    for (i, cfg) in cfgs.into_iter().enumerate() {
        let m = cfg.init_seeded(&dev, 10 + i as u64);
        let x = rand4([2, 12, 5, 2], &dev);
        let y = rand4([2, 6, 5, 1], &dev);
        let sups = double_transition(&ring(5, &dev));
        let loss = (m.forward(x, &sups[..cfg.num_supports]) - y).powi_scalar(2).mean();
        let (grads, _) = param_grads(&m, &loss.backward());
        // all tensors but the two running statistics of each BatchNorm (none in the last layer)
        let norms = cfg.blocks * cfg.layers - 1;
        assert_eq!(grads.len(), m.num_params_tensors() - 2 * norms, "cfg {i}");
        for (p, g) in grads.iter().enumerate() {
            let g = g.as_ref().unwrap_or_else(|| panic!("cfg {i}: parameter {p} got no gradient"));
            assert!(g.iter().all(|v| v.is_finite()), "cfg {i} param {p}");
            assert!(g.iter().any(|&v| v != 0.0), "cfg {i}: parameter {p} has an all-zero gradient");
        }
    }
}

/// Number of parameter tensors of a module.
trait CountTensors {
    fn num_params_tensors(&self) -> usize;
}

impl<M: Module> CountTensors for M {
    fn num_params_tensors(&self) -> usize {
        struct Count(usize);
        impl ModuleVisitor for Count {
            fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<D>>) {
                self.0 += 1;
            }
        }
        let mut c = Count(0);
        self.visit(&mut c);
        c.0
    }
}

#[test]
fn num_params_matches_hand_count() {
    let dev = Device::flex();
    let (n, cin, res, dil, skip, end, d) = (5, 2, 8, 8, 16, 16, 4);
    let cfg = tiny(n, cin);
    let conv = |ci: usize, co: usize, k: usize| ci * co * k + co;
    let depth = cfg.blocks * cfg.layers;
    let supports = 2; // one given + adaptive
    let layer = 2 * conv(res, dil, 2) + conv(dil, skip, 1);
    // graph conv + BatchNorm (gamma, beta and the running mean and variance, which
    // `num_params` counts too)
    let mix = conv((2 * supports + 1) * dil, res, 1) + 4 * res;
    let expect = 2 * n * d + conv(cin, res, 1) + depth * layer + (depth - 1) * mix + conv(skip, end, 1) + conv(end, 6, 1);
    assert_eq!(cfg.init(&dev).num_params(), expect);
    // no supports: 1x1 residual convolutions instead of graph convolutions, no embeddings
    let cfg0 = GwnConfig { num_supports: 0, adaptive_adj: false, ..cfg };
    let expect0 = conv(cin, res, 1) + depth * layer + (depth - 1) * (conv(dil, res, 1) + 4 * res) + conv(skip, end, 1) + conv(end, 6, 1);
    assert_eq!(cfg0.init(&dev).num_params(), expect0);
}

#[test]
fn adam_reduces_mse() {
    let _g = lock();
    let dev = Device::flex().autodiff();
    let cfg = GwnConfig { dropout: 0.0, ..tiny(4, 2) };
    let mut model = cfg.init_seeded(&dev, 5);
    let x = rand4([4, 12, 4, 2], &dev);
    // target: a smooth function of the input (last step's mean) plus a per-step offset
    let last = x.clone().narrow(1, 11, 1).mean_dim(3); // [4, 1, 4, 1]
    let offs = Tensor::<4>::from_data(TensorData::new((0..6).map(|h| 0.1 * h as f32).collect::<Vec<_>>(), [1, 6, 1, 1]), &dev);
    let y = (last.repeat_dim(1, 6) + offs).detach();
    let sup = [ring(4, &dev)];
    let mut optim = AdamConfig::new().init();
    let mut losses = vec![];
    for _ in 0..30 {
        let loss = (model.forward(x.clone(), &sup) - y.clone()).powi_scalar(2).mean();
        losses.push(vals(loss.clone())[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last < 0.5 * first, "loss {first} -> {last}: {losses:?}");
}

#[test]
fn output_depends_on_supports() {
    let _g = lock();
    let dev = Device::flex();
    let x = rand4([2, 12, 5, 2], &dev);
    let other = transition_matrix(&Tensor::random([5, 5], Distribution::Uniform(0.0, 1.0), &dev));
    for adaptive in [false, true] {
        let m = GwnConfig { adaptive_adj: adaptive, ..tiny(5, 2) }.init_seeded(&dev, 9);
        let a = vals(m.forward(x.clone(), &[ring(5, &dev)]));
        let b = vals(m.forward(x.clone(), std::slice::from_ref(&other)));
        assert_eq!(a, vals(m.forward(x.clone(), &[ring(5, &dev)])), "deterministic inference");
        let diff = a.iter().zip(&b).map(|(u, v)| (u - v).abs()).fold(0.0f32, f32::max);
        assert!(diff > 1e-5, "adaptive {adaptive}: supports do not change the output ({diff})");
    }
    // the identity support: graph features are [h, h, h]; a zero support leaves only h
    let m = GwnConfig { adaptive_adj: false, ..tiny(5, 2) }.init_seeded(&dev, 9);
    let a = vals(m.forward(x.clone(), &[Tensor::eye(5, &dev)]));
    let b = vals(m.forward(x, &[Tensor::zeros([5, 5], &dev)]));
    assert_ne!(a, b);
}

#[test]
fn same_seed_same_model() {
    let _g = lock();
    let dev = Device::flex();
    let cfg = tiny(4, 1);
    let x = rand4([1, 12, 4, 1], &dev);
    let sup = [ring(4, &dev)];
    let run = |seed: u64| vals(cfg.init_seeded(&dev, seed).forward(x.clone(), &sup));
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
}

/// Training-step and inference timings at paper sizes
/// (`cargo test --release --test gwn -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing_default_config() {
    let _g = lock();
    for (b, n, train) in [(32, 200, true), (64, 200, false)] {
        let dev = if train { Device::flex().autodiff() } else { Device::flex() };
        let cfg = GwnConfig { num_supports: 2, ..GwnConfig::new(n, 2) };
        let mut model = cfg.init_seeded(&dev, 1);
        let x = rand4([b, 12, n, 2], &dev);
        let y = rand4([b, 6, n, 1], &dev);
        let sups = double_transition(&ring(n, &dev));
        let mut optim = AdamConfig::new().init();
        let mut ms = vec![];
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let out = model.forward(x.clone(), &sups);
            if train {
                let loss = (out - y.clone()).powi_scalar(2).mean();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(1e-3, model, grads);
            } else {
                let _ = vals(out);
            }
            ms.push(format!("{:.0}", t.elapsed().as_secs_f64() * 1e3));
        }
        let what = if train { "train step" } else { "inference" };
        eprintln!("GWN B={b} N={n} {what}: {} ms", ms.join(" / "));
    }
}

#[test]
fn one_model_serves_graphs_of_any_size_without_the_adaptive_adjacency() {
    let _g = lock();
    let dev = Device::flex();
    let cfg = GwnConfig { adaptive_adj: false, num_supports: 2, ..tiny(0, 2) };
    let m = cfg.init(&dev);
    for n in [4, 7] {
        let adj = ring(n, &dev);
        let y = m.try_forward(rand4([2, 12, n, 2], &dev), &double_transition(&adj)).unwrap();
        assert_eq!(y.dims(), [2, 6, n, 1]);
    }
    let e = GwnConfig { adaptive_adj: true, ..tiny(0, 2) }.validate().unwrap_err().to_string();
    assert!(e.contains("adaptive_adj"), "{e}");
}

#[test]
fn hidden_representation_and_checkpoint_round_trip() {
    use urbancast_nn::gwn::{load_gwn, save_gwn};
    let _g = lock();
    let dev = Device::flex();
    let cfg = GwnConfig { num_supports: 2, adaptive_adj: true, ..tiny(5, 2) };
    let m = cfg.init_seeded(&dev, 3);
    let x = rand4([3, 12, 5, 2], &dev);
    let sups = double_transition(&ring(5, &dev));
    let (pred, hidden) = m.try_forward_hidden(x.clone(), &sups).unwrap();
    assert_eq!(hidden.dims(), [3, 5, cfg.end_channels]);
    assert!(vals(hidden).iter().all(|&v| v >= 0.0), "the representation is post-ReLU");
    assert_eq!(vals(pred.clone()), vals(m.forward(x.clone(), &sups)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.bpk");
    save_gwn(&m, &path).unwrap();
    let back = load_gwn(&path, &dev).unwrap();
    assert_eq!(back.config(), m.config());
    assert_eq!(vals(back.forward(x, &sups)), vals(pred));
    assert!(load_gwn(dir.path().join("none.bpk"), &dev).is_err());
}
