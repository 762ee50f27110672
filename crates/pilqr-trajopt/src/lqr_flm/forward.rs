//! The forward pass (docs/design.md §4.3 step 3): the Gaussian marginals over `[x_t; u_t]` of a
//! linear-Gaussian controller under linear-Gaussian dynamics.
//!
//! From `x_0 ~ N(x0mu, x0sigma)`: `μ_u = K μ_x + k`, `S_xu = S_xx Kᵀ`,
//! `S_uu = K S_xx Kᵀ + Σ`; then `μ_x' = Fm μ + fv`, `S_x'x' = Fm S Fmᵀ + dyn_covar`.
//!
//! Inside the η search only the state marginals are needed ([`forward_states`], in the relative
//! coordinates of the backward pass, through the closed loop `A = F̃_x + F̃_z K̃`:
//! `μ' = Aμ + F̃_z k̃ + f̃`, `S' = A S Aᵀ + (F̃_z S̃)(F̃_z S̃)ᵀ + dyn_covar`); the action blocks are
//! filled once for the result ([`fill_actions`]).

use faer::{Mat, MatMut, MatRef};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack, lower_matmul_into, matmul_into, symmetrize};
use serde::{Deserialize, Serialize};

use crate::lqr_flm::backward::{
    BackwardParams, ControllerScratch, StepSolutions, eta_ceiling, pd_threshold, step_controller,
};
use crate::lqr_flm::kernels::{add_lower_and_mirror, add_matvec, axpy};
use crate::lqr_flm::relative_model::RelativeModel;
use crate::lqr_flm::step_kl::{StepKl, kl_coefficients_at, kl_coefficients_from};

/// Means `μ [T, dX+dU]` and covariances `S [T, dX+dU, dX+dU]` of `[x_t; u_t]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianTrajectory {
    /// Means.
    pub mu: VecStack,
    /// Covariances.
    pub sigma: MatStack,
}

impl GaussianTrajectory {
    /// Zero means and covariances.
    pub fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        GaussianTrajectory {
            mu: VecStack::zeros(horizon, dx + du),
            sigma: MatStack::zeros(horizon, dx + du, dx + du),
        }
    }
}

/// Preallocated scratch of the forward pass.
#[derive(Debug, Clone)]
pub struct ForwardWorkspace {
    ks: Mat<f64>,
    fs: MatStack,
    ay: MatStack,
    gb: MatStack,
    ys: Mat<f64>,
    ctl: ControllerScratch,
    a: Vec<f64>,
}

impl ForwardWorkspace {
    /// Scratch for state `dx`, action `du`.
    pub fn new(dx: usize, du: usize) -> Self {
        ForwardWorkspace {
            ks: Mat::zeros(du, dx),
            fs: MatStack::zeros(1, dx, dx + du),
            ay: MatStack::zeros(1, dx + du, dx + du),
            gb: MatStack::zeros(1, dx + du, dx + du),
            ys: Mat::zeros(du, dx),
            ctl: ControllerScratch::new(dx, du),
            a: vec![0.0; du],
        }
    }
}

/// Write the initial state distribution into step 0.
fn set_initial(x0mu: &[f64], x0sigma: MatRef<'_, f64>, out: &mut GaussianTrajectory) {
    let dx = x0mu.len();
    out.mu.at_mut(0)[..dx].copy_from_slice(x0mu);
    out.sigma
        .at_mut(0)
        .submatrix_mut(0, 0, dx, dx)
        .copy_from(x0sigma);
}

/// Propagate the controller `(gain, offset, cov)` through `dynamics` into `out`. Sizes are
/// assumed checked by the caller.
pub fn forward_pass(
    dynamics: &LinearDynamics,
    gain: &MatStack,
    offset: &VecStack,
    cov: &MatStack,
    ws: &mut ForwardWorkspace,
    out: &mut GaussianTrajectory,
) {
    let horizon = gain.len();
    let dx = gain.cols();
    let n = dx + gain.rows();
    set_initial(&dynamics.x0mu, dynamics.x0sigma.at(0), out);
    for t in 0..horizon {
        fill_action_step(t, gain.at(t), offset.at(t), cov.at(t), ws, out);
        if t + 1 == horizon {
            break;
        }
        let fm = dynamics.fm.at(t);
        // μ_{t+1,x} = Fm μ_t + fv
        {
            let (cur, rest) = out.mu.as_mut_slice().split_at_mut((t + 1) * n);
            let mu_t = MatRef::from_column_major_slice(&cur[t * n..], n, 1);
            let mu_next = &mut rest[..dx];
            mu_next.copy_from_slice(dynamics.fv.at(t));
            matmul_into(
                MatMut::from_column_major_slice_mut(mu_next, dx, 1),
                fm,
                mu_t,
                1.0,
                true,
            );
        }
        // S_{t+1,xx} = Fm S Fmᵀ + dyn_covar, on the lower triangle, then mirrored.
        matmul_into(ws.fs.at_mut(0), fm, out.sigma.at(t), 1.0, false);
        let next = &mut out.sigma.as_mut_slice()[(t + 1) * n * n..(t + 2) * n * n];
        lower_matmul_into(
            MatMut::from_column_major_slice_mut(next, n, n).submatrix_mut(0, 0, dx, dx),
            ws.fs.at(0),
            fm.transpose(),
            1.0,
            false,
        );
        add_lower_and_mirror(next, n, dynamics.dyn_covar.step_slice(t), dx, dx);
    }
}

