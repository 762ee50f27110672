//! The PI2 policy update at every step (docs/design.md §4.4): weighted maximum likelihood of the
//! feed-forward terms, covariance by weighted scatter or the damped rule, recovery from a
//! singular covariance.

use faer::{Mat, MatMut, MatRef};
use pilqr_core::LinearGaussianPolicy;
use pilqr_linalg::{Cholesky, Jitter, MatStack, VecStack, matmul_into};

use crate::error::TrajOptError;
use crate::pi2::{Pi2Config, dual_temperature_from, weights_into};

/// Where each step's temperature comes from.
#[derive(Debug, Clone, Copy)]
pub enum TemperatureSource<'a> {
    /// Minimise the dual on the costs-to-go the update uses.
    Dual,
    /// Given per step (PILQR: from the dual on the full costs; fixed-η mode).
    Fixed(&'a [f64]),
}

/// Samples of feed-forward terms: `ũ_{i,t} = u_{i,t} − K_t x_{i,t}` for the N samples.
#[derive(Debug, Clone, Copy)]
pub struct Pi2Samples<'a> {
    /// States `[N, T, dX]`.
    pub x: &'a [f64],
    /// Actions `[N, T, dU]`.
    pub u: &'a [f64],
    /// Number of samples `N`.
    pub n: usize,
}

/// Result of a PI2 update.
#[derive(Debug, Clone, PartialEq)]
pub struct Pi2Result {
    /// The new controller: the old gains `K`, the new `k` and `Σ`.
    pub policy: LinearGaussianPolicy,
    /// Temperature used per step (raised where a covariance had to be recovered).
    pub eta: Vec<f64>,
    /// `KL(p_t ‖ uniform)` of the sample weights per step.
    pub weight_kl: Vec<f64>,
    /// Steps whose covariance was singular and recovered.
    pub recovered: Vec<usize>,
}

/// Preallocated scratch of the PI2 update for one `(N, dU)`.
#[derive(Debug, Clone)]
pub(crate) struct Pi2Workspace {
    s: Vec<f64>,
    scratch: Vec<f64>,
    w: Vec<f64>,
    ff: Vec<f64>,
    mean: Vec<f64>,
    scatter: Mat<f64>,
    chol: Cholesky,
}

impl Pi2Workspace {
    pub(crate) fn new(n: usize, du: usize) -> Self {
        Pi2Workspace {
            s: vec![0.0; n],
            scratch: vec![0.0; n],
            w: vec![0.0; n],
            ff: vec![0.0; n * du],
            mean: vec![0.0; du],
            scatter: Mat::zeros(du, du),
            chol: Cholesky::with_dim(du),
        }
    }
}

