//! Fast ST-net tests (tiny shapes).

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use urbancast_nn::{
    NnError, Output, Space, SpatialKind, StNetConfig, fused_lstm, load_stnet, normalized_adjacency, reference_lstm, save_stnet,
};
use urbancast_train::{OptimConfig, Stepper};

mod common;
use common::{rand4, ring_values, vals};

fn tiny(channels: usize) -> StNetConfig {
    StNetConfig { channels, lags: 3, conv_channels: 8, res_units: 2, hidden: 6, head_hidden: 5, output: Output::Sigmoid }
}

#[test]
fn grid_shapes_on_two_grid_sizes() {
    let dev = Device::flex();
    let cfg = StNetConfig { output: Output::Sigmoid, ..StNetConfig::new(2) }; // paper sizes: z is 256-d
    let model = cfg.init(SpatialKind::Grid, &dev);
    for (b, h, w) in [(2, 3, 4), (1, 5, 2)] {
        let out = model.forward(rand4([b, 6, 2, h * w], &dev), &Space::grid(h, w)).unwrap();
        assert_eq!(out.pred.dims(), [b, h * w, 2]);
        assert_eq!(out.z.dims(), [b, h * w, 256]);
        assert!(vals(out.pred).iter().all(|&p| p > 0.0 && p < 1.0));
        // z = [last output || last hidden]: identical halves
        let z = vals(out.z);
        for row in z.chunks(256) {
            assert_eq!(row[..128], row[128..]);
        }
    }
}

#[test]
fn graph_shapes_and_head_reuse() {
    let dev = Device::flex();
    let cfg = StNetConfig { output: Output::Sigmoid, ..StNetConfig::new(1) };
    let model = cfg.init(SpatialKind::Graph, &dev);
    for r in [4, 7] {
        let space = Space::graph_from_dense(&ring_values(r), r, &dev);
        let out = model.forward(rand4([3, 6, 1, r], &dev), &space).unwrap();
        assert_eq!(out.pred.dims(), [3, r, 1]);
        assert_eq!(out.z.dims(), [3, r, 256]);
        let p = vals(out.pred.clone());
        assert!(p.iter().all(|&v| v > 0.0 && v < 1.0));
        let again = vals(model.forward_head(out.z));
        for (a, b) in p.iter().zip(&again) {
            assert!((a - b).abs() < 1e-6);
        }
    }
}

#[test]
fn linear_output_is_the_sigmoid_heads_logit_and_inference_clamps_at_zero() {
    let dev = Device::flex();
    let sig = tiny(1);
    let lin = StNetConfig { output: Output::Linear, ..sig.clone() };
    let space = Space::grid(3, 4);
    let mut negatives = 0;
    for seed in 1..=12 {
        // same seed, same parameters: only the last activation differs
        let a = lin.init_seeded(SpatialKind::Grid, &dev, seed);
        // the very same parameters (the device RNG is shared with tests running beside this one)
        let b = sig.init(SpatialKind::Grid, &dev).load_record(a.clone().into_record());
        let x = rand4([2, 3, 1, 12], &dev);
        let y = vals(a.forward(x.clone(), &space).unwrap().pred);
        let p = vals(b.forward(x.clone(), &space).unwrap().pred);
        for (y, p) in y.iter().zip(&p) {
            assert!((1.0 / (1.0 + (-y).exp()) - p).abs() < 1e-6, "sigmoid({y}) != {p}");
        }
        let clamped = vals(a.predict_scaled(x, &space).unwrap());
        for (c, y) in clamped.iter().zip(&y) {
            assert_eq!(*c, y.max(0.0));
        }
        negatives += y.iter().filter(|&&v| v < 0.0).count();
    }
    assert!(negatives > 0, "no seed gave a negative raw output: the clamp was not exercised");
}

