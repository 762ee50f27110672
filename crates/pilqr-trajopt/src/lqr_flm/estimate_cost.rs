//! Expected cost of a controller under the linear model (docs/design.md §4.3 step 6).
//!
//! With `[x_t; u_t] ~ N(μ_t, S_t)` from the forward pass, the expected quadratic cost at step t
//! is `½ tr(Cm_t S_t) + ½ μ_tᵀ Cm_t μ_t + μ_tᵀ cv_t + cc_t`.

use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;

use crate::error::TrajOptError;
use crate::lqr_flm::{ForwardWorkspace, GaussianTrajectory, check_model, forward_pass};

/// Expected per-step costs of the Gaussian trajectory `traj` under `cost`.
pub fn expected_costs(traj: &GaussianTrajectory, cost: &CostModel) -> Vec<f64> {
    (0..cost.horizon())
        .map(|t| {
            let cm = cost.cm.at(t);
            let s = traj.sigma.at(t);
            let n = cm.nrows();
            let mut tr = 0.0;
            for j in 0..n {
                for i in 0..n {
                    tr += cm[(i, j)] * s[(j, i)];
                }
            }
            0.5 * tr + cost.eval(t, traj.mu.at(t))
        })
        .collect()
}

/// Expected total cost of `policy` under the linear `dynamics` and the quadratic `cost`, and
/// its per-step parts.
///
/// ```
/// use faer::mat;
/// use pilqr_core::{CostModel, LinearGaussianPolicy};
/// use pilqr_dynamics::LinearDynamics;
/// use pilqr_linalg::{MatStack, VecStack};
/// use pilqr_trajopt::estimate_cost;
///
/// // One step, x ~ N(0, 1), u ~ N(0, 4), cost ½ x² + ½ u²: expected ½ + 2.
/// let dynamics = LinearDynamics::zeros(1, 1, 1);
/// let mut cost = CostModel::zeros(1, 1, 1);
/// cost.cm.at_mut(0)[(0, 0)] = 1.0;
/// cost.cm.at_mut(0)[(1, 1)] = 1.0;
/// let policy = LinearGaussianPolicy::new(
///     MatStack::zeros(1, 1, 1), VecStack::zeros(1, 1), MatStack::repeat(1, mat![[4.0]].as_ref()),
/// ).unwrap();
/// let (total, _) = estimate_cost(&policy, &dynamics, &cost).unwrap();
/// assert!((total - 2.5).abs() < 1e-12);
/// ```
pub fn estimate_cost(
    policy: &LinearGaussianPolicy,
    dynamics: &LinearDynamics,
    cost: &CostModel,
) -> Result<(f64, Vec<f64>), TrajOptError> {
    check_model(dynamics, cost, policy)?;
    let (t, dx, du) = (policy.horizon(), policy.state_dim(), policy.action_dim());
    let mut traj = GaussianTrajectory::zeros(t, dx, du);
    forward_pass(
        dynamics,
        policy.gain(),
        policy.offset(),
        policy.cov(),
        &mut ForwardWorkspace::new(dx, du),
        &mut traj,
    );
    let per_step = expected_costs(&traj, cost);
    Ok((per_step.iter().sum(), per_step))
}
