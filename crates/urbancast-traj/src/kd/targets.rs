//! The frozen teacher's candidate distributions, computed once per training set.
//!
//! For step `t` of a training sample (predicting road `t + 1` from roads `0..=t`), the teacher
//! reads the **window** of the last `w` tokens of `SOT, ψ(road 0), …, ψ(road t)` (so `SOT`
//! is in the window only while the prefix is shorter than `w` cells — the public fork prepends
//! SOT and truncates from the left in the same way), its next-token distribution is gathered
//! at the candidates' cells `ψ(c)` and renormalised ([`gather_candidate_row`]).
//!
//! Windows repeat a lot (many trips share the same last `w` cells), so every distinct window
//! is run through the teacher once: windows are deduplicated, grouped by length, and run in
//! chunks of [`KdConfig::teacher_batch`] rows; only the last position's hidden state is
//! projected onto the vocabulary. The result, [`TeacherTargets`], holds one distribution per
//! (sample, step) and is indexed by the training loop batch by batch
//! ([`TeacherTargets::batch`]).
use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Result, bail, ensure};
use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use urbancast_roads::RoadNetwork;

use super::gather_candidate_row;
use crate::data::{MAX_CANDIDATES, Sample, TrajBatch, candidates};
use crate::lmtad::infer::plain;
use crate::lmtad::{CellGrid, LmTad};

/// Cross-task distillation settings (defaults: the thesis's Porto values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KdConfig {
    /// Weight λ of the KL term in `CE + time + λ·KL`.
    pub lambda: f64,
    /// Temperature τ (teacher `q^(1/τ)`, student `softmax(logits/τ)`).
    pub tau: f64,
    /// Window `w`: tokens of the prefix the teacher reads.
    pub window: usize,
    /// Distil every prefix position (true) or only each trajectory's last step, as the public
    /// fork does (false).
    pub all_positions: bool,
    /// Multiply the KL by τ² (the thesis) or not (the public fork).
    pub scale_tau_sq: bool,
    /// Teacher rows per inference chunk.
    pub teacher_batch: usize,
}

impl Default for KdConfig {
    fn default() -> Self {
        KdConfig::porto()
    }
}

impl KdConfig {
    /// The thesis's values for Porto: λ = 0.006, τ = 2.5, w = 4.
    pub fn porto() -> Self {
        KdConfig { lambda: 0.006, tau: 2.5, window: 4, all_positions: true, scale_tau_sq: true, teacher_batch: 512 }
    }
    /// The thesis's values for Beijing: λ = 0.0014, τ = 4.37, w = 7.
    pub fn beijing() -> Self {
        KdConfig { lambda: 0.0014, tau: 4.37, window: 7, ..KdConfig::porto() }
    }
}

/// What building the targets cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetStats {
    /// (sample, step) pairs with a teacher distribution.
    pub steps: usize,
    /// Distinct teacher windows run.
    pub windows: usize,
    /// Wall-clock seconds of [`TeacherTargets::build`].
    pub seconds: f64,
}

/// One teacher distribution over the candidates of every distilled (sample, step).
#[derive(Debug, Clone)]
pub struct TeacherTargets {
    /// Per sample: offsets into `values` of each step (`steps + 1` entries); an empty range =
    /// the step is not distilled.
    offsets: Vec<Vec<u32>>,
    values: Vec<Vec<f32>>,
    /// What building these targets cost.
    pub stats: TargetStats,
}

/// The teacher window of step `t` of `roads` (cell tokens): the last `w` of SOT + ψ(roads..=t).
pub fn window_tokens(psi: &[u32], sot: u32, roads: &[u32], t: usize, w: usize) -> Vec<u32> {
    let cells = roads[..=t].iter().map(|&r| psi[r as usize]);
    let all: Vec<u32> = std::iter::once(sot).chain(cells).collect();
    all[all.len().saturating_sub(w)..].to_vec()
}

