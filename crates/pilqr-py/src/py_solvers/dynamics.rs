//! `pilqr.DynamicsFitter` and `pilqr.fit_dynamics`: the dynamics fit of pilqr-dynamics (per-step
//! regression, with or without the GMM prior) over sample arrays.

use pilqr_dynamics::{DynamicsConfig, DynamicsFitter};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use super::arrays::Dims;
use super::errors::{SettingsError, compute, solver_err};
use super::models::PyDynamics;
use super::samples::Samples;
use super::settings::{kwargs_table, read};

/// The `DynamicsConfig` of `prior` (None/False: no prior; "gmm"/True: the default GMM prior; a
/// dict: the GMM prior with those `GmmPriorConfig` fields) and the other settings.
fn config(
    prior: Option<&Bound<'_, PyAny>>,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<DynamicsConfig> {
    let mut table = kwargs_table(settings)?;
    if table.contains_key("prior") {
        return Err(SettingsError::new_err(
            "dynamics settings: give the prior as `prior=`",
        ));
    }
    let prior = match prior {
        None => toml::Value::Boolean(false),
        Some(p) if p.is_none() => toml::Value::Boolean(false),
        Some(p) if p.is_instance_of::<PyBool>() => toml::Value::Boolean(p.extract()?),
        Some(p) if p.is_instance_of::<PyString>() => {
            let name: String = p.extract()?;
            if name != "gmm" {
                return Err(SettingsError::new_err(format!(
                    "dynamics settings: prior `{name}` is unknown (None, \"gmm\" or a dict of GMM prior settings)"
                )));
            }
            toml::Value::Boolean(true)
        }
        Some(p) => {
            let d = p.cast::<PyDict>().map_err(|_| {
                SettingsError::new_err(
                    "dynamics settings: `prior` must be None, \"gmm\", a bool or a dict of GMM prior settings",
                )
            })?;
            toml::Value::Table(kwargs_table(Some(d))?)
        }
    };
    table.insert("prior".into(), prior);
    let config: DynamicsConfig = read(table, "dynamics settings")?;
    config
        .validate()
        .map_err(|e| SettingsError::new_err(format!("dynamics settings: {e}")))?;
    Ok(config)
}

/// The dynamics fitter of pilqr-dynamics: keeps the GMM prior's buffer of the last
/// `max_samples` trajectories and its mixture across `update` calls, as an algorithm does
/// over iterations.
#[pyclass(module = "pilqr._native", name = "DynamicsFitter")]
pub(crate) struct PyDynamicsFitter {
    inner: DynamicsFitter,
}

#[pymethods]
impl PyDynamicsFitter {
    /// A fitter for state size `dx` and action size `du`. `prior`: None (plain per-step
    /// regression), "gmm" (the GMM prior with its defaults) or a dict of `GmmPriorConfig`
    /// fields (`max_clusters`, `min_samples_per_cluster`, `max_samples`, `strength`,
    /// `em_tolerance`, `em_max_iterations`, `covariance_floor`). Settings (`DynamicsConfig`):
    /// `regularization`, `initial_state_var`.
    #[new]
    #[pyo3(signature = (dx, du, prior=None, **settings))]
    fn new(
        dx: usize,
        du: usize,
        prior: Option<&Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = config(prior, settings)?;
        let inner = DynamicsFitter::new(config, dx, du).map_err(solver_err)?;
        Ok(PyDynamicsFitter { inner })
    }

    /// Add the samples `x [N, T, dX]`, `u [N, T, dU]` to the prior's buffer, refit the prior
    /// and fit their dynamics; `seed` seeds a GMM initialisation. On error the fitter is
    /// unchanged.
    #[pyo3(signature = (x, u, seed=0))]
    fn update(
        &mut self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        u: &Bound<'_, PyAny>,
        seed: u64,
    ) -> PyResult<PyDynamics> {
        let mut dims = Dims::default();
        dims.bind("dX", self.inner.dx(), "the fitter");
        dims.bind("dU", self.inner.du(), "the fitter");
        let samples = Samples::read(&mut dims, x, u, None, None)?;
        let fitter = &mut self.inner;
        let inner = compute(py, move || {
            let batch = samples.into_batch()?;
            fitter.update(&batch, seed).map_err(solver_err)
        })?;
        Ok(PyDynamics { inner })
    }

    /// Whether a GMM prior is configured.
    #[getter]
    fn has_prior(&self) -> bool {
        self.inner.prior().is_some()
    }
}

/// Fit linear-Gaussian dynamics to the samples `x [N, T, dX]`, `u [N, T, dU]` with a fresh
/// fitter (see `DynamicsFitter` for `prior` and the settings); `seed` seeds the GMM
/// initialisation.
#[pyfunction]
#[pyo3(signature = (x, u, prior=None, seed=0, **settings))]
pub(crate) fn fit_dynamics(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    u: &Bound<'_, PyAny>,
    prior: Option<&Bound<'_, PyAny>>,
    seed: u64,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyDynamics> {
    let config = config(prior, settings)?;
    let mut dims = Dims::default();
    let samples = Samples::read(&mut dims, x, u, None, None)?;
    let (dx, du) = (dims.get("dX"), dims.get("dU"));
    let inner = compute(py, move || {
        // Both were bound by reading `x` and `u`.
        let (dx, du) = (dx.unwrap_or(0), du.unwrap_or(0));
        let batch = samples.into_batch()?;
        let mut fitter = DynamicsFitter::new(config, dx, du).map_err(solver_err)?;
        fitter.update(&batch, seed).map_err(solver_err)
    })?;
    Ok(PyDynamics { inner })
}