/// Fill the action blocks of every step of `out` (whose state blocks are set) for the
/// controller `(gain, offset, cov)`.
pub(crate) fn fill_actions(
    gain: &MatStack,
    offset: &VecStack,
    cov: &MatStack,
    ws: &mut ForwardWorkspace,
    out: &mut GaussianTrajectory,
) {
    for t in 0..gain.len() {
        fill_action_step(t, gain.at(t), offset.at(t), cov.at(t), ws, out);
    }
}

/// `μ_u = Kμ_x + k`, `S_ux = K S_xx`, `S_uu = K S_xx Kᵀ + Σ` at step t.
fn fill_action_step(
    t: usize,
    k: MatRef<'_, f64>,
    offset: &[f64],
    cov: MatRef<'_, f64>,
    ws: &mut ForwardWorkspace,
    out: &mut GaussianTrajectory,
) {
    let (du, dx) = (k.nrows(), k.ncols());
    {
        let mu = out.mu.at_mut(t);
        let (mx, mu_u) = mu.split_at_mut(dx);
        mu_u.copy_from_slice(offset);
        matmul_into(
            MatMut::from_column_major_slice_mut(mu_u, du, 1),
            k,
            MatRef::from_column_major_slice(mx, dx, 1),
            1.0,
            true,
        );
    }
    let mut s = out.sigma.at_mut(t);
    matmul_into(
        ws.ks.as_mut(),
        k,
        s.as_ref().submatrix(0, 0, dx, dx),
        1.0,
        false,
    );
    let (_, mut sxu, mut sux, mut suu) = s.as_mut().split_at_mut(dx, dx);
    sux.copy_from(ws.ks.as_ref());
    sxu.copy_from(ws.ks.transpose());
    suu.copy_from(cov);
    matmul_into(suu.as_mut(), ws.ks.as_ref(), k.transpose(), 1.0, true);
    symmetrize(suu);
}

/// The state marginals (the `x` blocks of `out`) of the controller `sol` of a backward pass on
/// `model`, through the closed loop in relative coordinates, and the KL coefficients `a_t`
/// ([`crate::lqr_flm::step_kl`]) of `sol`'s `Y_t, h_t` under them into `kl_a [T, dU]`.
pub(crate) fn forward_states(
    model: &RelativeModel,
    sol: &StepSolutions,
    ws: &mut ForwardWorkspace,
    out: &mut GaussianTrajectory,
    kl_a: &mut VecStack,
) {
    set_initial(&model.x0mu, model.x0sigma.as_ref(), out);
    let horizon = model.horizon();
    for t in 0..horizon.saturating_sub(1) {
        propagate_step(model, sol, t, ws, out, Some(kl_a.at_mut(t)));
    }
    if let Some(t) = horizon.checked_sub(1) {
        kl_coefficients_at(
            sol.y.at(t),
            sol.h.at(t),
            out,
            t,
            ws.ys.as_mut(),
            kl_a.at_mut(t),
        );
    }
}

/// A forward pass that also chooses η: at each step, with the exact marginals of the steps
/// before, `η_t` meets `targets[t]` for the KL of the step's controller from the stored `Q`
/// decomposition of the last backward pass (whose value function is then stale).
///
/// A step whose KL at its current `η_t` is already within `tol·ε_t` of its target (or below it
/// with `η_t` at its lower end) keeps its η and controller. Writes the
/// KL of every step (at the η it ends with) into `kl` and returns how many steps changed η:
/// with none changed, the controller is the last backward pass's, the marginals are exactly
/// its own and every step meets its target.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_solve(
    model: &RelativeModel,
    sol: &mut StepSolutions,
    eta: &mut [f64],
    targets: &[f64],
    params: BackwardParams,
    tol: f64,
    ws: &mut ForwardWorkspace,
    out: &mut GaussianTrajectory,
    kl_out: &mut [f64],
) -> usize {
    let mut changed = 0;
    set_initial(&model.x0mu, model.x0sigma.as_ref(), out);
    for t in 0..model.horizon() {
        let lo = params.min_eta.max(pd_threshold(sol.lambda.at(t)));
        kl_coefficients_at(sol.y.at(t), sol.h.at(t), out, t, ws.ys.as_mut(), &mut ws.a);
        let kl = StepKl {
            lambda: sol.lambda.at(t),
            a: &ws.a,
            omega: params.omega,
        };
        let current = kl.value(eta[t]);
        let con = current - targets[t];
        let keeps = con.abs() < tol * targets[t] || (con < 0.0 && eta[t] <= lo * (1.0 + 1e-9));
        let ceiling = eta_ceiling(sol.lambda.at(t), &ws.a, params.max_eta);
        sol.eta_bound[t] = ceiling;
        if keeps || lo >= ceiling {
            kl_out[t] = current;
        } else {
            let next = kl.solve(targets[t], lo, ceiling, eta[t]);
            kl_out[t] = kl.value(next);
            if next != eta[t] {
                changed += 1;
                eta[t] = next;
                step_controller(sol, t, eta[t], params.omega, &mut ws.ctl);
            }
        }
        if t + 1 < model.horizon() {
            propagate_step(model, sol, t, ws, out, None);
        }
    }
    changed
}

