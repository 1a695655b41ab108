//! Seeding is process-global on burn-flex, so this lives in its own test binary.

use burn::module::Module;
use burn::tensor::Device;
use urbancast_nn::{Space, SpatialKind, StNetConfig};

fn params(m: &urbancast_nn::StNet) -> Vec<u8> {
    use burn::store::ModuleSnapshot;
    m.collect(None, None, false).into_iter().flat_map(|t| t.to_bytes().unwrap().to_vec()).collect()
}

#[test]
fn same_seed_same_init() {
    let dev = Device::flex();
    let cfg = StNetConfig {
        channels: 1,
        lags: 2,
        conv_channels: 4,
        res_units: 1,
        hidden: 3,
        head_hidden: 2,
        output: urbancast_nn::Output::Linear,
    };
    for kind in [SpatialKind::Grid, SpatialKind::Graph] {
        let a = cfg.init_seeded(kind, &dev, 7);
        let b = cfg.init_seeded(kind, &dev, 7);
        let c = cfg.init_seeded(kind, &dev, 8);
        assert_eq!(a.num_params(), b.num_params());
        let (pa, pb, pc) = (params(&a), params(&b), params(&c));
        assert!(!pa.is_empty());
        assert_eq!(pa, pb);
        assert_ne!(pa, pc);
    }
    // autodiff device too
    let ad = Device::flex().autodiff();
    let a = cfg.init_seeded(SpatialKind::Grid, &ad, 3);
    let b = cfg.init_seeded(SpatialKind::Grid, &ad, 3);
    assert_eq!(params(&a), params(&b));
    // and the forward agrees
    let a = cfg.init_seeded(SpatialKind::Grid, &dev, 1);
    let b = cfg.init_seeded(SpatialKind::Grid, &dev, 1);
    let x = burn::tensor::Tensor::<4>::ones([1, 2, 1, 4], &dev);
    let pa = a.forward(x.clone(), &Space::grid(2, 2)).unwrap().pred.into_data();
    let pb = b.forward(x, &Space::grid(2, 2)).unwrap().pred.into_data();
    assert_eq!(pa, pb);
}
