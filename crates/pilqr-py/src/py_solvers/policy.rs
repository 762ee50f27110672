//! `pilqr.LinearGaussianPolicy`: the time-varying linear-Gaussian controller
//! `u_t = K_t x_t + k_t + chol(Σ_t) ε_t` of the Rust crates, from and to numpy arrays, with the
//! initial controllers `init_lqr` and `init_pd`.

use std::ops::Range;

use numpy::{PyArray1, PyArray2, PyArray3};
use pilqr_core::{LinearGaussianPolicy, StateLayout};
use pilqr_trajopt::init::{LqrInit, PdInit, init_lqr, init_pd};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::{Dims, mat_stack, py_mat_stack, py_vec_stack, vec_stack};
use super::errors::{SettingsError, ShapeError, compute, solver_err};
use super::settings::from_kwargs;

/// A time-varying linear-Gaussian controller: `K [T, dU, dX]`, `k [T, dU]`, `cov [T, dU, dU]`.
#[pyclass(module = "pilqr._native", name = "LinearGaussianPolicy", frozen)]
pub(crate) struct PyPolicy {
    pub(crate) inner: LinearGaussianPolicy,
}

/// The state layout of the joint positions `pos` and velocities `vel` (half-open ranges).
fn layout(pos: (usize, usize), vel: (usize, usize)) -> PyResult<StateLayout> {
    let range = |name: &str, (a, b): (usize, usize)| -> PyResult<Range<usize>> {
        if a > b {
            return Err(SettingsError::new_err(format!(
                "`{name}` = ({a}, {b}): the start is after the end"
            )));
        }
        Ok(a..b)
    };
    Ok(StateLayout {
        joint_pos: range("joint_pos", pos)?,
        joint_vel: range("joint_vel", vel)?,
    })
}

#[pymethods]
impl PyPolicy {
    /// From gains `K [T, dU, dX]`, offsets `k [T, dU]` and covariances `cov [T, dU, dU]`
    /// (each symmetric positive definite).
    #[new]
    #[pyo3(signature = (K, k, cov))]
    #[allow(non_snake_case)]
    fn new(
        py: Python<'_>,
        K: &Bound<'_, PyAny>,
        k: &Bound<'_, PyAny>,
        cov: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let mut dims = Dims::default();
        let gain = dims.array(K, "K", &["T", "dU", "dX"])?;
        let offset = dims.array(k, "k", &["T", "dU"])?;
        let cov = dims.array(cov, "cov", &["T", "dU", "dU"])?;
        let inner = compute(py, || {
            LinearGaussianPolicy::new(mat_stack(&gain), vec_stack(offset)?, mat_stack(&cov))
                .map_err(solver_err)
        })?;
        Ok(PyPolicy { inner })
    }

    /// The LQR initial controller (`pilqr_trajopt::init::init_lqr`) for horizon `T`, `du`
    /// actions, control period `dt`, around the initial state `x0 [dX]`; `joint_pos` and
    /// `joint_vel` are the `(start, end)` state indices of the joint positions and velocities.
    /// Settings (`LqrInit`): `stiffness`, `stiffness_vel`, `final_weight`, `init_gains`,
    /// `init_acc`, `init_var`.
    #[staticmethod]
    #[pyo3(signature = (horizon, du, dt, x0, joint_pos, joint_vel, **settings))]
    #[allow(clippy::too_many_arguments)]
    fn init_lqr(
        py: Python<'_>,
        horizon: usize,
        du: usize,
        dt: f64,
        x0: &Bound<'_, PyAny>,
        joint_pos: (usize, usize),
        joint_vel: (usize, usize),
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config: LqrInit = from_kwargs(settings, "init_lqr settings")?;
        let x0 = Dims::default().array(x0, "x0", &["dX"])?.data;
        let layout = layout(joint_pos, joint_vel)?;
        let inner = compute(py, || {
            init_lqr(horizon, du, dt, &layout, &x0, &config).map_err(solver_err)
        })?;
        Ok(PyPolicy { inner })
    }

