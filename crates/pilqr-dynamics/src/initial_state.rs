//! The initial-state distribution `x_0 ~ N(x0mu, x0sigma)`.

use faer::{Mat, MatMut};
use pilqr_core::SampleBatch;

use crate::error::DynamicsError;
use crate::niw_prior::NiwPrior;

/// Fit the initial-state distribution from the `x_0` of the batch (docs/design.md §4.2):
/// `x0mu` = sample mean; `x0sigma = diag(max(var_j, initial_state_var))` (population variance),
/// plus, when `prior` = `(μ00, Φ0, m0, n00)` is given,
/// `(Φ0 + (N m0/(N+m0)) (x0mu−μ00)(x0mu−μ00)ᵀ) / (N + n00)`.
///
/// (The classic code added the prior term without dividing by `N + n00`, inflating the
/// covariance about `1 + dX`-fold; this follows the corrected formula.)
///
/// ```
/// use pilqr_core::{SampleBatch, SampleDims, Trajectory};
/// use pilqr_dynamics::fit_initial_state;
///
/// let dims = SampleDims { horizon: 2, dx: 1, du: 1, dobs: 0 };
/// let tr = |x0: f64| Trajectory { x: vec![x0, 0.0], u: vec![0.0; 2], obs: vec![], noise: vec![0.0; 2], cost: vec![0.0; 2] };
/// let batch = SampleBatch::from_trajectories(dims, vec![tr(1.0), tr(3.0)]).unwrap();
/// let (mu, sigma) = fit_initial_state(&batch, 1e-6, None).unwrap();
/// assert_eq!(mu, vec![2.0]);
/// assert_eq!(sigma[(0, 0)], 1.0);
/// ```
pub fn fit_initial_state(
    batch: &SampleBatch,
    initial_state_var: f64,
    prior: Option<&NiwPrior>,
) -> Result<(Vec<f64>, Mat<f64>), DynamicsError> {
    let dx = batch.dims().dx;
    let mut mu = vec![0.0; dx];
    let mut sigma = Mat::zeros(dx, dx);
    fit_initial_state_into(batch, initial_state_var, prior, &mut mu, sigma.as_mut())?;
    Ok((mu, sigma))
}

/// As [`fit_initial_state`], into caller-owned storage: `mu` (`dX` entries) and `sigma`
/// (`dX x dX`), both fully overwritten.
pub(crate) fn fit_initial_state_into(
    batch: &SampleBatch,
    initial_state_var: f64,
    prior: Option<&NiwPrior>,
    mu: &mut [f64],
    mut sigma: MatMut<'_, f64>,
) -> Result<(), DynamicsError> {
    let dx = batch.dims().dx;
    if !(initial_state_var.is_finite() && initial_state_var >= 0.0) {
        return Err(DynamicsError::InvalidConfig {
            field: "initial_state_var",
            reason: format!("must be finite and >= 0, got {initial_state_var}"),
        });
    }
    if let Some(p) = prior {
        p.validate(dx)?;
    }
    if mu.len() != dx || sigma.nrows() != dx || sigma.ncols() != dx {
        return Err(DynamicsError::DimensionMismatch {
            field: "initial-state output (dX, dX x dX)",
            expected: dx + dx * dx,
            got: mu.len() + sigma.nrows() * sigma.ncols(),
        });
    }
    let n = batch.len();
    let nf = n as f64;
    mu.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..n {
        for (m, x) in mu.iter_mut().zip(batch.x(i, 0)) {
            *m += x;
        }
    }
    mu.iter_mut().for_each(|v| *v /= nf);
    // The sum of squared deviations of coordinate j accumulates on the diagonal.
    sigma.fill(0.0);
    for i in 0..n {
        for (j, (x, m)) in batch.x(i, 0).iter().zip(&*mu).enumerate() {
            sigma[(j, j)] += (x - m) * (x - m);
        }
    }
    for j in 0..dx {
        sigma[(j, j)] = (sigma[(j, j)] / nf).max(initial_state_var);
    }
    if let Some(p) = prior {
        let c = if nf + p.m > 0.0 {
            nf * p.m / (nf + p.m)
        } else {
            0.0
        };
        let denom = nf + p.n0;
        for j in 0..dx {
            let dj = mu[j] - p.mu0[j];
            for i in 0..dx {
                let di = mu[i] - p.mu0[i];
                sigma[(i, j)] += (p.phi[(i, j)] + c * di * dj) / denom;
            }
        }
        pilqr_linalg::symmetrize(sigma.as_mut());
    }
    Ok(())
}
