//! The fitted model: time-varying linear-Gaussian dynamics and the initial-state distribution.

use faer::Mat;
use pilqr_linalg::{MatStack, VecStack};
use serde::{Deserialize, Serialize};

/// `x_{t+1} ~ N(Fm_t [x_t; u_t] + fv_t, dyn_covar_t)` for `t < T−1`, and `x_0 ~ N(x0mu, x0sigma)`.
///
/// Shapes: `Fm [T,dX,dX+dU]`, `fv [T,dX]`, `dyn_covar [T,dX,dX]`; step `T−1` has no transition
/// and is left zero.
///
/// ```
/// use pilqr_dynamics::LinearDynamics;
///
/// let d = LinearDynamics::zeros(100, 36, 4);
/// assert_eq!((d.horizon(), d.dx(), d.du()), (100, 36, 4));
/// assert_eq!((d.fm.rows(), d.fm.cols()), (36, 40));
/// assert_eq!(d.x0sigma.at(0)[(5, 5)], 1.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearDynamics {
    /// Transition matrices `Fm_t` acting on `[x_t; u_t]`.
    pub fm: MatStack,
    /// Offsets `fv_t`.
    pub fv: VecStack,
    /// Transition noise covariances.
    pub dyn_covar: MatStack,
    /// Mean of the initial state.
    pub x0mu: Vec<f64>,
    /// Covariance of the initial state (`dX x dX`, column-major).
    pub x0sigma: MatStack,
}

impl LinearDynamics {
    /// Zero dynamics for horizon `T`, state `dX`, action `dU` (unit initial covariance).
    pub fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        LinearDynamics {
            fm: MatStack::zeros(horizon, dx, dx + du),
            fv: VecStack::zeros(horizon, dx),
            dyn_covar: MatStack::zeros(horizon, dx, dx),
            x0mu: vec![0.0; dx],
            x0sigma: MatStack::repeat(1, Mat::<f64>::identity(dx, dx).as_ref()),
        }
    }

    /// Whether every field has the shape of horizon `T`, state `dX` and action `dU`.
    pub(crate) fn has_shape(&self, horizon: usize, dx: usize, du: usize) -> bool {
        let stack =
            |m: &MatStack, r: usize, c: usize| m.len() == horizon && m.rows() == r && m.cols() == c;
        stack(&self.fm, dx, dx + du)
            && self.fv.len() == horizon
            && self.fv.dim() == dx
            && stack(&self.dyn_covar, dx, dx)
            && self.x0mu.len() == dx
            && self.x0sigma.len() == 1
            && self.x0sigma.rows() == dx
            && self.x0sigma.cols() == dx
    }

    /// Reuse `self` for horizon `T`, state `dX` and action `dU`: reallocated as
    /// [`LinearDynamics::zeros`] when a shape differs, else step `T−1` (which has no
    /// transition) is zeroed; everything else is left for the fit to overwrite.
    pub(crate) fn prepare(&mut self, horizon: usize, dx: usize, du: usize) {
        if !self.has_shape(horizon, dx, du) {
            *self = LinearDynamics::zeros(horizon, dx, du);
        } else if let Some(last) = horizon.checked_sub(1) {
            self.fm.at_mut(last).fill(0.0);
            self.fv.at_mut(last).fill(0.0);
            self.dyn_covar.at_mut(last).fill(0.0);
        }
    }

    /// Horizon `T`.
    pub fn horizon(&self) -> usize {
        self.fm.len()
    }

    /// State dimension `dX`.
    pub fn dx(&self) -> usize {
        self.fm.rows()
    }

    /// Action dimension `dU`.
    pub fn du(&self) -> usize {
        self.fm.cols() - self.fm.rows()
    }
}
