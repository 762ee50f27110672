//! The Python exceptions of the solver bindings (subclasses of `pilqr.PilqrError`) and the one
//! way compute runs: without the GIL, with a panic turned into a `PilqrError`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::prelude::*;

use crate::python::PilqrError;

pyo3::create_exception!(
    _native,
    ShapeError,
    PilqrError,
    "An array argument has the wrong number of axes or a wrong axis length (the message names \
     the argument, the axis, the expected and the actual length)."
);
pyo3::create_exception!(
    _native,
    SettingsError,
    PilqrError,
    "A solver setting is unknown, of the wrong type or out of its domain."
);
pyo3::create_exception!(
    _native,
    SolverError,
    PilqrError,
    "A dynamics fit, controller update or KL failed (the Rust error's message)."
);
pyo3::create_exception!(
    _native,
    ExperimentError,
    PilqrError,
    "An experiment could not be loaded or run (the message is the `pilqr` command's)."
);

/// A [`SolverError`] carrying `e`'s message.
pub(crate) fn solver_err(e: impl std::fmt::Display) -> PyErr {
    SolverError::new_err(e.to_string())
}

/// Run `f` with the GIL released; a panic inside becomes a `PilqrError` instead of crossing
/// into Python.
pub(crate) fn compute<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> PyResult<T> + Send,
) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f)))
        .unwrap_or_else(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PilqrError::new_err(format!(
                "internal error (panic): {message}"
            )))
        })
}
