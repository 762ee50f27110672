//! The dynamics fitter used once per iteration and condition.

use faer::Mat;
use pilqr_core::SampleBatch;
use serde::{Deserialize, Serialize};

use crate::config::DynamicsConfig;
use crate::dynamics_prior::DynamicsPrior;
use crate::error::DynamicsError;
use crate::gmm::{EmReport, EmStart, Gmm};
use crate::initial_state::fit_initial_state_into;
use crate::linear_dynamics::LinearDynamics;
use crate::niw_prior::NiwPrior;
use crate::regression::{StepPriors, TransitionWork, fit_transitions, step_points};

/// Fits time-varying linear-Gaussian dynamics to each new batch of samples of one condition,
/// keeping the GMM prior's trajectory buffer and mixture across iterations.
///
/// [`DynamicsFitter::update`]:
/// 1. (with a prior) adds the batch to the buffer (exactly the last `max_samples`
///    trajectories) and refits the GMM over `[x_t; u_t; x_{t+1}]`, warm-started from the last
///    fit when the component count is unchanged;
/// 2. for every `t < T−1`, takes the NIW prior of the batch's points at `t` (their mean
///    responsibilities, taken from the final E-step of the fit) and fits the joint Gaussian's
///    posterior, conditioned to `Fm_t, fv_t, dyn_covar_t` (or, without a prior, plain ridge
///    regression);
/// 3. fits `x0mu, x0sigma` with the initial-state prior.
///
/// **Seed**: `rng_seed` is used only when the GMM is (re)initialised — the first fit, or when
/// the component count changes as the buffer fills — to seed the k-means++ initialisation
/// (`ChaCha8Rng::seed_from_u64(rng_seed)`). Pass a value derived from the run seed, e.g.
/// `RunSeed::derive("gmm", &[iteration, condition])`. Same state + same batch + same seed ⇒
/// bit-identical result.
///
/// The fitter serialises with its buffer and mixture, so a restored checkpoint continues
/// exactly.
///
/// **Storage.** The fitter keeps every buffer an update needs (the prior's trajectory slots
/// and point matrix, EM's iterates and responsibilities, the per-step regression's
/// workspaces) and reuses them, so a warm [`DynamicsFitter::update_into`] — same shapes as
/// the previous call, the buffer full — allocates nothing. These workspaces are not part of
/// the fitter's value: equality and serialisation ignore them, and results never depend on
/// what they held before.
///
/// ```
/// use pilqr_core::{SampleBatch, SampleDims, Trajectory};
/// use pilqr_dynamics::{DynamicsConfig, DynamicsFitter};
///
/// let (t, dx, du) = (6, 2, 1);
/// let dims = SampleDims { horizon: t, dx, du, dobs: 0 };
/// let traj = |i: usize| {
///     let u: Vec<f64> = (0..t).map(|s| ((i * 7 + s * 3) % 5) as f64 * 0.1 - 0.2).collect();
///     let mut x = vec![0.1 * i as f64, -0.05 * i as f64];
///     for s in 0..t - 1 {
///         let (p, v) = (x[2 * s], x[2 * s + 1]);
///         x.extend([p + 0.1 * v, 0.95 * v + 0.1 * u[s]]);
///     }
///     Trajectory { x, u, obs: vec![], noise: vec![0.0; t], cost: vec![0.0; t] }
/// };
/// let batch = SampleBatch::from_trajectories(dims, (0..8).map(traj).collect()).unwrap();
/// let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
/// let dynamics = fitter.update(&batch, 1234).unwrap();
/// assert_eq!(dynamics.fm.len(), t);
/// assert!((dynamics.fm.at(0)[(0, 1)] - 0.1).abs() < 0.05);
/// assert!(fitter.last_em_report().is_some());
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawFitter", into = "RawFitter")]
pub struct DynamicsFitter {
    config: DynamicsConfig,
    dx: usize,
    du: usize,
    prior: Option<DynamicsPrior>,
    last_report: Option<EmReport>,
    /// Storage reused from one update to the next.
    work: FitterWork,
}

impl PartialEq for DynamicsFitter {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.dx == other.dx
            && self.du == other.du
            && self.prior == other.prior
            && self.last_report == other.last_report
    }
}

