//! Per-step linear regression of the dynamics, with or without a prior.

use faer::{Mat, MatRef};
use pilqr_core::SampleBatch;

use crate::conditional::{ConditionalRegressor, PriorRef};
use crate::error::DynamicsError;
use crate::gmm::Gmm;
use crate::initial_state::fit_initial_state_into;
use crate::linear_dynamics::LinearDynamics;

/// Plain per-step ridge regression `x_{t+1} ~ N(Fm_t [x_t;u_t] + fv_t, dyn_covar_t)` and the
/// initial state without prior (docs/design.md §4.2).
///
/// For each `t < T−1`: the biased sample covariance of `[x_t; u_t; x_{t+1}]` over the `N`
/// samples, `regularization` added to the diagonal of its `[x;u]` block, conditioned on
/// `[x_t; u_t]`. Step `T−1` is left zero.
///
/// With fewer samples than `dX + dU + 1` the `[x;u]` block is singular and the ridge is what
/// makes the fit well-posed (`Fm` is then the minimum-norm-like ridge solution); with
/// `regularization = 0` a singular block gets the smallest jitter that factors
/// (see [`pilqr_linalg::Jitter`]); beyond that the error names the time step.
///
/// ```
/// use pilqr_core::{SampleBatch, SampleDims, Trajectory};
/// use pilqr_dynamics::fit_linear_dynamics;
///
/// // x' = 0.5 x + u, noiseless, 3 samples, T = 3.
/// let dims = SampleDims { horizon: 3, dx: 1, du: 1, dobs: 0 };
/// let traj = |x0: f64, u: [f64; 3]| {
///     let mut x = vec![x0];
///     for t in 0..2 { x.push(0.5 * x[t] + u[t]); }
///     Trajectory { x, u: u.to_vec(), obs: vec![], noise: vec![0.0; 3], cost: vec![0.0; 3] }
/// };
/// let batch = SampleBatch::from_trajectories(dims, vec![
///     traj(1.0, [0.3, -1.0, 0.0]), traj(-2.0, [1.0, 0.5, 0.0]), traj(0.5, [-0.7, 2.0, 0.0]),
/// ]).unwrap();
/// let dynamics = fit_linear_dynamics(&batch, 0.0, 1e-6).unwrap();
/// assert!((dynamics.fm.at(0)[(0, 0)] - 0.5).abs() < 1e-9);
/// assert!((dynamics.fm.at(0)[(0, 1)] - 1.0).abs() < 1e-9);
/// ```
pub fn fit_linear_dynamics(
    batch: &SampleBatch,
    regularization: f64,
    initial_state_var: f64,
) -> Result<LinearDynamics, DynamicsError> {
    let d = batch.dims();
    let mut out = LinearDynamics::zeros(d.horizon, d.dx, d.du);
    fit_linear_dynamics_into(batch, regularization, initial_state_var, &mut out)?;
    Ok(out)
}

/// As [`fit_linear_dynamics`], into existing storage: `out` is reused when its shape matches
/// the batch (else it is reallocated), so refitting every iteration does not allocate and
/// fault in ~`T·dX·(2dX+dU)` fresh doubles each time.
///
/// ```
/// use pilqr_core::{SampleBatch, SampleDims, Trajectory};
/// use pilqr_dynamics::{LinearDynamics, fit_linear_dynamics, fit_linear_dynamics_into};
///
/// let dims = SampleDims { horizon: 2, dx: 1, du: 1, dobs: 0 };
/// let traj = |x0: f64, u: f64| Trajectory {
///     x: vec![x0, 0.5 * x0 + u], u: vec![u, 0.0], obs: vec![], noise: vec![0.0; 2], cost: vec![0.0; 2],
/// };
/// let batch = SampleBatch::from_trajectories(dims, vec![traj(1.0, 0.3), traj(-2.0, 1.0), traj(0.5, -0.7)]).unwrap();
/// let mut out = LinearDynamics::zeros(2, 1, 1);
/// fit_linear_dynamics_into(&batch, 1e-9, 1e-6, &mut out).unwrap();
/// assert_eq!(out, fit_linear_dynamics(&batch, 1e-9, 1e-6).unwrap());
/// ```
pub fn fit_linear_dynamics_into(
    batch: &SampleBatch,
    regularization: f64,
    initial_state_var: f64,
    out: &mut LinearDynamics,
) -> Result<(), DynamicsError> {
    let d = batch.dims();
    // Step T−1 has no successor and is documented as zero; a reused `out` may hold data.
    out.prepare(d.horizon, d.dx, d.du);
    fit_transitions(
        batch,
        regularization,
        None,
        out,
        &mut TransitionWork::default(),
    )?;
    fit_initial_state_into(
        batch,
        initial_state_var,
        None,
        &mut out.x0mu,
        out.x0sigma.at_mut(0),
    )
}

