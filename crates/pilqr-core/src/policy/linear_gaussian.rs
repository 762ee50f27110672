//! The time-varying linear-Gaussian controller `u_t = K_t x_t + k_t + chol(Σ_t) ε_t`.

use pilqr_linalg::{Cholesky, Jitter, MatStack, VecStack};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::policy::Policy;

/// A time-varying linear-Gaussian (TVLG) policy `p(u_t | x_t) = N(K_t x_t + k_t, Σ_t)`.
///
/// Stores `K [T,dU,dX]`, `k [T,dU]` and `Σ [T,dU,dU]` together with the lower Cholesky factor
/// `L_t` (`Σ_t = L_t L_tᵀ`) and the precision `Σ_t⁻¹`. There is one constructor,
/// [`LinearGaussianPolicy::new`], which validates everything and derives the factor and the
/// precision, so the three can never disagree. Serialisation stores `(K, k, Σ)` only and goes
/// through the same validation when read back.
///
/// ```
/// use pilqr_core::LinearGaussianPolicy;
/// use pilqr_linalg::{MatStack, VecStack};
/// use faer::mat;
///
/// // T = 2, dX = 2, dU = 1: u = [1, 0] x + 0.5 + 2 ε  (Σ = 4).
/// let gains = MatStack::repeat(2, mat![[1.0, 0.0]].as_ref());
/// let mut offsets = VecStack::zeros(2, 1);
/// offsets.at_mut(0)[0] = 0.5;
/// offsets.at_mut(1)[0] = 0.5;
/// let cov = MatStack::repeat(2, mat![[4.0]].as_ref());
/// let pol = LinearGaussianPolicy::new(gains, offsets, cov).unwrap();
/// let mut u = [0.0];
/// pol.act_state(1, &[3.0, -1.0], &[0.25], &mut u).unwrap();
/// assert_eq!(u[0], 3.0 + 0.5 + 2.0 * 0.25);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyParts", into = "PolicyParts")]
pub struct LinearGaussianPolicy {
    gain: MatStack,
    offset: VecStack,
    cov: MatStack,
    chol: MatStack,
    precision: MatStack,
}

/// The independent parameters of a [`LinearGaussianPolicy`], as serialised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyParts {
    /// Gains `K [T,dU,dX]`.
    pub gain: MatStack,
    /// Feed-forward terms `k [T,dU]`.
    pub offset: VecStack,
    /// Covariances `Σ [T,dU,dU]`.
    pub cov: MatStack,
}

impl TryFrom<PolicyParts> for LinearGaussianPolicy {
    type Error = CoreError;
    fn try_from(p: PolicyParts) -> Result<Self, CoreError> {
        LinearGaussianPolicy::new(p.gain, p.offset, p.cov)
    }
}

impl From<LinearGaussianPolicy> for PolicyParts {
    fn from(p: LinearGaussianPolicy) -> Self {
        PolicyParts {
            gain: p.gain,
            offset: p.offset,
            cov: p.cov,
        }
    }
}

/// Relative asymmetry above which a covariance is rejected rather than symmetrised.
const SYMMETRY_TOLERANCE: f64 = 1e-8;

impl LinearGaussianPolicy {
    /// The zero-mean controller `u_t ~ N(0, std²·I)` of horizon `T`, state dimension `dX` and
    /// action dimension `dU`: zero gains and offsets, the same isotropic noise at every step
    /// (exploration noise alone, e.g. to excite a task's dynamics). Errors as [`Self::new`]'s
    /// (`std` must be finite and non-zero for `Σ_t` to be positive definite).
    pub fn zero_mean(horizon: usize, dx: usize, du: usize, std: f64) -> Result<Self, CoreError> {
        let cov = MatStack::from_fn(horizon, du, du, |_, mut m| {
            for i in 0..du {
                m[(i, i)] = std * std;
            }
        });
        Self::new(
            MatStack::zeros(horizon, du, dx),
            VecStack::zeros(horizon, du),
            cov,
        )
    }

