//! Distillation losses: the teacher's gathered candidate distribution (tensor and plain Rust),
//! temperature, the KL loss against hand computations in f64, and its gradient.
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use urbancast_traj::kd::{gather_candidate_distribution, gather_candidate_row, gather_candidate_rows, kd_loss, temper};

fn f<const D: usize>(v: Vec<f32>, shape: [usize; D], d: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, shape), d)
}
fn i<const D: usize>(v: Vec<i64>, shape: [usize; D], d: &Device) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(v, shape), d)
}
fn b<const D: usize>(v: Vec<bool>, shape: [usize; D], d: &Device) -> Tensor<D, Bool> {
    Tensor::from_data(TensorData::new(v, shape), d)
}
fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}
fn assert_close(got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g as f64 - w).abs() <= tol, "entry {k}: got {g}, want {w} (all: {got:?})");
    }
}
fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}
fn kl(q: &[f64], p: &[f64]) -> f64 {
    q.iter().zip(p).filter(|(q, _)| **q > 0.0).map(|(q, p)| q * (q.ln() - p.ln())).sum()
}
fn power_norm(q: &[f64], tau: f64) -> Vec<f64> {
    let r: Vec<f64> = q.iter().map(|x| x.powf(1.0 / tau)).collect();
    let s: f64 = r.iter().sum();
    r.iter().map(|x| x / s).collect()
}

/// Teacher rows over V = 5 cells, K = 3 candidate slots, M = 4 steps.
const PROBS: [f32; 20] = [
    0.1, 0.2, 0.3, 0.4, 0.0, // row 0
    0.0, 0.0, 0.0, 0.0, 1.0, // row 1: no mass on the candidates' cells
    0.1, 0.2, 0.3, 0.4, 0.0, // row 2: two candidates share cell 2
    0.1, 0.2, 0.3, 0.4, 0.0, // row 3: no real candidate
];
const CELLS: [i64; 12] = [1, 3, 0, 0, 2, 7, 2, 2, 4, 0, -1, 9];
const MASK: [bool; 12] = [true, true, false, true, true, false, true, true, true, false, false, false];
/// Row 0: (0.2, 0.4) / 0.6; row 1: uniform fallback; row 2: (0.3, 0.3, 0) / 0.6; row 3: zeros.
const WANT: [f64; 12] = [1.0 / 3.0, 2.0 / 3.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0];

