//! Cross-task distillation: an LM-TAD teacher (a language model over grid-cell tokens) guides
//! the route generator's next-road choice.
//!
//! At each prefix position the student scores its candidate next roads (`logits [M, K]`, with
//! `mask [M, K]` true for real candidates). The teacher gives a next-token distribution over
//! its vocabulary (`[M, V]`). ψ maps each candidate road to its cell token (`cand_cells
//! [M, K]`). Then
//!
//! 1. [`gather_candidate_distribution`] (tensors) or [`gather_candidate_row`] /
//!    [`gather_candidate_rows`] (plain Rust, for caching: the teacher is frozen) read the
//!    teacher's probability at each candidate's cell and renormalise over the real candidates
//!    (uniform fallback when the teacher gives them no mass);
//! 2. [`kd_loss`] tempers that distribution ([`temper`]: `q_τ ∝ q^(1/τ)`), compares it with
//!    the student's `p_τ = softmax(logits / τ)` and returns `τ² · mean KL(q_τ ‖ p_τ)` (the τ²
//!    factor switchable), differentiable in the student logits only.
mod gather;
mod loss;
mod targets;

pub use gather::{MIN_MASS, gather_candidate_distribution, gather_candidate_row, gather_candidate_rows};
pub use loss::{KD_MASKED_LOGIT, kd_loss, temper};
pub use targets::{KdConfig, TargetStats, TeacherTargets, window_tokens};
