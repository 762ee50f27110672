//! `pilqr._native.Renderer`: the pyo3 layer over [`crate::FrameRenderer`] (images of a
//! task's states as `H × W × 3` uint8 arrays). The GIL is released while drawing.

use std::sync::{Mutex, MutexGuard};

use numpy::{PyArray1, PyArray3, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::FrameRenderer;
use crate::python::{ActionError, TaskError, to_py};

/// Draws states of a built-in task through its default camera (the engine of
/// `render_mode="rgb_array"`).
#[pyclass(module = "pilqr._native", name = "Renderer", frozen)]
pub(crate) struct PyRenderer {
    inner: Mutex<FrameRenderer>,
}

impl PyRenderer {
    fn renderer(&self) -> PyResult<MutexGuard<'_, FrameRenderer>> {
        self.inner
            .lock()
            .map_err(|_| TaskError::new_err("the renderer was poisoned by an earlier failure"))
    }
}

#[pymethods]
impl PyRenderer {
    /// A renderer of the built-in task `name`; a `PilqrError` if it cannot be drawn.
    #[new]
    fn new(py: Python<'_>, name: &str) -> PyResult<Self> {
        let renderer = py.detach(|| FrameRenderer::by_name(name)).map_err(to_py)?;
        Ok(PyRenderer {
            inner: Mutex::new(renderer),
        })
    }

    /// `(H, W)` of the images, in pixels.
    #[getter]
    fn size(&self) -> PyResult<(usize, usize)> {
        Ok(self.renderer()?.size())
    }

    /// The image `[H, W, 3]` (uint8, RGB, row 0 at the top) of state `x` (float64 `[dX]`)
    /// of `condition`.
    fn render<'py>(
        &self,
        py: Python<'py>,
        condition: usize,
        x: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray3<u8>>> {
        if x.ndim() != 1 {
            return Err(ActionError::new_err(format!(
                "state has shape {:?}, expected a 1-D array",
                x.shape()
            )));
        }
        let state: Vec<f64> = x.as_array().iter().copied().collect();
        let frame = py.detach(|| self.renderer()?.render(condition, &state).map_err(to_py))?;
        PyArray1::from_vec(py, frame.rgb).reshape([frame.height, frame.width, 3])
    }
}
