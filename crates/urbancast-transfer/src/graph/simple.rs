//! Simple predictors on the graph protocol's windows, scored by the same evaluator as the
//! models: persistence (the last input step repeated over the horizon) and the historical
//! average by time of day over the target's training days.
use anyhow::Result;
use ndarray::Array4;
use urbancast_data::graph::TransferGraph;

/// Raw predictions `[S, H, N, 1]`: the last observed input step of each window.
pub fn persistence(g: &TransferGraph, starts: &[usize], input_len: usize, horizon: usize) -> Result<Array4<f32>> {
    let n = g.num_nodes();
    Ok(Array4::from_shape_fn((starts.len(), horizon, n, 1), |(s, _, v, _)| g.raw[[starts[s] + input_len - 1, v]]))
}

/// Raw predictions `[S, H, N, 1]`: for every predicted step, the node's mean at that time of
/// day over the steps `0..train_end` (observed values only); a slot never observed falls back
/// to the node's mean over those steps, a node never observed to 0.
pub fn time_of_day_mean(g: &TransferGraph, train_end: usize, starts: &[usize], input_len: usize, horizon: usize) -> Result<Array4<f32>> {
    let (n, spd) = (g.num_nodes(), g.steps_per_day.max(1));
    let mut sum = vec![0f64; spd * n];
    let mut cnt = vec![0u32; spd * n];
    let (mut node_sum, mut node_cnt) = (vec![0f64; n], vec![0u32; n]);
    for t in 0..train_end.min(g.raw.dim().0) {
        for v in 0..n {
            let x = g.raw[[t, v]];
            if g.zero_is_missing && x == 0.0 {
                continue;
            }
            let k = g.tod[t] * n + v;
            sum[k] += f64::from(x);
            cnt[k] += 1;
            node_sum[v] += f64::from(x);
            node_cnt[v] += 1;
        }
    }
    let node_mean: Vec<f64> = (0..n).map(|v| if node_cnt[v] > 0 { node_sum[v] / f64::from(node_cnt[v]) } else { 0.0 }).collect();
    Ok(Array4::from_shape_fn((starts.len(), horizon, n, 1), |(s, h, v, _)| {
        let t = starts[s] + input_len + h;
        let k = g.tod[t] * n + v;
        (if cnt[k] > 0 { sum[k] / f64::from(cnt[k]) } else { node_mean[v] }) as f32
    }))
}