    /// The PD initial controller (`pilqr_trajopt::init::init_pd`) for horizon `T`, `du`
    /// actions, around `x0 [dX]` (see `init_lqr` for `joint_pos`, `joint_vel`). Settings
    /// (`PdInit`): `pos_gain`, `vel_gain`, `init_var`.
    #[staticmethod]
    #[pyo3(signature = (horizon, du, x0, joint_pos, joint_vel, **settings))]
    fn init_pd(
        py: Python<'_>,
        horizon: usize,
        du: usize,
        x0: &Bound<'_, PyAny>,
        joint_pos: (usize, usize),
        joint_vel: (usize, usize),
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config: PdInit = from_kwargs(settings, "init_pd settings")?;
        let x0 = Dims::default().array(x0, "x0", &["dX"])?.data;
        let layout = layout(joint_pos, joint_vel)?;
        let inner = compute(py, || {
            init_pd(horizon, du, &layout, &x0, &config).map_err(solver_err)
        })?;
        Ok(PyPolicy { inner })
    }

    /// Horizon `T`.
    #[getter]
    fn horizon(&self) -> usize {
        self.inner.horizon()
    }

    /// State dimension `dX`.
    #[getter]
    fn dx(&self) -> usize {
        self.inner.state_dim()
    }

    /// Action dimension `dU`.
    #[getter]
    fn du(&self) -> usize {
        self.inner.action_dim()
    }

    /// Gains `K [T, dU, dX]` (a copy).
    #[getter(K)]
    fn gain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        py_mat_stack(py, self.inner.gain())
    }

    /// Feed-forward terms `k [T, dU]` (a copy).
    #[getter(k)]
    fn offset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        py_vec_stack(py, self.inner.offset())
    }

    /// Covariances `Σ [T, dU, dU]` (a copy).
    #[getter]
    fn cov<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        py_mat_stack(py, self.inner.cov())
    }

    /// Lower Cholesky factors `L [T, dU, dU]`, `Σ_t = L_t L_tᵀ` (a copy).
    #[getter]
    fn chol<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        py_mat_stack(py, self.inner.chol())
    }

    /// Precisions `Σ⁻¹ [T, dU, dU]` (a copy).
    #[getter]
    fn precision<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        py_mat_stack(py, self.inner.precision())
    }

    /// The action `K_t x + k_t + L_t ε` at step `t` for state `x [dX]` and standard-normal
    /// noise `ε [dU]` (`None`: the mean action `K_t x + k_t`). Returns `u [dU]`.
    #[pyo3(signature = (t, x, noise=None))]
    fn act<'py>(
        &self,
        py: Python<'py>,
        t: usize,
        x: &Bound<'py, PyAny>,
        noise: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = &self.inner;
        if t >= p.horizon() {
            return Err(ShapeError::new_err(format!(
                "argument `t`: step {t} is beyond the horizon T = {}",
                p.horizon()
            )));
        }
        let mut dims = Dims::default();
        dims.bind("dX", p.state_dim(), "the policy");
        dims.bind("dU", p.action_dim(), "the policy");
        let x = dims.array(x, "x", &["dX"])?.data;
        let noise = noise.map(|n| dims.array(n, "noise", &["dU"])).transpose()?;
        let mut u = vec![0.0; p.action_dim()];
        match noise {
            Some(n) => p.act_state(t, &x, &n.data, &mut u),
            None => p.mean_action(t, &x, &mut u),
        }
        .map_err(solver_err)?;
        Ok(PyArray1::from_vec(py, u))
    }

    fn __repr__(&self) -> String {
        format!(
            "LinearGaussianPolicy(T={}, dX={}, dU={})",
            self.inner.horizon(),
            self.inner.state_dim(),
            self.inner.action_dim()
        )
    }
}
