//! The LQR-FLM backward pass (docs/design.md §4.3 step 2), in coordinates relative to the reference
//! ([`crate::lqr_flm::relative_model`]) and allocation-free in its loop.
//!
//! For t = T−1 … 0, with `V, v` the value function of step t+1 (zero after the last step):
//! `Q = C̃_t + F̃ᵀ V F̃`, `q = c̃_t + F̃ᵀ (v + V f̃)`; `Q_zz = U diag(λ) Uᵀ` (Jacobi);
//! `Y = UᵀQ_zx`, `h = Uᵀq_z`, `D = diag(1/(λ_i+η_t))`. The step's controller, in `z`:
//! `K̃ = −UDY`, `k̃ = −UDh`, `Σ̃ = (η_t+ω) UDUᵀ` (the reference is `K̃ = 0, k̃ = 0, Σ̃ = I`);
//! and `V = Q_xx − YᵀDY` (symmetrised), `v = q_x − YᵀDh`. Nothing here grows with η, so a
//! large η is exactly as well-conditioned as a small one.
//!
//! `Q_zz + η_t I` is positive definite exactly when `η_t > −λ_min`: that threshold is known at
//! every step, t = 0 included. With a given η ([`EtaRule::Fixed`]) a step below it raises η
//! (at that step, or everywhere and restarts with one global η); when choosing η
//! ([`EtaRule::Solve`]) each `η_t` is the root of the step's closed-form KL
//! ([`crate::lqr_flm::step_kl`]) above the threshold. A threshold above the bound of η is
//! [`TrajOptError::NotPositiveDefinite`] with the step, η and `Q_uu`'s smallest eigenvalue. The
//! bound is `max_eta` for one global η and `max_eta` times the step's scale for a per-step
//! `η_t` ([`eta_ceiling`]).

use faer::{Mat, MatMut};
use pilqr_linalg::{
    MatStack, VecStack, lower_matmul_into, matmul_into, min_eigenvalue, mirror_lower,
};

use crate::error::TrajOptError;
use crate::lqr_flm::GaussianTrajectory;
use crate::lqr_flm::jacobi::SymmetricEigen;
use crate::lqr_flm::kernels::{add_matvec, dot};
use crate::lqr_flm::relative_model::RelativeModel;
use crate::lqr_flm::step_kl::{StepKl, kl_coefficients_at};
use crate::lqr_flm::value_function::ValueFunction;

/// `Q_zz + ηI` counts as positive definite when `λ_min + η` exceeds this fraction of `max |λ|`
/// (well above the eigenvalues' round-off, about `1e-16 max |λ|`).
const PD_MARGIN: f64 = 1e-10;

/// Whether η is one number for the whole horizon or one per step (for passes at a given η).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtaMode {
    /// One η: a step that needs more raises it everywhere and restarts the pass.
    Global,
    /// One `η_t` per step: a step that needs more raises its own `η_t` only.
    PerStep,
}

/// Parameters of one backward pass.
#[derive(Debug, Clone, Copy)]
pub struct BackwardParams {
    /// Entropy weight ω.
    pub omega: f64,
    /// Lower bound of η (also the floor when raising η from 0).
    pub min_eta: f64,
    /// Upper bound of η.
    pub max_eta: f64,
    /// Global or per-step η.
    pub mode: EtaMode,
    /// The value function handed to the step before.
    pub value_function: ValueFunction,
}

/// How a backward pass gets its η.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EtaRule<'a> {
    /// The η given, raised where `Q_zz + ηI` is not positive definite.
    Fixed,
    /// Each `η_t` meets `targets[t]` for the KL under the state marginals of `states` (the
    /// last forward pass).
    Solve {
        targets: &'a [f64],
        states: &'a GaussianTrajectory,
    },
}

