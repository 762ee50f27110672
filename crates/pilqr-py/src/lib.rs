//! # pilqr-py
//!
//! The Rust side of the Python package `pilqr` (built with maturin, see `pyproject.toml` and
//! `scripts/python-env`).
//!
//! - [`StepEnv`] — a task driven one action at a time with the reward `−c_t` of the runner's
//!   cost, truncated at the horizon, the success test at the end: what `pilqr.gym` wraps in
//!   gymnasium environments. Plain Rust, tested without Python.
//! - [`trajectory_cost`] — the per-step costs of a whole trajectory, as the runner scores a
//!   sample (the oracle of the Python tests).
//! - [`FrameRenderer`] — `H × W × 3` images of a task's state through the suite's renderer
//!   (`render_mode="rgb_array"`).
//! - [`VecStepEnv`] — `N` copies of a task stepped together across rayon worker threads,
//!   with results independent of the thread count (`pilqr.gym.PilqrVectorEnv`).
//! - With the cargo feature `python` (turned on by maturin only): the extension module
//!   `pilqr._native`, the thin pyo3 layer over the above, which releases the GIL while the
//!   task steps and turns every error into a Python exception carrying its message.
#![warn(missing_docs)]

mod frame_renderer;
#[cfg(feature = "python")]
mod py_solvers;
#[cfg(feature = "python")]
mod python;
#[cfg(feature = "python")]
mod python_render;
#[cfg(feature = "python")]
mod python_vec;
mod step_env;
mod vec_env;

pub use frame_renderer::{Frame, FrameRenderer};
pub use step_env::{EnvError, StepEnv, StepOutcome, trajectory_cost};
pub use vec_env::{Command, VecEnvError, VecOutputs, VecStepEnv};
