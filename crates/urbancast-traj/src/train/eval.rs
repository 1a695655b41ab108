//! Next-step accuracy, cross entropy and time MAPE of a generator on samples (inference: no
//! gradients, road embeddings computed once).
use anyhow::{Result, bail, ensure};
use burn::module::Module;
use serde::{Deserialize, Serialize};
use urbancast_roads::RoadNetwork;

use crate::data::{BatchTensors, Batcher, GraphTensors, RoadContext, Sample, TimeNorm, TrajBatch};
use crate::model::{GraphInputs, Hoser};

/// Evaluation of a model on a set of samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalStats {
    /// Next-step accuracy: arg-max candidate is the true next road, over all real steps (a
    /// step whose true next road was capped away from the candidates is a miss — HOSER divides
    /// by all steps too).
    pub acc: f64,
    /// Mean next-step cross entropy over the steps with a target.
    pub ce: f64,
    /// HOSER's time MAPE in `ln(1 + Δt)` space over the steps with a target (the time loss).
    pub time_mape: f64,
    /// Real steps (the accuracy denominator).
    pub steps: usize,
    /// Steps with a target (the loss denominator).
    pub targets: usize,
    /// Correct next-step predictions.
    pub correct: usize,
}

/// [`evaluate_batches`] over all `samples`, `batch` at a time (sorted by length).
pub fn evaluate(
    model: &Hoser,
    net: &RoadNetwork,
    ctx: &RoadContext,
    graph: &GraphTensors,
    samples: &[Sample],
    norm: &TimeNorm,
    batch: usize,
) -> Result<EvalStats> {
    ensure!(batch > 0, "evaluation batch size must be at least 1");
    let batches = Batcher::from_samples(samples, batch, 0).sequential();
    evaluate_batches(model, net, ctx, graph, samples, &batches, norm)
}

/// Evaluates `model` (on any device; its inference copy [`Module::valid`] is used) on the
/// given batches of sample indices. `graph` should be on the inference device; graph tensors on
/// an autodiff device are rebuilt without autodiff. The road embeddings are computed once.
pub fn evaluate_batches(
    model: &Hoser,
    net: &RoadNetwork,
    ctx: &RoadContext,
    graph: &GraphTensors,
    samples: &[Sample],
    batches: &[Vec<usize>],
    norm: &TimeNorm,
) -> Result<EvalStats> {
    let device = graph.road_class.device();
    let rebuilt;
    let (graph, device) = if device.is_autodiff() {
        let inf = device.without_autodiff();
        rebuilt = GraphTensors::new(ctx, &inf);
        (&rebuilt, inf)
    } else {
        (graph, device)
    };
    let model = model.valid();
    let emb = model.encode_graph(GraphInputs::from(graph));
    let (mut ce_sum, mut time_sum, mut st) = (0.0f64, 0.0f64, EvalStats::default());
    for idx in batches.iter().filter(|b| !b.is_empty()) {
        let refs: Vec<&Sample> = idx.iter().map(|&i| &samples[i]).collect();
        if let Some(s) = refs.iter().find(|s| s.len() < 2) {
            bail!("sample {} has {} road(s); every sample needs at least two", s.id.as_deref().unwrap_or("<no id>"), s.len());
        }
        let tb = TrajBatch::build(net, ctx, &refs, norm);
        let bt = BatchTensors::new(&tb, &device);
        let out = model.forward(&emb, &(&bt).into(), &(&bt).into());
        let parts = model.loss(&out, &bt.target, &bt.dt_secs, &bt.valid, norm);
        let (correct, counted) = model.next_step_accuracy(&out, &bt.target, &bt.valid);
        ce_sum += parts.ce.into_scalar::<f32>() as f64 * counted as f64;
        time_sum += parts.time.into_scalar::<f32>() as f64 * counted as f64;
        st.correct += correct;
        st.targets += counted;
        st.steps += tb.num_valid();
    }
    let per = |x: f64, n: usize| if n == 0 { f64::NAN } else { x / n as f64 };
    st.acc = per(st.correct as f64, st.steps);
    st.ce = per(ce_sum, st.targets);
    st.time_mape = per(time_sum, st.targets);
    Ok(st)
}
