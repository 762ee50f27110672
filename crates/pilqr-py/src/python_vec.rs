//! `pilqr._native.VecTaskEnv`: the pyo3 layer over [`crate::VecStepEnv`] (the engine of
//! `pilqr.gym.PilqrVectorEnv`). The GIL is released while the copies reset and step; a
//! copy's failure becomes the Python exception of its error, its message prefixed with the
//! copy's index.

use std::sync::{Mutex, MutexGuard};

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pilqr_core::TaskSeed;
use pyo3::prelude::*;

use crate::python::{ActionError, PilqrError, TaskError, to_py};
use crate::{Command, VecEnvError, VecOutputs, VecStepEnv};

/// The Python exception for `e`: a copy's error keeps its class (`ActionError`, …).
fn vec_to_py(py: Python<'_>, e: VecEnvError) -> PyErr {
    match e {
        VecEnvError::Copy { copy, source } => {
            let err = to_py(source);
            let message = format!("copy {copy}: {}", err.value(py));
            PyErr::from_type(err.get_type(py), message)
        }
        VecEnvError::Size { .. } => ActionError::new_err(e.to_string()),
        VecEnvError::Zero(_) | VecEnvError::Threads { .. } => PilqrError::new_err(e.to_string()),
    }
}

/// What `reset` and `step` return: `(obs [N, dO], reward [N], truncated [N], state [N, dX],
/// finished [N], success [N], metric [N])`.
type Outputs<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyAny>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<f64>>,
);

fn outputs<'py>(py: Python<'py>, out: &VecOutputs, n: usize) -> PyResult<Outputs<'py>> {
    let obs = PyArray1::from_slice(py, &out.obs).reshape([n, out.obs.len() / n])?;
    let state = PyArray1::from_slice(py, &out.state).reshape([n, out.state.len() / n])?;
    let finished: Vec<bool> = out.success.iter().map(Option::is_some).collect();
    let success: Vec<bool> = out
        .success
        .iter()
        .map(|s| s.is_some_and(|o| o.success))
        .collect();
    let metric: Vec<f64> = out
        .success
        .iter()
        .map(|s| s.map_or(0.0, |o| o.metric))
        .collect();
    Ok((
        obs.into_any(),
        PyArray1::from_slice(py, &out.reward),
        PyArray1::from_slice(py, &out.truncated),
        state.into_any(),
        PyArray1::from_vec(py, finished),
        PyArray1::from_vec(py, success),
        PyArray1::from_vec(py, metric),
    ))
}

/// `N` copies of a built-in task stepped together on worker threads.
#[pyclass(module = "pilqr._native", name = "VecTaskEnv", frozen)]
pub(crate) struct PyVecTaskEnv {
    inner: Mutex<VecStepEnv>,
}

impl PyVecTaskEnv {
    fn env(&self) -> PyResult<MutexGuard<'_, VecStepEnv>> {
        self.inner
            .lock()
            .map_err(|_| TaskError::new_err("the environment was poisoned by an earlier failure"))
    }

    /// The commands of a call: `default` for every copy but those of `resets`.
    fn commands(
        n: usize,
        default: Command,
        resets: &[(usize, usize, u64)],
    ) -> PyResult<Vec<Command>> {
        let mut commands = vec![default; n];
        for &(copy, condition, seed) in resets {
            let slot = commands.get_mut(copy).ok_or_else(|| {
                PilqrError::new_err(format!("copy {copy} does not exist ({n} copies)"))
            })?;
            *slot = Command::Reset {
                condition,
                seed: TaskSeed::new(seed),
            };
        }
        Ok(commands)
    }

    fn run<'py>(
        &self,
        py: Python<'py>,
        default: Command,
        resets: &[(usize, usize, u64)],
        actions: Option<Vec<f64>>,
    ) -> PyResult<Outputs<'py>> {
        let (n, du) = {
            let env = self.env()?;
            (env.copies(), env.dims().du)
        };
        let commands = Self::commands(n, default, resets)?;
        let actions = actions.unwrap_or_else(|| vec![0.0; n * du]);
        let result = py.detach(|| -> PyResult<Result<VecOutputs, VecEnvError>> {
            let mut env = self.env()?;
            Ok(env.run(&commands, &actions).cloned())
        })?;
        let out = result.map_err(|e| vec_to_py(py, e))?;
        outputs(py, &out, n)
    }
}

#[pymethods]
impl PyVecTaskEnv {
    /// `num_envs` copies of the built-in task `name`, stepped by `threads` worker threads.
    #[new]
    fn new(py: Python<'_>, name: &str, num_envs: usize, threads: usize) -> PyResult<Self> {
        let env = py.detach(|| VecStepEnv::by_name(name, num_envs, threads));
        Ok(PyVecTaskEnv {
            inner: Mutex::new(env.map_err(|e| vec_to_py(py, e))?),
        })
    }

    /// The number of copies `N`.
    #[getter]
    fn num_envs(&self) -> PyResult<usize> {
        Ok(self.env()?.copies())
    }

    /// The number of worker threads.
    #[getter]
    fn threads(&self) -> PyResult<usize> {
        Ok(self.env()?.threads())
    }

    /// Reset the copies listed in `resets` as `(copy, condition, seed)`, leaving the others
    /// as they are. Returns `(obs [N, dO], reward [N], truncated [N], state [N, dX],
    /// finished [N], success [N], metric [N])` (rewards 0, nothing truncated or finished).
    fn reset<'py>(
        &self,
        py: Python<'py>,
        resets: Vec<(usize, usize, u64)>,
    ) -> PyResult<Outputs<'py>> {
        self.run(py, Command::Keep, &resets, None)
    }

    /// Step every copy with its row of `actions` (float64 `[N, dU]`), except the copies
    /// listed in `resets` as `(copy, condition, seed)`, which are reset instead. Returns
    /// `(obs [N, dO], reward [N], truncated [N], state [N, dX], finished [N], success [N],
    /// metric [N])`: `finished` marks the copies whose episode ended at this step, with their
    /// success test in `success` and `metric`.
    fn step<'py>(
        &self,
        py: Python<'py>,
        actions: PyReadonlyArrayDyn<'py, f64>,
        resets: Vec<(usize, usize, u64)>,
    ) -> PyResult<Outputs<'py>> {
        let (n, du) = {
            let env = self.env()?;
            (env.copies(), env.dims().du)
        };
        if actions.shape() != [n, du] {
            return Err(ActionError::new_err(format!(
                "actions have shape {:?}, the vector env expects ({n}, {du})",
                actions.shape()
            )));
        }
        // Row-major copy (the array may be strided or Fortran-ordered).
        let u: Vec<f64> = actions.as_array().iter().copied().collect();
        self.run(py, Command::Step, &resets, Some(u))
    }
}

/// Add the classes of this file to the module `pilqr._native`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVecTaskEnv>()?;
    m.add_class::<crate::python_render::PyRenderer>()?;
    Ok(())
}
