//! Errors of the MDGPS layer.

use pilqr_core::CoreError;
use thiserror::Error;

/// What can go wrong when building, training, linearising or restoring a global policy.
#[derive(Debug, Error)]
pub enum MdgpsError {
    /// A libtorch call failed; `context` says which step of ours made it.
    #[error("libtorch failed while {context}: {source}")]
    Torch {
        /// What we were doing.
        context: &'static str,
        /// The error reported by `tch`.
        #[source]
        source: tch::TchError,
    },
    /// An input has the wrong size for its role.
    #[error("{what}: expected {expected}, got {got}")]
    Dimension {
        /// Which input, and of which condition when it belongs to one.
        what: String,
        /// Expected size.
        expected: usize,
        /// Size given.
        got: usize,
    },
    /// A configuration value is out of its range.
    #[error("invalid configuration {field}: {reason}")]
    InvalidConfig {
        /// Which field.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A value is NaN, infinite or negative where it must not be.
    #[error("{what} is not valid at entry {index}: {value}")]
    InvalidValue {
        /// Which value.
        what: String,
        /// Entry index.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// The S-step was given no data, or only weights too small to use.
    #[error("no usable supervision data: {reason}")]
    NoData {
        /// Why.
        reason: String,
    },
    /// Stored policy parameters are inconsistent (a checkpoint that does not describe a
    /// network of its declared architecture).
    #[error("inconsistent policy parameters: {reason}")]
    Inconsistent {
        /// What does not fit.
        reason: String,
    },
    /// The training loss became NaN or infinite.
    #[error("S-step diverged at Adam iteration {iteration}: loss {loss}")]
    Diverged {
        /// Iteration at which the loss stopped being finite.
        iteration: usize,
        /// The loss.
        loss: f64,
    },
    /// A failure of the GMM or the conditional regression (the dynamics crate's machinery).
    #[error("policy linearisation: {0}")]
    Dynamics(#[from] pilqr_dynamics::DynamicsError),
    /// A step of the MDGPS loop failed (sampling, the task, the C-step…).
    #[error("{context}: {reason}")]
    Step {
        /// What the loop was doing.
        context: String,
        /// The underlying error, as text.
        reason: String,
    },
    /// libtorch's CPU-dependent numerics could not be pinned ([`crate::pin_cpu_numerics`]).
    #[error(transparent)]
    Pin(#[from] crate::cpu_numerics::PinError),
    /// A core-vocabulary error (a local controller evaluated out of range…).
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Attach `context` to a `tch` result.
pub(crate) fn torch<T>(
    context: &'static str,
    r: Result<T, tch::TchError>,
) -> Result<T, MdgpsError> {
    r.map_err(|source| MdgpsError::Torch { context, source })
}

/// Check that every value is finite, naming the first that is not.
pub(crate) fn check_finite(what: &str, values: &[f64]) -> Result<(), MdgpsError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(MdgpsError::InvalidValue {
            what: what.to_string(),
            index,
            value: values[index],
        }),
    }
}

/// Check a length.
pub(crate) fn check_len(what: &str, got: usize, expected: usize) -> Result<(), MdgpsError> {
    if got != expected {
        return Err(MdgpsError::Dimension {
            what: what.to_string(),
            expected,
            got,
        });
    }
    Ok(())
}
