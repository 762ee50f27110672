//! The policy linearisation: a time-varying linear-Gaussian fit `(pol_K, pol_k, pol_S)` of the
//! global policy around a condition's samples, with a GMM prior over `[x; μ_θ(o)]`.

use std::collections::VecDeque;

use pilqr_core::{LinearGaussianPolicy, SampleBatch};
use pilqr_dynamics::{ConditionalRegressor, DynamicsError, EmReport, Gmm, GmmPriorConfig};
use pilqr_linalg::faer::Mat;
use pilqr_linalg::{MatStack, VecStack};
use serde::{Deserialize, Serialize};

use crate::error::{MdgpsError, check_finite, check_len};
use crate::global_policy::GlobalPolicy;

/// Ridge added to the state block of the joint covariance at `t = 0` only, where the samples'
/// states may coincide (docs/design.md §4.6).
pub const FIRST_STEP_RIDGE: f64 = 1e-8;

/// Which samples the policy prior's buffer holds (`policy_sample_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PolicySampleMode {
    /// Accumulate: keep the last `max_samples` samples across iterations.
    #[default]
    Add,
    /// Hold only the current iteration's samples.
    Replace,
}

/// Settings of the policy prior: the mixture and buffer settings shared with the dynamics
/// prior (`max_clusters`, `min_samples_per_cluster`, `max_samples`, `strength`, EM settings)
/// and the buffer mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyPriorConfig {
    /// Mixture, buffer size and prior strength.
    pub gmm: GmmPriorConfig,
    /// `add` or `replace`.
    pub mode: PolicySampleMode,
}

/// One buffered sample: states `T·dX` and observations `T·dO`, step-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BufferedSample {
    x: Vec<f64>,
    obs: Vec<f64>,
}

/// The policy prior of one condition (docs/design.md §4.6), and the linearisation it supports.
///
/// [`PolicyPriorGmm::update`] adds a batch's samples to the buffer (or replaces it, by
/// [`PolicySampleMode`]; at most `max_samples` samples, the newest) and refits a [`Gmm`] over
/// the points `[x_t; μ_θ(o_t)]` of every buffered sample and step, with the *current* policy's
/// means (warm start when the component count is unchanged).
/// [`PolicyPriorGmm::linearize`] then fits, for every step, the joint Gaussian of the batch's
/// `[x_t; μ_θ(o_t)]` with the NIW prior the mixture gives for those points, conditions it on
/// `x_t` (ridge 1e-8 on the `x` block at `t = 0`), and adds `Σ_π` to the conditional
/// covariance: the linear-Gaussian policy `N(pol_K x + pol_k, pol_S)` that the C-step's KL
/// term is taken against.
///
/// The prior serialises with its buffer and mixture, so a restored checkpoint continues
/// exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPolicyPrior", into = "RawPolicyPrior")]
pub struct PolicyPriorGmm {
    config: PolicyPriorConfig,
    dx: usize,
    dobs: usize,
    horizon: usize,
    buffer: VecDeque<BufferedSample>,
    gmm: Gmm,
}

/// Serialised form of [`PolicyPriorGmm`], validated on the way in.
#[derive(Serialize, Deserialize)]
struct RawPolicyPrior {
    config: PolicyPriorConfig,
    dx: usize,
    dobs: usize,
    horizon: usize,
    buffer: VecDeque<BufferedSample>,
    gmm: Gmm,
}

impl From<PolicyPriorGmm> for RawPolicyPrior {
    fn from(p: PolicyPriorGmm) -> Self {
        RawPolicyPrior {
            config: p.config,
            dx: p.dx,
            dobs: p.dobs,
            horizon: p.horizon,
            buffer: p.buffer,
            gmm: p.gmm,
        }
    }
}

