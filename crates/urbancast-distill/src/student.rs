//! Training the MLP student, alone or distilled from a frozen MTGNN teacher.
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use urbancast_data::graph::GraphPrepared;
use urbancast_nn::{StMlp, StMlpConfig};

use crate::batch::{Batch, Denorm};
use crate::config::{DistillConfig, StudentSettings};
use crate::losses::{adaptive_weights, masked_mae, prediction_kd, weighted_info_nce};
use crate::teacher::{Teacher, adjacency_tensor, teacher_forward};
use crate::train::GraphLoss;

/// Student configuration for `data`.
pub fn student_config(data: &GraphPrepared, s: &StudentSettings) -> StMlpConfig {
    let mut cfg = StMlpConfig::new(data.num_nodes(), data.channels(), data.steps_per_day);
    cfg.seq_len = data.input_len;
    cfg.horizon = data.horizon;
    cfg.embed_dim = s.embed_dim;
    cfg.node_dim = s.node_dim;
    cfg.tod_dim = s.tod_dim;
    cfg.dow_dim = s.dow_dim;
    cfg.layers = s.layers;
    cfg.dropout = s.dropout;
    cfg
}

/// The student during training: the MLP plus, when distilling, a linear projection of its
/// hidden node representation into the teacher's representation space (used by the
/// contrastive terms only; discarded after training).
#[derive(Module, Debug)]
pub struct Trainee {
    /// The MLP student being trained (the model kept after training).
    pub student: StMlp,
    /// Projection of the student's hidden width onto the teacher's representation width `D`;
    /// `None` without distillation.
    pub proj: Option<Linear>,
}

impl Trainee {
    /// Wraps `student`, adding a fresh projection to `teacher_dim` (the teacher's
    /// `end_channels`) when given.
    pub fn new(student: StMlp, teacher_dim: Option<usize>, device: &Device) -> Trainee {
        let hidden = student.config().hidden();
        let proj = teacher_dim.map(|d| LinearConfig::new(hidden, d).init(device));
        Trainee { student, proj }
    }
}

/// Student forward on a batch: normalised predictions and hidden node representations.
pub fn student_forward(model: &StMlp, b: &Batch) -> anyhow::Result<urbancast_nn::StMlpOut> {
    Ok(model.forward(b.x.clone(), b.tod.clone(), b.dow.clone())?)
}

/// The frozen teacher and the distillation settings.
pub struct Distiller {
    /// Validation copy of the teacher (no autodiff, dropout off).
    pub teacher: Teacher,
    /// Given adjacency `[N, N]` on the inner (non-autodiff) device, for the teacher's forward.
    pub adj_inner: Tensor<2>,
    /// The same adjacency, row-major `N × N` on the host (for the over-smoothing weights).
    pub adj: Vec<f32>,
    /// Distillation terms and weights (validated).
    pub cfg: DistillConfig,
    /// The teacher's outputs on every training window, computed once (the teacher is frozen
    /// and deterministic in evaluation mode), when they fit in memory.
    cache: Option<TeacherCache>,
}

/// Teacher predictions `[W, H, N, C]` and representations `[W, N, D]` of the training windows.
struct TeacherCache {
    first: usize,
    pred: Vec<f32>,
    hidden: Vec<f32>,
    pred_shape: [usize; 3],
    hidden_shape: [usize; 2],
}

/// Largest teacher cache kept in memory (bytes).
const CACHE_LIMIT: usize = 3 << 30;

impl TeacherCache {
    fn build(teacher: &Teacher, adj: &Tensor<2>, data: &GraphPrepared, device: &Device) -> anyhow::Result<Option<Self>> {
        let (h, n, c, d) = (data.horizon, data.num_nodes(), data.channels(), teacher.hidden_dim());
        let windows = data.train.len();
        if windows * n * (h * c + d) * 4 > CACHE_LIMIT {
            return Ok(None);
        }
        let (mut pred, mut hidden) = (Vec::with_capacity(windows * h * n * c), Vec::with_capacity(windows * n * d));
        let starts: Vec<usize> = data.train.clone().collect();
        for chunk in starts.chunks(64) {
            let b = Batch::new(data, chunk, device);
            let out = teacher_forward(teacher, &b, adj.clone())?;
            let read = |t: Tensor<4>| t.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"));
            pred.extend(read(out.pred)?);
            hidden.extend(read(out.hidden.unsqueeze_dim(0))?);
        }
        Ok(Some(TeacherCache { first: data.train.start, pred, hidden, pred_shape: [h, n, c], hidden_shape: [n, d] }))
    }

