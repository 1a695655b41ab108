//! TSJT's target-skewed backward (`train.py::combine_gradients` of `zhangyudongUSTC/TSJT-main`):
//! a source gradient g_s and a target gradient g_t of the same model become one gradient that
//! follows the target and keeps from the source only what does not oppose it.
//!
//! With γ_t = 0.2 (the code's γ1) and γ_s = 1e-3 (γ2):
//! - [`SkewRule::Global`] (the code's rule, the default): one cosine over all parameters
//!   flattened together; if cos > 0, g = γ_s·g_s + γ_t·g_t, otherwise g_s is first projected off
//!   g_t, g_s⊥ = g_s − ⟨g_s, g_t⟩/‖g_t‖²·g_t, and g = γ_s·g_s⊥ + γ_t·g_t;
//! - [`SkewRule::PerTensor`]: the same decision and projection for every parameter tensor on
//!   its own;
//! - [`SkewRule::Elementwise`]: the abstract's reading ("gradient elements that help the
//!   target"): g = γ_t·g_t + γ_s·(g_s where g_s·g_t > 0, else 0).
//!
//! A parameter with a target gradient only gets γ_t·g_t; one with a source gradient only gets
//! γ_s·g_s under the global and per-tensor rules (it cannot conflict with a zero target
//! gradient) and nothing under the element-wise rule (g_s·0 is not > 0).
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Which unit the source gradient is judged and projected in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkewRule {
    /// One cosine over all parameters (the public code).
    #[default]
    Global,
    /// One cosine per parameter tensor.
    PerTensor,
    /// Keep the source elements whose product with the target's is positive.
    Elementwise,
}

impl SkewRule {
    /// The option's spelling (`global`, `per-tensor`, `elementwise`).
    pub fn name(self) -> &'static str {
        match self {
            SkewRule::Global => "global",
            SkewRule::PerTensor => "per-tensor",
            SkewRule::Elementwise => "elementwise",
        }
    }

    /// Parses [`SkewRule::name`].
    pub fn parse(s: &str) -> anyhow::Result<SkewRule> {
        match s {
            "global" => Ok(SkewRule::Global),
            "per-tensor" => Ok(SkewRule::PerTensor),
            "elementwise" => Ok(SkewRule::Elementwise),
            _ => anyhow::bail!("unknown gradient rule `{s}` (expected global, per-tensor or elementwise)"),
        }
    }
}

/// The rule and its two weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Skew {
    /// How conflicts are detected and removed.
    pub rule: SkewRule,
    /// Weight of the target gradient (the code's γ1 = 0.2).
    pub gamma_target: f32,
    /// Weight of the source gradient (the code's γ2 = 1e-3).
    pub gamma_source: f32,
}

impl Default for Skew {
    fn default() -> Self {
        Skew { rule: SkewRule::Global, gamma_target: 0.2, gamma_source: 1e-3 }
    }
}

impl Skew {
    /// Checks the weights: `gamma_target > 0` (else the target is ignored), `gamma_source ≥ 0`,
    /// both finite.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.validate_at("")
    }

    /// [`Skew::validate`] with keys prefixed by `prefix` (e.g. `"tsjt.skew."`).
    pub fn validate_at(&self, prefix: &str) -> anyhow::Result<()> {
        let c = urbancast_check::Checker::new(prefix);
        c.positive("gamma_target", self.gamma_target)?;
        c.non_negative("gamma_source", self.gamma_source)?;
        Ok(())
    }
}

/// What one combination saw.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SkewStats {
    /// Cosine of g_s and g_t over all parameters (0 where either is zero).
    pub cos: f64,
    /// ‖g_s‖ over all parameters.
    pub norm_source: f64,
    /// ‖g_t‖ over all parameters.
    pub norm_target: f64,
    /// Share of the rule's units that conflicted and were projected or dropped: 0 or 1 for
    /// the global rule, the share of tensors for per-tensor, of elements for element-wise.
    pub conflict: f64,
}

/// Per-parameter inner products: ⟨g_s, g_t⟩, ‖g_s‖², ‖g_t‖², elements, conflicting elements.
#[derive(Debug, Clone, Copy, Default)]
struct Dots {
    st: f64,
    ss: f64,
    tt: f64,
    n: f64,
    neg: f64,
}

struct Measure<'a> {
    gs: &'a GradientsParams,
    gt: &'a GradientsParams,
    out: Vec<(ParamId, Dots)>,
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

impl ModuleVisitor for Measure<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let (s, t) = (self.gs.get::<D>(param.id), self.gt.get::<D>(param.id));
        let mut d = Dots::default();
        if let Some(s) = &s {
            d.ss = scalar(s.clone().square().sum());
            d.n = s.shape().num_elements() as f64;
        }
        if let Some(t) = &t {
            d.tt = scalar(t.clone().square().sum());
            d.n = t.shape().num_elements() as f64;
        }
        if let (Some(s), Some(t)) = (&s, &t) {
            let prod = s.clone() * t.clone();
            d.st = scalar(prod.clone().sum());
            d.neg = scalar(prod.lower_equal_elem(0.0).float().sum());
        } else if s.is_some() {
            d.neg = d.n;
        }
        if s.is_some() || t.is_some() {
            self.out.push((param.id, d));
        }
    }
}

