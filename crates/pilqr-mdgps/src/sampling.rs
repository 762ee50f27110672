//! What drew a condition's samples in an MDGPS iteration, and the two things the C-step needs
//! to know about it: the density of the sampled actions (PI2's importance weights) and the
//! linear-Gaussian controller whose noise produced them (PILQR's approximated costs).

use std::borrow::Cow;

use pilqr_core::{LinearGaussianPolicy, SampleBatch};
use pilqr_linalg::MatStack;

use crate::error::{MdgpsError, check_finite, check_len};
use crate::global_policy::GlobalPolicy;

/// `½ log 2π`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// The policy that generated a condition's samples.
#[derive(Clone, Copy)]
pub enum SamplingPolicy<'a> {
    /// The condition's local controller (the default).
    Local(&'a LinearGaussianPolicy),
    /// The global policy itself (`sample_on_policy`), with its linearisation around the
    /// samples.
    Global {
        /// The network, `u = μ_θ(o) + chol(Σ_π) ε`.
        policy: &'a dyn GlobalPolicy,
        /// Its linearisation `(pol_K, pol_k, pol_S)` around these samples.
        linear: &'a LinearGaussianPolicy,
    },
}

impl std::fmt::Debug for SamplingPolicy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SamplingPolicy::Local(_) => f.write_str("SamplingPolicy::Local"),
            SamplingPolicy::Global { .. } => f.write_str("SamplingPolicy::Global"),
        }
    }
}

impl SamplingPolicy<'_> {
    /// `log q(u_{i,t} | ·)` of every sample's action under the sampling policy, `[N, T]`
    /// sample-major: the local controller's `N(K x + k, Σ)`, or the network's
    /// `N(μ_θ(o), Σ_π)` at the sample's observation.
    pub fn action_log_density(&self, batch: &SampleBatch) -> Result<Vec<f64>, MdgpsError> {
        match self {
            SamplingPolicy::Local(p) => linear_gaussian_log_density(p, batch),
            SamplingPolicy::Global { policy, .. } => global_log_density(*policy, batch),
        }
    }

    /// The linear-Gaussian controller whose noise `ε` generated the actions: the local
    /// controller itself, or, for the network, its linearisation's gains and offsets with the
    /// network's own covariance `Σ_π` (so that `ε` is re-simulated at the scale it was drawn).
    pub fn noise_controller(&self) -> Result<Cow<'_, LinearGaussianPolicy>, MdgpsError> {
        match self {
            SamplingPolicy::Local(p) => Ok(Cow::Borrowed(*p)),
            SamplingPolicy::Global { policy, linear } => {
                let var = policy.variance();
                let du = linear.action_dim();
                check_len("policy variance", var.len(), du)?;
                let cov = MatStack::from_fn(linear.horizon(), du, du, |_, mut m| {
                    for (j, v) in var.iter().enumerate() {
                        m[(j, j)] = *v;
                    }
                });
                Ok(Cow::Owned(LinearGaussianPolicy::new(
                    linear.gain().clone(),
                    linear.offset().clone(),
                    cov,
                )?))
            }
        }
    }
}

fn check_batch(policy: &LinearGaussianPolicy, batch: &SampleBatch) -> Result<(), MdgpsError> {
    let d = batch.dims();
    check_len("batch horizon", d.horizon, policy.horizon())?;
    check_len("batch state width", d.dx, policy.state_dim())?;
    check_len("batch action width", d.du, policy.action_dim())?;
    Ok(())
}

/// `log N(u; K_t x + k_t, Σ_t)` of every sample's action, `[N, T]` sample-major.
///
/// ```
/// use pilqr_core::{LinearGaussianPolicy, SampleBatch, SampleDims, Trajectory};
/// use pilqr_linalg::{MatStack, VecStack};
///
/// // u ~ N(0, 4): log density of u = 2 is −½·1 − ½ log(2π·4).
/// let p = LinearGaussianPolicy::new(
///     MatStack::zeros(1, 1, 1),
///     VecStack::zeros(1, 1),
///     MatStack::from_fn(1, 1, 1, |_, mut m| m[(0, 0)] = 4.0),
/// )
/// .unwrap();
/// let dims = SampleDims { horizon: 1, dx: 1, du: 1, dobs: 1 };
/// let t = Trajectory { x: vec![0.0], u: vec![2.0], obs: vec![0.0], noise: vec![1.0], cost: vec![0.0] };
/// let batch = SampleBatch::from_trajectories(dims, vec![t]).unwrap();
/// let l = pilqr_mdgps::linear_gaussian_log_density(&p, &batch).unwrap();
/// let want = -0.5 - 0.5 * (2.0 * std::f64::consts::PI * 4.0).ln();
/// assert!((l[0] - want).abs() < 1e-12);
/// ```
pub fn linear_gaussian_log_density(
    policy: &LinearGaussianPolicy,
    batch: &SampleBatch,
) -> Result<Vec<f64>, MdgpsError> {
    check_batch(policy, batch)?;
    let (n, horizon, du) = (batch.len(), batch.horizon(), policy.action_dim());
    let log_dets: Vec<f64> = (0..horizon)
        .map(|t| {
            let l = policy.chol().at(t);
            2.0 * (0..du).map(|j| l[(j, j)].ln()).sum::<f64>()
        })
        .collect();
    let mut out = vec![0.0; n * horizon];
    let mut mean = vec![0.0; du];
    let mut d = vec![0.0; du];
    for i in 0..n {
        for t in 0..horizon {
            policy.mean_action(t, batch.x(i, t), &mut mean)?;
            for ((dj, uj), mj) in d.iter_mut().zip(batch.u(i, t)).zip(&mean) {
                *dj = uj - mj;
            }
            let p = policy.precision().at(t);
            let mut quad = 0.0;
            for a in 0..du {
                for b in 0..du {
                    quad += d[a] * p[(a, b)] * d[b];
                }
            }
            out[i * horizon + t] = -0.5 * quad - 0.5 * log_dets[t] - du as f64 * HALF_LN_2PI;
        }
    }
    check_finite("sampled action log densities", &out)?;
    Ok(out)
}

/// `log N(u; μ_θ(o), diag Σ_π)` of every sample's action, `[N, T]` sample-major.
fn global_log_density(
    policy: &dyn GlobalPolicy,
    batch: &SampleBatch,
) -> Result<Vec<f64>, MdgpsError> {
    let du = batch.dims().du;
    check_len("policy action width", policy.action_dim(), du)?;
    let var = policy.variance();
    check_len("policy variance", var.len(), du)?;
    let mu = policy.mean_actions(batch.obs_all())?;
    let log_det: f64 = var.iter().map(|v| v.ln()).sum();
    let out: Vec<f64> = batch
        .u_all()
        .chunks_exact(du)
        .zip(mu.chunks_exact(du))
        .map(|(u, m)| {
            let quad: f64 = u
                .iter()
                .zip(m)
                .zip(var)
                .map(|((ui, mi), v)| (ui - mi) * (ui - mi) / v)
                .sum();
            -0.5 * quad - 0.5 * log_det - du as f64 * HALF_LN_2PI
        })
        .collect();
    check_finite("sampled action log densities", &out)?;
    Ok(out)
}
