//! The LQR-FLM solver: preallocated buffers for one `(T, dX, dU)`, one backward + forward pass,
//! and the KL-constrained update.

use faer::Mat;
use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack, matmul_into, symmetrize};

use crate::error::{TrajOptError, expect_dim, expect_finite};
use crate::lqr_flm::backward::{
    BackwardParams, BackwardWorkspace, EtaMode, EtaRule, StepSolutions, backward_pass,
};
use crate::lqr_flm::forward::{
    ForwardWorkspace, GaussianTrajectory, fill_actions, forward_solve, forward_states,
};
use crate::lqr_flm::relative_model::RelativeModel;
use crate::lqr_flm::step_kl::StepKl;
use crate::lqr_flm::{LqrFlmConfig, LqrFlmResult, check_model};

/// A controller in absolute coordinates, with `log det Σ_t` so that the KL needs no further
/// factorisation.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerBuffers {
    /// Gains `K [T,dU,dX]`.
    pub gain: MatStack,
    /// Feed-forward terms `k [T,dU]`.
    pub offset: VecStack,
    /// Covariances `Σ [T,dU,dU]`.
    pub cov: MatStack,
    /// `log det Σ_t`.
    pub log_det: Vec<f64>,
}

impl ControllerBuffers {
    /// Zero buffers.
    pub fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        ControllerBuffers {
            gain: MatStack::zeros(horizon, du, dx),
            offset: VecStack::zeros(horizon, du),
            cov: MatStack::zeros(horizon, du, du),
            log_det: vec![0.0; horizon],
        }
    }

    /// Build the validated policy.
    pub fn to_policy(&self) -> Result<LinearGaussianPolicy, TrajOptError> {
        Ok(LinearGaussianPolicy::new(
            self.gain.clone(),
            self.offset.clone(),
            self.cov.clone(),
        )?)
    }
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
    pub(crate) model: RelativeModel,
    backward_ws: BackwardWorkspace,
    forward_ws: ForwardWorkspace,
    pub(crate) sol: StepSolutions,
    buffers: ControllerBuffers,
    pub(crate) traj: GaussianTrajectory,
    pub(crate) kl: Vec<f64>,
    failed: Vec<f64>,
    pub(crate) eta: Vec<f64>,
    kl_a: VecStack,
    ls: Mat<f64>,
}

impl LqrFlm {
    /// A solver for horizon `T`, state `dX`, action `dU`.
    pub fn new(horizon: usize, dx: usize, du: usize) -> Self {
        LqrFlm {
            horizon,
            dx,
            du,
            model: RelativeModel::zeros(horizon, dx, du),
            backward_ws: BackwardWorkspace::new(dx, du),
            forward_ws: ForwardWorkspace::new(dx, du),
            sol: StepSolutions::zeros(horizon, dx, du),
            buffers: ControllerBuffers::zeros(horizon, dx, du),
            traj: GaussianTrajectory::zeros(horizon, dx, du),
            kl: vec![0.0; horizon],
            failed: vec![0.0; horizon],
            eta: vec![1.0; horizon],
            kl_a: VecStack::zeros(horizon, du),
            ls: Mat::zeros(du, du),
        }
    }

    /// Horizon `T`.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// Check the sizes and values of a model, a cost and the reference controller of the KL
    /// term, and precompute everything about them that does not depend on η.
    pub fn prepare(
        &mut self,
        dynamics: &LinearDynamics,
        cost: &CostModel,
        reference: &LinearGaussianPolicy,
    ) -> Result<(), TrajOptError> {
        expect_dim("reference horizon", reference.horizon(), self.horizon)?;
        expect_dim("reference state dimension", reference.state_dim(), self.dx)?;
        expect_dim(
            "reference action dimension",
            reference.action_dim(),
            self.du,
        )?;
        check_model(dynamics, cost, reference)?;
        self.model.set(dynamics, cost, reference);
        Ok(())
    }

    /// One backward pass at the current `η` (raised in place where `Q_uu` needs it), one
    /// forward pass and the KL to the reference, on the problem given to
    /// [`LqrFlm::prepare`]. Returns the total KL.
    pub fn pass(&mut self, params: BackwardParams) -> Result<f64, TrajOptError> {
        let total = self.run_pass(EtaRule::Fixed, params)?;
        self.finish()?;
        Ok(total)
    }

    /// Backward pass with `rule`, forward pass of the state marginals, per-step KL.
    pub(crate) fn run_pass(
        &mut self,
        rule: EtaRule<'_>,
        params: BackwardParams,
    ) -> Result<f64, TrajOptError> {
        backward_pass(
            &self.model,
            &mut self.eta,
            rule,
            params,
            &mut self.backward_ws,
            &mut self.sol,
            &mut self.failed,
        )?;
        Ok(self.refresh_marginals(params.omega))
    }