impl TryFrom<RawPolicyPrior> for PolicyPriorGmm {
    type Error = MdgpsError;
    fn try_from(r: RawPolicyPrior) -> Result<Self, MdgpsError> {
        let mut p = PolicyPriorGmm::new(r.config, r.dx, r.dobs)?;
        if r.buffer.len() > p.config.gmm.max_samples {
            return Err(MdgpsError::Inconsistent {
                reason: format!(
                    "{} buffered samples, more than max_samples = {}",
                    r.buffer.len(),
                    p.config.gmm.max_samples
                ),
            });
        }
        for s in &r.buffer {
            check_len("buffered states", s.x.len(), r.horizon * r.dx)?;
            check_len("buffered observations", s.obs.len(), r.horizon * r.dobs)?;
            check_finite("buffered states", &s.x)?;
            check_finite("buffered observations", &s.obs)?;
        }
        if r.gmm.is_fitted() && r.gmm.dim() <= r.dx {
            return Err(MdgpsError::Inconsistent {
                reason: format!("mixture dimension {} leaves no action entry", r.gmm.dim()),
            });
        }
        p.horizon = r.horizon;
        p.buffer = r.buffer;
        p.gmm = r.gmm;
        Ok(p)
    }
}

impl PolicyPriorGmm {
    /// An empty prior for states of width `dx` and observations of width `dobs`.
    pub fn new(config: PolicyPriorConfig, dx: usize, dobs: usize) -> Result<Self, MdgpsError> {
        config.gmm.validate()?;
        if dx == 0 || dobs == 0 {
            return Err(MdgpsError::InvalidConfig {
                field: "dimensions",
                reason: format!("state ({dx}) and observation ({dobs}) widths must be positive"),
            });
        }
        let gmm = Gmm::new(config.gmm.gmm_config());
        Ok(PolicyPriorGmm {
            config,
            dx,
            dobs,
            horizon: 0,
            buffer: VecDeque::new(),
            gmm,
        })
    }

    /// Settings.
    pub fn config(&self) -> &PolicyPriorConfig {
        &self.config
    }

    /// Number of buffered samples (at most `max_samples`).
    pub fn buffer_len(&self) -> usize {
        self.buffer.len()
    }

    /// The mixture over `[x; μ_θ(o)]`.
    pub fn gmm(&self) -> &Gmm {
        &self.gmm
    }

    fn check_batch(
        &self,
        batch: &SampleBatch,
        policy: &dyn GlobalPolicy,
    ) -> Result<(), MdgpsError> {
        let d = batch.dims();
        check_len("batch state width", d.dx, self.dx)?;
        check_len("batch observation width", d.dobs, self.dobs)?;
        check_len("policy observation width", policy.obs_dim(), self.dobs)?;
        check_len("policy action width", policy.action_dim(), d.du)?;
        Ok(())
    }

    /// Buffer `batch` (by the mode) and refit the mixture over `[x_t; μ_θ(o_t)]` with `policy`'s
    /// current means. `seed` seeds the mixture's initialisation when it is (re)initialised;
    /// derive it from the run seed. On error the prior is unchanged.
    pub fn update(
        &mut self,
        batch: &SampleBatch,
        policy: &dyn GlobalPolicy,
        seed: u64,
    ) -> Result<EmReport, MdgpsError> {
        self.check_batch(batch, policy)?;
        let mut next = self.clone();
        if next.config.mode == PolicySampleMode::Replace {
            next.buffer.clear();
        } else if !next.buffer.is_empty() && next.horizon != batch.horizon() {
            return Err(MdgpsError::Dimension {
                what: "batch horizon (must match the buffered samples)".into(),
                expected: next.horizon,
                got: batch.horizon(),
            });
        }
        next.horizon = batch.horizon();
        let keep = next.config.gmm.max_samples;
        let t = batch.horizon();
        for i in batch.len().saturating_sub(keep)..batch.len() {
            next.buffer.push_back(BufferedSample {
                x: batch.x_all()[i * t * next.dx..(i + 1) * t * next.dx].to_vec(),
                obs: batch.obs_all()[i * t * next.dobs..(i + 1) * t * next.dobs].to_vec(),
            });
        }
        while next.buffer.len() > keep {
            next.buffer.pop_front();
        }
        let points = next.points(policy)?;
        let k = next.config.gmm.cluster_count(points.ncols());
        let report = next.gmm.update(points.as_ref(), k, seed)?;
        *self = next;
        Ok(report)
    }

