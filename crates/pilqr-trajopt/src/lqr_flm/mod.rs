//! LQR-FLM: LQR against fitted linear dynamics, kept within a KL step of a reference controller
//! (DESIGN.md §4.3).
//!
//! [`LqrFlm`] owns every buffer one update needs for a given `(T, dX, dU)`, so that the η search
//! (which runs many backward and forward passes) allocates nothing inside its loops.

mod augmented_cost;
mod backward;
mod estimate_cost;
mod eta;
mod forward;

pub use augmented_cost::{KlTerm, augmented_cost};
pub use backward::{BackwardParams, BackwardWorkspace, ControllerBuffers, EtaMode, backward_pass};
pub use estimate_cost::{estimate_cost, expected_costs};
pub use forward::{ForwardWorkspace, GaussianTrajectory, forward_pass};

use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use serde::{Deserialize, Serialize};

use crate::error::{TrajOptError, expect_dim, expect_finite};
use crate::kl::{KlWorkspace, reference_log_dets, trajectory_kl_into};

/// Settings of the LQR-FLM update. Defaults follow the classic implementation and the paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LqrFlmConfig {
    /// Entropy weight ω (default 0).
    pub omega: f64,
    /// Lower bound of η (default 1e-8).
    pub min_eta: f64,
    /// Upper bound of η (default 1e16).
    pub max_eta: f64,
    /// Rounds of the η search (default 50).
    pub max_iterations: usize,
    /// Relative KL tolerance: stop when `|KL − ε| < tolerance·ε` (default 0.1).
    pub tolerance: f64,
    /// One KL constraint per time step (`cons_per_step`, PILQR's default: true) instead of one
    /// on the total.
    pub per_step: bool,
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
    /// Backward/forward passes the η search ran.
    pub iterations: usize,
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

/// LQR-FLM solver with preallocated buffers for one `(T, dX, dU)`.
///
/// ```
/// use faer::Mat;
/// use pilqr_core::{CostModel, LinearGaussianPolicy};
/// use pilqr_dynamics::LinearDynamics;
/// use pilqr_linalg::{MatStack, VecStack};
/// use pilqr_trajopt::lqr_flm::{LqrFlm, LqrFlmConfig};
///
/// // A 1-D integrator x' = x + u from x0 = 1, cost ½x² + ½u², T = 5.
/// let (t, dx, du) = (5, 1, 1);
/// let mut dynamics = LinearDynamics::zeros(t, dx, du);
/// for s in 0..t - 1 {
///     dynamics.fm.at_mut(s)[(0, 0)] = 1.0;
///     dynamics.fm.at_mut(s)[(0, 1)] = 1.0;
/// }
/// dynamics.x0mu[0] = 1.0;
/// dynamics.x0sigma.at_mut(0)[(0, 0)] = 1e-6;
/// let mut cost = CostModel::zeros(t, dx, du);
/// for s in 0..t {
///     cost.cm.at_mut(s)[(0, 0)] = 1.0;
///     cost.cm.at_mut(s)[(1, 1)] = 1.0;
/// }
/// let prev = LinearGaussianPolicy::new(
///     MatStack::zeros(t, du, dx), VecStack::zeros(t, du),
///     MatStack::repeat(t, Mat::<f64>::identity(1, 1).as_ref()),
/// ).unwrap();
/// let mut solver = LqrFlm::new(t, dx, du);
/// let targets = vec![0.1; t];
/// let res = solver
///     .update(&dynamics, &cost, &prev, &targets, &[1.0], &LqrFlmConfig::default())
///     .unwrap();
/// assert!(res.converged);
/// for (kl, eps) in res.kl.iter().zip(&targets) {
///     assert!((kl - eps).abs() < 0.1 * eps || *kl < *eps);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct LqrFlm {
    horizon: usize,
    dx: usize,
    du: usize,
    kl_term: KlTerm,
    reference_log_det: Vec<f64>,
    backward_ws: BackwardWorkspace,
    forward_ws: ForwardWorkspace,
    kl_ws: KlWorkspace,
    pub(crate) buffers: ControllerBuffers,
    pub(crate) traj: GaussianTrajectory,
    pub(crate) kl: Vec<f64>,
    failed: Vec<f64>,
    pub(crate) eta: Vec<f64>,
}

impl LqrFlm {
    /// A solver for horizon `T`, state `dX`, action `dU`.
    pub fn new(horizon: usize, dx: usize, du: usize) -> Self {
        LqrFlm {
            horizon,
            dx,
            du,
            kl_term: KlTerm::zeros(horizon, dx, du),
            reference_log_det: vec![0.0; horizon],
            backward_ws: BackwardWorkspace::new(dx, du),
            forward_ws: ForwardWorkspace::new(dx, du),
            kl_ws: KlWorkspace::new(dx, du),
            buffers: ControllerBuffers::zeros(horizon, dx, du),
            traj: GaussianTrajectory::zeros(horizon, dx, du),
            kl: vec![0.0; horizon],
            failed: vec![0.0; horizon],
            eta: vec![1.0; horizon],
        }
    }