    /// Backward pass at the current η with [`EtaRule::Fixed`], or solving each `η_t` for
    /// `targets[t]` under the (stale) marginals of the last forward pass.
    pub(crate) fn backward_only(
        &mut self,
        targets: Option<&[f64]>,
        params: BackwardParams,
    ) -> Result<(), TrajOptError> {
        let rule = match targets {
            Some(targets) => EtaRule::Solve {
                targets,
                states: &self.traj,
            },
            None => EtaRule::Fixed,
        };
        backward_pass(
            &self.model,
            &mut self.eta,
            rule,
            params,
            &mut self.backward_ws,
            &mut self.sol,
            &mut self.failed,
        )
    }

    /// Forward pass of the state marginals under the current solution, then the per-step KL.
    fn refresh_marginals(&mut self, omega: f64) -> f64 {
        self.forward_marginals();
        self.evaluate_kl(omega)
    }

    /// Forward pass of the state marginals (and the KL coefficients) of the current solution.
    fn forward_marginals(&mut self) {
        forward_states(
            &self.model,
            &self.sol,
            &mut self.forward_ws,
            &mut self.traj,
            &mut self.kl_a,
        );
    }

    /// A forward sweep that checks every step's KL under exact marginals and re-solves the `η_t`
    /// of those off their target by more than `tol` (see [`forward_solve`]); returns how many
    /// changed.
    pub(crate) fn forward_solve_pass(
        &mut self,
        targets: &[f64],
        params: BackwardParams,
        tol: f64,
    ) -> usize {
        forward_solve(
            &self.model,
            &mut self.sol,
            &mut self.eta,
            targets,
            params,
            tol,
            &mut self.forward_ws,
            &mut self.traj,
            &mut self.kl,
        )
    }

    /// The state marginals of the reference controller itself (`z ~ N(0, I)`), into `traj`.
    pub(crate) fn reference_states(&mut self) {
        self.sol.gain.fill_zero();
        self.sol.offset.fill_zero();
        for t in 0..self.horizon {
            let mut s = self.sol.cov_sqrt.at_mut(t);
            s.fill(0.0);
            for i in 0..self.du {
                s[(i, i)] = 1.0;
            }
        }
        self.forward_marginals();
    }

    /// Per-step KL of the last backward pass's controller under the marginals in `traj`, from
    /// the coefficients the forward pass left in `kl_a`.
    fn evaluate_kl(&mut self, omega: f64) -> f64 {
        let mut total = 0.0;
        for t in 0..self.horizon {
            let kl = StepKl {
                lambda: self.sol.lambda.at(t),
                a: self.kl_a.at(t),
                omega,
            }
            .value(self.eta[t]);
            self.kl[t] = kl;
            total += kl;
        }
        total
    }

    /// Turn the last pass's controller into absolute coordinates (`K = K̄ + L̄K̃`,
    /// `k = k̄ + L̄k̃`, `Σ = L̄Σ̃L̄ᵀ`, `log det Σ = log det Σ̄ + Σ log r_i`).
    pub(crate) fn finish(&mut self) -> Result<(), TrajOptError> {
        let m = &self.model;
        for t in 0..self.horizon {
            let l = m.ref_chol.at(t);
            let mut gain = self.buffers.gain.at_mut(t);
            gain.copy_from(m.ref_gain.at(t));
            matmul_into(gain.as_mut(), l, self.sol.gain.at(t), 1.0, true);
            let off = self.buffers.offset.at_mut(t);
            let (kbar, ktil) = (m.ref_offset.at(t), self.sol.offset.at(t));
            for i in 0..self.du {
                off[i] = kbar[i] + (0..=i).map(|j| l[(i, j)] * ktil[j]).sum::<f64>();
            }
            matmul_into(self.ls.as_mut(), l, self.sol.cov_sqrt.at(t), 1.0, false);
            let mut cov = self.buffers.cov.at_mut(t);
            matmul_into(
                cov.as_mut(),
                self.ls.as_ref(),
                self.ls.transpose(),
                1.0,
                false,
            );
            symmetrize(cov);
            let s = self.sol.cov_sqrt.at(t);
            // log det Σ̃ = log det (S Sᵀ) = Σ log r_i, with r_i = |S e_i|² (U orthonormal).
            let log_det_z: f64 = (0..self.du)
                .map(|i| {
                    (0..self.du)
                        .map(|k| s[(k, i)] * s[(k, i)])
                        .sum::<f64>()
                        .ln()
                })
                .sum();
            self.buffers.log_det[t] = m.ref_log_det[t] + log_det_z;
        }
        for (field, values) in [
            ("new controller gains", self.buffers.gain.as_slice()),
            ("new controller covariance", self.buffers.cov.as_slice()),
        ] {
            expect_finite(field, values, values.len() / self.horizon)?;
        }
        Ok(())
    }