    /// The buffer's points `[x_t; μ_θ(o_t)]` as a `(dX + dU) x (N·T)` matrix.
    fn points(&self, policy: &dyn GlobalPolicy) -> Result<Mat<f64>, MdgpsError> {
        let (dx, du, t) = (self.dx, policy.action_dim(), self.horizon);
        let mut m = Mat::zeros(dx + du, self.buffer.len() * t);
        for (j, s) in self.buffer.iter().enumerate() {
            let mu = policy.mean_actions(&s.obs)?;
            for step in 0..t {
                let col = m.col_as_slice_mut(j * t + step);
                col[..dx].copy_from_slice(&s.x[step * dx..(step + 1) * dx]);
                col[dx..].copy_from_slice(&mu[step * du..(step + 1) * du]);
            }
        }
        Ok(m)
    }

    /// Linearise `policy` around `batch` (at least 2 samples): per step, regression of
    /// `μ_θ(o_t)` on `x_t` with the mixture's NIW prior, `pol_S = Σ_{μ|x} + Σ_π`. Needs a prior
    /// fitted by [`PolicyPriorGmm::update`].
    pub fn linearize(
        &self,
        batch: &SampleBatch,
        policy: &dyn GlobalPolicy,
    ) -> Result<LinearGaussianPolicy, MdgpsError> {
        self.check_batch(batch, policy)?;
        if !self.gmm.is_fitted() {
            return Err(DynamicsError::NotFitted.into());
        }
        let n = batch.len();
        if n < 2 {
            return Err(MdgpsError::NoData {
                reason: format!("the policy linearisation needs at least 2 samples, got {n}"),
            });
        }
        let (dx, du, horizon) = (self.dx, policy.action_dim(), batch.horizon());
        let variance = policy.variance();
        check_len("policy variance", variance.len(), du)?;
        check_finite("policy variance", variance)?;
        let mu = policy.mean_actions(batch.obs_all())?;
        // Every point `[x_t; μ_θ(o_t)]` of the batch, column `i·T + t`: the mixture's
        // responsibilities are computed for all of them at once (one factorisation of the
        // components instead of one per step), then averaged per step.
        let mut all = Mat::zeros(dx + du, n * horizon);
        for i in 0..n {
            for t in 0..horizon {
                let col = all.col_as_slice_mut(i * horizon + t);
                col[..dx].copy_from_slice(batch.x(i, t));
                let r = (i * horizon + t) * du;
                col[dx..].copy_from_slice(&mu[r..r + du]);
            }
        }
        let resp = self.gmm.responsibilities(all.as_ref())?;
        let k = self.gmm.num_components();
        let mut gain = MatStack::zeros(horizon, du, dx);
        let mut offset = VecStack::zeros(horizon, du);
        let mut cov = MatStack::zeros(horizon, du, du);
        let mut regressor = ConditionalRegressor::new(dx, du);
        let mut pts = Mat::zeros(dx + du, n);
        let mut w = vec![0.0; k];
        for t in 0..horizon {
            w.fill(0.0);
            for i in 0..n {
                pts.col_as_slice_mut(i)
                    .copy_from_slice(all.col_as_slice(i * horizon + t));
                for (c, wc) in w.iter_mut().enumerate() {
                    *wc += resp[(i * horizon + t, c)];
                }
            }
            w.iter_mut().for_each(|v| *v /= n as f64);
            let at = |e: DynamicsError| MdgpsError::from(e.at_step(t));
            let prior = self
                .gmm
                .inference_from_weights(&w)
                .map_err(at)?
                .with_strength(self.config.gmm.strength);
            let ridge = if t == 0 { FIRST_STEP_RIDGE } else { 0.0 };
            regressor
                .fit_into_slices(
                    pts.as_ref(),
                    Some(&prior),
                    ridge,
                    gain.at_mut(t),
                    offset.at_mut(t),
                    cov.at_mut(t),
                )
                .map_err(at)?;
            let mut c = cov.at_mut(t);
            for j in 0..du {
                c[(j, j)] += variance[j];
            }
        }
        Ok(LinearGaussianPolicy::new(gain, offset, cov)?)
    }
}
