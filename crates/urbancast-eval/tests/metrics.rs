//! Metrics against values computed by hand.
use ndarray::Array3;
use urbancast_eval::{mean_std, per_region_rmse, score};

#[test]
fn masked_rmse_mae_mape_match_hand_computation() {
    // 2 steps, 3 regions (region 2 inactive), 2 channels.
    let truth = Array3::from_shape_vec(
        (2, 3, 2),
        vec![
            1.0, 0.0, 2.0, 4.0, 100.0, 100.0, //
            3.0, 2.0, 0.0, 1.0, 100.0, 100.0,
        ],
    )
    .unwrap();
    let pred = Array3::from_shape_vec(
        (2, 3, 2),
        vec![
            2.0, 1.0, 2.0, 2.0, 0.0, 0.0, //
            1.0, 2.0, 1.0, 1.0, 0.0, 0.0,
        ],
    )
    .unwrap();
    let mask = [true, true, false];
    let names = vec!["pickup".to_string(), "dropoff".to_string()];
    let s = score(pred.view(), truth.view(), &mask, &names);
    // channel 0 errors over active: (1, 0, -2, 1) -> MSE = 6/4, MAE = 4/4; MAPE over targets>0 (1,2,3): (1/1 + 0/2 + 2/3)/3
    let c0 = &s.per_channel[0];
    assert!((c0.rmse - (1.5f64).sqrt()).abs() < 1e-9);
    assert!((c0.mae - 1.0).abs() < 1e-9);
    assert!((c0.mape - 100.0 * (1.0 + 0.0 + 2.0 / 3.0) / 3.0).abs() < 1e-9);
    assert_eq!(c0.count, 4);
    // channel 1 errors: (1, -2, 0, 0) -> MSE = 5/4, MAE = 3/4; MAPE over targets>0 (4, 2, 1): (2/4 + 0 + 0)/3
    let c1 = &s.per_channel[1];
    assert!((c1.rmse - (1.25f64).sqrt()).abs() < 1e-9);
    assert!((c1.mae - 0.75).abs() < 1e-9);
    assert!((c1.mape - 100.0 * 0.5 / 3.0).abs() < 1e-9);
    assert!((s.mean.rmse - ((1.5f64).sqrt() + (1.25f64).sqrt()) / 2.0).abs() < 1e-9);
    assert!((s.mean.mae - 0.875).abs() < 1e-9);
    let pr = per_region_rmse(pred.view(), truth.view(), &mask);
    // region 0: errors (1, 1, -2, 0) -> sqrt(6/4)
    assert!((pr[0] - (1.5f64).sqrt()).abs() < 1e-9);
    assert!(pr[2].is_nan());
}

#[test]
fn mape_is_nan_without_positive_targets() {
    let z = Array3::<f32>::zeros((1, 1, 1));
    let s = score(z.view(), z.view(), &[true], &["v".into()]);
    assert!(s.per_channel[0].mape.is_nan());
    assert_eq!(s.per_channel[0].rmse, 0.0);
}

#[test]
fn mean_std_uses_the_sample_std() {
    let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
    assert_eq!(m, 2.0);
    assert!((s - 1.0).abs() < 1e-12);
    assert_eq!(mean_std(&[4.0]), (4.0, 0.0));
}