    /// Horizon `T`.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// Set the reference controller of the KL term (checks its sizes).
    pub fn set_reference(&mut self, reference: &LinearGaussianPolicy) -> Result<(), TrajOptError> {
        expect_dim("reference horizon", reference.horizon(), self.horizon)?;
        expect_dim("reference state dimension", reference.state_dim(), self.dx)?;
        expect_dim(
            "reference action dimension",
            reference.action_dim(),
            self.du,
        )?;
        self.kl_term.set_reference(reference);
        self.reference_log_det = reference_log_dets(reference);
        Ok(())
    }

    /// One backward pass at the current `η` (raised in place where `Q_uu` needs it), one forward
    /// pass and the KL to `reference` (which must be the one given to
    /// [`LqrFlm::set_reference`]). Returns the total KL.
    pub fn pass(
        &mut self,
        dynamics: &LinearDynamics,
        cost: &CostModel,
        reference: &LinearGaussianPolicy,
        params: BackwardParams,
    ) -> Result<f64, TrajOptError> {
        backward_pass(
            dynamics,
            cost,
            &self.kl_term,
            &mut self.eta,
            params,
            &mut self.backward_ws,
            &mut self.buffers,
            &mut self.failed,
        )?;
        forward_pass(
            dynamics,
            &self.buffers.gain,
            &self.buffers.offset,
            &self.buffers.cov,
            &mut self.forward_ws,
            &mut self.traj,
        );
        Ok(trajectory_kl_into(
            &self.buffers.gain,
            &self.buffers.offset,
            &self.buffers.cov,
            &self.buffers.log_det,
            reference,
            &self.reference_log_det,
            &self.traj,
            &mut self.kl_ws,
            &mut self.kl,
        ))
    }

    /// The largest η per step that failed to give a PD `Q_uu` in the last pass (0: none).
    pub(crate) fn failed_eta(&self) -> &[f64] {
        &self.failed
    }

    /// Set the η used by the next [`LqrFlm::pass`] (length `T`).
    pub fn set_eta(&mut self, eta: &[f64]) -> Result<(), TrajOptError> {
        expect_dim("eta", eta.len(), self.horizon)?;
        self.eta.copy_from_slice(eta);
        Ok(())
    }

    /// The controller of the last pass.
    pub fn buffers(&self) -> &ControllerBuffers {
        &self.buffers
    }

    /// The forward pass of the last pass.
    pub fn trajectory(&self) -> &GaussianTrajectory {
        &self.traj
    }

    /// The per-step KL of the last pass.
    pub fn kl(&self) -> &[f64] {
        &self.kl
    }

    /// The KL-constrained update: find η (global or per step, per `config.per_step`) such that
    /// the KL to `reference` meets `kl_targets` (per step `ε_t`; with one global η the target is
    /// their sum), starting from `eta_init` (length 1 or `T`).
    ///
    /// On error nothing the caller owns has changed.
    pub fn update(
        &mut self,
        dynamics: &LinearDynamics,
        cost: &CostModel,
        reference: &LinearGaussianPolicy,
        kl_targets: &[f64],
        eta_init: &[f64],
        config: &LqrFlmConfig,
    ) -> Result<LqrFlmResult, TrajOptError> {
        config.validate()?;
        check_model(dynamics, cost, reference)?;
        expect_dim("kl targets", kl_targets.len(), self.horizon)?;
        if let Some(t) = kl_targets.iter().position(|e| !(*e > 0.0 && e.is_finite())) {
            return Err(TrajOptError::Config {
                field: "kl_step",
                reason: format!("the KL target at time step {t} must be finite and > 0"),
            });
        }
        if eta_init.len() != 1 && eta_init.len() != self.horizon {
            return Err(TrajOptError::Dimension {
                field: "initial eta",
                expected: self.horizon,
                got: eta_init.len(),
            });
        }
        expect_finite("initial eta", eta_init, 1)?;
        self.set_reference(reference)?;
        let (iterations, converged) = if config.per_step {
            for t in 0..self.horizon {
                let e = eta_init[t.min(eta_init.len() - 1)];
                self.eta[t] = e.clamp(config.min_eta, config.max_eta);
            }
            self.per_step_search(dynamics, cost, reference, kl_targets, config)?
        } else {
            let e0 = eta_init.iter().sum::<f64>() / eta_init.len() as f64;
            self.eta.fill(e0.clamp(config.min_eta, config.max_eta));
            let target: f64 = kl_targets.iter().sum();
            self.global_search(dynamics, cost, reference, target, config)?
        };
        Ok(LqrFlmResult {
            policy: self.buffers.to_policy()?,
            eta: self.eta.clone(),
            kl: self.kl.clone(),
            kl_total: self.kl.iter().sum(),
            iterations,
            converged,
            trajectory: self.traj.clone(),
        })
    }
}

#[cfg(test)]
mod tests;
