//! KL divergence between two linear-Gaussian controllers in expectation under a state
//! distribution (docs/design.md §4.3 step 4).
//!
//! For controllers `p(u|x) = N(K x + k, Σ)` (new) and `p̄(u|x) = N(K̄ x + k̄, Σ̄)` (reference) and
//! states `x ~ N(μ_x, Σ_x)`:
//!
//! `E_x KL(p(·|x) ‖ p̄(·|x)) = ½ [ tr(P̄ B) − dU + log det Σ̄ − log det Σ ]`, with `P̄ = Σ̄⁻¹` and
//! `B = Σ + ΔK Σ_x ΔKᵀ + d dᵀ`, `ΔK = K − K̄`, `d = ΔK μ_x + k − k̄`
//! (`B` is the second moment of `u − K̄x − k̄` under the new controller). Clamped at 0.

use faer::{Mat, MatRef};
use pilqr_core::LinearGaussianPolicy;
use pilqr_linalg::{MatStack, VecStack, matmul_into};

use crate::error::{TrajOptError, expect_dim};
use crate::lqr_flm::GaussianTrajectory;

/// `log det Σ = 2 Σ_i log L_ii` from a lower Cholesky factor `L`.
pub fn log_det_from_chol(chol: MatRef<'_, f64>) -> f64 {
    (0..chol.nrows()).map(|i| chol[(i, i)].ln()).sum::<f64>() * 2.0
}

/// Scratch buffers of the KL computation, sized for `(dX, dU)`; reusing one avoids allocation.
#[derive(Debug, Clone)]
pub struct KlWorkspace {
    dk: Mat<f64>,
    a: Mat<f64>,
    b: Mat<f64>,
    d: Vec<f64>,
}

impl KlWorkspace {
    /// Buffers for state dimension `dx` and action dimension `du`.
    pub fn new(dx: usize, du: usize) -> Self {
        KlWorkspace {
            dk: Mat::zeros(du, dx),
            a: Mat::zeros(du, dx),
            b: Mat::zeros(du, du),
            d: vec![0.0; du],
        }
    }
}

/// The new controller's parameters at one step, as the KL needs them.
#[derive(Debug, Clone, Copy)]
pub struct StepGaussian<'a> {
    /// Gain `K_t` (`dU x dX`).
    pub gain: MatRef<'a, f64>,
    /// Feed-forward term `k_t`.
    pub offset: &'a [f64],
    /// Covariance `Σ_t`.
    pub cov: MatRef<'a, f64>,
    /// `log det Σ_t`.
    pub log_det: f64,
}

/// The reference controller at one step: gain, offset, precision and `log det Σ̄_t`.
#[derive(Debug, Clone, Copy)]
pub struct StepReference<'a> {
    /// Gain `K̄_t`.
    pub gain: MatRef<'a, f64>,
    /// Feed-forward term `k̄_t`.
    pub offset: &'a [f64],
    /// Precision `P̄_t = Σ̄_t⁻¹`.
    pub precision: MatRef<'a, f64>,
    /// `log det Σ̄_t`.
    pub log_det: f64,
}

impl<'a> StepReference<'a> {
    /// Step `t` of a policy (`log_det` from [`reference_log_dets`]).
    pub fn of(policy: &'a LinearGaussianPolicy, log_dets: &[f64], t: usize) -> Self {
        StepReference {
            gain: policy.gain().at(t),
            offset: policy.offset().at(t),
            precision: policy.precision().at(t),
            log_det: log_dets[t],
        }
    }
}

/// `log det Σ_t` of every step of a policy.
pub fn reference_log_dets(policy: &LinearGaussianPolicy) -> Vec<f64> {
    (0..policy.horizon())
        .map(|t| log_det_from_chol(policy.chol().at(t)))
        .collect()
}

