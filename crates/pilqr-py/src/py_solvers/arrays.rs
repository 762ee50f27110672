//! numpy arrays in and out: every array argument is converted to a C-contiguous float64 array
//! and its axes are checked against named sizes (`N`, `T`, `dX`, `dU`…) shared by all the
//! arguments of a call; stacks of matrices are converted between numpy's row-major
//! `[T, rows, cols]` and [`MatStack`]'s column-major steps.

use std::collections::HashMap;

use numpy::{PyArray1, PyArray2, PyArray3, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pilqr_linalg::{MatStack, VecStack};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::ShapeError;

/// An array argument's values (row-major) and shape.
pub(crate) struct Array {
    /// Row-major values.
    pub data: Vec<f64>,
    /// Axis lengths.
    pub shape: Vec<usize>,
}

/// The named sizes of one call, each bound by the first argument that has it.
#[derive(Default)]
pub(crate) struct Dims {
    bound: HashMap<&'static str, (usize, String)>,
}

impl Dims {
    /// Fix `name` to `len`, as given by `source` (e.g. the previous controller).
    pub(crate) fn bind(&mut self, name: &'static str, len: usize, source: &str) {
        self.bound.insert(name, (len, source.to_string()));
    }

    /// The size `name`, if bound.
    pub(crate) fn get(&self, name: &'static str) -> Option<usize> {
        self.bound.get(name).map(|b| b.0)
    }

    /// `obj` as a float64 array with axes `axes` (e.g. `["N", "T", "dX"]`): sizes already bound
    /// must match, the others are bound here. Errors name `arg`, the axis, expected and got.
    pub(crate) fn array(
        &mut self,
        obj: &Bound<'_, PyAny>,
        arg: &str,
        axes: &[&'static str],
    ) -> PyResult<Array> {
        let a = f64_array(obj, arg)?;
        let shape = a.shape().to_vec();
        if shape.len() != axes.len() {
            return Err(ShapeError::new_err(format!(
                "argument `{arg}`: expected {} axes [{}], got {} (shape {shape:?})",
                axes.len(),
                axes.join(", "),
                shape.len()
            )));
        }
        for (i, (&name, &len)) in axes.iter().zip(&shape).enumerate() {
            match self.bound.get(name) {
                Some((want, source)) if *want != len => {
                    return Err(ShapeError::new_err(format!(
                        "argument `{arg}`: axis {i} ({name}) has length {len}, expected {want} \
                         (the {name} of {source}; shape {shape:?})"
                    )));
                }
                Some(_) => {}
                None => self.bind(name, len, &format!("`{arg}`")),
            }
        }
        // A C-contiguous float64 array (made so by `f64_array`): its slice is its row-major data.
        let data =
            a.readonly().as_slice().map(<[f64]>::to_vec).map_err(|e| {
                ShapeError::new_err(format!("argument `{arg}`: not contiguous ({e})"))
            })?;
        Ok(Array { data, shape })
    }
}

/// `obj` converted by `numpy.ascontiguousarray(obj, dtype=float64)`.
fn f64_array<'py>(obj: &Bound<'py, PyAny>, arg: &str) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float64")?)?;
    let converted = np
        .call_method("ascontiguousarray", (obj,), Some(&kwargs))
        .map_err(|e| {
            ShapeError::new_err(format!(
                "argument `{arg}`: not convertible to a float64 array ({e})"
            ))
        })?;
    converted
        .cast_into::<PyArrayDyn<f64>>()
        .map_err(|e| ShapeError::new_err(format!("argument `{arg}`: not a float64 array ({e})")))
}

/// A `[T, rows, cols]` row-major array as a stack of column-major matrices.
pub(crate) fn mat_stack(a: &Array) -> MatStack {
    let (len, rows, cols) = (a.shape[0], a.shape[1], a.shape[2]);
    MatStack::from_fn(len, rows, cols, |t, mut m| {
        let step = &a.data[t * rows * cols..(t + 1) * rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                m[(i, j)] = step[i * cols + j];
            }
        }
    })
}

/// A `[rows, cols]` row-major array as a one-step stack.
pub(crate) fn mat_stack_2d(a: &Array) -> MatStack {
    mat_stack(&Array {
        data: a.data.clone(),
        shape: vec![1, a.shape[0], a.shape[1]],
    })
}

/// A `[T, dim]` array as a stack of vectors (both are step-major).
pub(crate) fn vec_stack(a: Array) -> PyResult<VecStack> {
    VecStack::from_vec(a.shape[0], a.shape[1], a.data).map_err(super::errors::solver_err)
}

/// A stack of matrices as a numpy `[T, rows, cols]` array.
pub(crate) fn py_mat_stack<'py>(
    py: Python<'py>,
    s: &MatStack,
) -> PyResult<Bound<'py, PyArray3<f64>>> {
    let (len, rows, cols) = (s.len(), s.rows(), s.cols());
    let mut data = Vec::with_capacity(len * rows * cols);
    for t in 0..len {
        let m = s.at(t);
        for i in 0..rows {
            for j in 0..cols {
                data.push(m[(i, j)]);
            }
        }
    }
    PyArray1::from_vec(py, data).reshape([len, rows, cols])
}

/// The first matrix of a stack as a numpy `[rows, cols]` array.
pub(crate) fn py_mat_first<'py>(
    py: Python<'py>,
    s: &MatStack,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let m = py_mat_stack(py, s)?;
    m.reshape([s.rows(), s.cols()])
}

/// A stack of vectors as a numpy `[T, dim]` array.
pub(crate) fn py_vec_stack<'py>(
    py: Python<'py>,
    s: &VecStack,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    PyArray1::from_slice(py, s.as_slice()).reshape([s.len(), s.dim()])
}

/// A scalar (broadcast to `len` entries) or a 1-D array of `len` (or `1` if `allow_one`)
/// entries.
pub(crate) fn per_step(
    obj: &Bound<'_, PyAny>,
    arg: &str,
    len: usize,
    allow_one: bool,
) -> PyResult<Vec<f64>> {
    if let Ok(v) = obj.extract::<f64>() {
        return Ok(vec![v; len]);
    }
    let a = f64_array(obj, arg)?;
    let shape = a.shape().to_vec();
    let ok = shape.len() == 1 && (shape[0] == len || (allow_one && shape[0] == 1));
    if !ok {
        let one = if allow_one { " or (1,)" } else { "" };
        return Err(ShapeError::new_err(format!(
            "argument `{arg}`: expected a number or shape ({len},){one} (axis 0 is T), got shape {shape:?}"
        )));
    }
    a.readonly()
        .as_slice()
        .map(<[f64]>::to_vec)
        .map_err(|e| ShapeError::new_err(format!("argument `{arg}`: not contiguous ({e})")))
}
