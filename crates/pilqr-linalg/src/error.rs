//! Errors of the linear-algebra helpers.

use thiserror::Error;

/// What can go wrong in `pilqr-linalg`.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LinalgError {
    /// The matrix is not symmetric positive definite, even after adding the largest jitter the
    /// caller allowed to its diagonal.
    #[error(
        "{dim}x{dim} matrix is not positive definite (largest diagonal jitter tried: {jitter_tried:e})"
    )]
    NotPositiveDefinite {
        /// Size of the matrix.
        dim: usize,
        /// The largest jitter added to the diagonal before giving up (0 when no retry was allowed).
        jitter_tried: f64,
    },
    /// A matrix or vector does not have the size an operation needs.
    #[error("{what}: expected {expected_rows}x{expected_cols}, got {rows}x{cols}")]
    Shape {
        /// Which argument is wrong.
        what: &'static str,
        /// Rows needed.
        expected_rows: usize,
        /// Columns needed.
        expected_cols: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// An input holds NaN or an infinity.
    #[error("{what} holds a non-finite value at ({row}, {col})")]
    NonFinite {
        /// Which argument holds it.
        what: &'static str,
        /// Row of the first offending entry.
        row: usize,
        /// Column of the first offending entry.
        col: usize,
    },
    /// A stack was asked for a step it does not have.
    #[error("time step {step} is out of range for a stack of {len} steps")]
    StepOutOfRange {
        /// Step asked for.
        step: usize,
        /// Number of steps held.
        len: usize,
    },
    /// A buffer given to build a stack has the wrong length.
    #[error("{what}: buffer of {got} values cannot hold {expected} ({len} steps of {rows}x{cols})")]
    BufferLength {
        /// Which buffer.
        what: &'static str,
        /// Values needed.
        expected: usize,
        /// Values given.
        got: usize,
        /// Steps.
        len: usize,
        /// Rows per step.
        rows: usize,
        /// Columns per step.
        cols: usize,
    },
}

/// Check that `m` has `rows x cols`.
pub fn check_shape(
    what: &'static str,
    m: faer::MatRef<'_, f64>,
    rows: usize,
    cols: usize,
) -> Result<(), LinalgError> {
    if m.nrows() != rows || m.ncols() != cols {
        return Err(LinalgError::Shape {
            what,
            expected_rows: rows,
            expected_cols: cols,
            rows: m.nrows(),
            cols: m.ncols(),
        });
    }
    Ok(())
}

/// Check that every entry of `m` is finite; names the first offending entry.
pub fn check_finite(what: &'static str, m: faer::MatRef<'_, f64>) -> Result<(), LinalgError> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            if !m[(i, j)].is_finite() {
                return Err(LinalgError::NonFinite {
                    what,
                    row: i,
                    col: j,
                });
            }
        }
    }
    Ok(())
}