/// KL at one step under `x ~ N(mu_x, sigma_x)`; see the module documentation.
pub fn step_kl(
    new: StepGaussian<'_>,
    reference: StepReference<'_>,
    mu_x: &[f64],
    sigma_x: MatRef<'_, f64>,
    ws: &mut KlWorkspace,
) -> f64 {
    let du = new.gain.nrows();
    let dx = new.gain.ncols();
    for j in 0..dx {
        for i in 0..du {
            ws.dk[(i, j)] = new.gain[(i, j)] - reference.gain[(i, j)];
        }
    }
    for i in 0..du {
        let mut s = new.offset[i] - reference.offset[i];
        for (j, m) in mu_x.iter().enumerate() {
            s += ws.dk[(i, j)] * m;
        }
        ws.d[i] = s;
    }
    // B = Σ + ΔK Σx ΔKᵀ + d dᵀ
    matmul_into(ws.a.as_mut(), ws.dk.as_ref(), sigma_x, 1.0, false);
    ws.b.copy_from(new.cov);
    matmul_into(ws.b.as_mut(), ws.a.as_ref(), ws.dk.transpose(), 1.0, true);
    let mut trace = 0.0;
    for j in 0..du {
        for i in 0..du {
            trace += reference.precision[(i, j)] * (ws.b[(j, i)] + ws.d[j] * ws.d[i]);
        }
    }
    let kl = 0.5 * (trace - du as f64 + reference.log_det - new.log_det);
    kl.max(0.0)
}

/// Per-step KL between the controller `(gain, offset, cov, log_det)` and `reference`, under the
/// state marginals of `traj`, into `out` (length `T`). Returns the total.
#[allow(clippy::too_many_arguments)]
pub(crate) fn trajectory_kl_into(
    gain: &MatStack,
    offset: &VecStack,
    cov: &MatStack,
    log_det: &[f64],
    reference: &LinearGaussianPolicy,
    reference_log_det: &[f64],
    traj: &GaussianTrajectory,
    ws: &mut KlWorkspace,
    out: &mut [f64],
) -> f64 {
    let dx = gain.cols();
    let mut total = 0.0;
    for (t, o) in out.iter_mut().enumerate() {
        let sigma = traj.sigma.at(t);
        let kl = step_kl(
            StepGaussian {
                gain: gain.at(t),
                offset: offset.at(t),
                cov: cov.at(t),
                log_det: log_det[t],
            },
            StepReference::of(reference, reference_log_det, t),
            &traj.mu.at(t)[..dx],
            sigma.submatrix(0, 0, dx, dx),
            ws,
        );
        *o = kl;
        total += kl;
    }
    total
}

/// Per-step KL `E_{x_t} KL(new(·|x_t) ‖ reference(·|x_t))` under the state marginals of `traj`
/// (usually the forward pass of `new`).
///
/// ```
/// use faer::mat;
/// use pilqr_core::LinearGaussianPolicy;
/// use pilqr_linalg::{MatStack, VecStack};
/// use pilqr_trajopt::{GaussianTrajectory, policy_kl};
///
/// // Same gains, offsets differing by 1 and unit covariances: KL = ½ per step.
/// let p = |k: f64| {
///     let mut off = VecStack::zeros(2, 1);
///     off.as_mut_slice().fill(k);
///     LinearGaussianPolicy::new(MatStack::zeros(2, 1, 1), off, MatStack::repeat(2, mat![[1.0]].as_ref()))
///         .unwrap()
/// };
/// let traj = GaussianTrajectory::zeros(2, 1, 1);
/// let kl = policy_kl(&p(1.0), &p(0.0), &traj).unwrap();
/// assert!((kl[0] - 0.5).abs() < 1e-12 && (kl[1] - 0.5).abs() < 1e-12);
/// ```
pub fn policy_kl(
    new: &LinearGaussianPolicy,
    reference: &LinearGaussianPolicy,
    traj: &GaussianTrajectory,
) -> Result<Vec<f64>, TrajOptError> {
    let (t, dx, du) = (new.horizon(), new.state_dim(), new.action_dim());
    expect_dim("reference horizon", reference.horizon(), t)?;
    expect_dim("reference state dimension", reference.state_dim(), dx)?;
    expect_dim("reference action dimension", reference.action_dim(), du)?;
    expect_dim("trajectory horizon", traj.mu.len(), t)?;
    expect_dim("trajectory dimension", traj.mu.dim(), dx + du)?;
    let mut out = vec![0.0; t];
    let mut ws = KlWorkspace::new(dx, du);
    trajectory_kl_into(
        new.gain(),
        new.offset(),
        new.cov(),
        &reference_log_dets(new),
        reference,
        &reference_log_dets(reference),
        traj,
        &mut ws,
        &mut out,
    );
    Ok(out)
}
