//! Approximated costs and residuals of PILQR (docs/design.md §4.5 step 3).
//!
//! Each sample's stored noise `ε_{i,t}` is re-simulated through the previous controller `p̄`
//! under the fitted linear model, deterministically from `x0mu`:
//! `û_t = K̄_t x̂_t + k̄_t + L̄_t ε_{i,t}`, `x̂_{t+1} = Fm_t [x̂_t; û_t] + fv_t`, and the quadratic
//! cost model is evaluated along it: `ĉ_{i,t} = ½ ŷᵀ Cm_t ŷ + ŷᵀ cv_t + cc_t`. The residual
//! `c̃ = c − ĉ` is what the linear-quadratic model failed to predict.

use faer::{Mat, MatRef};
use pilqr_core::{CostModel, LinearGaussianPolicy, SampleBatch};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::matmul_into;

use crate::error::TrajOptError;
use crate::lqr_flm::check_model;
use crate::pi2::check_batch;

/// Approximated per-step costs `ĉ [N, T]` (sample-major) of every sample of `batch`.
pub fn approximate_costs(
    previous: &LinearGaussianPolicy,
    dynamics: &LinearDynamics,
    cost: &CostModel,
    batch: &SampleBatch,
) -> Result<Vec<f64>, TrajOptError> {
    check_model(dynamics, cost, previous)?;
    check_batch(batch, previous)?;
    let (horizon, dx, du) = (
        previous.horizon(),
        previous.state_dim(),
        previous.action_dim(),
    );
    let (n, count) = (dx + du, batch.len());
    let mut out = vec![0.0; count * horizon];
    // All samples at once: column i of `y` is sample i's [x̂_t; û_t].
    let mut y = Mat::<f64>::zeros(n, count);
    let mut cy = Mat::<f64>::zeros(n, count);
    let mut next = Mat::<f64>::zeros(dx, count);
    for i in 0..count {
        for r in 0..dx {
            y[(r, i)] = dynamics.x0mu[r];
        }
    }
    for t in 0..horizon {
        // û = K̄ x̂ + k̄ + L̄ ε, with the samples' noise as strided columns of the batch array.
        let noise = MatRef::from_column_major_slice_with_stride(
            &batch.noise_all()[t * du..],
            du,
            count,
            horizon * du,
        );
        {
            let (x, mut u) = y.as_mut().split_at_row_mut(dx);
            let k = previous.offset().at(t);
            for i in 0..count {
                for r in 0..du {
                    u[(r, i)] = k[r];
                }
            }
            matmul_into(u.as_mut(), previous.gain().at(t), x.as_ref(), 1.0, true);
            matmul_into(u, previous.chol().at(t), noise, 1.0, true);
        }
        // ĉ_i = ½ y_iᵀ Cm y_i + y_iᵀ cv + cc
        matmul_into(cy.as_mut(), cost.cm.at(t), y.as_ref(), 0.5, false);
        let cv = cost.cv.at(t);
        for i in 0..count {
            let mut v = cost.cc[t];
            for r in 0..n {
                v += y[(r, i)] * (cy[(r, i)] + cv[r]);
            }
            out[i * horizon + t] = v;
        }
        if t + 1 < horizon {
            let fv = dynamics.fv.at(t);
            for i in 0..count {
                for r in 0..dx {
                    next[(r, i)] = fv[r];
                }
            }
            matmul_into(next.as_mut(), dynamics.fm.at(t), y.as_ref(), 1.0, true);
            y.as_mut().split_at_row_mut(dx).0.copy_from(next.as_ref());
        }
    }
    Ok(out)
}

/// Residual costs `c̃ = c − ĉ` (`[N, T]`, sample-major) of `batch` given its approximated costs.
pub fn residual_costs(batch: &SampleBatch, approximated: &[f64]) -> Result<Vec<f64>, TrajOptError> {
    crate::error::expect_dim(
        "approximated costs",
        approximated.len(),
        batch.cost_all().len(),
    )?;
    Ok(batch
        .cost_all()
        .iter()
        .zip(approximated)
        .map(|(c, a)| c - a)
        .collect())
}
