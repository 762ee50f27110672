//! Errors of the trajectory optimisers.

use pilqr_core::CoreError;
use pilqr_linalg::LinalgError;
use thiserror::Error;

/// What can go wrong in an LQR-FLM, PI2 or PILQR update.
///
/// Every variant leaves the caller's previous controller untouched: updates build a new
/// controller and return it only on success.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TrajOptError {
    /// Two inputs disagree on a size (horizon, state or action dimension).
    #[error("{field}: expected {expected}, got {got}")]
    Dimension {
        /// Which input.
        field: &'static str,
        /// Size expected.
        expected: usize,
        /// Size given.
        got: usize,
    },
    /// An input holds NaN or an infinity.
    #[error("{field} is not finite at time step {step}")]
    NonFinite {
        /// Which input.
        field: &'static str,
        /// Time step of the first offending value.
        step: usize,
    },
    /// `Q_uu` stayed indefinite at `step` although η was raised to its bound.
    #[error(
        "Q_uu is not positive definite at time step {step} even with eta = {eta:e} (the bound); smallest eigenvalue {min_eigenvalue:e}"
    )]
    NotPositiveDefinite {
        /// Time step.
        step: usize,
        /// The η reached.
        eta: f64,
        /// Smallest eigenvalue of `Q_uu` at that η.
        min_eigenvalue: f64,
    },
    /// The KL constraint cannot be met: even at the largest allowed η the KL exceeds its target.
    #[error(
        "eta reached its bound {eta:e} {} with KL {kl:e} still above its target {target:e}",
        where_eta(.step)
    )]
    EtaBound {
        /// Time step (`None` for the single global η).
        step: Option<usize>,
        /// The η reached.
        eta: f64,
        /// KL achieved there.
        kl: f64,
        /// KL target.
        target: f64,
    },
    /// A PI2 covariance stayed singular although its temperature was raised to the bound.
    #[error("PI2 covariance at time step {step} is singular even at temperature {eta:e}")]
    SingularCovariance {
        /// Time step.
        step: usize,
        /// The temperature reached.
        eta: f64,
    },
    /// A configuration value is out of its domain.
    #[error("invalid configuration {field}: {reason}")]
    Config {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A vocabulary type rejected its input (e.g. the new policy).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A linear-algebra failure.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

/// Check that a size matches.
pub(crate) fn expect_dim(
    field: &'static str,
    got: usize,
    expected: usize,
) -> Result<(), TrajOptError> {
    if got != expected {
        return Err(TrajOptError::Dimension {
            field,
            expected,
            got,
        });
    }
    Ok(())
}

/// Check that every value is finite; `per_step` values make one time step.
pub(crate) fn expect_finite(
    field: &'static str,
    values: &[f64],
    per_step: usize,
) -> Result<(), TrajOptError> {
    // A branch-free scan per block (it vectorises); the position only on the error path.
    const BLOCK: usize = 512;
    for (b, block) in values.chunks(BLOCK).enumerate() {
        if block.iter().fold(false, |bad, v| bad | !v.is_finite()) {
            let p = b * BLOCK + block.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(TrajOptError::NonFinite {
                field,
                step: p / per_step.max(1),
            });
        }
    }
    Ok(())
}

/// "at time step t" for a per-step η, "for the global η" otherwise (for error messages).
fn where_eta(step: &Option<usize>) -> String {
    match step {
        Some(t) => format!("at time step {t}"),
        None => "for the global η".to_string(),
    }
}