#[test]
fn checkpoints_without_an_output_field_read_as_sigmoid() {
    let json = r#"{"channels":1,"lags":6,"conv_channels":64,"res_units":3,"hidden":128,"head_hidden":64}"#;
    let cfg: StNetConfig = serde_json::from_str(json).unwrap();
    assert_eq!(cfg.output, Output::Sigmoid);
    assert_eq!(StNetConfig::new(1).output, Output::Linear);
}

#[test]
fn input_mismatches_are_errors() {
    let dev = Device::flex();
    let grid = tiny(2).init(SpatialKind::Grid, &dev);
    let graph = tiny(2).init(SpatialKind::Graph, &dev);
    let x = rand4([1, 3, 2, 6], &dev);
    let gspace = Space::graph_from_dense(&ring_values(6), 6, &dev);
    assert!(matches!(grid.forward(x.clone(), &gspace), Err(NnError::SpaceKind { .. })));
    assert!(matches!(graph.forward(x.clone(), &Space::grid(2, 3)), Err(NnError::SpaceKind { .. })));
    assert!(matches!(grid.forward(x.clone(), &Space::grid(2, 2)), Err(NnError::Shape(_))));
    assert!(matches!(grid.forward(rand4([1, 4, 2, 6], &dev), &Space::grid(2, 3)), Err(NnError::Shape(_))));
    assert!(matches!(grid.forward(rand4([1, 3, 1, 6], &dev), &Space::grid(2, 3)), Err(NnError::Shape(_))));
    let small = Space::graph_from_dense(&ring_values(5), 5, &dev);
    let err = graph.forward(x.clone(), &small).unwrap_err();
    assert!(err.to_string().contains("R=6"), "{err}");
    assert!(grid.forward(x, &Space::grid(2, 3)).is_ok());
}

#[test]
fn normalized_adjacency_path_graph() {
    // path 0 - 1 - 2: A+I = [[1,1,0],[1,1,1],[0,1,1]], degrees 2, 3, 2
    let a = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let n = normalized_adjacency(&a, 3);
    let s6 = 1.0 / 6f32.sqrt();
    let want = [0.5, s6, 0.0, s6, 1.0 / 3.0, s6, 0.0, s6, 0.5];
    for (g, w) in n.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{n:?}");
    }
}

#[test]
fn training_loss_falls() {
    let dev = Device::flex().autodiff();
    for kind in [SpatialKind::Grid, SpatialKind::Graph] {
        let cfg = StNetConfig { hidden: 16, head_hidden: 16, ..tiny(2) };
        let mut model = cfg.init(kind, &dev);
        let space = match kind {
            SpatialKind::Grid => Space::grid(3, 3),
            SpatialKind::Graph => Space::graph_from_dense(&ring_values(9), 9, &dev),
        };
        let x = rand4([4, 3, 2, 9], &dev);
        // fixed target: channel 0 high, channel 1 low, mildly varying over regions
        let mut yv = vec![];
        for _b in 0..4 {
            for r in 0..9 {
                yv.extend([0.8 - 0.02 * r as f32, 0.2 + 0.01 * r as f32]);
            }
        }
        let y = Tensor::<3>::from_data(TensorData::new(yv, [4, 9, 2]), &dev);
        let mut stepper = Stepper::new(&OptimConfig::adam(0.0), 0.0);
        let mut losses = vec![];
        for _ in 0..30 {
            let out = model.forward(x.clone(), &space).unwrap();
            let loss = (out.pred - y.clone()).powi_scalar(2).mean();
            let (m, info) = stepper.step(model, loss, 1e-2, &|| "stnet test".into()).unwrap();
            model = m;
            losses.push(info.loss as f32);
        }
        let (first, last) = (losses[0], *losses.last().unwrap());
        assert!(last < 0.3 * first, "{kind:?}: loss {first} -> {last}: {losses:?}");
    }
}