struct Combine<'a> {
    gs: &'a GradientsParams,
    gt: &'a GradientsParams,
    skew: Skew,
    /// Projection coefficient ⟨g_s, g_t⟩/‖g_t‖² per parameter (0 = keep g_s as it is).
    coef: &'a dyn Fn(ParamId) -> f64,
    out: GradientsParams,
}

impl ModuleVisitor for Combine<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let (s, t) = (self.gs.get::<D>(param.id), self.gt.get::<D>(param.id));
        let (gs, gt) = (self.skew.gamma_source, self.skew.gamma_target);
        let g = match (s, t) {
            (None, None) => return,
            (None, Some(t)) => t.mul_scalar(gt),
            (Some(s), None) => match self.skew.rule {
                SkewRule::Elementwise => s.zeros_like(),
                _ => s.mul_scalar(gs),
            },
            (Some(s), Some(t)) => match self.skew.rule {
                SkewRule::Elementwise => {
                    let keep = (s.clone() * t.clone()).greater_elem(0.0).float();
                    (s * keep).mul_scalar(gs) + t.mul_scalar(gt)
                }
                _ => {
                    let k = (self.coef)(param.id) as f32;
                    let s = if k != 0.0 { s - t.clone().mul_scalar(k) } else { s };
                    s.mul_scalar(gs) + t.mul_scalar(gt)
                }
            },
        };
        self.out.register(param.id, g);
    }
}

/// Inner products of every parameter and of all of them together.
fn dots<M: Module>(model: &M, gs: &GradientsParams, gt: &GradientsParams) -> (Vec<(ParamId, Dots)>, Dots) {
    let mut m = Measure { gs, gt, out: vec![] };
    model.visit(&mut m);
    let total = m.out.iter().fold(Dots::default(), |a, (_, d)| Dots {
        st: a.st + d.st,
        ss: a.ss + d.ss,
        tt: a.tt + d.tt,
        n: a.n + d.n,
        neg: a.neg + d.neg,
    });
    (m.out, total)
}

fn cos_of(d: &Dots) -> f64 {
    if d.ss > 0.0 && d.tt > 0.0 { d.st / (d.ss.sqrt() * d.tt.sqrt()) } else { 0.0 }
}

/// The global cosine and norms of `gs` and `gt` without combining them (`conflict` is 1 when
/// the cosine is ≤ 0): what plain joint training logs.
pub fn measure<M: Module>(model: &M, gs: &GradientsParams, gt: &GradientsParams) -> SkewStats {
    let (_, t) = dots(model, gs, gt);
    SkewStats { cos: cos_of(&t), norm_source: t.ss.sqrt(), norm_target: t.tt.sqrt(), conflict: f64::from(u8::from(cos_of(&t) <= 0.0)) }
}

/// g_s + g_t, parameter by parameter (plain joint training: the gradient of L_s + L_t).
pub fn sum<M: Module>(model: &M, gs: &GradientsParams, gt: &GradientsParams) -> GradientsParams {
    struct Add<'a> {
        gs: &'a GradientsParams,
        gt: &'a GradientsParams,
        out: GradientsParams,
    }
    impl ModuleVisitor for Add<'_> {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            let g = match (self.gs.get::<D>(p.id), self.gt.get::<D>(p.id)) {
                (Some(s), Some(t)) => s + t,
                (Some(s), None) => s,
                (None, Some(t)) => t,
                (None, None) => return,
            };
            self.out.register(p.id, g);
        }
    }
    let mut a = Add { gs, gt, out: GradientsParams::new() };
    model.visit(&mut a);
    a.out
}

/// Combines the source gradient `gs` and the target gradient `gt` of `model`'s parameters by
/// `skew`'s rule (module docs). Returns the combined gradients and what was seen.
pub fn combine<M: Module>(model: &M, gs: &GradientsParams, gt: &GradientsParams, skew: &Skew) -> (GradientsParams, SkewStats) {
    let (dots, total) = dots(model, gs, gt);
    // The code's test is `cos > 0`: a zero cosine (orthogonal, or a zero gradient) projects,
    // which changes nothing since ⟨g_s, g_t⟩ = 0 then.
    let proj = |d: &Dots| if cos_of(d) > 0.0 || d.tt <= 0.0 { 0.0 } else { d.st / d.tt };
    let global_coef = proj(&total);
    let conflict = match skew.rule {
        SkewRule::Global => f64::from(u8::from(cos_of(&total) <= 0.0)),
        SkewRule::PerTensor => {
            let n = dots.len().max(1) as f64;
            dots.iter().filter(|(_, d)| cos_of(d) <= 0.0).count() as f64 / n
        }
        SkewRule::Elementwise => {
            if total.n > 0.0 {
                total.neg / total.n
            } else {
                0.0
            }
        }
    };
    let per: std::collections::HashMap<ParamId, f64> = dots.iter().map(|(id, d)| (*id, proj(d))).collect();
    let coef: Box<dyn Fn(ParamId) -> f64> = match skew.rule {
        SkewRule::Global => Box::new(move |_| global_coef),
        _ => Box::new(move |id| per.get(&id).copied().unwrap_or(0.0)),
    };
    let mut c = Combine { gs, gt, skew: *skew, coef: coef.as_ref(), out: GradientsParams::new() };
    model.visit(&mut c);
    let stats = SkewStats { cos: cos_of(&total), norm_source: total.ss.sqrt(), norm_target: total.tt.sqrt(), conflict };
    (c.out, stats)
}