/// The controller of a backward pass, per step, in the relative coordinates, with what the
/// KL of each step needs (see [`crate::lqr_flm::step_kl`]).
#[derive(Debug, Clone)]
pub(crate) struct StepSolutions {
    /// Eigenvalues `λ` of `Q_zz` `[T, dU]`.
    pub(crate) lambda: VecStack,
    /// `Y = UᵀQ_zx` `[T, dU, dX]`.
    pub(crate) y: MatStack,
    /// `h = Uᵀq_z` `[T, dU]`.
    pub(crate) h: VecStack,
    /// `K̃ [T, dU, dX]`.
    pub(crate) gain: MatStack,
    /// `k̃ [T, dU]`.
    pub(crate) offset: VecStack,
    /// `S = U diag(√r)` with `Σ̃ = SSᵀ`, `r_i = (η+ω)/(λ_i+η)` `[T, dU, dU]`.
    pub(crate) cov_sqrt: MatStack,
    /// Eigenvectors `U` of `Q_zz` `[T, dU, dU]`.
    pub(crate) vectors: MatStack,
    /// The bound of `η_t` the last choice of η at step t used (see [`eta_ceiling`]).
    pub(crate) eta_bound: Vec<f64>,
}

impl StepSolutions {
    pub(crate) fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        StepSolutions {
            lambda: VecStack::zeros(horizon, du),
            y: MatStack::zeros(horizon, du, dx),
            h: VecStack::zeros(horizon, du),
            gain: MatStack::zeros(horizon, du, dx),
            offset: VecStack::zeros(horizon, du),
            cov_sqrt: MatStack::zeros(horizon, du, du),
            vectors: MatStack::zeros(horizon, du, du),
            eta_bound: vec![f64::INFINITY; horizon],
        }
    }
}

/// Preallocated scratch of the backward pass for one `(dX, dU)`.
#[derive(Debug, Clone)]
pub(crate) struct BackwardWorkspace {
    vxx: MatStack,
    vx: Vec<f64>,
    vf: MatStack,
    q: MatStack,
    qv: Vec<f64>,
    eig: SymmetricEigen,
    ctl: ControllerScratch,
    yt: Vec<f64>,
    u: Vec<f64>,
    ys: Mat<f64>,
    a: Vec<f64>,
}

impl BackwardWorkspace {
    pub(crate) fn new(dx: usize, du: usize) -> Self {
        let n = dx + du;
        BackwardWorkspace {
            vxx: MatStack::zeros(1, dx, dx),
            vx: vec![0.0; dx],
            vf: MatStack::zeros(1, dx, n),
            q: MatStack::zeros(1, n, n),
            qv: vec![0.0; n],
            eig: SymmetricEigen::new(du),
            ctl: ControllerScratch::new(dx, du),
            yt: vec![0.0; dx * du],
            u: vec![0.0; dx],
            ys: Mat::zeros(du, dx),
            a: vec![0.0; du],
        }
    }
}

/// The upper bound of a per-step `η_t` at a step whose `Q_zz` has eigenvalues `lambda` and
/// whose KL coefficients are `a` (empty when no marginals are at hand):
/// `max_eta · max(1, max_i |λ_i|, √max_i a_i)`.
///
/// A step's KL depends on η only through `(η+ω)/(λ_i+η)` and `a_i/(λ_i+η)²` (see
/// [`crate::lqr_flm::step_kl`]), so how large an η is depends on the scale of the step's `λ` and
/// `√a` (both in units of cost). On a badly scaled model — fitted dynamics that are unstable
/// under the reference controller give value functions of 1e16 and more — a fixed bound would
/// stop `η_t` while the step is still far from the reference; relative to that scale it stops
/// only where η no longer changes anything in double precision. Scaling the cost by `c`
/// scales this bound, and the η found, by `c`.
pub(crate) fn eta_ceiling(lambda: &[f64], a: &[f64], max_eta: f64) -> f64 {
    let curvature = lambda.iter().fold(1.0f64, |m, l| m.max(l.abs()));
    let spread = a.iter().fold(0.0f64, |m, &v| m.max(v)).sqrt();
    max_eta * curvature.max(spread)
}

/// The smallest η with `Q_zz + ηI` safely positive definite (negative when any η ≥ 0 is).
pub(crate) fn pd_threshold(lambda: &[f64]) -> f64 {
    let min = lambda.iter().copied().fold(f64::INFINITY, f64::min);
    let scale = lambda.iter().fold(0.0f64, |m, l| m.max(l.abs()));
    -min + PD_MARGIN * scale
}