    /// The largest η per step found too small for a positive-definite `Q_uu` in the last pass
    /// (0: none).
    pub(crate) fn failed_eta(&self) -> &[f64] {
        &self.failed
    }

    /// Set the η used by the next [`LqrFlm::pass`] (length `T`).
    pub fn set_eta(&mut self, eta: &[f64]) -> Result<(), TrajOptError> {
        expect_dim("eta", eta.len(), self.horizon)?;
        self.eta.copy_from_slice(eta);
        Ok(())
    }

    /// The controller of the last [`LqrFlm::pass`] or [`LqrFlm::update`].
    pub fn buffers(&self) -> &ControllerBuffers {
        &self.buffers
    }

    /// The state marginals of the last [`LqrFlm::pass`] or [`LqrFlm::update`] (the `x` blocks
    /// of a [`GaussianTrajectory`]; an update's result carries the complete one).
    pub fn state_marginals(&self) -> &GaussianTrajectory {
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
        self.prepare(dynamics, cost, reference)?;
        let (iterations, forward_passes, converged) = if config.per_step {
            for t in 0..self.horizon {
                let e = eta_init[t.min(eta_init.len() - 1)];
                self.eta[t] = e.clamp(config.min_eta, config.max_eta);
            }
            self.per_step_search(kl_targets, config)?
        } else {
            let e0 = eta_init.iter().sum::<f64>() / eta_init.len() as f64;
            self.eta.fill(e0.clamp(config.min_eta, config.max_eta));
            let target: f64 = kl_targets.iter().sum();
            let (passes, converged) = self.global_search(target, config)?;
            (passes, passes, converged)
        };
        self.finish()?;
        fill_actions(
            &self.buffers.gain,
            &self.buffers.offset,
            &self.buffers.cov,
            &mut self.forward_ws,
            &mut self.traj,
        );
        Ok(LqrFlmResult {
            policy: self.buffers.to_policy()?,
            eta: self.eta.clone(),
            kl: self.kl.clone(),
            kl_total: self.kl.iter().sum(),
            iterations,
            forward_passes,
            converged,
            trajectory: self.traj.clone(),
        })
    }

    /// Parameters of the passes of a search.
    pub(crate) fn params(config: &LqrFlmConfig, mode: EtaMode) -> BackwardParams {
        BackwardParams {
            omega: config.omega,
            min_eta: config.min_eta,
            max_eta: config.max_eta,
            mode,
            value_function: config.value_function,
        }
    }
}

/// Max-entropy LQR without a KL term (`η = 0`): `K = −Q_uu⁻¹Q_ux`, `k = −Q_uu⁻¹q_u`,
/// `Σ = ω Q_uu⁻¹`, with `omega > 0`. A `Q_uu` that is not positive definite at some step is
/// [`TrajOptError::NotPositiveDefinite`].
pub fn max_entropy_lqr(
    dynamics: &LinearDynamics,
    cost: &CostModel,
    omega: f64,
) -> Result<LinearGaussianPolicy, TrajOptError> {
    if !(omega > 0.0 && omega.is_finite()) {
        return Err(TrajOptError::Config {
            field: "omega",
            reason: "must be finite and > 0".into(),
        });
    }
    let (t, dx, du) = (dynamics.horizon(), dynamics.dx(), dynamics.du());
    // With a zero-mean, unit-covariance reference and η = 0, the relative coordinates are the
    // absolute ones and the KL term vanishes.
    let reference = LinearGaussianPolicy::new(
        MatStack::zeros(t, du, dx),
        VecStack::zeros(t, du),
        MatStack::repeat(t, Mat::<f64>::identity(du, du).as_ref()),
    )?;
    let mut solver = LqrFlm::new(t, dx, du);
    solver.prepare(dynamics, cost, &reference)?;
    solver.eta.fill(0.0);
    solver.pass(BackwardParams {
        omega,
        min_eta: 0.0,
        max_eta: 0.0,
        mode: EtaMode::PerStep,
        value_function: crate::lqr_flm::ValueFunction::Lagrangian,
    })?;
    solver.buffers.to_policy()
}