    /// Build from gains `K [T,dU,dX]`, offsets `k [T,dU]` and covariances `Σ [T,dU,dU]`.
    ///
    /// Checks that the shapes agree, that all values are finite, and that every `Σ_t` is
    /// symmetric (to a relative `1e-8`, then exactly symmetrised) and positive definite. Errors
    /// name the field and the time step.
    pub fn new(gain: MatStack, offset: VecStack, mut cov: MatStack) -> Result<Self, CoreError> {
        let horizon = gain.len();
        let du = gain.rows();
        if horizon == 0 {
            return Err(CoreError::Empty {
                what: "policy horizon",
            });
        }
        if du == 0 {
            return Err(CoreError::Empty {
                what: "policy action dimension",
            });
        }
        if offset.len() != horizon || offset.dim() != du {
            return Err(CoreError::Shape {
                field: "offset k",
                expected_len: horizon,
                expected_rows: du,
                expected_cols: 1,
                len: offset.len(),
                rows: offset.dim(),
                cols: 1,
            });
        }
        if cov.len() != horizon || cov.rows() != du || cov.cols() != du {
            return Err(CoreError::Shape {
                field: "covariance",
                expected_len: horizon,
                expected_rows: du,
                expected_cols: du,
                len: cov.len(),
                rows: cov.rows(),
                cols: cov.cols(),
            });
        }
        if let Err((t, i, j)) = gain.check_finite() {
            return Err(CoreError::NonFinite {
                field: "gain K",
                sample: None,
                step: t,
                index: i + j * du,
            });
        }
        crate::error::check_finite_steps("offset k", None, offset.as_slice(), du)?;
        if let Err((t, i, j)) = cov.check_finite() {
            return Err(CoreError::NonFinite {
                field: "covariance",
                sample: None,
                step: t,
                index: i + j * du,
            });
        }
        let mut chol = MatStack::zeros(horizon, du, du);
        let mut precision = MatStack::zeros(horizon, du, du);
        let mut factor = Cholesky::with_dim(du);
        for t in 0..horizon {
            let mut c = cov.at_mut(t);
            let mut asym: f64 = 0.0;
            let mut scale: f64 = 0.0;
            for j in 0..du {
                scale = scale.max(c[(j, j)].abs());
                for i in 0..j {
                    asym = asym.max((c[(i, j)] - c[(j, i)]).abs());
                }
            }
            if asym > SYMMETRY_TOLERANCE * scale.max(f64::MIN_POSITIVE) {
                return Err(CoreError::NotSymmetric {
                    field: "covariance",
                    step: t,
                    asymmetry: asym,
                });
            }
            pilqr_linalg::symmetrize(c.as_mut());
            factor.refactor(cov.at(t), Jitter::NONE).map_err(|_| {
                CoreError::NotPositiveDefinite {
                    field: "covariance",
                    step: t,
                }
            })?;
            chol.at_mut(t).copy_from(factor.l());
            factor.inverse_into(precision.at_mut(t));
        }
        Ok(LinearGaussianPolicy {
            gain,
            offset,
            cov,
            chol,
            precision,
        })
    }

    /// Horizon `T`.
    pub fn horizon(&self) -> usize {
        self.gain.len()
    }

    /// State dimension `dX`.
    pub fn state_dim(&self) -> usize {
        self.gain.cols()
    }

    /// Action dimension `dU`.
    pub fn action_dim(&self) -> usize {
        self.gain.rows()
    }

    /// Gains `K [T,dU,dX]`.
    pub fn gain(&self) -> &MatStack {
        &self.gain
    }

    /// Feed-forward terms `k [T,dU]`.
    pub fn offset(&self) -> &VecStack {
        &self.offset
    }

    /// Covariances `Σ [T,dU,dU]`.
    pub fn cov(&self) -> &MatStack {
        &self.cov
    }

    /// Lower Cholesky factors `L [T,dU,dU]`, `Σ_t = L_t L_tᵀ`.
    pub fn chol(&self) -> &MatStack {
        &self.chol
    }

    /// Precisions `Σ⁻¹ [T,dU,dU]`.
    pub fn precision(&self) -> &MatStack {
        &self.precision
    }

    /// Take the parameters apart (to modify and rebuild through [`LinearGaussianPolicy::new`]).
    pub fn into_parts(self) -> PolicyParts {
        self.into()
    }

    fn check_step(&self, t: usize) -> Result<(), CoreError> {
        if t >= self.horizon() {
            return Err(CoreError::StepOutOfRange {
                step: t,
                horizon: self.horizon(),
            });
        }
        Ok(())
    }

    /// The mean action `K_t x + k_t` into `u`.
    pub fn mean_action(&self, t: usize, x: &[f64], u: &mut [f64]) -> Result<(), CoreError> {
        self.check_step(t)?;
        let (du, dx) = (self.action_dim(), self.state_dim());
        check_len("state x", x.len(), dx)?;
        check_len("action u", u.len(), du)?;
        let k = self.gain.at(t);
        let off = self.offset.at(t);
        for (i, ui) in u.iter_mut().enumerate() {
            let mut s = off[i];
            for (j, xj) in x.iter().enumerate() {
                s += k[(i, j)] * xj;
            }
            *ui = s;
        }
        Ok(())
    }

    /// The action `K_t x + k_t + L_t ε` into `u`, with `ε` the standard-normal noise.
    pub fn act_state(
        &self,
        t: usize,
        x: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        self.mean_action(t, x, u)?;
        let du = self.action_dim();
        check_len("noise", noise.len(), du)?;
        let l = self.chol.at(t);
        for (i, ui) in u.iter_mut().enumerate() {
            for (j, nj) in noise.iter().enumerate().take(i + 1) {
                *ui += l[(i, j)] * nj;
            }
        }
        Ok(())
    }
}

fn check_len(field: &'static str, got: usize, expected: usize) -> Result<(), CoreError> {
    if got != expected {
        return Err(CoreError::Length {
            field,
            expected,
            got,
        });
    }
    Ok(())
}

impl Policy for LinearGaussianPolicy {
    fn action_dim(&self) -> usize {
        self.gain.rows()
    }

