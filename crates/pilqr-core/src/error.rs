//! Errors of the shared vocabulary types.

use pilqr_linalg::LinalgError;
use thiserror::Error;

/// What can go wrong when building or using policies, sample batches and costs.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CoreError {
    /// An array does not have the size its role needs.
    #[error("{field}: expected {expected} values, got {got}")]
    Length {
        /// Which field or argument.
        field: &'static str,
        /// Expected number of values.
        expected: usize,
        /// Number given.
        got: usize,
    },
    /// A stack has the wrong shape.
    #[error(
        "{field}: expected [{expected_len}, {expected_rows}, {expected_cols}], got [{len}, {rows}, {cols}]"
    )]
    Shape {
        /// Which field.
        field: &'static str,
        /// Expected steps.
        expected_len: usize,
        /// Expected rows.
        expected_rows: usize,
        /// Expected columns.
        expected_cols: usize,
        /// Steps given.
        len: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// A value is NaN or infinite.
    #[error("{field} is not finite at sample {sample:?}, time step {step}, entry {index}")]
    NonFinite {
        /// Which field.
        field: &'static str,
        /// Sample index, when the field belongs to a batch.
        sample: Option<usize>,
        /// Time step.
        step: usize,
        /// Entry within the step.
        index: usize,
    },
    /// A covariance is not symmetric positive definite.
    #[error("{field} at time step {step} is not symmetric positive definite")]
    NotPositiveDefinite {
        /// Which field.
        field: &'static str,
        /// Time step.
        step: usize,
    },
    /// A matrix that must be symmetric is not.
    #[error("{field} at time step {step} is not symmetric (largest asymmetry {asymmetry:e})")]
    NotSymmetric {
        /// Which field.
        field: &'static str,
        /// Time step.
        step: usize,
        /// Largest `|A_ij − A_ji|`.
        asymmetry: f64,
    },
    /// A batch with no sample, or a horizon of zero.
    #[error("{what} is empty")]
    Empty {
        /// What is empty.
        what: &'static str,
    },
    /// A time step beyond the horizon.
    #[error("time step {step} is beyond the horizon of {horizon} steps")]
    StepOutOfRange {
        /// Step asked for.
        step: usize,
        /// Horizon.
        horizon: usize,
    },
    /// A cost refers to a state or action entry that does not exist.
    #[error("{cost}: {what} index {index} is out of range for dimension {dim}")]
    IndexOutOfRange {
        /// Which cost.
        cost: &'static str,
        /// State or action.
        what: &'static str,
        /// The index.
        index: usize,
        /// The dimension.
        dim: usize,
    },
    /// An invalid parameter value.
    #[error("{field}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A linear-algebra failure.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

/// Check that every value of `values` is finite; names the field, sample, step and entry.
pub(crate) fn check_finite_steps(
    field: &'static str,
    sample: Option<usize>,
    values: &[f64],
    per_step: usize,
) -> Result<(), CoreError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(p) => Err(CoreError::NonFinite {
            field,
            sample,
            step: p / per_step.max(1),
            index: p % per_step.max(1),
        }),
    }
}