/// Run the backward pass. `eta` (length `T`; all equal with [`EtaMode::Global`]) is read as
/// the starting η (a guess with [`EtaRule::Solve`]) and receives the η used; `failed_eta[t]`
/// receives the largest η found too small at t with [`EtaRule::Fixed`] (0 when none was).
/// Inputs are assumed checked by the caller.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_pass(
    model: &RelativeModel,
    eta: &mut [f64],
    rule: EtaRule<'_>,
    params: BackwardParams,
    ws: &mut BackwardWorkspace,
    out: &mut StepSolutions,
    failed_eta: &mut [f64],
) -> Result<(), TrajOptError> {
    failed_eta.fill(0.0);
    let horizon = eta.len();
    let dx = model.dx;
    'restart: loop {
        ws.vxx.fill_zero();
        ws.vx.fill(0.0);
        for t in (0..horizon).rev() {
            build_q(model, t, t + 1 < horizon, ws);
            if !ws
                .eig
                .compute(ws.q.at(0).submatrix(dx, dx, model.du, model.du))
            {
                return Err(TrajOptError::NonFinite {
                    field: "value function (Q_uu)",
                    step: t,
                });
            }
            let threshold = pd_threshold(&ws.eig.values);
            project(ws, dx, &mut out.y, &mut out.h, t);
            match rule {
                EtaRule::Fixed => {
                    let ceiling = match params.mode {
                        EtaMode::PerStep => eta_ceiling(&ws.eig.values, &[], params.max_eta),
                        EtaMode::Global => params.max_eta,
                    };
                    out.eta_bound[t] = ceiling;
                    while eta[t] <= threshold {
                        failed_eta[t] = failed_eta[t].max(eta[t]);
                        // With per-step η the threshold is exact; one global η moves the value
                        // function too, so it is tried up to the bound.
                        let hopeless = params.mode == EtaMode::PerStep && threshold >= ceiling;
                        if eta[t] >= ceiling || hopeless {
                            return Err(not_pd(model, ws, t, ceiling));
                        }
                        let next = (2.0 * eta[t])
                            .max(2.0 * threshold)
                            .max(params.min_eta.max(1e-12))
                            .min(ceiling);
                        match params.mode {
                            EtaMode::PerStep => eta[t] = next,
                            EtaMode::Global => {
                                eta.fill(next);
                                continue 'restart;
                            }
                        }
                    }
                }
                EtaRule::Solve { targets, states } => {
                    kl_coefficients_at(
                        out.y.at(t),
                        out.h.at(t),
                        states,
                        t,
                        ws.ys.as_mut(),
                        &mut ws.a,
                    );
                    let ceiling = eta_ceiling(&ws.eig.values, &ws.a, params.max_eta);
                    out.eta_bound[t] = ceiling;
                    let lo = params.min_eta.max(threshold);
                    if lo >= ceiling {
                        return Err(not_pd(model, ws, t, ceiling));
                    }
                    let kl = StepKl {
                        lambda: &ws.eig.values,
                        a: &ws.a,
                        omega: params.omega,
                    };
                    eta[t] = kl.solve(targets[t], lo, ceiling, eta[t]);
                }
            }
            finish_step(t, eta[t], params, ws, out, dx);
        }
        return Ok(());
    }
}

/// `Q = C̃_t + F̃ᵀ V F̃` (lower triangle only: the strict upper triangle of `Q` keeps `C̃_t`)
/// and `q = c̃_t + F̃ᵀ(v + V f̃)`; just the cost at the last step.
fn build_q(model: &RelativeModel, t: usize, has_next: bool, ws: &mut BackwardWorkspace) {
    ws.q.as_mut_slice().copy_from_slice(model.cm.step_slice(t));
    ws.qv.copy_from_slice(model.cv.at(t));
    if !has_next {
        return;
    }
    let f = model.fm.at(t);
    let dx = ws.vx.len();
    // W = V F̃ (V is kept full and symmetric), then Q += F̃ᵀ W on the lower triangle.
    matmul_into(ws.vf.at_mut(0), ws.vxx.at(0), f, 1.0, false);
    lower_matmul_into(ws.q.at_mut(0), f.transpose(), ws.vf.at(0), 1.0, true);
    // q += F̃ᵀ (v + V f̃), one column of F̃ at a time.
    let (fs, fv) = (model.fm.step_slice(t), model.fv.at(t));
    ws.u.copy_from_slice(&ws.vx);
    add_matvec(&mut ws.u, ws.vxx.as_slice(), dx, fv);
    for (o, col) in ws.qv.iter_mut().zip(fs.chunks_exact(dx)) {
        *o += dot(col, &ws.u);
    }
}

