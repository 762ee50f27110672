//! LQR-FLM: LQR against fitted linear dynamics, kept within a KL step of a reference controller
//! (docs/design.md §4.3).
//!
//! The backward pass works in coordinates relative to the reference controller
//! (`relative_model`: `u = K̄x + k̄ + L̄z`), where the KL term is `η·½|z|²` and nothing else
//! grows with η; the per-step KL is a closed-form function of `η_t` (`step_kl`), so the
//! per-step η search solves each step's η exactly under the current state marginals and only
//! iterates on the coupling through those marginals (`eta`). [`LqrFlm`] owns every buffer one
//! update needs for a given `(T, dX, dU)`, so that the search allocates nothing in its loops.

mod augmented_cost;
mod backward;
mod estimate_cost;
mod eta;
mod forward;
pub(crate) mod jacobi;
mod kernels;
mod relative_model;
mod solver;
mod step_kl;
mod value_function;

pub use augmented_cost::{KlTerm, augmented_cost};
pub use backward::{BackwardParams, EtaMode};
pub use estimate_cost::{estimate_cost, expected_costs};
pub use forward::{ForwardWorkspace, GaussianTrajectory, forward_pass};
pub use solver::{ControllerBuffers, LqrFlm, max_entropy_lqr};
pub use value_function::ValueFunction;

use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use serde::{Deserialize, Serialize};

use crate::error::{TrajOptError, expect_dim, expect_finite};

/// Settings of the LQR-FLM update. Defaults follow the classic implementation and the paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LqrFlmConfig {
    /// Entropy weight ω (default 0).
    pub omega: f64,
    /// Lower bound of η (default 1e-8).
    pub min_eta: f64,
    /// Upper bound of η (default 1e16). A per-step `η_t` is bounded relative to the scale of
    /// its step, by `max_eta · max(1, ‖Q_zz,t‖, √max a_t)` in the reference's coordinates (`a_t`
    /// the KL coefficients of the state spread), so that a badly scaled model (fitted dynamics
    /// unstable under the reference, with value functions of 1e16 and more) does not stop it
    /// early.
    pub max_eta: f64,
    /// Rounds of the η search (default 50).
    pub max_iterations: usize,
    /// Relative KL tolerance: stop when `|KL − ε| < tolerance·ε` (default 0.1).
    pub tolerance: f64,
    /// One KL constraint per time step (`cons_per_step`, PILQR's default: true) instead of one
    /// on the total.
    pub per_step: bool,
    /// The value function the backward pass propagates: `"lagrangian"` (default) or
    /// `"raw-cost"` (see [`ValueFunction`]).
    pub value_function: ValueFunction,
}

impl Default for LqrFlmConfig {
    fn default() -> Self {
        LqrFlmConfig {
            omega: 0.0,
            min_eta: 1e-8,
            max_eta: 1e16,
            max_iterations: 50,
            tolerance: 0.1,
            per_step: true,
            value_function: ValueFunction::Lagrangian,
        }
    }
}

impl LqrFlmConfig {
    /// Check the values' domains.
    pub fn validate(&self) -> Result<(), TrajOptError> {
        let bad = |field, reason: &str| {
            Err(TrajOptError::Config {
                field,
                reason: reason.into(),
            })
        };
        if !(self.omega >= 0.0 && self.omega.is_finite()) {
            return bad("omega", "must be finite and >= 0");
        }
        if !(self.min_eta > 0.0 && self.min_eta.is_finite()) {
            return bad("min_eta", "must be finite and > 0");
        }
        if !(self.max_eta > self.min_eta && self.max_eta.is_finite()) {
            return bad("max_eta", "must be finite and > min_eta");
        }
        if self.max_iterations == 0 {
            return bad("max_iterations", "must be >= 1");
        }
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return bad("tolerance", "must be in (0, 1)");
        }
        Ok(())
    }
}

/// The outcome of an LQR-FLM update.
#[derive(Debug, Clone, PartialEq)]
pub struct LqrFlmResult {
    /// The new controller.
    pub policy: LinearGaussianPolicy,
    /// The η reached, per step (all equal with one global η).
    pub eta: Vec<f64>,
    /// KL to the reference per step, under the new controller's state distribution.
    pub kl: Vec<f64>,
    /// Total KL.
    pub kl_total: f64,
    /// Backward passes the η search ran.
    pub iterations: usize,
    /// Forward passes the η search ran: one after each backward pass, plus, per step, one of
    /// the reference's marginals at a cold start and the solving sweeps far from convergence.
    pub forward_passes: usize,
    /// Whether every constraint met its tolerance (or was inactive at `min_eta`).
    pub converged: bool,
    /// Forward pass of the new controller under the model.
    pub trajectory: GaussianTrajectory,
}

/// Check that the model, the cost and a controller agree on `(T, dX, dU)` and are finite.
pub fn check_model(
    dynamics: &LinearDynamics,
    cost: &CostModel,
    policy: &LinearGaussianPolicy,
) -> Result<(), TrajOptError> {
    let (t, dx, du) = (policy.horizon(), policy.state_dim(), policy.action_dim());
    expect_dim("dynamics horizon", dynamics.fm.len(), t)?;
    expect_dim("dynamics Fm rows", dynamics.fm.rows(), dx)?;
    expect_dim("dynamics Fm columns", dynamics.fm.cols(), dx + du)?;
    expect_dim("dynamics fv horizon", dynamics.fv.len(), t)?;
    expect_dim("dynamics fv dimension", dynamics.fv.dim(), dx)?;
    expect_dim("dynamics covariance horizon", dynamics.dyn_covar.len(), t)?;
    expect_dim("dynamics covariance rows", dynamics.dyn_covar.rows(), dx)?;
    expect_dim("dynamics covariance columns", dynamics.dyn_covar.cols(), dx)?;
    expect_dim("x0mu", dynamics.x0mu.len(), dx)?;
    expect_dim("x0sigma steps", dynamics.x0sigma.len(), 1)?;
    expect_dim("x0sigma rows", dynamics.x0sigma.rows(), dx)?;
    expect_dim("x0sigma columns", dynamics.x0sigma.cols(), dx)?;
    expect_dim("cost horizon", cost.horizon(), t)?;
    expect_dim("cost dimension", cost.dim(), dx + du)?;
    expect_dim("cost Cm rows", cost.cm.rows(), dx + du)?;
    expect_dim("cost state dimension", cost.dx, dx)?;
    let n = dx + du;
    expect_finite("dynamics Fm", dynamics.fm.as_slice(), dx * n)?;
    expect_finite("dynamics fv", dynamics.fv.as_slice(), dx)?;
    expect_finite(
        "dynamics covariance",
        dynamics.dyn_covar.as_slice(),
        dx * dx,
    )?;
    expect_finite("x0mu", &dynamics.x0mu, dx)?;
    expect_finite("x0sigma", dynamics.x0sigma.as_slice(), dx * dx)?;
    expect_finite("cost Cm", cost.cm.as_slice(), n * n)?;
    expect_finite("cost cv", cost.cv.as_slice(), n)?;
    expect_finite("cost cc", &cost.cc, 1)?;
    Ok(())
}

#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod tests;
