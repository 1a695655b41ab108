//! Global gradient-norm clipping, as PyTorch's `clip_grad_norm_` (one norm over all
//! parameters; burn's own `GradientClipping::Norm` clips each tensor separately).
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.square().sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f32,
    ids: Vec<ParamId>,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
            self.ids.push(param.id);
        }
    }
}

/// The joint L2 norm of the gradients of `module`'s parameters in `grads` (0 when none has
/// one), e.g. of one loss term on one part of a model.
pub fn grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut v = SquaredNorm { grads, total: None };
    module.visit(&mut v);
    v.total.map_or(0.0, |t| f64::from(t.into_scalar::<f32>()).sqrt())
}

/// Scales all gradients so that their joint L2 norm is at most `max_norm`; returns the norm
/// before clipping.
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f32) -> f32 {
    let mut v = SquaredNorm { grads, total: None };
    module.visit(&mut v);
    let Some(total) = v.total else { return 0.0 };
    let norm = total.into_scalar::<f32>().sqrt();
    if norm.is_finite() && norm > max_norm {
        let mut s = Scale { grads, factor: max_norm / (norm + 1e-6), ids: vec![] };
        module.visit(&mut s);
    }
    norm
}
