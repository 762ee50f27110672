//! The forward pass (DESIGN.md §4.3 step 3): the Gaussian marginals over `[x_t; u_t]` of a
//! linear-Gaussian controller under linear-Gaussian dynamics.
//!
//! From `x_0 ~ N(x0mu, x0sigma)`: `μ_u = K μ_x + k`, `S_xu = S_xx Kᵀ`,
//! `S_uu = K S_xx Kᵀ + Σ`; then `μ_x' = Fm μ + fv`, `S_x'x' = Fm S Fmᵀ + dyn_covar`.

use faer::{Mat, MatMut, MatRef};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack, matmul_into};
use serde::{Deserialize, Serialize};

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
    fs: Mat<f64>,
}

impl ForwardWorkspace {
    /// Scratch for state `dx`, action `du`.
    pub fn new(dx: usize, du: usize) -> Self {
        ForwardWorkspace {
            ks: Mat::zeros(du, dx),
            fs: Mat::zeros(dx, dx + du),
        }
    }
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
    let du = gain.rows();
    let n = dx + du;
    out.mu.at_mut(0)[..dx].copy_from_slice(&dynamics.x0mu);
    {
        let mut s0 = out.sigma.at_mut(0);
        s0.as_mut()
            .submatrix_mut(0, 0, dx, dx)
            .copy_from(dynamics.x0sigma.at(0));
    }
    for t in 0..horizon {
        let k = gain.at(t);
        // u marginal: μ_u = K μ_x + k
        {
            let mu = out.mu.at_mut(t);
            let (mx, mu_u) = mu.split_at_mut(dx);
            mu_u.copy_from_slice(offset.at(t));
            matmul_into(
                MatMut::from_column_major_slice_mut(mu_u, du, 1),
                k,
                MatRef::from_column_major_slice(mx, dx, 1),
                1.0,
                true,
            );
        }
        {
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
            suu.copy_from(cov.at(t));
            matmul_into(suu.as_mut(), ws.ks.as_ref(), k.transpose(), 1.0, true);
            pilqr_linalg::symmetrize(suu);
        }
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
        // S_{t+1,xx} = Fm S Fmᵀ + dyn_covar (the full product: at these sizes faer's general
        // kernel is as fast as its triangular one).
        matmul_into(ws.fs.as_mut(), fm, out.sigma.at(t), 1.0, false);
        let mut sn = out.sigma.at_mut(t + 1);
        let mut sxx = sn.as_mut().submatrix_mut(0, 0, dx, dx);
        sxx.copy_from(dynamics.dyn_covar.at(t));
        matmul_into(sxx, ws.fs.as_ref(), fm.transpose(), 1.0, true);
    }
}