/// Marginals of step t+1 from those of step t; with `kl_a`, also the KL coefficients of step t
/// (`Y_t Σ_t` rides along the product `A Σ_t`).
fn propagate_step(
    model: &RelativeModel,
    sol: &StepSolutions,
    t: usize,
    ws: &mut ForwardWorkspace,
    out: &mut GaussianTrajectory,
    kl_a: Option<&mut [f64]>,
) {
    let (dx, du) = (model.dx, model.du);
    let n = dx + du;
    let fs = model.fm.step_slice(t);
    let fz = &fs[dx * dx..];
    // `ay` holds [A | B] in its first dX rows, A = F̃_x + F̃_z K̃ (F̃_x: the first dX columns of
    // the contiguous step), B = F̃_z S̃, and Y_t below A; one pass per column.
    let m = n;
    let with_kl = kl_a.is_some();
    let rows = if with_kl { m } else { dx };
    {
        let ay = ws.ay.as_mut_slice();
        let (gain, ys) = (sol.gain.step_slice(t), sol.y.step_slice(t));
        for j in 0..dx {
            let col = &mut ay[j * m..(j + 1) * m];
            col[..dx].copy_from_slice(&fs[j * dx..(j + 1) * dx]);
            add_matvec(&mut col[..dx], fz, dx, &gain[j * du..(j + 1) * du]);
            if with_kl {
                col[dx..].copy_from_slice(&ys[j * du..(j + 1) * du]);
            }
        }
        let s = sol.cov_sqrt.step_slice(t);
        for i in 0..du {
            let col = &mut ay[(dx + i) * m..(dx + i) * m + dx];
            col.fill(0.0);
            add_matvec(col, fz, dx, &s[i * du..(i + 1) * du]);
        }
    }
    let ab = ws.ay.at(0).subrows(0, dx);
    // μ' = A μ + F̃_z k̃ + f̃
    {
        let (cur, rest) = out.mu.as_mut_slice().split_at_mut((t + 1) * n);
        let mu = &cur[t * n..t * n + dx];
        let next = &mut rest[..dx];
        next.copy_from_slice(model.fv.at(t));
        let ay = ws.ay.as_slice();
        for (j, &v) in mu.iter().enumerate() {
            axpy(next, v, &ay[j * m..j * m + dx]);
        }
        add_matvec(next, fz, dx, sol.offset.at(t));
    }
    // [G; YΣ] = [A; Y] Σ_t, next to a copy of B: S' = A S Aᵀ + B Bᵀ + dyn_covar =
    // [G | B] [A | B]ᵀ + dyn_covar, on the lower triangle.
    matmul_into(
        ws.gb.at_mut(0).submatrix_mut(0, 0, rows, dx),
        ws.ay.at(0).submatrix(0, 0, rows, dx),
        out.sigma.at(t).submatrix(0, 0, dx, dx),
        1.0,
        false,
    );
    ws.gb
        .at_mut(0)
        .submatrix_mut(0, dx, dx, du)
        .copy_from(ab.subcols(dx, du));
    if let Some(a) = kl_a {
        kl_coefficients_from(
            sol.y.at(t),
            sol.h.at(t),
            &out.mu.at(t)[..dx],
            ws.gb.at(0).submatrix(dx, 0, du, dx),
            a,
        );
    }
    let next = &mut out.sigma.as_mut_slice()[(t + 1) * n * n..(t + 2) * n * n];
    lower_matmul_into(
        MatMut::from_column_major_slice_mut(next, n, n).submatrix_mut(0, 0, dx, dx),
        ws.gb.at(0).subrows(0, dx),
        ws.ay.at(0).subrows(0, dx).transpose(),
        1.0,
        false,
    );
    add_lower_and_mirror(next, n, model.dyn_covar.step_slice(t), dx, dx);
}