/// Storage of [`DynamicsFitter`] updates, not part of its value.
#[derive(Clone)]
struct FitterWork {
    /// `K x (T−1)`: the batch's mean responsibilities per step.
    weights: Mat<f64>,
    transitions: TransitionWork,
    x0_prior: NiwPrior,
}

impl Default for FitterWork {
    fn default() -> Self {
        FitterWork {
            weights: Mat::zeros(0, 0),
            transitions: TransitionWork::default(),
            x0_prior: NiwPrior {
                mu0: Vec::new(),
                phi: Mat::zeros(0, 0),
                m: 0.0,
                n0: 0.0,
            },
        }
    }
}

impl std::fmt::Debug for FitterWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitterWork").finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct RawFitter {
    config: DynamicsConfig,
    dx: usize,
    du: usize,
    prior: Option<DynamicsPrior>,
    last_report: Option<EmReport>,
}

impl From<DynamicsFitter> for RawFitter {
    fn from(f: DynamicsFitter) -> Self {
        RawFitter {
            config: f.config,
            dx: f.dx,
            du: f.du,
            prior: f.prior,
            last_report: f.last_report,
        }
    }
}

impl TryFrom<RawFitter> for DynamicsFitter {
    type Error = DynamicsError;
    fn try_from(r: RawFitter) -> Result<Self, DynamicsError> {
        let mut f = DynamicsFitter::new(r.config, r.dx, r.du)?;
        match (&f.prior, r.prior) {
            (None, None) => {}
            (Some(fresh), Some(p)) => {
                if p.config() != fresh.config() || p.joint_dim() != fresh.joint_dim() {
                    return Err(DynamicsError::InvalidConfig {
                        field: "prior",
                        reason: "stored prior does not match the fitter's config or dimensions"
                            .into(),
                    });
                }
                f.prior = Some(p);
            }
            _ => {
                return Err(DynamicsError::InvalidConfig {
                    field: "prior",
                    reason: "stored prior state does not match `config.prior`".into(),
                });
            }
        }
        f.last_report = r.last_report;
        Ok(f)
    }
}

impl DynamicsFitter {
    /// A fitter for state dimension `dx` and action dimension `du`; validates `config`.
    pub fn new(config: DynamicsConfig, dx: usize, du: usize) -> Result<Self, DynamicsError> {
        config.validate()?;
        if dx == 0 {
            return Err(DynamicsError::DimensionMismatch {
                field: "state dimension dX (must be > 0)",
                expected: 1,
                got: 0,
            });
        }
        let prior = match &config.prior {
            Some(p) => Some(DynamicsPrior::new(p.clone(), dx, du)?),
            None => None,
        };
        Ok(DynamicsFitter {
            config,
            dx,
            du,
            prior,
            last_report: None,
            work: FitterWork::default(),
        })
    }

    /// Settings.
    pub fn config(&self) -> &DynamicsConfig {
        &self.config
    }

    /// State dimension `dX`.
    pub fn dx(&self) -> usize {
        self.dx
    }

    /// Action dimension `dU`.
    pub fn du(&self) -> usize {
        self.du
    }

    /// The GMM prior's state (buffer and mixture), when a prior is configured.
    pub fn prior(&self) -> Option<&DynamicsPrior> {
        self.prior.as_ref()
    }

    /// What the last GMM fit did (iterations, log-likelihoods), when a prior is configured.
    pub fn last_em_report(&self) -> Option<&EmReport> {
        self.last_report.as_ref()
    }

    /// Add `batch` to the prior's buffer, refit the prior, and fit this batch's dynamics and
    /// initial state (see the type's documentation; `rng_seed` seeds a GMM initialisation).
    ///
    /// On error the fitter's state is unchanged.
    ///
    /// Allocates the result; [`DynamicsFitter::update_into`] reuses one.
    pub fn update(
        &mut self,
        batch: &SampleBatch,
        rng_seed: u64,
    ) -> Result<LinearDynamics, DynamicsError> {
        let d = batch.dims();
        let mut out = LinearDynamics::zeros(d.horizon, d.dx, d.du);
        self.update_with(batch, EmStart::Warm(rng_seed), &mut out)?;
        Ok(out)
    }

