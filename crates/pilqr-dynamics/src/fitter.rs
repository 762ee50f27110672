//! The dynamics fitter used once per iteration and condition.

use faer::Mat;
use pilqr_core::SampleBatch;
use pilqr_linalg::MatStack;
use serde::{Deserialize, Serialize};

use crate::config::DynamicsConfig;
use crate::dynamics_prior::DynamicsPrior;
use crate::error::DynamicsError;
use crate::gmm::{EmReport, EmStart, Gmm};
use crate::initial_state::fit_initial_state;
use crate::linear_dynamics::LinearDynamics;
use crate::regression::{StepPriors, fit_linear_dynamics_into, fit_transitions, step_points};

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFitter", into = "RawFitter")]
pub struct DynamicsFitter {
    config: DynamicsConfig,
    dx: usize,
    du: usize,
    prior: Option<DynamicsPrior>,
    last_report: Option<EmReport>,
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
    pub fn update(
        &mut self,
        batch: &SampleBatch,
        rng_seed: u64,
    ) -> Result<LinearDynamics, DynamicsError> {
        self.update_with(batch, EmStart::Warm(rng_seed))
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
        self.update_with(batch, EmStart::Labels(labels))
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
    ) -> Result<LinearDynamics, DynamicsError> {
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
        let mut out = LinearDynamics::zeros(d.horizon, d.dx, d.du);
        let Some(prior) = &self.prior else {
            fit_linear_dynamics_into(
                batch,
                self.config.regularization,
                self.config.initial_state_var,
                &mut out,
            )?;
            return Ok(out);
        };
        let mut next = prior.clone();
        let (report, resp) = next.update_inner(batch, start)?;
        tracing::debug!(
            initialised = report.initialised,
            iterations = report.iterations,
            stop = ?report.stop,
            components = report.components,
            points = report.points,
            "GMM dynamics prior refit"
        );
        let gmm = next.gmm();
        let k = gmm.num_components();
        let n = batch.len();
        let steps = d.horizon - 1;
        // Mean responsibilities of the batch's points at each step: K x (T−1).
        let mut w = Mat::<f64>::zeros(k, steps);
        if n <= next.config().max_samples {
            // The batch is the newest n trajectories of the buffer: reuse the final E-step.
            let first = next.buffer_len() - n;
            for i in 0..n {
                for t in 0..steps {
                    let row = &resp[((first + i) * steps + t) * k..][..k];
                    for (c, r) in row.iter().enumerate() {
                        w[(c, t)] += r;
                    }
                }
            }
        } else {
            let dj = next.joint_dim();
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
            strength: next.config().strength,
        };
        fit_transitions(batch, self.config.regularization, Some(priors), &mut out)?;
        let x0_prior = next.initial_state();
        let (mu, sigma) =
            fit_initial_state(batch, self.config.initial_state_var, x0_prior.as_ref())?;
        out.x0mu = mu;
        out.x0sigma = MatStack::repeat(1, sigma.as_ref());
        self.prior = Some(next);
        self.last_report = Some(report);
        Ok(out)
    }
}
