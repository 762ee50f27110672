//! Errors of the dynamics fitter.

use pilqr_core::CoreError;
use pilqr_linalg::LinalgError;
use thiserror::Error;

/// What can go wrong when fitting dynamics, a Gaussian mixture or a conditional Gaussian.
///
/// Every variant names the field, argument or time step concerned.
///
/// ```
/// use pilqr_dynamics::DynamicsError;
///
/// let e = DynamicsError::HorizonTooShort { horizon: 1 };
/// assert_eq!(
///     e.to_string(),
///     "horizon of 1 step(s) has no transition: dynamics need T >= 2"
/// );
/// let e = DynamicsError::AtStep { step: 4, source: Box::new(e) };
/// assert!(e.to_string().starts_with("time step 4: "));
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DynamicsError {
    /// A horizon of fewer than two steps has no transition to fit.
    #[error("horizon of {horizon} step(s) has no transition: dynamics need T >= 2")]
    HorizonTooShort {
        /// The horizon given.
        horizon: usize,
    },
    /// No data point was given (`N = 0`).
    #[error("{what}: no data points")]
    NoData {
        /// Which argument.
        what: &'static str,
    },
    /// A size does not match what the fitter or the operation expects.
    #[error("{field}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// Which field or argument.
        field: &'static str,
        /// Expected size.
        expected: usize,
        /// Size given.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("{field} is not finite at entry {index}")]
    NonFinite {
        /// Which field or argument.
        field: &'static str,
        /// Flat index of the first offending entry.
        index: usize,
    },
    /// A covariance could not be made positive definite, even with the allowed jitter.
    #[error("{what} is not positive definite (even after diagonal jitter)")]
    NotPositiveDefinite {
        /// Which matrix.
        what: &'static str,
    },
    /// An invalid configuration value.
    #[error("config field `{field}`: {reason}")]
    InvalidConfig {
        /// The configuration field.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The mixture model has not been fitted yet (or has no component).
    #[error("the Gaussian mixture model has not been fitted")]
    NotFitted,
    /// A failure at one time step of a per-step fit.
    #[error("time step {step}: {source}")]
    AtStep {
        /// The time step.
        step: usize,
        /// What went wrong there.
        #[source]
        source: Box<DynamicsError>,
    },
    /// An error from the shared vocabulary types.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A linear-algebra error.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

impl DynamicsError {
    /// Wrap `self` as having happened at time step `step`.
    pub fn at_step(self, step: usize) -> Self {
        DynamicsError::AtStep {
            step,
            source: Box::new(self),
        }
    }
}

/// Check that every value is finite; names the field and the first bad entry.
pub(crate) fn check_finite(field: &'static str, values: &[f64]) -> Result<(), DynamicsError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(DynamicsError::NonFinite { field, index }),
    }
}