    /// As [`DynamicsFitter::update`], writing the result into `out`, whose storage is reused
    /// when its shapes match the batch (otherwise it is reallocated). A warm call (same shapes
    /// as the last one, the prior's buffer full, EM warm-started) allocates nothing; what
    /// still allocates is a fresh GMM initialisation (the first fit, or a change of the
    /// component count) and a batch of more than `max_samples` trajectories, whose points are
    /// evaluated apart from the buffer's. The result is bit-identical to
    /// [`DynamicsFitter::update`]'s.
    ///
    /// On error the fitter's state is unchanged and `out` holds unspecified (finite or not)
    /// values of the right shape.
    ///
    /// ```
    /// use pilqr_core::{SampleBatch, SampleDims, Trajectory};
    /// use pilqr_dynamics::{DynamicsConfig, DynamicsFitter, LinearDynamics};
    ///
    /// let (t, dx, du) = (5, 1, 1);
    /// let dims = SampleDims { horizon: t, dx, du, dobs: 0 };
    /// let traj = |i: usize| {
    ///     let u: Vec<f64> = (0..t).map(|s| ((i * 5 + s * 3) % 7) as f64 * 0.1 - 0.3).collect();
    ///     let mut x = vec![0.1 * i as f64];
    ///     for s in 0..t - 1 {
    ///         x.push(0.9 * x[s] + 0.2 * u[s]);
    ///     }
    ///     Trajectory { x, u, obs: vec![], noise: vec![0.0; t], cost: vec![0.0; t] }
    /// };
    /// let batch = SampleBatch::from_trajectories(dims, (0..6).map(traj).collect()).unwrap();
    /// let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    /// let mut twin = fitter.clone();
    /// let mut out = LinearDynamics::zeros(t, dx, du);
    /// fitter.update_into(&batch, 7, &mut out).unwrap();
    /// assert_eq!(out, twin.update(&batch, 7).unwrap());
    /// ```
    pub fn update_into(
        &mut self,
        batch: &SampleBatch,
        rng_seed: u64,
        out: &mut LinearDynamics,
    ) -> Result<(), DynamicsError> {
        self.update_with(batch, EmStart::Warm(rng_seed), out)
    }

    /// As [`DynamicsFitter::update`], but the prior's EM starts from the components that
    /// `labels` imply (one label per buffered transition point after the batch is added; see
    /// [`DynamicsPrior::update_from_labels`]), so a fit from another implementation's initial
    /// clustering can be reproduced. Without a configured prior the labels are ignored.
    ///
    /// On error the fitter's state is unchanged.
    pub fn update_from_labels(
        &mut self,
        batch: &SampleBatch,
        labels: &[usize],
    ) -> Result<LinearDynamics, DynamicsError> {
        let d = batch.dims();
        let mut out = LinearDynamics::zeros(d.horizon, d.dx, d.du);
        self.update_with(batch, EmStart::Labels(labels), &mut out)?;
        Ok(out)
    }

    /// Replace the prior's mixture by `gmm` (a saved one, or one fitted elsewhere), so the
    /// next update warm-starts from it (see [`DynamicsPrior::set_mixture`]).
    ///
    /// # Errors
    /// [`DynamicsError::InvalidConfig`] when no prior is configured, and the errors of
    /// [`DynamicsPrior::set_mixture`].
    pub fn set_prior_mixture(&mut self, gmm: Gmm) -> Result<(), DynamicsError> {
        match &mut self.prior {
            Some(p) => p.set_mixture(gmm),
            None => Err(DynamicsError::InvalidConfig {
                field: "prior",
                reason: "no GMM prior is configured, so there is no mixture to set".into(),
            }),
        }
    }

