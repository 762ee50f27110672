//! A floor on a controller's exploration, relative to the initial controller (issue 20).
//!
//! Without an entropy bonus (`ω = 0`) every KL-bounded LQR step adds `Q_uu/η` to the
//! controller's precision, so once the cost has converged the covariance keeps shrinking
//! geometrically: the samples then carry no exploration, the fitted dynamics degrade, and the
//! cost rises again. The floor keeps every `Σ_t ⪰ f · Σ⁰_t`, with `Σ⁰` the initial controller's
//! covariance and `f` the configured fraction: in the coordinates whitened by `Σ⁰_t`
//! (`W = L₀⁻¹ Σ_t L₀⁻ᵀ`, `Σ⁰_t = L₀L₀ᵀ`) every eigenvalue of `W` below `f` is raised to `f`,
//! the eigenvectors are kept, and the result is mapped back.
//!
//! The floor is scale-free: it compares two covariances of the action, so it does not depend
//! on the cost's units (multiplying the cost by any constant changes neither `Σ_t` nor `Σ⁰_t`),
//! and it is invariant to a linear change of the action's coordinates (both covariances
//! transform alike, and the whitened eigenvalues do not change).

use faer::MatRef;
use pilqr_core::LinearGaussianPolicy;
use pilqr_linalg::MatStack;

use crate::error::TrajOptError;
use crate::lqr_flm::jacobi::SymmetricEigen;

/// `x ← L⁻¹ x` for a lower-triangular `n x n` matrix `l` and a vector `x` of length `n`.
fn solve_lower(l: MatRef<'_, f64>, x: &mut [f64]) {
    let n = x.len();
    for i in 0..n {
        let mut s = x[i];
        for j in 0..i {
            s -= l[(i, j)] * x[j];
        }
        x[i] = s / l[(i, i)];
    }
}

/// Raise the covariance of `policy` to at least `fraction` times `initial_cov` at every step
/// (see the module documentation). Returns the policy unchanged when no step is below the
/// floor, and the number of time steps that were raised.
///
/// `initial_cov` must be the covariances `[T, dU, dU]` of a valid controller (positive
/// definite), `fraction ≥ 0`; a `fraction` of 0 disables the floor.
///
/// ```
/// use pilqr_trajopt::covariance_floor::floor_covariance;
/// use pilqr_trajopt::{LinearGaussianPolicy, Mat, MatStack, VecStack};
///
/// let small = Mat::<f64>::identity(1, 1) * 1e-6;
/// let p = LinearGaussianPolicy::new(
///     MatStack::zeros(2, 1, 1),
///     VecStack::zeros(2, 1),
///     MatStack::repeat(2, small.as_ref()),
/// )?;
/// let init = MatStack::repeat(2, (Mat::<f64>::identity(1, 1) * 4.0).as_ref());
/// let (q, raised) = floor_covariance(p, &init, 0.01)?;
/// assert_eq!(raised, 2);
/// assert!((q.cov().at(0)[(0, 0)] - 0.04).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn floor_covariance(
    policy: LinearGaussianPolicy,
    initial_cov: &MatStack,
    fraction: f64,
) -> Result<(LinearGaussianPolicy, usize), TrajOptError> {
    if fraction <= 0.0 {
        return Ok((policy, 0));
    }
    let (horizon, du) = (policy.horizon(), policy.action_dim());
    if initial_cov.len() != horizon || initial_cov.rows() != du || initial_cov.cols() != du {
        return Err(TrajOptError::Config {
            field: "min_cov_fraction",
            reason: format!(
                "the initial covariance is [{}, {}, {}], the controller's [{horizon}, {du}, {du}]",
                initial_cov.len(),
                initial_cov.rows(),
                initial_cov.cols()
            ),
        });
    }
    let mut eig = SymmetricEigen::new(du);
    let mut l0 = vec![0.0; du * du];
    let mut w = vec![0.0; du * du];
    let mut col = vec![0.0; du];
    let mut raised = 0usize;
    let mut floored = MatStack::zeros(horizon, du, du);
    for t in 0..horizon {
        // L₀ from Σ⁰_t (positive definite: it is a valid controller's covariance).
        let c0 = initial_cov.at(t);
        cholesky_lower(c0, &mut l0, du).ok_or_else(|| TrajOptError::Config {
            field: "min_cov_fraction",
            reason: format!("the initial covariance at time step {t} is not positive definite"),
        })?;
        let l = MatRef::from_column_major_slice(&l0, du, du);
        let sigma = policy.cov().at(t);
        // A = L₀⁻¹ Σ (column by column), then W = L₀⁻¹ Aᵀ (Σ symmetric, so W = L₀⁻¹ Σ L₀⁻ᵀ).
        let mut a = vec![0.0; du * du];
        for j in 0..du {
            for i in 0..du {
                col[i] = sigma[(i, j)];
            }
            solve_lower(l, &mut col);
            for i in 0..du {
                a[i + j * du] = col[i];
            }
        }
        for j in 0..du {
            for i in 0..du {
                col[i] = a[j + i * du];
            }
            solve_lower(l, &mut col);
            for i in 0..du {
                w[i + j * du] = col[i];
            }
        }
        let out = floored.at_mut(t);
        if !eig.compute(MatRef::from_column_major_slice(&w, du, du))
            || eig.values.iter().all(|&v| v >= fraction)
        {
            copy_into(sigma, out);
            continue;
        }
        raised += 1;
        // Σ' = L₀ U diag(max(λ, f)) Uᵀ L₀ᵀ = B Bᵀ with B = L₀ U diag(√max(λ, f)).
        let u = eig.vectors();
        let mut b = vec![0.0; du * du];
        for k in 0..du {
            let s = eig.values[k].max(fraction).sqrt();
            for i in 0..du {
                let mut v = 0.0;
                for j in 0..=i {
                    v += l[(i, j)] * u[(j, k)];
                }
                b[i + k * du] = v * s;
            }
        }
        let mut out = out;
        for i in 0..du {
            for j in 0..du {
                let mut v = 0.0;
                for k in 0..du {
                    v += b[i + k * du] * b[j + k * du];
                }
                out[(i, j)] = v;
            }
        }
    }
    if raised == 0 {
        return Ok((policy, 0));
    }
    let parts = policy.into_parts();
    let policy = LinearGaussianPolicy::new(parts.gain, parts.offset, floored)?;
    Ok((policy, raised))
}