    fn act(
        &self,
        t: usize,
        x: &[f64],
        _obs: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        self.act_state(t, x, noise, u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::{Mat, mat};

    fn policy(cov: Mat<f64>) -> Result<LinearGaussianPolicy, CoreError> {
        let gain = MatStack::from_fn(3, 2, 3, |t, mut m| {
            for i in 0..2 {
                for j in 0..3 {
                    m[(i, j)] = (t + 1) as f64 * 0.1 * (i as f64 - j as f64);
                }
            }
        });
        let mut offset = VecStack::zeros(3, 2);
        offset.at_mut(2).copy_from_slice(&[0.3, -0.7]);
        LinearGaussianPolicy::new(gain, offset, MatStack::repeat(3, cov.as_ref()))
    }

    #[test]
    fn zero_mean_is_isotropic_noise_around_zero() {
        let p = LinearGaussianPolicy::zero_mean(4, 3, 2, 0.5).unwrap();
        assert_eq!((p.horizon(), p.state_dim(), p.action_dim()), (4, 3, 2));
        let mut u = [1.0; 2];
        p.mean_action(3, &[1.0, -2.0, 3.0], &mut u).unwrap();
        assert_eq!(u, [0.0, 0.0]);
        for t in 0..4 {
            let c = p.cov().at(t);
            assert_eq!(
                (c[(0, 0)], c[(1, 1)], c[(0, 1)], c[(1, 0)]),
                (0.25, 0.25, 0.0, 0.0)
            );
        }
        assert!(LinearGaussianPolicy::zero_mean(4, 3, 2, 0.0).is_err());
    }

    #[test]
    fn act_matches_formula() {
        let cov = mat![[2.0, 0.6], [0.6, 1.0]];
        let p = policy(cov.clone()).unwrap();
        let x = [0.5, -1.0, 2.0];
        let eps = [0.3, -1.2];
        let mut u = [0.0; 2];
        p.act_state(2, &x, &eps, &mut u).unwrap();
        // Reference: K x + k + L ε with L the lower Cholesky factor computed by hand.
        let l00 = 2.0f64.sqrt();
        let l10 = 0.6 / l00;
        let l11 = (1.0 - l10 * l10).sqrt();
        let k = |i: usize, j: usize| 0.3 * (i as f64 - j as f64);
        let want0 = k(0, 0) * x[0] + k(0, 1) * x[1] + k(0, 2) * x[2] + 0.3 + l00 * eps[0];
        let want1 =
            k(1, 0) * x[0] + k(1, 1) * x[1] + k(1, 2) * x[2] - 0.7 + l10 * eps[0] + l11 * eps[1];
        assert!((u[0] - want0).abs() < 1e-14);
        assert!((u[1] - want1).abs() < 1e-14);
        // Precision is the inverse.
        let prod = p.cov().at(0) * p.precision().at(0);
        assert!((prod - Mat::<f64>::identity(2, 2)).norm_max() < 1e-14);
    }

    #[test]
    fn rejects_non_spd_covariance_naming_step() {
        let err = policy(mat![[1.0, 2.0], [2.0, 1.0]]).unwrap_err();
        assert_eq!(
            err,
            CoreError::NotPositiveDefinite {
                field: "covariance",
                step: 0
            }
        );
    }

    #[test]
    fn rejects_asymmetric_and_nan() {
        assert!(matches!(
            policy(mat![[1.0, 0.5], [0.0, 1.0]]),
            Err(CoreError::NotSymmetric { step: 0, .. })
        ));
        assert!(matches!(
            policy(mat![[1.0, f64::NAN], [f64::NAN, 1.0]]),
            Err(CoreError::NonFinite {
                field: "covariance",
                ..
            })
        ));
    }

    #[test]
    fn rejects_wrong_shapes_and_lengths() {
        let gain = MatStack::zeros(3, 2, 3);
        let bad_offset = VecStack::zeros(2, 2);
        let cov = MatStack::repeat(3, Mat::<f64>::identity(2, 2).as_ref());
        assert!(matches!(
            LinearGaussianPolicy::new(gain.clone(), bad_offset, cov.clone()),
            Err(CoreError::Shape {
                field: "offset k",
                ..
            })
        ));
        let p = LinearGaussianPolicy::new(gain, VecStack::zeros(3, 2), cov).unwrap();
        let mut u = [0.0; 2];
        assert!(matches!(
            p.act_state(0, &[0.0; 2], &[0.0; 2], &mut u),
            Err(CoreError::Length {
                field: "state x",
                ..
            })
        ));
        assert!(matches!(
            p.act_state(3, &[0.0; 3], &[0.0; 2], &mut u),
            Err(CoreError::StepOutOfRange { .. })
        ));
    }

    #[test]
    fn serde_round_trip_revalidates() {
        let p = policy(mat![[2.0, 0.6], [0.6, 1.0]]).unwrap();
        let parts: PolicyParts = p.clone().into();
        let back = LinearGaussianPolicy::try_from(parts).unwrap();
        assert_eq!(back, p);
    }
}