/// The PI2 update of `old` (gains kept) from samples and costs-to-go `[N, T]` (sample-major).
/// Inputs are assumed checked by the caller.
pub(crate) fn pi2_core(
    old: &LinearGaussianPolicy,
    samples: Pi2Samples<'_>,
    cost_to_go: &[f64],
    temperature: TemperatureSource<'_>,
    config: &Pi2Config,
) -> Result<Pi2Result, TrajOptError> {
    let (horizon, dx, du) = (old.horizon(), old.state_dim(), old.action_dim());
    let n = samples.n;
    let mut ws = Pi2Workspace::new(n, du);
    let mut offset = VecStack::zeros(horizon, du);
    let mut cov = MatStack::zeros(horizon, du, du);
    let mut eta_out = vec![0.0; horizon];
    let mut weight_kl = vec![0.0; horizon];
    let mut recovered = Vec::new();
    for t in 0..horizon {
        for i in 0..n {
            ws.s[i] = cost_to_go[i * horizon + t];
        }
        // Feed-forward samples ũ_i = u_i − K_t x_i, as the columns of a dU x N matrix; the
        // samples' states and actions at step t are strided columns of the batch arrays.
        let xs =
            MatRef::from_column_major_slice_with_stride(&samples.x[t * dx..], dx, n, horizon * dx);
        let us =
            MatRef::from_column_major_slice_with_stride(&samples.u[t * du..], du, n, horizon * du);
        let mut ff = MatMut::from_column_major_slice_mut(&mut ws.ff, du, n);
        ff.copy_from(us);
        matmul_into(ff, old.gain().at(t), xs, -1.0, true);
        let mut eta = match temperature {
            TemperatureSource::Dual => {
                let guess = (t > 0).then(|| eta_out[t - 1]);
                dual_temperature_from(
                    &ws.s,
                    config.kl_threshold,
                    config.min_temperature,
                    config.max_temperature,
                    guess,
                    &mut ws.scratch,
                )
                .eta
            }
            TemperatureSource::Fixed(etas) => etas[t],
        };
        let mut floor = 0.0;
        loop {
            weight_kl[t] = weights_into(&ws.s, eta, &mut ws.w);
            // Weighted ML mean; the scatter accumulator restarts from zero on every attempt.
            ws.mean.fill(0.0);
            for i in 0..n {
                for r in 0..du {
                    ws.mean[r] += ws.w[i] * ws.ff[i * du + r];
                }
            }
            ws.scatter.fill(0.0);
            for i in 0..n {
                let wi = ws.w[i];
                for c in 0..du {
                    let dc = ws.ff[i * du + c] - ws.mean[c];
                    for r in 0..du {
                        ws.scatter[(r, c)] += wi * (ws.ff[i * du + r] - ws.mean[r]) * dc;
                    }
                }
            }
            // Size of the ML covariance relative to the old one: tr(Σ_old⁻¹ Σ_ml)/dU.
            let prec = old.precision().at(t);
            let mut tr = 0.0;
            for c in 0..du {
                for r in 0..du {
                    tr += prec[(r, c)] * ws.scatter[(c, r)];
                }
            }
            let ratio = tr.max(0.0) / du as f64; // `max` maps NaN to 0
            let mut new_cov = cov.at_mut(t);
            if config.covariance_damping > 0.0 {
                // Σ_new = (tr(Σ_old⁻¹ Σ_ml)/dU)^{1/d} Σ_old
                let mult = ratio.powf(1.0 / config.covariance_damping);
                let old_cov = old.cov().at(t);
                for c in 0..du {
                    for r in 0..du {
                        new_cov[(r, c)] = mult * old_cov[(r, c)];
                    }
                }
            } else {
                new_cov.copy_from(ws.scatter.as_ref());
            }
            for r in 0..du {
                new_cov[(r, r)] += floor;
            }
            pilqr_linalg::symmetrize(new_cov.as_mut());
            // Degenerate weights (one-hot, or nearly: an ML covariance below `covariance_floor`
            // of the old one) would make the damped rule shrink the covariance by orders of
            // magnitude per iteration, and the plain one singular.
            let degenerate = floor == 0.0 && ratio < config.covariance_floor;
            if !degenerate && ws.chol.refactor(new_cov.as_ref(), Jitter::NONE).is_ok() {
                break;
            }
            // Keep the raised η, restart the accumulation; floor the covariance only when η is
            // at its bound.
            if !recovered.contains(&t) {
                recovered.push(t);
            }
            if floor > 0.0 {
                return Err(TrajOptError::SingularCovariance { step: t, eta });
            }
            if eta >= config.max_temperature {
                let old_cov = old.cov().at(t);
                let scale = (0..du).map(|r| old_cov[(r, r)]).sum::<f64>() / du as f64;
                floor = config.covariance_floor * scale.max(f64::MIN_POSITIVE);
                continue;
            }
            // Raise η tenfold, and at least to the temperature at which these costs' weights
            // meet the KL threshold (what the dual would choose for them).
            let dual = dual_temperature_from(
                &ws.s,
                config.kl_threshold,
                config.min_temperature,
                config.max_temperature,
                Some(eta),
                &mut ws.scratch,
            )
            .eta;
            eta = (eta * 10.0).max(dual).min(config.max_temperature);
        }
        offset.at_mut(t).copy_from_slice(&ws.mean);
        eta_out[t] = eta;
    }
    Ok(Pi2Result {
        policy: LinearGaussianPolicy::new(old.gain().clone(), offset, cov)?,
        eta: eta_out,
        weight_kl,
        recovered,
    })
}

/// Costs-to-go `S_{i,t} = Σ_{τ≥t} c_{i,τ}` of per-step costs `[N, T]` (sample-major), in place.
pub fn costs_to_go_in_place(costs: &mut [f64], horizon: usize) {
    for row in costs.chunks_mut(horizon) {
        for t in (0..horizon.saturating_sub(1)).rev() {
            row[t] += row[t + 1];
        }
    }
}