/// `Y_t = UᵀQ_zx`, `h_t = Uᵀq_z` into the solutions.
fn project(ws: &BackwardWorkspace, dx: usize, y: &mut MatStack, h: &mut VecStack, t: usize) {
    let du = ws.a.len();
    let n = dx + du;
    let u = ws.eig.vectors_slice();
    let q = ws.q.as_slice();
    let yt = &mut y.as_mut_slice()[t * du * dx..(t + 1) * du * dx];
    // Column j of Q_zx is the contiguous tail of column j of Q; column i of U is contiguous.
    for (ycol, qcol) in yt.chunks_exact_mut(du).zip(q.chunks_exact(n)) {
        let qz = &qcol[dx..];
        for (o, ucol) in ycol.iter_mut().zip(u.chunks_exact(du)) {
            *o = dot(ucol, qz);
        }
    }
    for (o, ucol) in h.at_mut(t).iter_mut().zip(u.chunks_exact(du)) {
        *o = dot(ucol, &ws.qv[dx..]);
    }
}

/// The step's controller at `eta` and the value function `V, v` handed to step t−1.
fn finish_step(
    t: usize,
    eta: f64,
    params: BackwardParams,
    ws: &mut BackwardWorkspace,
    out: &mut StepSolutions,
    dx: usize,
) {
    out.lambda.at_mut(t).copy_from_slice(&ws.eig.values);
    out.vectors.at_mut(t).copy_from(ws.eig.vectors());
    step_controller(out, t, eta, params.omega, &mut ws.ctl);
    let du = ws.ctl.dh.len();
    // The value function's weights relative to D (all 1 for the Lagrangian's).
    for (w, &l) in ws.ctl.weight.iter_mut().zip(out.lambda.at(t)) {
        *w = params.value_function.weight(l, eta);
    }
    // V = Q_xx − Yᵀ D Y on the lower triangle, column by column from Yᵀ (contiguous columns),
    // then mirrored; v = q_x − Yᵀ D h.
    let n = dx + du;
    let ys = out.y.step_slice(t);
    for k in 0..du {
        for i in 0..dx {
            ws.yt[i + k * dx] = ys[k + i * du];
        }
    }
    {
        let (v, q) = (ws.vxx.as_mut_slice(), ws.q.as_slice());
        let ControllerScratch {
            dy, neg, weight, ..
        } = &mut ws.ctl;
        for j in 0..dx {
            let col = &mut v[j * dx + j..(j + 1) * dx];
            col.copy_from_slice(&q[j * n + j..j * n + dx]);
            for ((o, d), w) in neg.iter_mut().zip(&dy[j * du..(j + 1) * du]).zip(&*weight) {
                *o = -d * w;
            }
            add_matvec(col, &ws.yt[j..], dx, neg);
        }
        mirror_lower(MatMut::from_column_major_slice_mut(
            &mut v[..dx * dx],
            dx,
            dx,
        ));
    }
    for (wdh, (dh, w)) in ws
        .ctl
        .wdh
        .iter_mut()
        .zip(ws.ctl.dh.iter().zip(&ws.ctl.weight))
    {
        *wdh = dh * w;
    }
    for j in 0..dx {
        ws.vx[j] = ws.qv[j] - dot(&ys[j * du..(j + 1) * du], &ws.ctl.wdh);
    }
}