#[test]
fn checkpoint_roundtrip_and_errors() {
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/model.bpk");
    let model = tiny(2).init(SpatialKind::Grid, &dev);
    let x = rand4([2, 3, 2, 12], &dev);
    let space = Space::grid(3, 4);
    let before = vals(model.forward(x.clone(), &space).unwrap().pred);
    save_stnet(&model, &path).unwrap();
    let loaded = load_stnet(&path, &dev).unwrap();
    assert_eq!(loaded.config(), model.config());
    assert_eq!(loaded.kind(), SpatialKind::Grid);
    let after = vals(loaded.forward(x, &space).unwrap().pred);
    assert_eq!(before, after);

    // missing file
    let err = load_stnet(dir.path().join("nope.bpk"), &dev).unwrap_err();
    assert!(matches!(err, NnError::Checkpoint { .. }), "{err}");
    // not a checkpoint
    let junk = dir.path().join("junk.bpk");
    std::fs::write(&junk, b"hello").unwrap();
    assert!(load_stnet(&junk, &dev).is_err());
    // wrong config
    let mut other = tiny(1).init(SpatialKind::Grid, &dev);
    let err = urbancast_nn::checkpoint::load_stnet_into(&mut other, &path).unwrap_err();
    assert!(matches!(err, NnError::ConfigMismatch { .. }), "{err}");
    let mut other = tiny(2).init(SpatialKind::Graph, &dev);
    let err = urbancast_nn::checkpoint::load_stnet_into(&mut other, &path).unwrap_err();
    assert!(matches!(err, NnError::ConfigMismatch { .. }), "{err}");
    // same config loads in place
    let mut same = tiny(2).init(SpatialKind::Grid, &dev);
    urbancast_nn::checkpoint::load_stnet_into(&mut same, &path).unwrap();
    assert_eq!(same.num_params(), model.num_params());
}

fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    let max = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(max < tol, "{what}: max abs diff {max}");
}

#[test]
fn fused_lstm_matches_reference_values_and_gradients() {
    let (t, n, f, h) = (4, 37, 5, 7); // n not a multiple of the kernel's row block
    let ad = Device::flex().autodiff();
    let dist = Distribution::Uniform(-1.0, 1.0);
    let base = Device::flex();
    let xd = Tensor::<3>::random([t, n, f], dist, &base).into_data();
    let wid = Tensor::<2>::random([f, 4 * h], dist, &base).into_data();
    let whd = Tensor::<2>::random([h, 4 * h], dist, &base).into_data();
    let bd = Tensor::<1>::random([4 * h], dist, &base).into_data();
    let pd = Tensor::<2>::random([n, h], dist, &base).into_data();

    let run = |fused: bool| {
        let x = Tensor::<3>::from_data(xd.clone(), &ad).require_grad();
        let wi = Tensor::<2>::from_data(wid.clone(), &ad).require_grad();
        let wh = Tensor::<2>::from_data(whd.clone(), &ad).require_grad();
        let b = Tensor::<1>::from_data(bd.clone(), &ad).require_grad();
        let proj = Tensor::<2>::from_data(pd.clone(), &ad);
        let out = if fused {
            fused_lstm(x.clone(), wi.clone(), wh.clone(), b.clone())
        } else {
            reference_lstm(x.clone(), wi.clone(), wh.clone(), b.clone())
        };
        let loss = (out.clone() * proj).sum();
        let g = loss.backward();
        let grad = |t: Option<Tensor<3>>| vals(t.unwrap());
        (vals(out), grad(x.grad(&g)), vals(wi.grad(&g).unwrap()), vals(wh.grad(&g).unwrap()), vals(b.grad(&g).unwrap()))
    };
    let fused = run(true);
    let refr = run(false);
    assert_close(&fused.0, &refr.0, 1e-5, "h");
    assert_close(&fused.1, &refr.1, 1e-4, "dx");
    assert_close(&fused.2, &refr.2, 1e-4, "dw_ih");
    assert_close(&fused.3, &refr.3, 1e-4, "dw_hh");
    assert_close(&fused.4, &refr.4, 1e-4, "db");

    // inference path (plain Flex device)
    let x = Tensor::<3>::from_data(xd.clone(), &base);
    let wi = Tensor::<2>::from_data(wid.clone(), &base);
    let wh = Tensor::<2>::from_data(whd.clone(), &base);
    let b = Tensor::<1>::from_data(bd.clone(), &base);
    let inf = vals(fused_lstm(x.clone(), wi.clone(), wh.clone(), b.clone()));
    let rf = vals(reference_lstm(x, wi, wh, b));
    assert_close(&inf, &rf, 1e-5, "inference h");
}

