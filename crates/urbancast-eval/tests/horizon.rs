//! Per-horizon metrics by hand (masked zeros, MAPE over positive truths), the accumulator,
//! errors, and a smoke test of the series plot.
use ndarray::{Array4, s};
use urbancast_eval::horizon::{HorizonAccumulator, horizon_metrics};
use urbancast_eval::plot_series::{SeriesPanel, series_plot};

/// `[S=2, H=2, N=2, C=1]`; truths include a zero (missing speed) at sample 1, step 1, node 0.
fn data() -> (Array4<f32>, Array4<f32>) {
    let truth = Array4::from_shape_vec((2, 2, 2, 1), vec![10., 20., 10., 40., 50., 10., 0., 20.]).unwrap();
    let pred = Array4::from_shape_vec((2, 2, 2, 1), vec![12., 18., 13., 40., 45., 10., 5., 30.]).unwrap();
    (pred, truth)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[test]
fn metrics_by_hand() {
    let (p, y) = data();
    // Errors: step 1 -> |2|, |2|, |5|, |0|; step 2 -> |3|, |0|, |5| (truth 0), |10|.
    let r = horizon_metrics(p.view(), y.view(), true, &[1, 2]).unwrap();
    let (h1, h2) = (r.horizons[0].1, r.horizons[1].1);
    assert_eq!((r.horizons[0].0, r.horizons[1].0), (1, 2));
    assert!(close(h1.mae, 9.0 / 4.0) && close(h1.rmse, (33.0f64 / 4.0).sqrt()));
    assert!(close(h1.mape, 100.0 * (0.2 + 0.1 + 0.1 + 0.0) / 4.0));
    // Masked: the zero truth is skipped in every metric.
    assert!(close(h2.mae, 13.0 / 3.0) && close(h2.rmse, (109.0f64 / 3.0).sqrt()));
    assert!(close(h2.mape, 100.0 * (0.3 + 0.0 + 0.5) / 3.0));
    assert!(close(r.average.mae, 22.0 / 7.0) && close(r.average.rmse, (142.0f64 / 7.0).sqrt()));
    assert!(close(r.average.mape, 100.0 * 1.2 / 7.0));
    // Unmasked: MAE/RMSE use every entry, MAPE still only truths > 0.
    let u = horizon_metrics(p.view(), y.view(), false, &[2]).unwrap();
    let h2 = u.horizons[0].1;
    assert!(close(h2.mae, 18.0 / 4.0) && close(h2.rmse, (134.0f64 / 4.0).sqrt()) && close(h2.mape, 80.0 / 3.0));
    assert!(close(u.average.mae, 27.0 / 8.0));
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"average\""), "{json}");
}

#[test]
fn accumulator_equals_one_shot() {
    let (p, y) = data();
    let mut acc = HorizonAccumulator::new(2, true);
    acc.add(p.slice(s![..1, .., .., ..]), y.slice(s![..1, .., .., ..])).unwrap();
    acc.add(p.slice(s![1.., .., .., ..]), y.slice(s![1.., .., .., ..])).unwrap();
    let a = acc.finish(&[1, 2]).unwrap();
    let b = horizon_metrics(p.view(), y.view(), true, &[1, 2]).unwrap();
    assert_eq!(a.horizons.len(), b.horizons.len());
    for ((_, x), (_, z)) in a.horizons.iter().zip(&b.horizons).chain([(&(0, a.average), &(0, b.average))]) {
        assert!(close(x.mae, z.mae) && close(x.rmse, z.rmse) && close(x.mape, z.mape));
    }
}

#[test]
fn errors() {
    let (p, y) = data();
    assert!(horizon_metrics(p.view(), y.slice(s![.., ..1, .., ..]), true, &[1]).is_err());
    let e = horizon_metrics(p.view(), y.view(), true, &[3]).unwrap_err().to_string();
    assert!(e.contains("outside 1..=2"), "{e}");
    assert!(horizon_metrics(p.view(), y.view(), true, &[0]).is_err());
    let empty = Array4::<f32>::zeros((0, 2, 2, 1));
    assert!(horizon_metrics(empty.view(), empty.view(), false, &[1]).is_err());
    let zeros = Array4::<f32>::zeros((1, 2, 2, 1));
    assert!(horizon_metrics(zeros.view(), zeros.view(), true, &[1]).is_err());
    let mut acc = HorizonAccumulator::new(3, false);
    assert!(acc.add(p.view(), y.view()).is_err());
    assert!(acc.finish(&[1]).is_err());
}

#[test]
fn series_plot_writes_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let truth: Vec<f32> = (0..48).map(|i| 50.0 + 10.0 * (i as f32 / 6.0).sin()).collect();
    let panels: Vec<SeriesPanel> = (0..2)
        .map(|k| SeriesPanel {
            title: format!("sensor {k}"),
            truth: truth.clone(),
            preds: vec![("model".into(), truth.iter().map(|v| v + 1.0).collect()), ("ha".into(), vec![50.0; 48])],
        })
        .collect();
    let png = dir.path().join("s.png");
    series_plot(&png, "forecasts", &panels, "step", "speed").unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 0);
    let svg = dir.path().join("s.svg");
    series_plot(&svg, "forecasts", &panels, "step", "speed").unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(series_plot(&dir.path().join("s.gif"), "t", &panels, "x", "y").is_err());
    assert!(series_plot(&png, "t", &[], "x", "y").is_err());
}
