//! Scaling round trip, masks and the exact split indices of the protocol.
use ndarray::{Array2, Array3};
use urbancast_data::prep::{Prepared, Protocol, Scaler};
use urbancast_data::{Channel, City, Layout};

fn city(t: usize, interval: u32) -> City {
    let flow = Array3::from_shape_fn((t, 4, 2), |(ti, r, c)| if r == 3 { 0.0 } else { (ti % 24 + r + c) as f32 });
    City::new("toy", interval, flow, vec![Channel::Pickup, Channel::Dropoff], Layout::Grid { height: 2, width: 2 }).unwrap()
}

#[test]
fn mask_marks_regions_with_flow() {
    let c = city(50, 60);
    assert_eq!(c.mask, vec![true, true, true, false]);
    assert_eq!(c.num_active(), 3);
}

#[test]
fn scaler_uses_the_999th_percentile_and_round_trips() {
    // 2000 values 0..1999: max = sorted[int(2000 * 0.999)] = sorted[1998] = 1998, so 1999 is clipped.
    let flow = Array3::from_shape_fn((2000, 1, 1), |(t, _, _)| t as f32);
    let s = Scaler::fit(&flow, 0.999);
    assert_eq!(s.max, vec![1998.0]);
    assert_eq!(s.min, vec![0.0]);
    let scaled = s.transform(&flow);
    assert_eq!(scaled[[1999, 0, 0]], 1.0, "values above max are clipped");
    assert!((scaled[[999, 0, 0]] - 999.0 / 1998.0).abs() < 1e-6);
    let mut back = scaled.clone();
    s.inverse_inplace(&mut back);
    for t in 0..1999 {
        assert!((back[[t, 0, 0]] - t as f32).abs() < 1e-3, "round trip at {t}");
    }
    assert_eq!(back[[1999, 0, 0]], 1998.0);
}

#[test]
fn scaler_min_is_never_negative_and_constant_series_do_not_divide_by_zero() {
    let flow = Array3::from_elem((10, 2, 1), 5.0f32);
    let s = Scaler::fit(&flow, 0.999);
    assert_eq!((s.min[0], s.max[0]), (5.0, 5.0));
    let scaled = s.transform(&flow);
    assert!(scaled.iter().all(|v| v.is_finite()));
}

#[test]
fn source_splits_are_chronological_two_to_one() {
    let c = city(36, 60); // samples for targets 6..36 = 30 -> 20 train, 10 val
    let s = Protocol::default().source_splits(&c).unwrap();
    assert_eq!(s.train, (6..26).collect::<Vec<_>>());
    assert_eq!(s.val, (26..36).collect::<Vec<_>>());
    assert!(s.test.is_empty());
}

#[test]
fn target_splits_follow_the_protocol_exactly() {
    // 1 test day + 1 val day + 2 train days at 60 min, on a 5-day series.
    let p = Protocol { test_days: 1, val_days: 1, ..Protocol::default() };
    let c = city(120, 60);
    let s = p.target_splits(&c, 2).unwrap();
    assert_eq!(s.test, (96..120).collect::<Vec<_>>());
    assert_eq!(s.val, (72..96).collect::<Vec<_>>());
    assert_eq!(s.train, (24..72).collect::<Vec<_>>());
    assert!(s.note.is_none());
    let z = p.target_splits(&c, 0).unwrap();
    assert!(z.train.is_empty());
    assert_eq!(z.test, s.test);
}

#[test]
fn short_series_fall_back_to_20_percent_and_say_so() {
    // Boston-like: 745 hourly steps cannot hold 60 + 60 days.
    let c = city(745, 60);
    let s = Protocol::default().target_splits(&c, 3).unwrap();
    assert_eq!(s.test, (596..745).collect::<Vec<_>>()); // 149 = floor(0.2 * 745)
    assert_eq!(s.val, (447..596).collect::<Vec<_>>());
    assert_eq!(s.train, (375..447).collect::<Vec<_>>()); // 3 days = 72 steps
    assert!(s.note.as_deref().unwrap().contains("20%"));
}

#[test]
fn too_many_training_days_is_an_error_not_a_panic() {
    let c = city(100, 60);
    let e = Protocol::default().target_splits(&c, 30).unwrap_err().to_string();
    assert!(e.contains("toy") && e.contains("training days"), "{e}");
}

#[test]
fn resampling_sums_blocks() {
    let c = city(48, 30);
    let r = c.resample(60).unwrap();
    assert_eq!(r.num_steps(), 24);
    assert_eq!(r.flow[[0, 0, 0]], c.flow[[0, 0, 0]] + c.flow[[1, 0, 0]]);
    assert!(c.resample(45).is_err());
    assert!(c.resample(15).is_err());
}

#[test]
fn bad_cities_are_refused_with_the_place_named() {
    let mut flow = Array3::<f32>::ones((5, 2, 1));
    flow[[3, 1, 0]] = f32::NAN;
    let e = City::new("nan-city", 60, flow, vec![Channel::Other], Layout::Grid { height: 1, width: 2 }).unwrap_err().to_string();
    assert!(e.contains("nan-city") && e.contains("step 3") && e.contains("region 1"), "{e}");
    let zero = Array3::<f32>::zeros((5, 2, 1));
    let e = City::new("empty", 60, zero, vec![Channel::Other], Layout::Grid { height: 1, width: 2 }).unwrap_err().to_string();
    assert!(e.contains("no active region"), "{e}");
    let e = City::new("shape", 60, Array3::ones((5, 3, 1)), vec![Channel::Other], Layout::Grid { height: 1, width: 2 })
        .unwrap_err()
        .to_string();
    assert!(e.contains("3"), "{e}");
    let adj = Array2::<f32>::zeros((2, 3));
    let e = City::new("adj", 60, Array3::ones((5, 2, 1)), vec![Channel::Other], Layout::Graph { adjacency: adj, coords: None });
    assert!(e.is_err());
}

#[test]
fn prepared_windows_hold_the_lags_before_the_target() {
    let c = city(30, 60);
    let p = Prepared::new(c, &Protocol::default());
    let w = p.window(10, 6);
    assert_eq!(w.dim(), (6, 4, 2));
    assert_eq!(w[[5, 0, 0]], p.scaled[[9, 0, 0]]);
    assert_eq!(w[[0, 0, 0]], p.scaled[[4, 0, 0]]);
}

#[test]
fn specs_load_synthetic_cities_and_explain_mistakes() {
    use urbancast_data::spec;
    let c = spec::load("synthetic:suburb?days=3", 1).unwrap();
    assert_eq!(c.num_steps(), 72);
    let e = spec::load("synthetic:nowhere", 1).unwrap_err().to_string();
    assert!(e.contains("metro"), "{e}");
    let e = spec::load("bogus:x", 1).unwrap_err().to_string();
    assert!(e.contains("unknown reader"), "{e}");
    let e = spec::load("no-colon", 1).unwrap_err().to_string();
    assert!(e.contains("READER:WHERE"), "{e}");
    let e = spec::load("metast:/definitely/missing.npz", 1).unwrap_err().to_string();
    assert!(e.contains("/definitely/missing.npz"), "{e}");
    let e = spec::load("synthetic:metro?days=x", 1).unwrap_err().to_string();
    assert!(e.contains("days=x"), "{e}");
    let e = spec::load("npy:/tmp/x.npy", 1).unwrap_err().to_string();
    assert!(e.contains("axes"), "{e}");
}
