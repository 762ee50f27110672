//! One controller update from numpy arrays — `lqr_flm_update`, `pi2_update`, `pilqr_update`
//! (pilqr-trajopt's `LqrFlm::update`, `pi2_update`, `pilqr_update`) — and `kl_divergence`
//! (`policy_kl`). Each returns the new controller and the diagnostics of the Rust result as a
//! dict.

use numpy::{PyArray1, PyArrayMethods};
use pilqr_trajopt::lqr_flm::{ForwardWorkspace, forward_pass};
use pilqr_trajopt::{
    GaussianTrajectory, LqrFlm, LqrFlmConfig, LqrFlmResult, Pi2Config, Pi2Result, PilqrInputs,
    approximate_costs, pi2_update as rust_pi2_update, pilqr_update as rust_pilqr_update, policy_kl,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::{Dims, mat_stack, per_step, py_mat_stack, py_vec_stack, vec_stack};
use super::errors::{ShapeError, compute, solver_err};
use super::models::{PyCostModel, PyDynamics};
use super::policy::PyPolicy;
use super::samples::Samples;
use super::settings::from_kwargs;

/// The sizes of `previous` bound in a fresh [`Dims`].
fn policy_dims(previous: &PyPolicy, name: &str) -> Dims {
    let mut dims = Dims::default();
    dims.bind("T", previous.inner.horizon(), name);
    dims.bind("dX", previous.inner.state_dim(), name);
    dims.bind("dU", previous.inner.action_dim(), name);
    dims
}

/// An error unless `dynamics` has the sizes in `dims`.
fn check_dynamics(dims: &Dims, dynamics: &PyDynamics, arg: &str) -> PyResult<()> {
    let d = &dynamics.inner;
    for (name, got) in [("T", d.horizon()), ("dX", d.dx()), ("dU", d.du())] {
        if let Some(want) = dims.get(name)
            && want != got
        {
            return Err(ShapeError::new_err(format!(
                "argument `{arg}`: {name} is {got}, expected {want} (the policy's)"
            )));
        }
    }
    Ok(())
}

/// The diagnostics of an LQR-FLM result.
fn lqr_info<'py>(py: Python<'py>, r: &LqrFlmResult) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("eta", PyArray1::from_slice(py, &r.eta))?;
    d.set_item("kl", PyArray1::from_slice(py, &r.kl))?;
    d.set_item("kl_total", r.kl_total)?;
    d.set_item("iterations", r.iterations)?;
    d.set_item("forward_passes", r.forward_passes)?;
    d.set_item("converged", r.converged)?;
    d.set_item("traj_mu", py_vec_stack(py, &r.trajectory.mu)?)?;
    d.set_item("traj_sigma", py_mat_stack(py, &r.trajectory.sigma)?)?;
    Ok(d)
}

/// The diagnostics of a PI2 result.
fn pi2_info<'py>(py: Python<'py>, r: &Pi2Result) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("eta", PyArray1::from_slice(py, &r.eta))?;
    d.set_item("weight_kl", PyArray1::from_slice(py, &r.weight_kl))?;
    d.set_item("recovered", r.recovered.clone())?;
    Ok(d)
}

/// One LQR-FLM update of `previous` against `dynamics` and `cost`, with KL targets
/// `kl_targets` (a number or `[T]`) and starting η `eta_init` (a number, `[1]` or `[T]`; default 1).
/// Settings (`LqrFlmConfig`): `omega`, `min_eta`, `max_eta`, `max_iterations`, `tolerance`,
/// `per_step`, `value_function`. Returns `(policy, info)`.
#[pyfunction]
#[pyo3(signature = (dynamics, cost, previous, kl_targets, eta_init=None, **settings))]
pub(crate) fn lqr_flm_update<'py>(
    py: Python<'py>,
    dynamics: &PyDynamics,
    cost: &PyCostModel,
    previous: &PyPolicy,
    kl_targets: &Bound<'py, PyAny>,
    eta_init: Option<&Bound<'py, PyAny>>,
    settings: Option<&Bound<'py, PyDict>>,
) -> PyResult<(PyPolicy, Bound<'py, PyDict>)> {
    let config: LqrFlmConfig = from_kwargs(settings, "LQR-FLM settings")?;
    let p = &previous.inner;
    let dims = policy_dims(previous, "`previous`");
    check_dynamics(&dims, dynamics, "dynamics")?;
    let targets = per_step(kl_targets, "kl_targets", p.horizon(), false)?;
    let eta = match eta_init {
        Some(e) => per_step(e, "eta_init", p.horizon(), true)?,
        None => vec![1.0],
    };
    let (d, c) = (&dynamics.inner, &cost.inner);
    let result = compute(py, || {
        let mut solver = LqrFlm::new(p.horizon(), p.state_dim(), p.action_dim());
        solver
            .update(d, c, p, &targets, &eta, &config)
            .map_err(solver_err)
    })?;
    let info = lqr_info(py, &result)?;
    Ok((
        PyPolicy {
            inner: result.policy,
        },
        info,
    ))
}