    fn update_with(
        &mut self,
        batch: &SampleBatch,
        start: EmStart<'_>,
        out: &mut LinearDynamics,
    ) -> Result<(), DynamicsError> {
        let d = batch.dims();
        if d.dx != self.dx || d.du != self.du {
            return Err(DynamicsError::DimensionMismatch {
                field: if d.dx != self.dx {
                    "batch state dimension dX"
                } else {
                    "batch action dimension dU"
                },
                expected: if d.dx != self.dx { self.dx } else { self.du },
                got: if d.dx != self.dx { d.dx } else { d.du },
            });
        }
        if d.horizon < 2 {
            return Err(DynamicsError::HorizonTooShort { horizon: d.horizon });
        }
        out.prepare(d.horizon, d.dx, d.du);
        let Some(prior) = &mut self.prior else {
            fit_transitions(
                batch,
                self.config.regularization,
                None,
                out,
                &mut self.work.transitions,
            )?;
            return fit_initial_state_into(
                batch,
                self.config.initial_state_var,
                None,
                &mut out.x0mu,
                out.x0sigma.at_mut(0),
            );
        };
        // Every input is checked before anything changes; a numerical failure after the
        // prior's refit rolls the refit back (its storage is swapped back, not copied).
        prior.stage(batch, start)?;
        match fit_with_prior(prior, &self.config, &mut self.work, batch, out) {
            Ok(()) => prior.commit(),
            Err(e) => {
                prior.rollback();
                return Err(e);
            }
        }
        let report = prior.gmm().last_report();
        tracing::debug!(
            initialised = report.initialised,
            iterations = report.iterations,
            stop = ?report.stop,
            components = report.components,
            points = report.points,
            "GMM dynamics prior refit"
        );
        match &mut self.last_report {
            Some(r) => r.copy_from(report),
            None => self.last_report = Some(report.clone()),
        }
        Ok(())
    }
}

/// The per-step regression with the (just refitted) prior, and the initial state, into `out`.
fn fit_with_prior(
    prior: &DynamicsPrior,
    config: &DynamicsConfig,
    work: &mut FitterWork,
    batch: &SampleBatch,
    out: &mut LinearDynamics,
) -> Result<(), DynamicsError> {
    let gmm = prior.gmm();
    let k = gmm.num_components();
    let n = batch.len();
    let steps = batch.horizon() - 1;
    // Mean responsibilities of the batch's points at each step: K x (T−1).
    let w = &mut work.weights;
    if w.nrows() != k || w.ncols() != steps {
        *w = Mat::zeros(k, steps);
    } else {
        w.fill(0.0);
    }
    if n <= prior.config().max_samples {
        // The batch is the newest n trajectories of the buffer: reuse the final E-step.
        let resp = gmm.last_responsibilities();
        let first = prior.buffer_len() - n;
        for i in 0..n {
            for t in 0..steps {
                let row = &resp[((first + i) * steps + t) * k..][..k];
                for (c, r) in row.iter().enumerate() {
                    w[(c, t)] += r;
                }
            }
        }
    } else {
        // A batch larger than the buffer (rare): its points are evaluated afresh.
        let dj = prior.joint_dim();
        let mut pts = Mat::zeros(dj, n * steps);
        let mut tmp = Mat::zeros(dj, n);
        for t in 0..steps {
            step_points(batch, t, &mut tmp);
            for i in 0..n {
                pts.col_as_slice_mut(i * steps + t)
                    .copy_from_slice(tmp.col_as_slice(i));
            }
        }
        let (r, _) = gmm.responsibilities_flat(pts.as_ref())?;
        for i in 0..n {
            for t in 0..steps {
                let row = &r[(i * steps + t) * k..][..k];
                for (c, v) in row.iter().enumerate() {
                    w[(c, t)] += v;
                }
            }
        }
    }
    for t in 0..steps {
        for c in 0..k {
            w[(c, t)] /= n as f64;
        }
    }
    let priors = StepPriors {
        gmm,
        weights: w.as_ref(),
        strength: prior.config().strength,
    };
    fit_transitions(
        batch,
        config.regularization,
        Some(priors),
        out,
        &mut work.transitions,
    )?;
    let x0_prior = prior
        .initial_state_into(&mut work.x0_prior)
        .then_some(&work.x0_prior);
    fit_initial_state_into(
        batch,
        config.initial_state_var,
        x0_prior,
        &mut out.x0mu,
        out.x0sigma.at_mut(0),
    )
}