impl TeacherTargets {
    /// Runs the frozen `teacher` (grid `grid`) over the windows of every step of `samples`
    /// (every step, or only the last with `all_positions = false`). The teacher's weights are
    /// never touched: it runs on its plain device without autodiff.
    pub fn build(
        net: &RoadNetwork,
        teacher: &LmTad,
        grid: &CellGrid,
        samples: &[Sample],
        cfg: &KdConfig,
        progress: bool,
    ) -> Result<TeacherTargets> {
        cfg.validate()?;
        let t0 = Instant::now();
        let vocab = teacher.config().vocab_size;
        ensure!(
            vocab == grid.vocab_size(),
            "the teacher has a vocabulary of {vocab} tokens but its grid has {}: not the grid it was trained with",
            grid.vocab_size()
        );
        ensure!(
            cfg.window <= teacher.config().block_size,
            "window {} exceeds the teacher's block size {}",
            cfg.window,
            teacher.config().block_size
        );
        let psi = grid.psi(net)?;
        let sot = grid.sot();
        // Requests: (sample, step) → window id, candidate cells.
        let steps_of = |s: &Sample| if cfg.all_positions { 0..s.steps() } else { s.steps().saturating_sub(1)..s.steps() };
        let mut ids: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut windows: Vec<Vec<u32>> = Vec::new();
        let mut req: Vec<(usize, usize, u32)> = Vec::new();
        for (i, s) in samples.iter().enumerate() {
            if let Some(&bad) = s.roads.iter().find(|&&r| r as usize >= net.len()) {
                bail!("sample {} has road index {bad} outside the network ({} roads)", s.id.as_deref().unwrap_or("<no id>"), net.len());
            }
            for t in steps_of(s) {
                let w = window_tokens(&psi, sot, &s.roads, t, cfg.window);
                let id = *ids.entry(w.clone()).or_insert_with(|| {
                    windows.push(w);
                    (windows.len() - 1) as u32
                });
                req.push((i, t, id));
            }
        }
        drop(ids);
        let cand_cells: Vec<Vec<i64>> = req
            .par_iter()
            .map(|&(i, t, _)| {
                let s = &samples[i];
                candidates(net, s.roads[t] as usize, s.dest(), MAX_CANDIDATES).iter().map(|&c| psi[c as usize] as i64).collect()
            })
            .collect();
        let mut by_window: Vec<Vec<u32>> = vec![Vec::new(); windows.len()];
        for (r, &(_, _, id)) in req.iter().enumerate() {
            by_window[id as usize].push(r as u32);
        }
        // Teacher passes, windows grouped by length.
        let (model, device) = plain(teacher);
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&w| windows[w].len());
        let pb = crate::progress::bar(order.len() as u64, "teacher", "windows", progress);
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); req.len()];
        let mut start = 0;
        while start < order.len() {
            let len = windows[order[start]].len();
            let mut end = start;
            while end < order.len() && end - start < cfg.teacher_batch && windows[order[end]].len() == len {
                end += 1;
            }
            let chunk = &order[start..end];
            let n = chunk.len();
            let flat: Vec<i64> = chunk.iter().flat_map(|&w| windows[w].iter().map(|&x| x as i64)).collect();
            let tokens = Tensor::<2, Int>::from_data(TensorData::new(flat, [n, len]), &device);
            let h = model.hidden(tokens)?.narrow(1, len - 1, 1).reshape([n, model.config().n_embd]);
            let probs: Vec<f32> = softmax(model.logits_of(h), 1).into_data().iter::<f32>().collect();
            let (cand_cells, by_window) = (&cand_cells, &by_window);
            let done: Vec<(u32, Vec<f32>)> = chunk
                .par_iter()
                .enumerate()
                .flat_map_iter(|(j, &w)| {
                    let row = &probs[j * vocab..(j + 1) * vocab];
                    by_window[w].iter().map(move |&r| {
                        let cells = &cand_cells[r as usize];
                        let mask = vec![true; cells.len()];
                        (r, gather_candidate_row(row, cells, &mask))
                    })
                })
                .map(|(r, q)| q.map(|q| (r, q)))
                .collect::<Result<_>>()?;
            for (r, q) in done {
                out[r as usize] = q;
            }
            pb.inc(n as u64);
            start = end;
        }
        pb.finish_and_clear();
        // Assemble per sample.
        let mut offsets: Vec<Vec<u32>> = samples.iter().map(|s| vec![0u32; s.steps() + 1]).collect();
        let mut lens: Vec<Vec<u32>> = samples.iter().map(|s| vec![0u32; s.steps()]).collect();
        for (r, &(i, t, _)) in req.iter().enumerate() {
            lens[i][t] = out[r].len() as u32;
        }
        let mut values: Vec<Vec<f32>> = lens.iter().map(|l| Vec::with_capacity(l.iter().sum::<u32>() as usize)).collect();
        for (i, l) in lens.iter().enumerate() {
            for t in 0..l.len() {
                offsets[i][t + 1] = offsets[i][t] + l[t];
            }
        }
        let mut by_sample: Vec<Vec<usize>> = vec![Vec::new(); samples.len()];
        for (r, &(i, _, _)) in req.iter().enumerate() {
            by_sample[i].push(r);
        }
        for (i, rs) in by_sample.iter().enumerate() {
            // Requests of a sample were pushed in step order.
            for &r in rs {
                values[i].extend_from_slice(&out[r]);
            }
        }
        let stats = TargetStats { steps: req.len(), windows: windows.len(), seconds: t0.elapsed().as_secs_f64() };
        Ok(TeacherTargets { offsets, values, stats })
    }

    /// Number of samples covered.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }
    /// True when no sample is covered.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The teacher distribution over the candidates of step `t` of sample `i` (`None` when the
    /// step is not distilled).
    pub fn step(&self, i: usize, t: usize) -> Option<&[f32]> {
        let o = self.offsets.get(i)?;
        let (a, b) = (*o.get(t)? as usize, *o.get(t + 1)? as usize);
        (b > a).then(|| &self.values[i][a..b])
    }

    /// Teacher targets of a training batch built from samples `idx` (in batch order):
    /// `q [B·L·K]` (0 on padding) and the row weights `[B·L]` (1 for distilled steps). Errors
    /// when a step's candidate count differs from the batch's (targets built for other
    /// samples).
    pub fn batch(&self, tb: &TrajBatch, idx: &[usize]) -> Result<(Vec<f32>, Vec<f32>)> {
        ensure!(idx.len() == tb.b, "{} sample indices for a batch of {}", idx.len(), tb.b);
        let (l, k) = (tb.l, tb.k);
        let (mut q, mut w) = (vec![0f32; tb.b * l * k], vec![0f32; tb.b * l]);
        for (b, &i) in idx.iter().enumerate() {
            ensure!(i < self.len(), "sample {i} has no teacher targets ({} samples)", self.len());
            for t in 0..l {
                let Some(d) = self.step(i, t) else { continue };
                let row = b * l + t;
                let real = tb.cand_mask[row * k..(row + 1) * k].iter().filter(|&&m| m).count();
                if real != d.len() {
                    bail!(
                        "sample {i}, step {t}: {} teacher candidates but {real} in the batch (targets built for other samples?)",
                        d.len()
                    );
                }
                q[row * k..row * k + d.len()].copy_from_slice(d);
                w[row] = 1.0;
            }
        }
        Ok((q, w))
    }
}