/// Storage of [`fit_transitions`] reused from one call to the next (resized when the shapes
/// change; no value of it carries over into a result).
#[derive(Debug, Clone)]
pub(crate) struct TransitionWork {
    /// `D x N`: the batch's points at one step.
    pts: Mat<f64>,
    /// The per-step conditional fit, for `dX + dU` inputs and `dX` outputs.
    reg: Option<ConditionalRegressor>,
    /// The step's prior mean, `D` (empty without prior).
    mu0: Vec<f64>,
    /// `D` scratch of the mixture moments.
    diff: Vec<f64>,
    /// `D x D`: the step's prior scale matrix (lower triangle).
    phi: Mat<f64>,
    /// `K`: the step's component weights.
    w: Vec<f64>,
}

impl Default for TransitionWork {
    fn default() -> Self {
        TransitionWork {
            pts: Mat::zeros(0, 0),
            reg: None,
            mu0: Vec::new(),
            diff: Vec::new(),
            phi: Mat::zeros(0, 0),
            w: Vec::new(),
        }
    }
}

/// Per-step GMM priors: step `t`'s NIW prior comes from the mixture with the component
/// weights of column `t` of `weights` (`K x (T−1)`, each column summing to 1), scaled by
/// `strength` (`m = strength`, `n0 = strength · (N_g−2−D)/N_g`, `Φ = strength · Σ_mix`).
pub(crate) struct StepPriors<'a> {
    pub gmm: &'a Gmm,
    pub weights: MatRef<'a, f64>,
    pub strength: f64,
}

/// The batch's transition points at step `t`, `[x_t; u_t; x_{t+1}]` per column (`D x N`).
pub(crate) fn step_points(batch: &SampleBatch, t: usize, out: &mut Mat<f64>) {
    let d = batch.dims();
    for i in 0..batch.len() {
        let col = out.col_as_slice_mut(i);
        col[..d.dx].copy_from_slice(batch.x(i, t));
        col[d.dx..d.dx + d.du].copy_from_slice(batch.u(i, t));
        col[d.dx + d.du..].copy_from_slice(batch.x(i, t + 1));
    }
}

/// Fill `out.fm, out.fv, out.dyn_covar` for every `t < T−1` (`out` must have the batch's
/// shape), with the storage of `work`.
pub(crate) fn fit_transitions(
    batch: &SampleBatch,
    regularization: f64,
    priors: Option<StepPriors<'_>>,
    out: &mut LinearDynamics,
    work: &mut TransitionWork,
) -> Result<(), DynamicsError> {
    let d = batch.dims();
    if d.horizon < 2 {
        return Err(DynamicsError::HorizonTooShort { horizon: d.horizon });
    }
    if !(regularization.is_finite() && regularization >= 0.0) {
        return Err(DynamicsError::InvalidConfig {
            field: "regularization",
            reason: format!("must be finite and >= 0, got {regularization}"),
        });
    }
    let dj = 2 * d.dx + d.du;
    let TransitionWork {
        pts,
        reg,
        mu0,
        diff,
        phi,
        w,
    } = work;
    if pts.nrows() != dj || pts.ncols() != batch.len() {
        *pts = Mat::zeros(dj, batch.len());
    }
    if reg
        .as_ref()
        .is_none_or(|r| r.input_dim() != d.dx + d.du || r.output_dim() != d.dx)
    {
        *reg = Some(ConditionalRegressor::new(d.dx + d.du, d.dx));
    }
    let reg = reg.get_or_insert_with(|| ConditionalRegressor::new(d.dx + d.du, d.dx));
    // Per-step prior buffers (filled from the mixture for each step; no `T·D²` storage).
    let pd = if priors.is_some() { dj } else { 0 };
    mu0.resize(pd, 0.0);
    diff.resize(pd, 0.0);
    if phi.nrows() != pd || phi.ncols() != pd {
        *phi = Mat::zeros(pd, pd);
    }
    w.resize(priors.as_ref().map_or(0, |p| p.weights.nrows()), 0.0);
    for t in 0..d.horizon - 1 {
        step_points(batch, t, pts);
        let prior = match &priors {
            Some(p) => {
                for (wk, v) in w.iter_mut().zip(p.weights.col(t).iter()) {
                    *wk = *v;
                }
                p.gmm
                    .mixture_prior_into(w, p.strength, mu0, phi.as_mut(), diff);
                Some(PriorRef {
                    mu0,
                    phi: phi.as_ref(),
                    m: p.strength,
                    n0: p.strength * p.gmm.normalised_n0(),
                })
            }
            None => None,
        };
        reg.fit_into(
            pts.as_ref(),
            prior,
            regularization,
            out.fm.at_mut(t),
            out.fv.at_mut(t),
            out.dyn_covar.at_mut(t),
        )
        .map_err(|e| e.at_step(t))?;
    }
    Ok(())
}
