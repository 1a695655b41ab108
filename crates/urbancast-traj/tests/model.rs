//! Tests of the HOSER model (tiny random inputs, burn-flex CPU).
#[path = "model/common.rs"]
mod common;
#[path = "model/decode_train.rs"]
mod decode_train;

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use common::*;
use urbancast_traj::model::{Hoser, NavOut, haversine_km_pairs, segment_softmax, traj::TrajEncoder};

const R: usize = 30;
const Z: usize = 5;
const C: usize = 4;

fn setup(seed: u64) -> (Device, Hoser, Graph) {
    let d = Device::flex();
    let model = tiny_config(R, C, Z).init_seeded(&d, seed);
    let g = Graph::random(R, 80, C, Z, seed, &d);
    (d, model, g)
}

fn run(model: &Hoser, g: &Graph, b: &Batch, d: &Device) -> (Tensor<3>, NavOut) {
    let emb = model.encode_graph(g.inputs());
    let t = b.tensors(d);
    (model.encode_tokens(&emb, &t.tokens()), model.forward(&emb, &t.tokens(), &t.cands()))
}

#[test]
fn output_shapes() {
    let (d, model, g) = setup(1);
    let emb = model.encode_graph(g.inputs());
    assert_eq!(emb.road.dims(), [R, 24]);
    assert_eq!(emb.spatial.dims(), [R, 24]);
    assert_eq!(emb.zone.dims(), [Z, 24]);
    let b = Batch::random(&[6, 4, 2], 6, 4, R, Z, 2);
    let (h, out) = run(&model, &g, &b, &d);
    assert_eq!(h.dims(), [3, 6, 48]);
    assert_eq!(out.logits.dims(), [3, 6, 4]);
    assert_eq!(out.time.dims(), [3, 6, 4]);
    let t = b.tensors(&d);
    let norm = fit_norm(&b.dt);
    let parts = model.loss(&out, &t.target, &t.dt, &t.valid, &norm);
    for x in [parts.total, parts.ce, parts.time] {
        assert_eq!(x.dims(), [1]);
        assert!(vals(x)[0].is_finite());
    }
    let (correct, total) = model.next_step_accuracy(&out, &t.target, &t.valid);
    assert_eq!(total, 12);
    assert!(correct <= total);
    let tokens = urbancast_traj::model::StepTokens {
        road: it(vec![1, 2, 3], [3], &d),
        minute: ft(vec![10.0; 3], [3], &d),
        weekend: ft(vec![0.0; 3], [3], &d),
        lonlat: ft(vec![10.7, 69.6, 10.8, 69.7, 10.9, 69.8], [3, 2], &d),
        secs: ft(vec![0.0; 3], [3], &d),
    };
    let (hs, cache) = model.step(&emb, model.begin(3), tokens);
    assert_eq!(hs.dims(), [3, 48]);
    assert_eq!((cache.len, cache.kv.len()), (1, 2));
    assert_eq!(cache.kv[0].0.dims(), [3, 2, 1, 24]);
    let (lg, tm) = model.navigate(
        &emb,
        hs,
        it(vec![0, 1, 2], [3], &d),
        it(vec![0; 15], [3, 5], &d),
        bt(vec![true; 15], [3, 5], &d),
        ft(vec![0.5; 30], [3, 5, 2], &d),
    );
    assert_eq!((lg.dims(), tm.dims()), ([3, 5], [3, 5]));
}

#[test]
fn padded_candidates_are_impossible() {
    let (d, model, g) = setup(3);
    let b = Batch::random(&[5, 5], 5, 6, R, Z, 4);
    let (_, out) = run(&model, &g, &b, &d);
    let probs = vals(softmax(out.logits.clone(), 2));
    let logits = vals(out.logits);
    for (i, &m) in b.cmask.iter().enumerate() {
        if !m {
            assert_eq!(probs[i], 0.0, "padded candidate {i} has probability {}", probs[i]);
        }
    }
    // Changing padded candidates' indices (even out of range) and features leaves real logits.
    let mut b2 = b.clone();
    for (i, &m) in b.cmask.iter().enumerate() {
        if !m {
            b2.cand[i] = if i % 2 == 0 { 10_000 } else { -7 };
            b2.cfeat[2 * i] = 99.0;
            b2.cfeat[2 * i + 1] = -5.0;
        }
    }
    let (_, out2) = run(&model, &g, &b2, &d);
    let logits2 = vals(out2.logits);
    for (i, &m) in b.cmask.iter().enumerate() {
        if m {
            assert!((logits[i] - logits2[i]).abs() <= 1e-6, "real logit {i} changed");
        }
    }
}

#[test]
fn encoder_is_causal() {
    let (d, model, g) = setup(5);
    let b = Batch::random(&[7, 7], 7, 3, R, Z, 6);
    let (h, _) = run(&model, &g, &b, &d);
    let h = vals(h);
    let dim = 48;
    for t in 0..6 {
        let mut b2 = b.clone();
        for i in 0..2 {
            let ix = i * 7 + t + 1;
            b2.roads[ix] = (b2.roads[ix] + 7) % R as i64;
            b2.minute[ix] += 300.0;
            b2.lonlat[2 * ix] += 0.05;
            b2.lonlat[2 * ix + 1] -= 0.03;
            b2.secs[ix] += 500.0;
        }
        let (h2, _) = run(&model, &g, &b2, &d);
        let h2 = vals(h2);
        for i in 0..2 {
            for p in 0..7 {
                let row = (i * 7 + p) * dim..(i * 7 + p + 1) * dim;
                let diff = max_abs_diff(&h[row.clone()], &h2[row]);
                if p <= t {
                    assert!(diff < 1e-5, "position {p} changed by {diff} after editing {}", t + 1);
                } else if p == t + 1 {
                    assert!(diff > 1e-3, "edited position {p} did not change");
                }
            }
        }
    }
}

