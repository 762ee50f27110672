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
//! - With the cargo feature `python` (turned on by maturin only): the extension module
//!   `pilqr._native`, the thin pyo3 layer over the above, which releases the GIL while the
//!   task steps and turns every error into a Python exception carrying its message.
#![warn(missing_docs)]

#[cfg(feature = "python")]
mod py_solvers;
#[cfg(feature = "python")]
mod python;
mod step_env;

pub use step_env::{EnvError, StepEnv, StepOutcome, trajectory_cost};
