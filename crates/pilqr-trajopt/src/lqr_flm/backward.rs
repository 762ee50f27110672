//! The LQR-FLM backward pass (DESIGN.md §4.3 step 2), allocation-free in its loop.
//!
//! For t = T−1 … 0, with `V, v` the value function of step t+1 (zero after the last step):
//! `Q = C_t + η_t M_t + Fmᵀ V Fm`, `q = c_t + η_t m_t + Fmᵀ (v + V fv)`; Cholesky of `Q_uu`;
//! `K = −Q_uu⁻¹ Q_ux`, `k = −Q_uu⁻¹ q_u`, `Σ = (η_t+ω) Q_uu⁻¹`; `V = Q_xx + Q_xu K`
//! (symmetrised), `v = q_x + Q_xu k`. (`C + ηM` is `(η+ω)` times DESIGN's augmented cost; see
//! [`crate::lqr_flm::augmented_cost`].) A failed factorisation at *any* step, t = 0 included,
//! raises η geometrically; at the bound the pass returns
//! [`TrajOptError::NotPositiveDefinite`] naming the step, η and `Q_uu`'s smallest eigenvalue.

use faer::{Mat, MatMut};
use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{Cholesky, Jitter, MatStack, VecStack, matmul_into, min_eigenvalue};

use crate::error::TrajOptError;
use crate::lqr_flm::KlTerm;

/// Whether η is one number for the whole horizon or one per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtaMode {
    /// One η: a failure anywhere raises it everywhere and restarts the pass.
    Global,
    /// One `η_t` per step: a failure at t raises `η_t` only and redoes step t.
    PerStep,
}

/// The controller a backward pass produces, with `log det Σ_t` (from the factor of `Q_uu`) so
/// that the KL needs no further factorisation.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerBuffers {
    /// Gains `K [T,dU,dX]`.
    pub gain: MatStack,
    /// Feed-forward terms `k [T,dU]`.
    pub offset: VecStack,
    /// Covariances `Σ [T,dU,dU]`.
    pub cov: MatStack,
    /// `log det Σ_t`.
    pub log_det: Vec<f64>,
}

impl ControllerBuffers {
    /// Zero buffers.
    pub fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        ControllerBuffers {
            gain: MatStack::zeros(horizon, du, dx),
            offset: VecStack::zeros(horizon, du),
            cov: MatStack::zeros(horizon, du, du),
            log_det: vec![0.0; horizon],
        }
    }

    /// Build the validated policy.
    pub fn to_policy(&self) -> Result<LinearGaussianPolicy, TrajOptError> {
        Ok(LinearGaussianPolicy::new(
            self.gain.clone(),
            self.offset.clone(),
            self.cov.clone(),
        )?)
    }
}

/// Preallocated scratch of the backward pass for one `(dX, dU)`.
#[derive(Debug, Clone)]
pub struct BackwardWorkspace {
    dx: usize,
    du: usize,
    qbase: MatStack,
    qvbase: Vec<f64>,
    q: MatStack,
    qv: Vec<f64>,
    vxx: Mat<f64>,
    vx: MatStack,
    vf: Mat<f64>,
    tmp: MatStack,
    chol: Cholesky,
}

impl BackwardWorkspace {
    /// Scratch for state `dx`, action `du`.
    pub fn new(dx: usize, du: usize) -> Self {
        let n = dx + du;
        BackwardWorkspace {
            dx,
            du,
            qbase: MatStack::zeros(1, n, n),
            qvbase: vec![0.0; n],
            q: MatStack::zeros(1, n, n),
            qv: vec![0.0; n],
            vxx: Mat::zeros(dx, dx),
            vx: MatStack::zeros(1, dx, 1),
            vf: Mat::zeros(dx, n),
            tmp: MatStack::zeros(1, dx, 1),
            chol: Cholesky::with_dim(du),
        }
    }
}

/// The next η to try after a failed factorisation.
fn raise(eta: f64, min_eta: f64) -> f64 {
    (2.0 * eta).max(min_eta.max(1e-12))
}

/// Parameters of one backward pass.
#[derive(Debug, Clone, Copy)]
pub struct BackwardParams {
    /// Entropy weight ω.
    pub omega: f64,
    /// Floor used when raising η from 0.
    pub min_eta: f64,
    /// Upper bound of η.
    pub max_eta: f64,
    /// Global or per-step η.
    pub mode: EtaMode,
}

/// Run the backward pass. `eta` (length `T`; all equal in [`EtaMode::Global`]) is raised in
/// place where `Q_uu` needed it; `failed_eta[t]` receives the largest η that failed at t (0 when
/// none did). Inputs are assumed checked (sizes, finiteness) by the caller.
#[allow(clippy::too_many_arguments)]
pub fn backward_pass(
    dynamics: &LinearDynamics,
    cost: &CostModel,
    kl: &KlTerm,
    eta: &mut [f64],
    params: BackwardParams,
    ws: &mut BackwardWorkspace,
    out: &mut ControllerBuffers,
    failed_eta: &mut [f64],
) -> Result<(), TrajOptError> {
    failed_eta.fill(0.0);
    'restart: loop {
        ws.vxx.fill(0.0);
        ws.vx.fill_zero();
        let horizon = eta.len();
        for t in (0..horizon).rev() {
            build_q_base(dynamics, t, t + 1 < horizon, ws);
            loop {
                match solve_step(cost, kl, t, eta[t], params.omega, ws, out) {
                    Ok(()) => break,
                    Err(()) => {
                        failed_eta[t] = failed_eta[t].max(eta[t]);
                        let next = raise(eta[t], params.min_eta);
                        if next > params.max_eta || eta[t] >= params.max_eta {
                            return Err(TrajOptError::NotPositiveDefinite {
                                step: t,
                                eta: eta[t],
                                min_eigenvalue: min_eigenvalue(
                                    ws.q.at(0).submatrix(ws.dx, ws.dx, ws.du, ws.du),
                                ),
                            });
                        }
                        match params.mode {
                            EtaMode::PerStep => eta[t] = next,
                            EtaMode::Global => {
                                eta.fill(next);
                                continue 'restart;
                            }
                        }
                    }
                }
            }
            update_value(t, ws, out);
        }
        return Ok(());
    }
}

