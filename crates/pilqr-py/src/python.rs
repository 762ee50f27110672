//! The extension module `pilqr._native`: a thin pyo3 layer over [`crate::StepEnv`] and
//! [`crate::trajectory_cost`]. Every Rust error becomes a Python exception carrying the Rust
//! message (the classes below); the GIL is released while a task resets or steps.

use std::sync::{Mutex, MutexGuard};

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pilqr_core::{Split, TaskSeed};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::step_env::{EnvError, StepEnv};

pyo3::create_exception!(
    _native,
    PilqrError,
    PyException,
    "Base class of the errors raised by pilqr (the message is the Rust error's)."
);
pyo3::create_exception!(
    _native,
    ActionError,
    PilqrError,
    "An action was rejected (wrong shape, not finite); the episode is unchanged."
);
pyo3::create_exception!(
    _native,
    EpisodeError,
    PilqrError,
    "step() without an episode under way (before reset, after the horizon or a failure)."
);
pyo3::create_exception!(
    _native,
    TaskError,
    PilqrError,
    "The task failed (diverged, bad condition, cost error); the episode is over."
);

/// The Python exception for `e`, with its full message.
pub(crate) fn to_py(e: EnvError) -> PyErr {
    let message = e.to_string();
    match e {
        EnvError::Action { .. } | EnvError::Trajectory(_) | EnvError::Shape { .. } => {
            ActionError::new_err(message)
        }
        EnvError::Episode(_) => EpisodeError::new_err(message),
        EnvError::Build { .. } | EnvError::Condition(_) => PilqrError::new_err(message),
        EnvError::Task { .. } | EnvError::Cost { .. } => TaskError::new_err(message),
        EnvError::Render { .. } => TaskError::new_err(message),
    }
}

/// A built-in task driven one action at a time (the engine of `pilqr.gym.PilqrEnv`).
#[pyclass(module = "pilqr._native", name = "TaskEnv", frozen)]
struct PyTaskEnv {
    inner: Mutex<StepEnv>,
}

impl PyTaskEnv {
    fn env(&self) -> PyResult<MutexGuard<'_, StepEnv>> {
        self.inner
            .lock()
            .map_err(|_| TaskError::new_err("the environment was poisoned by an earlier failure"))
    }
}

/// The entries of a 1-D float64 array of length `len`, or an `ActionError` naming the shape.
fn action_vec(action: &PyReadonlyArrayDyn<'_, f64>, len: usize, step: usize) -> PyResult<Vec<f64>> {
    let shape = action.shape();
    if shape != [len] {
        return Err(ActionError::new_err(format!(
            "step {step}: action has shape {shape:?}, the task expects ({len},)"
        )));
    }
    Ok(action.as_array().iter().copied().collect())
}

#[pymethods]
impl PyTaskEnv {
    /// Build the built-in task `name` (see `task_names()`).
    #[new]
    fn new(py: Python<'_>, name: &str) -> PyResult<Self> {
        let env = py.detach(|| StepEnv::by_name(name)).map_err(to_py)?;
        Ok(PyTaskEnv {
            inner: Mutex::new(env),
        })
    }

    /// The task's name.
    #[getter]
    fn name(&self) -> PyResult<String> {
        Ok(self.env()?.name().to_string())
    }

    /// `(dX, dU, dO, T, dt)`: state, action and observation sizes, horizon, control period (s).
    #[getter]
    fn dims(&self) -> PyResult<(usize, usize, usize, usize, f64)> {
        let d = self.env()?.dims();
        Ok((d.dx, d.du, d.dobs, d.horizon, d.dt))
    }

    /// The conditions as `(name, split)` pairs, split `"train"` or `"test"`.
    #[getter]
    fn conditions(&self) -> PyResult<Vec<(String, &'static str)>> {
        Ok(self
            .env()?
            .conditions()
            .iter()
            .map(|c| {
                let split = match c.split {
                    Split::Train => "train",
                    Split::Test => "test",
                };
                (c.name.clone(), split)
            })
            .collect())
    }