#[test]
fn padding_keys_are_masked() {
    // The additive mask: −1e9 exactly for future keys and keys at or beyond the length.
    let d = Device::flex();
    let valid = bt(vec![true, true, true, false, true, true, false, false], [2, 4], &d);
    let m = vals(TrajEncoder::full_mask(&valid));
    let lens = [3, 2];
    for b in 0..2 {
        for i in 0..4 {
            for j in 0..4 {
                let v = m[b * 16 + i * 4 + j];
                let allowed = j <= i && j < lens[b];
                assert_eq!(v, if allowed { 0.0 } else { -1.0e9 }, "b {b} i {i} j {j}");
            }
        }
    }
    // Behaviour: a padded row equals the same trip encoded alone without padding, and padded
    // positions' garbage never reaches real positions.
    let (d, model, g) = setup(7);
    let b = Batch::random(&[6, 3], 6, 3, R, Z, 8);
    let (h, _) = run(&model, &g, &b, &d);
    let h = vals(h);
    let mut alone = Batch::random(&[3], 3, 3, R, Z, 8);
    for p in 0..3 {
        let ix = 6 + p;
        alone.roads[p] = b.roads[ix];
        alone.minute[p] = b.minute[ix];
        alone.weekend[p] = b.weekend[ix];
        alone.lonlat[2 * p..2 * p + 2].copy_from_slice(&b.lonlat[2 * ix..2 * ix + 2]);
        alone.secs[p] = b.secs[ix];
    }
    let (ha, _) = run(&model, &g, &alone, &d);
    let diff = max_abs_diff(&h[6 * 48..9 * 48], &vals(ha));
    assert!(diff < 1e-5, "padded row differs from the unpadded trip by {diff}");
    // A row with no valid position at all stays finite.
    let empty = Batch::random(&[0, 2], 4, 2, R, Z, 9);
    let (he, oe) = run(&model, &g, &empty, &d);
    assert!(vals(he).iter().chain(vals(oe.logits).iter()).all(|v| v.is_finite()));
}

#[test]
fn haversine_matches_roads_crate_at_high_latitude() {
    use urbancast_roads::geo::haversine_km;
    let d = Device::flex();
    let pts: Vec<[f64; 2]> = vec![[18.95, 69.65], [18.99, 69.66], [15.63, 78.22], [16.0, 78.1], [25.0, 70.5], [18.96, 69.651]];
    let flat: Vec<f32> = pts.iter().flat_map(|p| [p[0] as f32, p[1] as f32]).collect();
    let n = pts.len();
    let a = ft(flat, [1, n, 2], &d);
    let got = vals(haversine_km_pairs(a.clone(), a));
    for i in 0..n {
        for j in 0..n {
            let want = haversine_km(pts[i], pts[j]);
            let g = got[i * n + j] as f64;
            assert!((g - want).abs() <= 2e-3 + 1e-4 * want, "{i}->{j}: {g} vs {want}");
            // Swapping lon and lat gives a clearly different distance for these points.
            let swapped = haversine_km([pts[i][1], pts[i][0]], [pts[j][1], pts[j][0]]);
            if want > 0.5 && want < 100.0 {
                assert!((swapped - want).abs() > 0.05 * want, "{i}->{j} insensitive to lon/lat order");
            }
        }
    }
}

#[test]
fn segment_softmax_sums_to_one_per_destination() {
    let (d, model, g) = setup(11);
    let dst = it(vec![0, 2, 2, 1, 2, 0, 3], [7], &d);
    let scores = ft(vec![1.0, 50.0, -3.0, 0.2, 49.0, 1e4, -1e4, 0.5, 2.0, 2.0, 7.0, -1.0, 0.0, 3.0], [7, 2], &d);
    let a = vals(segment_softmax(scores, dst, 5));
    let dsts = [0usize, 2, 2, 1, 2, 0, 3];
    let mut sums = [[0.0f32; 2]; 5];
    for (e, &n) in dsts.iter().enumerate() {
        for h in 0..2 {
            assert!(a[e * 2 + h].is_finite() && a[e * 2 + h] >= 0.0);
            sums[n][h] += a[e * 2 + h];
        }
    }
    for (n, s) in sums.iter().take(4).enumerate() {
        assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-5), "node {n}: {s:?}");
    }
    assert_eq!(sums[4], [0.0, 0.0], "node without incoming edges");
    // Inside the road encoder (given edges plus one self loop per road).
    let (_, alphas) = model.road.forward_with_attention(&g.inputs());
    let mut dst_all: Vec<i64> = vals(g.edge_dst.clone().float()).iter().map(|&v| v as i64).collect();
    dst_all.extend(0..R as i64);
    for alpha in alphas {
        assert_eq!(alpha.dims(), [g.n_edges + R, 2]);
        let a = vals(alpha);
        let mut sums = vec![0.0f32; R * 2];
        for (e, &n) in dst_all.iter().enumerate() {
            sums[n as usize * 2] += a[e * 2];
            sums[n as usize * 2 + 1] += a[e * 2 + 1];
        }
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "sums {sums:?}");
    }
}