    /// The cached outputs of the windows `starts`, as tensors on `device`.
    fn get(&self, starts: &[usize], device: &Device) -> Option<(Tensor<4>, Tensor<3>)> {
        let [h, n, c] = self.pred_shape;
        let [_, d] = self.hidden_shape;
        let (ps, hs) = (h * n * c, n * d);
        let mut pred = Vec::with_capacity(starts.len() * ps);
        let mut hidden = Vec::with_capacity(starts.len() * hs);
        for &t in starts {
            let w = t.checked_sub(self.first)?;
            pred.extend_from_slice(self.pred.get(w * ps..(w + 1) * ps)?);
            hidden.extend_from_slice(self.hidden.get(w * hs..(w + 1) * hs)?);
        }
        let b = starts.len();
        Some((
            Tensor::from_data(TensorData::new(pred, [b, h, n, c]), device),
            Tensor::from_data(TensorData::new(hidden, [b, n, d]), device),
        ))
    }
}

impl Distiller {
    /// Freezes a validation copy of `teacher` for `data` after checking `cfg`
    /// ([`DistillConfig::validate`]), and caches its outputs on the training windows when they
    /// fit in memory (3 GiB).
    pub fn new(teacher: &Teacher, data: &GraphPrepared, cfg: DistillConfig, device: &Device) -> anyhow::Result<Self> {
        cfg.validate()?;
        let inner = device.clone().inner();
        let teacher = teacher.valid();
        let adj_inner = adjacency_tensor(data, &inner);
        let cache = TeacherCache::build(&teacher, &adj_inner, data, &inner)?;
        Ok(Distiller { teacher, adj_inner, adj: data.adjacency.iter().copied().collect(), cfg, cache })
    }

    /// Drops the cache: the teacher then runs on every batch.
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// Whether the teacher's outputs on the training windows are cached.
    pub fn is_cached(&self) -> bool {
        self.cache.is_some()
    }

    /// Teacher predictions and representations of a batch (inner device, constants).
    pub fn outputs(&self, bi: &Batch) -> anyhow::Result<(Tensor<4>, Tensor<3>)> {
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&bi.starts, &bi.x.device())) {
            return Ok(hit);
        }
        let out = teacher_forward(&self.teacher, bi, self.adj_inner.clone())?;
        Ok((out.pred, out.hidden))
    }
}

/// Objective of the student: masked MAE (original units) plus, with a [`Distiller`],
/// `kd_weight · KD + rep_weight · (spatial InfoNCE + temporal InfoNCE)`, each term weighted per
/// node by the adaptive weights.
pub struct StudentObjective {
    /// Brings normalised predictions back to original units for the task loss.
    pub denorm: Denorm,
    /// The frozen teacher and the distillation settings; `None` trains a plain student.
    pub distill: Option<Distiller>,
}

impl GraphLoss for StudentObjective {
    type Model = Trainee;
    fn loss(&mut self, model: &Trainee, b: &Batch) -> anyhow::Result<(Tensor<1>, Vec<(&'static str, Tensor<1>)>)> {
        let out = student_forward(&model.student, b)?;
        let task = masked_mae(self.denorm.apply(out.pred.clone()), b.y.clone(), b.mask.clone());
        let Some(d) = &self.distill else {
            return Ok((task.clone(), vec![("task", task)]));
        };
        let cfg = &d.cfg;
        let bi = b.inner();
        let (t_pred, t_hidden) = d.outputs(&bi)?;
        let weights = adaptive_weights(
            cfg.adaptive,
            cfg.adaptive_tau,
            t_pred.clone(),
            self.denorm.normalise(bi.y.clone()),
            bi.mask.clone(),
            t_hidden.clone(),
            &d.adj,
        )
        .map(|w| w.autodiff());
        let kd = prediction_kd(out.pred, t_pred.autodiff(), weights.clone(), cfg.kd);
        let mut total = task.clone() + kd.clone().mul_scalar(cfg.kd_weight);
        let mut terms = vec![("task", task), ("kd", kd)];
        if let Some(proj) = model.proj.as_ref().filter(|_| cfg.spatial || cfg.temporal) {
            let z = proj.forward(out.hidden);
            let th = t_hidden.autodiff();
            if cfg.spatial {
                let sp = weighted_info_nce(z.clone(), th.clone(), cfg.tau, cfg.pos_threshold, weights.clone());
                total = total + sp.clone().mul_scalar(cfg.rep_weight);
                terms.push(("spatial", sp));
            }
            if cfg.temporal {
                let tw = weights.map(|w| w.transpose());
                let tp = weighted_info_nce(z.swap_dims(0, 1), th.swap_dims(0, 1), cfg.tau, cfg.pos_threshold, tw);
                total = total + tp.clone().mul_scalar(cfg.rep_weight);
                terms.push(("temporal", tp));
            }
        }
        Ok((total, terms))
    }
    fn predict(&self, model: &Trainee, b: &Batch) -> anyhow::Result<Tensor<4>> {
        Ok(student_forward(&model.student, b)?.pred)
    }
}