    /// The bound the task clamps each action entry to (`[dU]`), or `None` if unbounded.
    #[getter]
    fn action_limits(&self) -> PyResult<Option<Vec<f64>>> {
        Ok(self.env()?.action_limits())
    }

    /// Start an episode from `condition`; the task's own randomness comes from `seed`.
    /// Returns the first observation `[dO]`.
    fn reset<'py>(
        &self,
        py: Python<'py>,
        condition: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let obs = py.detach(|| -> Result<Vec<f64>, PyErr> {
            let mut env = self.env()?;
            env.reset(condition, TaskSeed::new(seed)).map_err(to_py)?;
            Ok(env.observation().to_vec())
        })?;
        Ok(PyArray1::from_vec(py, obs))
    }

    /// Apply `action` (float64 `[dU]`). Returns `(obs [dO], reward, truncated, state [dX],
    /// success)` with `success = (succeeded, metric)` on the last step of the horizon, else
    /// `None`.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &self,
        py: Python<'py>,
        action: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        f64,
        bool,
        Bound<'py, PyArray1<f64>>,
        Option<(bool, f64)>,
    )> {
        let (du, step) = {
            let env = self.env()?;
            (env.dims().du, env.steps().unwrap_or(0))
        };
        let u = action_vec(&action, du, step)?;
        let (outcome, obs, state) = py.detach(|| -> Result<_, PyErr> {
            let mut env = self.env()?;
            let outcome = env.step(&u).map_err(to_py)?;
            Ok((outcome, env.observation().to_vec(), env.state().to_vec()))
        })?;
        Ok((
            PyArray1::from_vec(py, obs),
            outcome.reward,
            outcome.truncated,
            PyArray1::from_vec(py, state),
            outcome.success.map(|o| (o.success, o.metric)),
        ))
    }

    /// The current state `[dX]`.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(PyArray1::from_slice(py, self.env()?.state()))
    }

    /// The episode's recorded states `[T, dX]` and actions `[T, dU]` (zero beyond the steps
    /// taken), and its condition.
    #[allow(clippy::type_complexity)]
    fn trajectory<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>, usize)> {
        let env = self.env()?;
        let traj = env.trajectory();
        let x = PyArray1::from_slice(py, traj.x).reshape([traj.horizon, traj.dx])?;
        let u = PyArray1::from_slice(py, traj.u).reshape([traj.horizon, traj.du])?;
        Ok((x, u, env.condition()))
    }
}

/// The per-step costs `[T]` of states `x [T, dX]` and actions `u [T, dU]` from `condition`
/// of task `name`, as the Rust runner scores a sample.
#[pyfunction]
fn trajectory_cost<'py>(
    py: Python<'py>,
    name: &str,
    condition: usize,
    x: PyReadonlyArray2<'py, f64>,
    u: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    // Row-major copies (the arrays may be strided or Fortran-ordered).
    let xs: Vec<f64> = x.as_array().iter().copied().collect();
    let us: Vec<f64> = u.as_array().iter().copied().collect();
    let x_shape = [x.shape()[0], x.shape()[1]];
    let u_shape = [u.shape()[0], u.shape()[1]];
    let costs = py
        .detach(|| {
            crate::step_env::trajectory_cost(name, condition, (&xs, x_shape), (&us, u_shape))
        })
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, costs))
}

/// The names of the built-in tasks.
#[pyfunction]
fn task_names() -> Vec<&'static str> {
    pilqr_tasks::TASK_NAMES.to_vec()
}

/// The module `pilqr._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyTaskEnv>()?;
    m.add_function(wrap_pyfunction!(trajectory_cost, m)?)?;
    m.add_function(wrap_pyfunction!(task_names, m)?)?;
    m.add("PilqrError", py.get_type::<PilqrError>())?;
    m.add("ActionError", py.get_type::<ActionError>())?;
    m.add("EpisodeError", py.get_type::<EpisodeError>())?;
    m.add("TaskError", py.get_type::<TaskError>())?;
    crate::py_solvers::register(m)?;
    crate::python_vec::register(m)?;
    Ok(())
}