/// One PI2 update of `previous` from its own samples `x [N, T, dX]`, `u [N, T, dU]` with
/// per-step costs `costs [N, T]`. Settings (`Pi2Config`): `kl_threshold`,
/// `covariance_damping`, `min_temperature`, `max_temperature`, `covariance_floor`,
/// `fixed_temperature`. Returns `(policy, info)`.
#[pyfunction]
#[pyo3(signature = (previous, x, u, costs, **settings))]
pub(crate) fn pi2_update<'py>(
    py: Python<'py>,
    previous: &PyPolicy,
    x: &Bound<'py, PyAny>,
    u: &Bound<'py, PyAny>,
    costs: &Bound<'py, PyAny>,
    settings: Option<&Bound<'py, PyDict>>,
) -> PyResult<(PyPolicy, Bound<'py, PyDict>)> {
    let config: Pi2Config = from_kwargs(settings, "PI2 settings")?;
    let mut dims = policy_dims(previous, "`previous`");
    let samples = Samples::read(&mut dims, x, u, None, Some(costs))?;
    let p = &previous.inner;
    let result = compute(py, move || {
        let batch = samples.into_batch()?;
        rust_pi2_update(p, &batch, &config).map_err(solver_err)
    })?;
    let info = pi2_info(py, &result)?;
    Ok((
        PyPolicy {
            inner: result.policy,
        },
        info,
    ))
}