/// The controller of step t at `eta` from its stored `λ, U, Y, h`: `K̃ = −UDY`, `k̃ = −UDh`,
/// `S = U diag(√r)`; leaves `DY` and `Dh` in the scratch.
pub(crate) fn step_controller(
    out: &mut StepSolutions,
    t: usize,
    eta: f64,
    omega: f64,
    scratch: &mut ControllerScratch,
) {
    let du = scratch.dh.len();
    let dx = scratch.dy.len() / du.max(1);
    let lambda = out.lambda.at(t);
    let (y, h) = (out.y.step_slice(t), out.h.at(t));
    let u = out.vectors.step_slice(t);
    let s = &mut out.cov_sqrt.as_mut_slice()[t * du * du..(t + 1) * du * du];
    let ControllerScratch { d, dy, dh, .. } = scratch;
    for i in 0..du {
        d[i] = 1.0 / (lambda[i] + eta);
        dh[i] = d[i] * h[i];
        let sr = ((eta + omega) * d[i]).sqrt();
        for (o, v) in s[i * du..(i + 1) * du]
            .iter_mut()
            .zip(&u[i * du..(i + 1) * du])
        {
            *o = v * sr;
        }
    }
    // Column j of DY (Y is dU x dX, column-major), then column j of K̃ = −U (DY).
    let gain = &mut out.gain.as_mut_slice()[t * du * dx..(t + 1) * du * dx];
    for ((dcol, ycol), gcol) in dy
        .chunks_exact_mut(du)
        .zip(y.chunks_exact(du))
        .zip(gain.chunks_exact_mut(du))
    {
        for ((o, yv), dv) in dcol.iter_mut().zip(ycol).zip(d.iter()) {
            *o = dv * yv;
        }
        gcol.fill(0.0);
        for (ucol, &c) in u.chunks_exact(du).zip(dcol.iter()) {
            for (g, v) in gcol.iter_mut().zip(ucol) {
                *g -= v * c;
            }
        }
    }
    let off = out.offset.at_mut(t);
    off.fill(0.0);
    for (ucol, &c) in u.chunks_exact(du).zip(dh.iter()) {
        for (o, v) in off.iter_mut().zip(ucol) {
            *o -= v * c;
        }
    }
}

/// Scratch of [`step_controller`] for one `(dX, dU)`: `D`, `DY` (`dU x dX`, column-major),
/// `Dh`, `−DY`'s column of the step being finished, and the value function's weights relative
/// to `D` with `Dh` so weighted.
#[derive(Debug, Clone)]
pub(crate) struct ControllerScratch {
    d: Vec<f64>,
    pub(crate) dy: Vec<f64>,
    pub(crate) dh: Vec<f64>,
    neg: Vec<f64>,
    weight: Vec<f64>,
    wdh: Vec<f64>,
}

impl ControllerScratch {
    pub(crate) fn new(dx: usize, du: usize) -> Self {
        ControllerScratch {
            d: vec![0.0; du],
            dy: vec![0.0; du * dx],
            dh: vec![0.0; du],
            neg: vec![0.0; du],
            weight: vec![1.0; du],
            wdh: vec![0.0; du],
        }
    }
}

/// The error for step t at η: `Q_uu + ηP̄ = L̄⁻ᵀ (Q_zz + ηI) L̄⁻¹` with `L̄⁻¹ = L̄ᵀP̄`, and its
/// smallest eigenvalue (allocates; error path only).
fn not_pd(model: &RelativeModel, ws: &BackwardWorkspace, t: usize, eta: f64) -> TrajOptError {
    let (dx, du) = (model.dx, model.du);
    // Only the lower triangle of Q holds Q_zz.
    let qzz = ws.q.at(0).submatrix(dx, dx, du, du);
    let mut h = Mat::from_fn(du, du, |i, j| qzz[(i.max(j), i.min(j))]);
    for i in 0..du {
        h[(i, i)] += eta;
    }
    let l_inv = model.ref_chol.at(t).transpose() * model.ref_precision.at(t);
    let quu = l_inv.transpose() * &h * &l_inv;
    TrajOptError::NotPositiveDefinite {
        step: t,
        eta,
        min_eigenvalue: min_eigenvalue(quu.as_ref()),
    }
}
