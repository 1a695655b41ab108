//! The loss terms of LightST against direct computations.
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_distill::losses::{Adaptive, KdForm, adaptive_weights, masked_mae, prediction_kd, weighted_info_nce};

fn t<const D: usize>(v: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, shape), &Device::flex())
}

fn vals<const D: usize>(x: Tensor<D>) -> Vec<f32> {
    x.into_data().try_to_vec::<f32>().unwrap()
}

fn lcg(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn masked_mae_by_hand_ignores_masked_entries() {
    // pred - truth = [1, -2, 3, 100]; the 100 is masked out.
    let p = t(vec![2.0, 0.0, 6.0, 200.0], [1, 1, 4, 1]);
    let y = t(vec![1.0, 2.0, 3.0, 100.0], [1, 1, 4, 1]);
    let m = t(vec![1.0, 1.0, 1.0, 0.0], [1, 1, 4, 1]);
    let v = vals(masked_mae(p.clone(), y.clone(), m))[0];
    assert!((v - 2.0).abs() < 1e-6, "{v}");
    // Everything masked: 0, not NaN.
    let v = vals(masked_mae(p, y, t(vec![0.0; 4], [1, 1, 4, 1])))[0];
    assert_eq!(v, 0.0);
}

/// Direct f64 InfoNCE of student rows `s` against teacher rows `tt`, both of shape `[g, m, d]`.
fn direct_info_nce(s: &[f32], tt: &[f32], [g, m, d]: [usize; 3], tau: f32, thr: f32, w: Option<&[f32]>) -> f64 {
    let unit = |v: &[f32], k: usize| -> Vec<f64> {
        let row = &v[k * d..(k + 1) * d];
        let n = row.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt().max(1e-8);
        row.iter().map(|x| *x as f64 / n).collect()
    };
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (mut num, mut den) = (0.0, 0.0);
    for gi in 0..g {
        for i in 0..m {
            let si = unit(s, gi * m + i);
            let ti = unit(tt, gi * m + i);
            let logits: Vec<f64> = (0..m).map(|j| dot(&si, &unit(tt, gi * m + j)) / tau as f64).collect();
            let mx = logits.iter().cloned().fold(f64::MIN, f64::max);
            let lse = mx + logits.iter().map(|l| (l - mx).exp()).sum::<f64>().ln();
            let mut pos = vec![];
            for j in 0..m {
                let c = dot(&ti, &unit(tt, gi * m + j));
                if j == i {
                    pos.push((j, 1.0));
                } else if c >= thr as f64 {
                    pos.push((j, c.max(0.0)));
                }
            }
            let z: f64 = pos.iter().map(|p| p.1).sum();
            let loss: f64 = -pos.iter().map(|&(j, c)| c / z * (logits[j] - lse)).sum::<f64>();
            let wi = w.map_or(1.0, |w| w[gi * m + i] as f64);
            num += wi * loss;
            den += wi;
        }
    }
    num / den
}

#[test]
fn info_nce_matches_direct_computation() {
    let (g, m, d) = (3, 5, 4);
    let s = lcg(1, g * m * d);
    // Teacher rows: some near-duplicates so that several positives pass the threshold.
    let mut tt = lcg(2, g * m * d);
    for k in 0..d {
        tt[d + k] = tt[k] + 0.05;
        tt[2 * m * d + 3 * d + k] = tt[2 * m * d + k] * 1.1;
    }
    let w: Vec<f32> = lcg(3, g * m).iter().map(|x| x.abs() + 0.1).collect();
    for (tau, thr, weights) in [(0.05, 0.9, None), (0.5, 0.3, Some(&w[..])), (1.0, -1.0, Some(&w[..]))] {
        let got =
            vals(weighted_info_nce(t(s.clone(), [g, m, d]), t(tt.clone(), [g, m, d]), tau, thr, weights.map(|w| t(w.to_vec(), [g, m]))))[0]
                as f64;
        let want = direct_info_nce(&s, &tt, [g, m, d], tau, thr, weights);
        assert!((got - want).abs() < 1e-3 * want.abs().max(1.0), "tau {tau} thr {thr}: {got} vs {want}");
    }
}

#[test]
fn info_nce_is_lowest_when_student_equals_teacher() {
    let (g, m, d) = (2, 6, 8);
    let tt = lcg(5, g * m * d);
    let same = vals(weighted_info_nce(t(tt.clone(), [g, m, d]), t(tt.clone(), [g, m, d]), 0.05, 0.99, None))[0];
    let other = vals(weighted_info_nce(t(lcg(6, g * m * d), [g, m, d]), t(tt, [g, m, d]), 0.05, 0.99, None))[0];
    assert!(same < other, "{same} vs {other}");
}

#[test]
fn kl_distillation_by_hand() {
    // One sample, one step, two nodes, one channel.
    let s = t(vec![0.0, 1.0], [1, 1, 2, 1]);
    let tch = t(vec![1.0, 0.0], [1, 1, 2, 1]);
    let temp = 2.0f32;
    let sm = |a: f64, b: f64| {
        let (ea, eb) = (a.exp(), b.exp());
        (ea / (ea + eb), eb / (ea + eb))
    };
    let (pt0, pt1) = sm(0.5, 0.0);
    let (ps0, ps1) = sm(0.0, 0.5);
    let kl = pt0 * (pt0 / ps0).ln() + pt1 * (pt1 / ps1).ln();
    let want = kl * (temp * temp) as f64;
    let got = vals(prediction_kd(s.clone(), tch.clone(), None, KdForm::Kl { temperature: temp }))[0] as f64;
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    // Node weights scale each node's generalised-KL term p log(p/q) − p + q.
    let w = t(vec![2.0, 0.0], [1, 2]);
    let got_w = vals(prediction_kd(s.clone(), tch.clone(), Some(w), KdForm::Kl { temperature: temp }))[0] as f64;
    let want_w = 2.0 * (pt0 * (pt0 / ps0).ln() - pt0 + ps0) * (temp * temp) as f64;
    assert!((got_w - want_w).abs() < 1e-5, "{got_w} vs {want_w}");
    // Weighted, it stays a divergence: with all weight on the node where p log(p/q) < 0 (here
    // node 1: p_T = 0.38 < p_S = 0.62) the plain term would be negative; the loss is not.
    assert!(pt1 * (pt1 / ps1).ln() < 0.0);
    let w1 = t(vec![0.0, 2.0], [1, 2]);
    let got_w1 = vals(prediction_kd(s.clone(), tch.clone(), Some(w1), KdForm::Kl { temperature: temp }))[0] as f64;
    let want_w1 = 2.0 * (pt1 * (pt1 / ps1).ln() - pt1 + ps1) * (temp * temp) as f64;
    assert!(got_w1 > 0.0 && (got_w1 - want_w1).abs() < 1e-5, "{got_w1} vs {want_w1}");
    // Zero for identical predictions; MSE by hand.
    assert!(vals(prediction_kd(tch.clone(), tch.clone(), None, KdForm::Kl { temperature: 1.0 }))[0].abs() < 1e-7);
    let mse = vals(prediction_kd(s, tch, None, KdForm::Mse))[0];
    assert!((mse - 1.0).abs() < 1e-6);
}

#[test]
fn adaptive_weights_follow_teacher_error_and_smoothness() {
    let (b, h, n, c) = (2, 1, 3, 1);
    let truth = t(vec![0.0; b * h * n * c], [b, h, n, c]);
    // Teacher errors per node: sample 0 = [0, 1, 2], sample 1 = [2, 2, 2].
    let tp = t(vec![0.0, 1.0, 2.0, 2.0, 2.0, 2.0], [b, h, n, c]);
    let mask = t(vec![1.0; 6], [b, h, n, c]);
    let hidden = t(lcg(9, b * n * 4), [b, n, 4]);
    let adj = vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let w = adaptive_weights(Adaptive::Error, 1.0, tp.clone(), truth.clone(), mask.clone(), hidden.clone(), &adj).unwrap();
    let w = vals(w);
    // Sample 0: relative errors [0, 1, 2] -> 3 softmax(-[0,1,2]).
    let z: f64 = (0..3).map(|k| (-(k as f64)).exp()).sum();
    for (k, &wk) in w.iter().take(3).enumerate() {
        assert!((wk as f64 - 3.0 * (-(k as f64)).exp() / z).abs() < 1e-5);
    }
    // Sample 1: equal errors -> equal weights 1.
    assert!(w[3..].iter().all(|x| (x - 1.0).abs() < 1e-5));
    // Mean 1 per sample for every mode; Off gives none.
    for mode in [Adaptive::Smooth, Adaptive::Both] {
        let w = vals(adaptive_weights(mode, 0.5, tp.clone(), truth.clone(), mask.clone(), hidden.clone(), &adj).unwrap());
        for s in 0..b {
            let mean: f32 = w[s * n..(s + 1) * n].iter().sum::<f32>() / n as f32;
            assert!((mean - 1.0).abs() < 1e-5);
        }
    }
    assert!(adaptive_weights(Adaptive::Off, 1.0, tp, truth, mask, hidden, &adj).is_none());
}

#[test]
fn smoothness_weights_by_hand() {
    // Node 0 and 1 identical representations and neighbours; node 2 orthogonal, isolated.
    let hidden = t(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], [1, 3, 2]);
    let adj = vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let z = t(vec![0.0; 3], [1, 1, 3, 1]);
    let one = t(vec![1.0; 3], [1, 1, 3, 1]);
    let w = vals(adaptive_weights(Adaptive::Smooth, 1.0, z.clone(), z, one, hidden, &adj).unwrap());
    // s = [1, 1, 0] -> 3 softmax(-s).
    let e = [(-1.0f64).exp(), (-1.0f64).exp(), 1.0];
    let sum: f64 = e.iter().sum();
    for k in 0..3 {
        assert!((w[k] as f64 - 3.0 * e[k] / sum).abs() < 1e-5, "{w:?}");
    }
}