/// Copy `src` into `dst` (same shape).
fn copy_into(src: MatRef<'_, f64>, mut dst: faer::MatMut<'_, f64>) {
    for j in 0..src.ncols() {
        for i in 0..src.nrows() {
            dst[(i, j)] = src[(i, j)];
        }
    }
}

/// Lower Cholesky factor of `m` into `out` (column-major `n x n`); `None` when `m` is not
/// positive definite.
fn cholesky_lower(m: MatRef<'_, f64>, out: &mut [f64], n: usize) -> Option<()> {
    out.fill(0.0);
    for j in 0..n {
        let mut d = m[(j, j)];
        for k in 0..j {
            d -= out[j + k * n] * out[j + k * n];
        }
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        let d = d.sqrt();
        out[j + j * n] = d;
        for i in j + 1..n {
            let mut s = m[(i, j)];
            for k in 0..j {
                s -= out[i + k * n] * out[j + k * n];
            }
            out[i + j * n] = s / d;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;
    use pilqr_linalg::VecStack;

    fn policy_with(cov: &Mat<f64>) -> LinearGaussianPolicy {
        let du = cov.nrows();
        LinearGaussianPolicy::new(
            MatStack::zeros(1, du, 3),
            VecStack::zeros(1, du),
            MatStack::repeat(1, cov.as_ref()),
        )
        .expect("a positive definite covariance")
    }

    #[test]
    fn raises_only_the_collapsed_direction_in_whitened_coordinates() {
        // Initial Σ⁰ = diag(4, 1); current Σ = diag(4·0.5, 1·1e-6): only the second direction
        // is below a 1 % floor, and is raised to exactly 1 % of Σ⁰.
        let mut c0 = Mat::<f64>::zeros(2, 2);
        c0[(0, 0)] = 4.0;
        c0[(1, 1)] = 1.0;
        let mut c = Mat::<f64>::zeros(2, 2);
        c[(0, 0)] = 2.0;
        c[(1, 1)] = 1e-6;
        let (p, raised) =
            floor_covariance(policy_with(&c), &MatStack::repeat(1, c0.as_ref()), 0.01).unwrap();
        assert_eq!(raised, 1);
        let s = p.cov().at(0);
        assert!((s[(0, 0)] - 2.0).abs() < 1e-12);
        assert!((s[(1, 1)] - 0.01).abs() < 1e-12);
        assert!(s[(0, 1)].abs() < 1e-12);
    }

    #[test]
    fn invariant_to_a_linear_change_of_action_coordinates() {
        // Floor in coordinates u, then map by A; or map both covariances by A, then floor:
        // the same result (A Σ Aᵀ).
        let mut c0 = Mat::<f64>::zeros(2, 2);
        c0[(0, 0)] = 1.0;
        c0[(1, 1)] = 2.0;
        c0[(0, 1)] = 0.3;
        c0[(1, 0)] = 0.3;
        let mut c = Mat::<f64>::zeros(2, 2);
        c[(0, 0)] = 1e-3;
        c[(1, 1)] = 1e-5;
        c[(0, 1)] = 2e-5;
        c[(1, 0)] = 2e-5;
        let mut a = Mat::<f64>::zeros(2, 2);
        a[(0, 0)] = 3.0;
        a[(0, 1)] = -1.0;
        a[(1, 0)] = 0.5;
        a[(1, 1)] = 20.0;
        let map = |m: &Mat<f64>| &a * m * a.transpose();
        let (p, _) =
            floor_covariance(policy_with(&c), &MatStack::repeat(1, c0.as_ref()), 0.05).unwrap();
        let first = map(&p.cov().at(0).to_owned());
        let (q, _) = floor_covariance(
            policy_with(&map(&c)),
            &MatStack::repeat(1, map(&c0).as_ref()),
            0.05,
        )
        .unwrap();
        let second = q.cov().at(0);
        for i in 0..2 {
            for j in 0..2 {
                let scale = first[(i, i)].abs().max(1.0);
                assert!((first[(i, j)] - second[(i, j)]).abs() < 1e-9 * scale);
            }
        }
    }

    #[test]
    fn leaves_a_covariance_above_the_floor_and_a_zero_fraction_alone() {
        let c0 = Mat::<f64>::identity(2, 2);
        let c = Mat::<f64>::identity(2, 2) * 0.5;
        let init = MatStack::repeat(1, c0.as_ref());
        let (p, raised) = floor_covariance(policy_with(&c), &init, 0.1).unwrap();
        assert_eq!(raised, 0);
        assert_eq!(p.cov().at(0)[(0, 0)], 0.5);
        let tiny = Mat::<f64>::identity(2, 2) * 1e-9;
        let (p, raised) = floor_covariance(policy_with(&tiny), &init, 0.0).unwrap();
        assert_eq!(raised, 0);
        assert_eq!(p.cov().at(0)[(0, 0)], 1e-9);
    }
}
