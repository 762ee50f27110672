//! `pilqr.LinearDynamics` and `pilqr.CostModel`: the fitted linear-Gaussian dynamics and the
//! quadratic cost model the LQR stage works on, from and to numpy arrays.

use numpy::{PyArray1, PyArray2, PyArray3};
use pilqr_core::CostModel;
use pilqr_dynamics::LinearDynamics;
use pyo3::prelude::*;

use super::arrays::{
    Dims, mat_stack, mat_stack_2d, py_mat_first, py_mat_stack, py_vec_stack, vec_stack,
};
use super::errors::ShapeError;

/// `x_{t+1} ~ N(fm_t [x_t; u_t] + fv_t, dyn_covar_t)`, `x_0 ~ N(x0mu, x0sigma)`:
/// `fm [T, dX, dX+dU]`, `fv [T, dX]`, `dyn_covar [T, dX, dX]`, `x0mu [dX]`, `x0sigma [dX, dX]`.
/// Step `T-1` has no transition (zero in a fit).
#[pyclass(module = "pilqr._native", name = "LinearDynamics", frozen)]
pub(crate) struct PyDynamics {
    pub(crate) inner: LinearDynamics,
}

/// `dX + dU` for a `[T, dX, dX+dU]` array whose `dX` is bound, or a shape error.
fn xu_width(dims: &Dims, arg: &str, got: usize) -> PyResult<usize> {
    let dx = dims.get("dX").unwrap_or(0);
    if got < dx {
        return Err(ShapeError::new_err(format!(
            "argument `{arg}`: axis 2 (dX+dU) has length {got}, less than dX = {dx}"
        )));
    }
    Ok(got - dx)
}

#[pymethods]
impl PyDynamics {
    /// From `fm [T, dX, dX+dU]`, `fv [T, dX]`, `dyn_covar [T, dX, dX]`, `x0mu [dX]` and
    /// `x0sigma [dX, dX]`.
    #[new]
    fn new(
        fm: &Bound<'_, PyAny>,
        fv: &Bound<'_, PyAny>,
        dyn_covar: &Bound<'_, PyAny>,
        x0mu: &Bound<'_, PyAny>,
        x0sigma: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let mut dims = Dims::default();
        let fv = dims.array(fv, "fv", &["T", "dX"])?;
        let fm = dims.array(fm, "fm", &["T", "dX", "dX+dU"])?;
        xu_width(&dims, "fm", fm.shape[2])?;
        let dyn_covar = dims.array(dyn_covar, "dyn_covar", &["T", "dX", "dX"])?;
        let x0mu = dims.array(x0mu, "x0mu", &["dX"])?;
        let x0sigma = dims.array(x0sigma, "x0sigma", &["dX", "dX"])?;
        Ok(PyDynamics {
            inner: LinearDynamics {
                fm: mat_stack(&fm),
                fv: vec_stack(fv)?,
                dyn_covar: mat_stack(&dyn_covar),
                x0mu: x0mu.data,
                x0sigma: mat_stack_2d(&x0sigma),
            },
        })
    }

    /// Horizon `T`.
    #[getter]
    fn horizon(&self) -> usize {
        self.inner.horizon()
    }

    /// State dimension `dX`.
    #[getter]
    fn dx(&self) -> usize {
        self.inner.dx()
    }

    /// Action dimension `dU`.
    #[getter]
    fn du(&self) -> usize {
        self.inner.du()
    }

    /// Transition matrices `fm [T, dX, dX+dU]` acting on `[x_t; u_t]` (a copy).
    #[getter]
    fn fm<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        py_mat_stack(py, &self.inner.fm)
    }

    /// Offsets `fv [T, dX]` (a copy).
    #[getter]
    fn fv<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        py_vec_stack(py, &self.inner.fv)
    }

    /// Transition noise covariances `dyn_covar [T, dX, dX]` (a copy).
    #[getter]
    fn dyn_covar<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        py_mat_stack(py, &self.inner.dyn_covar)
    }

    /// Mean of the initial state `x0mu [dX]` (a copy).
    #[getter]
    fn x0mu<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.x0mu)
    }

    /// Covariance of the initial state `x0sigma [dX, dX]` (a copy).
    #[getter]
    fn x0sigma<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        py_mat_first(py, &self.inner.x0sigma)
    }

    fn __repr__(&self) -> String {
        format!(
            "LinearDynamics(T={}, dX={}, dU={})",
            self.inner.horizon(),
            self.inner.dx(),
            self.inner.du()
        )
    }
}

/// The quadratic cost `c_t(y) = ½ yᵀ cm_t y + cv_tᵀ y + cc_t` of `y = [x_t; u_t]`:
/// `cm [T, dX+dU, dX+dU]`, `cv [T, dX+dU]`, `cc [T]`, with the state size `dx`.
#[pyclass(module = "pilqr._native", name = "CostModel", frozen)]
pub(crate) struct PyCostModel {
    pub(crate) inner: CostModel,
}

#[pymethods]
impl PyCostModel {
    /// From `cm [T, dX+dU, dX+dU]`, `cv [T, dX+dU]`, `cc [T]` and the state size `dx`.
    #[new]
    fn new(
        cm: &Bound<'_, PyAny>,
        cv: &Bound<'_, PyAny>,
        cc: &Bound<'_, PyAny>,
        dx: usize,
    ) -> PyResult<Self> {
        let mut dims = Dims::default();
        let cm = dims.array(cm, "cm", &["T", "dX+dU", "dX+dU"])?;
        let cv = dims.array(cv, "cv", &["T", "dX+dU"])?;
        let cc = dims.array(cc, "cc", &["T"])?;
        if dx > cm.shape[1] {
            return Err(ShapeError::new_err(format!(
                "argument `dx`: {dx} is more than dX+dU = {} (axis 1 of `cm`)",
                cm.shape[1]
            )));
        }
        Ok(PyCostModel {
            inner: CostModel {
                cm: mat_stack(&cm),
                cv: vec_stack(cv)?,
                cc: cc.data,
                dx,
            },
        })
    }

    /// Quadratic terms `cm [T, dX+dU, dX+dU]` (a copy).
    #[getter]
    fn cm<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        py_mat_stack(py, &self.inner.cm)
    }

    /// Linear terms `cv [T, dX+dU]` (a copy).
    #[getter]
    fn cv<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        py_vec_stack(py, &self.inner.cv)
    }

    /// Constants `cc [T]` (a copy).
    #[getter]
    fn cc<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.cc)
    }

    /// State dimension `dX` (the first `dX` entries of `y`).
    #[getter]
    fn dx(&self) -> usize {
        self.inner.dx
    }
}