#[test]
fn fused_lstm_with_untracked_inputs_on_autodiff_device() {
    // no input requires grad: the op takes its untracked path
    let ad = Device::flex().autodiff();
    let x = Tensor::<3>::from_data(TensorData::new(vec![0.5f32; 2 * 3 * 2], [2, 3, 2]), &ad);
    let wi = Tensor::<2>::from_data(TensorData::new(vec![0.1f32; 2 * 8], [2, 8]), &ad);
    let wh = Tensor::<2>::from_data(TensorData::new(vec![-0.2f32; 2 * 8], [2, 8]), &ad);
    let b = Tensor::<1>::from_data(TensorData::new(vec![0.0f32; 8], [8]), &ad);
    let a = vals(fused_lstm(x.clone(), wi.clone(), wh.clone(), b.clone()));
    let r = vals(reference_lstm(x, wi, wh, b));
    assert_close(&a, &r, 1e-5, "untracked");
}

#[test]
fn fused_conv_matches_reference_values_and_gradients() {
    // small channels: im2col path, 330 pixels = more than one chunk; >= 16 channels: Winograd
    // (odd H and W: partial tiles; 3 x 13 tile rows of 9 tiles: several chunks)
    for (n, h, w, cin, cout) in [(3, 10, 11, 3, 4), (3, 25, 17, 16, 24)] {
        conv_case(n, h, w, cin, cout);
    }
}

fn conv_case(n: usize, h: usize, w: usize, cin: usize, cout: usize) {
    use urbancast_nn::{Conv3x3, reference_conv3x3};
    let base = Device::flex();
    let ad = base.clone().autodiff();
    let dist = Distribution::Uniform(-1.0, 1.0);
    let xd = Tensor::<4>::random([n, h, w, cin], dist, &base).into_data();
    let pd = Tensor::<4>::random([n, h, w, cout], dist, &base).into_data();
    let layer = Conv3x3::new(cin, cout, &base);
    let (wd, bd) = (layer.weight.val().into_data(), layer.bias.val().into_data());
    for relu in [false, true] {
        let run = |fused: bool| {
            let x = Tensor::<4>::from_data(xd.clone(), &ad).require_grad();
            let wt = Tensor::<2>::from_data(wd.clone(), &ad).require_grad();
            let b = Tensor::<1>::from_data(bd.clone(), &ad).require_grad();
            let out = if fused {
                let l = Conv3x3 { weight: burn::module::Param::from_tensor(wt.clone()), bias: burn::module::Param::from_tensor(b.clone()) };
                l.forward(x.clone(), relu)
            } else {
                reference_conv3x3(x.clone(), wt.clone(), b.clone(), relu)
            };
            let loss = (out.clone() * Tensor::<4>::from_data(pd.clone(), &ad)).sum();
            let g = loss.backward();
            (vals(out), vals(x.grad(&g).unwrap()), vals(wt.grad(&g).unwrap()), vals(b.grad(&g).unwrap()))
        };
        let f = run(true);
        let r = run(false);
        assert_close(&f.0, &r.0, 1e-5, "conv out");
        assert_close(&f.1, &r.1, 1e-4, "conv dx");
        assert_close(&f.2, &r.2, 1e-4, "conv dw");
        assert_close(&f.3, &r.3, 1e-4, "conv db");
        // inference path
        let x = Tensor::<4>::from_data(xd.clone(), &base);
        let inf = vals(layer.forward(x.clone(), relu));
        let rf = vals(reference_conv3x3(x, layer.weight.val(), layer.bias.val(), relu));
        assert_close(&inf, &rf, 1e-5, "conv inference");
    }
}
