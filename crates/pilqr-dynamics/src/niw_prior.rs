//! Normal-inverse-Wishart prior parameters `(μ0, Φ, m, n0)`.

use faer::Mat;
use serde::{Deserialize, Serialize};

use crate::error::{DynamicsError, check_finite};

/// Parameters of a normal-inverse-Wishart prior over a joint Gaussian `N(μ, Σ)`:
/// `μ0` (prior mean), `Φ` (scale matrix), `m` (strength of the mean), `n0` (degrees of
/// freedom of the covariance, in pseudo-observations).
///
/// The posterior covariance estimate from `N` points with mean `μ̂` and biased covariance `S` is
/// `Σ = (N·S + Φ + (N m/(N+m)) (μ̂−μ0)(μ̂−μ0)ᵀ) / (N + n0)` (docs/design.md §4.2).
///
/// [`Gmm::inference`](crate::Gmm::inference) returns the *normalised* prior (`m = 1`,
/// `n0 = (N_g−2−D)/N_g` clamped at 0, `Φ = Σ_mix`); [`NiwPrior::with_strength`] scales it.
///
/// ```
/// use faer::Mat;
/// use pilqr_dynamics::NiwPrior;
///
/// let p = NiwPrior::new(vec![0.0, 1.0], Mat::identity(2, 2), 1.0, 0.5).unwrap();
/// let q = p.with_strength(3.0);
/// assert_eq!((q.m, q.n0), (3.0, 1.5));
/// assert_eq!(q.phi[(1, 1)], 3.0); // Φ scales with m
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NiwPrior {
    /// Prior mean `μ0`.
    pub mu0: Vec<f64>,
    /// Scale matrix `Φ` (symmetric positive semi-definite, `D x D`).
    #[serde(with = "crate::serde_mat")]
    pub phi: Mat<f64>,
    /// Strength of the prior mean `m` (pseudo-observations).
    pub m: f64,
    /// Degrees of freedom `n0` added to the sample count.
    pub n0: f64,
}

impl NiwPrior {
    /// Build and validate: `phi` must be `D x D` with `D = mu0.len()`, every value finite,
    /// `m ≥ 0`, `n0 ≥ 0`.
    pub fn new(mu0: Vec<f64>, phi: Mat<f64>, m: f64, n0: f64) -> Result<Self, DynamicsError> {
        let p = NiwPrior { mu0, phi, m, n0 };
        p.validate(p.mu0.len())?;
        Ok(p)
    }

    /// Dimension `D`.
    pub fn dim(&self) -> usize {
        self.mu0.len()
    }

    /// The prior with `m` and `n0` multiplied by `strength`, and `Φ` scaled by the same factor
    /// (so that `Φ/m` — the prior's covariance guess — is unchanged).
    pub fn with_strength(&self, strength: f64) -> NiwPrior {
        let mut phi = self.phi.clone();
        for j in 0..phi.ncols() {
            for v in phi.col_as_slice_mut(j) {
                *v *= strength;
            }
        }
        NiwPrior {
            mu0: self.mu0.clone(),
            phi,
            m: self.m * strength,
            n0: self.n0 * strength,
        }
    }

    /// Check shapes and values for a joint dimension of `dim`.
    pub fn validate(&self, dim: usize) -> Result<(), DynamicsError> {
        if self.mu0.len() != dim {
            return Err(DynamicsError::DimensionMismatch {
                field: "prior mu0",
                expected: dim,
                got: self.mu0.len(),
            });
        }
        if self.phi.nrows() != dim || self.phi.ncols() != dim {
            return Err(DynamicsError::DimensionMismatch {
                field: "prior phi (rows x cols)",
                expected: dim * dim,
                got: self.phi.nrows() * self.phi.ncols(),
            });
        }
        check_finite("prior mu0", &self.mu0)?;
        for j in 0..dim {
            check_finite("prior phi", self.phi.col_as_slice(j))?;
        }
        for (field, v) in [("prior m", self.m), ("prior n0", self.n0)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(DynamicsError::InvalidConfig {
                    field,
                    reason: format!("must be finite and >= 0, got {v}"),
                });
            }
        }
        Ok(())
    }
}