#[test]
fn gathered_distribution_tensor_and_plain() {
    let d = Device::flex();
    let q =
        gather_candidate_distribution(f(PROBS.to_vec(), [4, 5], &d), i(CELLS.to_vec(), [4, 3], &d), b(MASK.to_vec(), [4, 3], &d)).unwrap();
    let q = vals(q);
    assert_close(&q, &WANT, 1e-6);
    // Exactly 0 on padded candidates; rows with a real candidate sum to 1.
    for (k, &m) in MASK.iter().enumerate() {
        if !m {
            assert_eq!(q[k], 0.0);
        }
    }
    for r in 0..3 {
        assert!((q[3 * r..3 * r + 3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
    // The plain-Rust version gives the same numbers.
    let plain = gather_candidate_rows(&PROBS, 5, &CELLS, &MASK, 3).unwrap();
    assert_close(&plain, &WANT, 1e-7);
    let row = gather_candidate_row(&PROBS[..5], &CELLS[..3], &MASK[..3]).unwrap();
    assert_close(&row, &WANT[..3], 1e-7);
}

#[test]
fn gather_errors() {
    let d = Device::flex();
    // A real candidate's cell 5 is outside 0..5.
    let e = gather_candidate_distribution(f(PROBS[..5].to_vec(), [1, 5], &d), i(vec![1, 5], [1, 2], &d), b(vec![true, true], [1, 2], &d))
        .unwrap_err();
    assert!(e.to_string().contains("cell token 5"), "{e}");
    let e =
        gather_candidate_distribution(f(PROBS.to_vec(), [4, 5], &d), i(vec![0; 6], [2, 3], &d), b(vec![true; 6], [2, 3], &d)).unwrap_err();
    assert!(e.to_string().contains("4 rows"), "{e}");
    assert!(gather_candidate_row(&PROBS[..5], &[1, -2], &[true, true]).unwrap_err().to_string().contains("-2"));
    assert!(gather_candidate_row(&[0.5, f32::NAN], &[1], &[true]).is_err());
    assert!(gather_candidate_row(&PROBS[..5], &[1], &[true, false]).is_err());
    let e = gather_candidate_rows(&PROBS, 5, &CELLS[..9], &MASK[..9], 3).unwrap_err();
    assert!(e.to_string().contains("need 12"), "{e}");
    let e = gather_candidate_rows(&PROBS, 5, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99], &[true; 12], 3).unwrap_err();
    assert!(e.to_string().starts_with("row 3"), "{e}");
}

#[test]
fn temper_identity_flattening_and_padding() {
    let d = Device::flex();
    let q = vec![0.2, 0.3, 0.5, 0.0, 0.9, 0.1, 0.0, 0.0];
    let mask = vec![true, true, true, false, true, true, true, false];
    let mk = || (f(q.clone(), [2, 4], &d), b(mask.clone(), [2, 4], &d));
    // τ = 1: identity.
    let (a, m) = mk();
    assert_close(&vals(temper(a, m, 1.0).unwrap()), &[0.2, 0.3, 0.5, 0.0, 0.9, 0.1, 0.0, 0.0], 1e-6);
    // τ = 2: ∝ √q (the zero stays 0, padded 0).
    let (a, m) = mk();
    let r0 = power_norm(&[0.2, 0.3, 0.5], 2.0);
    let r1 = power_norm(&[0.9, 0.1], 2.0);
    assert_close(&vals(temper(a, m, 2.0).unwrap()), &[r0[0], r0[1], r0[2], 0.0, r1[0], r1[1], 0.0, 0.0], 1e-6);
    // Large τ: nearly uniform over the candidates with q > 0.
    let (a, m) = mk();
    assert_close(&vals(temper(a, m, 1e4).unwrap()), &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 0.0, 0.5, 0.5, 0.0, 0.0], 1e-3);
    // Small τ on tiny probabilities: no underflow (q^(1/τ) computed relative to the row max).
    let t = temper(f(vec![1e-20, 2e-20], [1, 2], &d), b(vec![true, true], [1, 2], &d), 0.05).unwrap();
    let w = 0.5f64.powi(20);
    assert_close(&vals(t), &[w / (1.0 + w), 1.0 / (1.0 + w)], 1e-6);
    // Bad temperatures.
    for tau in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let (a, m) = mk();
        assert!(temper(a, m, tau).is_err());
    }
}

/// Row 0: K = 3 all real; row 1: two real candidates, teacher puts everything on the first.
fn example(d: &Device) -> (Tensor<2>, Tensor<2, Bool>, Tensor<2>) {
    let logits = f(vec![1.0, 2.0, 0.5, 0.3, -1.0, 5.0], [2, 3], d);
    let mask = b(vec![true, true, true, true, true, false], [2, 3], d);
    let q = f(vec![0.2, 0.5, 0.3, 1.0, 0.0, 0.0], [2, 3], d);
    (logits, mask, q)
}

/// The same loss in f64: per-row KL of the tempered distributions.
fn hand_kl(tau: f64) -> [f64; 2] {
    let q0 = power_norm(&[0.2, 0.5, 0.3], tau);
    let p0 = softmax(&[1.0 / tau, 2.0 / tau, 0.5 / tau]);
    let p1 = softmax(&[0.3 / tau, -1.0 / tau]);
    [kl(&q0, &p0), kl(&[1.0, 0.0], &p1)]
}

#[test]
fn kl_matches_hand_computation() {
    let d = Device::flex();
    let tau = 2.0;
    let [k0, k1] = hand_kl(tau);
    // Sanity of the hand values: row 1 is −ln p₁(first) = ln(1 + e^{−0.65}).
    assert!((k1 - (1.0 + (-0.65f64).exp()).ln()).abs() < 1e-12);
    let (l, m, q) = example(&d);
    let loss = kd_loss(l, m, q, tau, true, None).unwrap().into_scalar::<f32>() as f64;
    assert!((loss - tau * tau * (k0 + k1) / 2.0).abs() < 1e-5, "{loss}");
    let (l, m, q) = example(&d);
    let plain = kd_loss(l, m, q, tau, false, None).unwrap().into_scalar::<f32>() as f64;
    assert!((plain - (k0 + k1) / 2.0).abs() < 1e-5, "{plain}");
    // Row weights: weighted mean.
    let (l, m, q) = example(&d);
    let w = f(vec![1.0, 0.5], [2], &d);
    let weighted = kd_loss(l, m, q, tau, true, Some(w)).unwrap().into_scalar::<f32>() as f64;
    assert!((weighted - tau * tau * (k0 + 0.5 * k1) / 1.5).abs() < 1e-5, "{weighted}");
    // τ = 1 (no tempering).
    let [k0, k1] = hand_kl(1.0);
    let (l, m, q) = example(&d);
    let one = kd_loss(l, m, q, 1.0, true, None).unwrap().into_scalar::<f32>() as f64;
    assert!((one - (k0 + k1) / 2.0).abs() < 1e-5, "{one}");
}

#[test]
fn kl_is_zero_when_student_matches_teacher_and_rows_without_candidates_are_ignored() {
    let d = Device::flex();
    let q = [0.2f32, 0.5, 0.3];
    let logits: Vec<f32> = q.iter().map(|x| x.ln() + 7.0).chain([0.0, 0.0, 0.0]).collect();
    let mask = vec![true, true, true, false, false, false]; // row 1: no real candidate
    for tau in [1.0, 2.0, 0.5] {
        let loss = kd_loss(
            f(logits.clone(), [2, 3], &d),
            b(mask.clone(), [2, 3], &d),
            f(vec![0.2, 0.5, 0.3, 0.0, 0.0, 0.0], [2, 3], &d),
            tau,
            true,
            None,
        )
        .unwrap()
        .into_scalar::<f32>();
        assert!(loss.abs() < 1e-5, "τ = {tau}: {loss}");
    }
    // All weights 0: the loss is 0, not NaN.
    let (l, m, q) = example(&d);
    let zero = kd_loss(l, m, q, 2.0, true, Some(f(vec![0.0, 0.0], [2], &d))).unwrap().into_scalar::<f32>();
    assert_eq!(zero, 0.0);
}

#[test]
fn gradient_flows_into_logits_only_and_is_zero_on_padding() {
    let ad = Device::flex().autodiff();
    let tau = 2.0;
    let logits = f(vec![1.0, 2.0, 0.5, 0.3, -1.0, 5.0], [2, 3], &ad).require_grad();
    // Teacher and mask on the plain device (constants).
    let (_, m, q) = example(&Device::flex());
    let loss = kd_loss(logits.clone(), m, q, tau, true, None).unwrap();
    let grads = loss.backward();
    let g = vals(logits.grad(&grads).expect("a gradient on the logits"));
    // d(τ² · mean KL)/dz = τ² · (p_τ − q_τ) / τ / M.
    let q0 = power_norm(&[0.2, 0.5, 0.3], tau);
    let p0 = softmax(&[0.5, 1.0, 0.25]);
    let p1 = softmax(&[0.15, -0.5]);
    let s = tau / 2.0;
    let want = [s * (p0[0] - q0[0]), s * (p0[1] - q0[1]), s * (p0[2] - q0[2]), s * (p1[0] - 1.0), s * p1[1], 0.0];
    assert_close(&g, &want, 1e-5);
    assert_eq!(g[5], 0.0, "the padded candidate gets no gradient");
}

#[test]
fn loss_errors() {
    let d = Device::flex();
    let (l, m, q) = example(&d);
    assert!(kd_loss(l, m, q, 0.0, true, None).unwrap_err().to_string().contains("τ"));
    let (l, m, _) = example(&d);
    let e = kd_loss(l, m, f(vec![0.0; 4], [2, 2], &d), 1.0, true, None).unwrap_err();
    assert!(e.to_string().contains("teacher_q"), "{e}");
    let (l, m, q) = example(&d);
    let e = kd_loss(l, m, q, 1.0, true, Some(f(vec![1.0; 3], [3], &d))).unwrap_err();
    assert!(e.to_string().contains("row_weight"), "{e}");
    let (l, _, q) = example(&d);
    assert!(kd_loss(l, b(vec![true; 4], [1, 4], &d), q, 1.0, true, None).is_err());
}
