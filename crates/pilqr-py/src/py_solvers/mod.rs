//! The solvers from numpy (feature `python`): the dynamics fit, `LinearGaussianPolicy`, the
//! LQR-FLM, PI2 and PILQR updates, the KL between controllers and `run_experiment`, each a
//! thin layer over the Rust API that checks every array's shape, releases the GIL while it
//! computes and turns every Rust error (and any panic) into a `PilqrError` subclass.

mod arrays;
mod dynamics;
mod errors;
mod experiment;
mod models;
mod policy;
mod samples;
mod settings;
mod updates;

use pyo3::prelude::*;

/// Add the solver bindings to the module `m` (`pilqr._native`).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ShapeError", py.get_type::<errors::ShapeError>())?;
    m.add("SettingsError", py.get_type::<errors::SettingsError>())?;
    m.add("SolverError", py.get_type::<errors::SolverError>())?;
    m.add("ExperimentError", py.get_type::<errors::ExperimentError>())?;
    m.add_class::<policy::PyPolicy>()?;
    m.add_class::<models::PyDynamics>()?;
    m.add_class::<models::PyCostModel>()?;
    m.add_class::<dynamics::PyDynamicsFitter>()?;
    m.add_function(wrap_pyfunction!(dynamics::fit_dynamics, m)?)?;
    m.add_function(wrap_pyfunction!(updates::lqr_flm_update, m)?)?;
    m.add_function(wrap_pyfunction!(updates::pi2_update, m)?)?;
    m.add_function(wrap_pyfunction!(updates::pilqr_update, m)?)?;
    m.add_function(wrap_pyfunction!(updates::kl_divergence, m)?)?;
    m.add_function(wrap_pyfunction!(experiment::run_experiment, m)?)?;
    Ok(())
}