/// `Q_base = Fmᵀ V Fm` and `q_base = Fmᵀ(v + V fv)`; zero at the last step.
fn build_q_base(dynamics: &LinearDynamics, t: usize, has_next: bool, ws: &mut BackwardWorkspace) {
    if !has_next {
        ws.qbase.fill_zero();
        ws.qvbase.fill(0.0);
        return;
    }
    let fm = dynamics.fm.at(t);
    // tmp = v + V fv, q_base = Fmᵀ tmp
    ws.tmp.as_mut_slice().copy_from_slice(ws.vx.as_slice());
    matmul_into(
        ws.tmp.at_mut(0),
        ws.vxx.as_ref(),
        dynamics.fv.col(t),
        1.0,
        true,
    );
    let n = ws.qvbase.len();
    matmul_into(
        MatMut::from_column_major_slice_mut(&mut ws.qvbase, n, 1),
        fm.transpose(),
        ws.tmp.at(0),
        1.0,
        false,
    );
    // The full product runs as fast as faer's triangular one at these sizes.
    matmul_into(ws.vf.as_mut(), ws.vxx.as_ref(), fm, 1.0, false);
    matmul_into(
        ws.qbase.at_mut(0),
        fm.transpose(),
        ws.vf.as_ref(),
        1.0,
        false,
    );
}

/// `Q = C_t + η M_t + Q_base` (that is `(η+ω)` times DESIGN's augmented cost plus the future);
/// factor `Q_uu`; write `K_t, k_t` and `Σ_t = (η+ω) Q_uu⁻¹`. `Err(())` when `Q_uu` is not PD.
fn solve_step(
    cost: &CostModel,
    kl: &KlTerm,
    t: usize,
    eta: f64,
    omega: f64,
    ws: &mut BackwardWorkspace,
    out: &mut ControllerBuffers,
) -> Result<(), ()> {
    let (dx, du) = (ws.dx, ws.du);
    // Q = Q_base + C + η M on the contiguous column-major storage.
    let m = kl.quad.step_slice(t);
    let c = cost.cm.step_slice(t);
    for (((q, base), c), m) in
        ws.q.as_mut_slice()
            .iter_mut()
            .zip(ws.qbase.as_slice())
            .zip(c)
            .zip(m)
    {
        *q = base + c + eta * m;
    }
    let mv = kl.lin.at(t);
    let cv = cost.cv.at(t);
    for (((q, base), m), c) in ws.qv.iter_mut().zip(&ws.qvbase).zip(mv).zip(cv) {
        *q = base + c + eta * m;
    }
    let quu = ws.q.at(0).submatrix(dx, dx, du, du);
    if ws.chol.refactor(quu, Jitter::NONE).is_err() {
        return Err(());
    }
    let mut gain = out.gain.at_mut(t);
    gain.copy_from(ws.q.at(0).submatrix(dx, 0, du, dx));
    ws.chol.solve_in_place(gain.as_mut());
    for j in 0..dx {
        for i in 0..du {
            gain[(i, j)] = -gain[(i, j)];
        }
    }
    let mut off = out.offset.col_mut(t);
    for i in 0..du {
        off[(i, 0)] = ws.qv[dx + i];
    }
    ws.chol.solve_in_place(off.as_mut());
    for i in 0..du {
        off[(i, 0)] = -off[(i, 0)];
    }
    let scale = eta + omega;
    let mut cov = out.cov.at_mut(t);
    ws.chol.inverse_into(cov.as_mut());
    for j in 0..du {
        for i in 0..du {
            cov[(i, j)] *= scale;
        }
    }
    out.log_det[t] = du as f64 * scale.ln() - ws.chol.log_det();
    if !out.log_det[t].is_finite() {
        return Err(());
    }
    Ok(())
}

/// `V = Q_xx + Q_xu K` (symmetrised) and `v = q_x + Q_xu k`.
fn update_value(t: usize, ws: &mut BackwardWorkspace, out: &ControllerBuffers) {
    let (dx, du) = (ws.dx, ws.du);
    let q = ws.q.at(0);
    ws.vxx.copy_from(q.submatrix(0, 0, dx, dx));
    matmul_into(
        ws.vxx.as_mut(),
        q.submatrix(0, dx, dx, du),
        out.gain.at(t),
        1.0,
        true,
    );
    pilqr_linalg::symmetrize(ws.vxx.as_mut());
    ws.vx.as_mut_slice().copy_from_slice(&ws.qv[..dx]);
    matmul_into(
        ws.vx.at_mut(0),
        q.submatrix(0, dx, dx, du),
        out.offset.col(t),
        1.0,
        true,
    );
}