/// One PILQR update of `previous` (which generated the samples `x [N, T, dX]`, `u [N, T, dU]`
/// with standard-normal noise `noise [N, T, dU]` and costs `costs [N, T]`) with the fitted
/// `dynamics` and the `cost` model: the approximated costs by `approximate_costs`, then
/// `pilqr_update`. `kl_targets` and `eta_init` as in `lqr_flm_update`; `kl_reference` the
/// controller the LQR stage's KL is taken against (default `previous`); `lqr` and `pi2` dicts of
/// `LqrFlmConfig` and `Pi2Config` settings (`pi2` may also hold `pilqr_temperature`).
/// Returns `(policy, info)` with `info["lqr"]` (its `policy` the LQR stage's controller),
/// `info["pi2"]` and `info["approximated"] [N, T]`.
#[pyfunction]
#[pyo3(signature = (previous, dynamics, cost, x, u, noise, costs, kl_targets, eta_init=None, kl_reference=None, lqr=None, pi2=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn pilqr_update<'py>(
    py: Python<'py>,
    previous: &PyPolicy,
    dynamics: &PyDynamics,
    cost: &PyCostModel,
    x: &Bound<'py, PyAny>,
    u: &Bound<'py, PyAny>,
    noise: &Bound<'py, PyAny>,
    costs: &Bound<'py, PyAny>,
    kl_targets: &Bound<'py, PyAny>,
    eta_init: Option<&Bound<'py, PyAny>>,
    kl_reference: Option<&PyPolicy>,
    lqr: Option<&Bound<'py, PyDict>>,
    pi2: Option<&Bound<'py, PyDict>>,
) -> PyResult<(PyPolicy, Bound<'py, PyDict>)> {
    let lqr_config: LqrFlmConfig = from_kwargs(lqr, "LQR-FLM settings")?;
    let pi2_config: Pi2Config = from_kwargs(pi2, "PI2 settings")?;
    let p = &previous.inner;
    let mut dims = policy_dims(previous, "`previous`");
    check_dynamics(&dims, dynamics, "dynamics")?;
    let samples = Samples::read(&mut dims, x, u, Some(noise), Some(costs))?;
    let targets = per_step(kl_targets, "kl_targets", p.horizon(), false)?;
    let eta = match eta_init {
        Some(e) => per_step(e, "eta_init", p.horizon(), true)?,
        None => vec![1.0],
    };
    let (d, c) = (&dynamics.inner, &cost.inner);
    let reference = kl_reference.map(|r| &r.inner);
    let (result, approximated) = compute(py, move || {
        let batch = samples.into_batch()?;
        let approximated = approximate_costs(p, d, c, &batch).map_err(solver_err)?;
        let mut solver = LqrFlm::new(p.horizon(), p.state_dim(), p.action_dim());
        let inputs = PilqrInputs {
            previous: p,
            kl_reference: reference,
            dynamics: d,
            cost: c,
            batch: &batch,
            approximated: &approximated,
            kl_targets: &targets,
            eta_init: &eta,
        };
        let result =
            rust_pilqr_update(&mut solver, inputs, &lqr_config, &pi2_config).map_err(solver_err)?;
        Ok((result, approximated))
    })?;
    let info = PyDict::new(py);
    let lqr_d = lqr_info(py, &result.lqr)?;
    lqr_d.set_item(
        "policy",
        PyPolicy {
            inner: result.lqr.policy.clone(),
        },
    )?;
    info.set_item("lqr", lqr_d)?;
    info.set_item("pi2", pi2_info(py, &result.pi2)?)?;
    let n = approximated.len() / p.horizon();
    info.set_item(
        "approximated",
        PyArray1::from_vec(py, approximated).reshape([n, p.horizon()])?,
    )?;
    Ok((
        PyPolicy {
            inner: result.policy,
        },
        info,
    ))
}

/// Per-step KL `E_{x_t} KL(new(·|x_t) ‖ reference(·|x_t))` `[T]` under the state-action
/// marginals `mu [T, dX+dU]`, `sigma [T, dX+dU, dX+dU]`, or, given `dynamics` instead, under
/// `new`'s forward pass through them (as LQR-FLM measures its step).
#[pyfunction]
#[pyo3(signature = (new, reference, dynamics=None, mu=None, sigma=None))]
pub(crate) fn kl_divergence<'py>(
    py: Python<'py>,
    new: &PyPolicy,
    reference: &PyPolicy,
    dynamics: Option<&PyDynamics>,
    mu: Option<&Bound<'py, PyAny>>,
    sigma: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let p = &new.inner;
    let (t, dx, du) = (p.horizon(), p.state_dim(), p.action_dim());
    let mut dims = policy_dims(new, "`new`");
    dims.bind("dX+dU", dx + du, "`new`");
    let traj = match (dynamics, mu, sigma) {
        (Some(d), None, None) => {
            check_dynamics(&dims, d, "dynamics")?;
            let d = &d.inner;
            compute(py, || {
                let mut out = GaussianTrajectory::zeros(t, dx, du);
                let mut ws = ForwardWorkspace::new(dx, du);
                forward_pass(d, p.gain(), p.offset(), p.cov(), &mut ws, &mut out);
                Ok(out)
            })?
        }
        (None, Some(m), Some(s)) => {
            let m = dims.array(m, "mu", &["T", "dX+dU"])?;
            let s = dims.array(s, "sigma", &["T", "dX+dU", "dX+dU"])?;
            GaussianTrajectory {
                mu: vec_stack(m)?,
                sigma: mat_stack(&s),
            }
        }
        _ => {
            return Err(ShapeError::new_err(
                "kl_divergence: give either `dynamics` or both `mu` and `sigma`",
            ));
        }
    };
    let r = &reference.inner;
    let kl = compute(py, || policy_kl(p, r, &traj).map_err(solver_err))?;
    Ok(PyArray1::from_vec(py, kl))
}
