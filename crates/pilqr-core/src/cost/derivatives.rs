//! The buffer a cost writes into.

use pilqr_linalg::{MatStack, VecStack};

/// Per-step cost values and derivatives along one trajectory:
/// `l [T]`, `lx [T,dX]`, `lu [T,dU]`, `lxx [T,dX,dX]`, `luu [T,dU,dU]`, `lux [T,dU,dX]`.
///
/// A *values-only* buffer (from [`CostDerivatives::values_only`]) holds just `l`; costs skip
/// their derivative work for it. Reuse one buffer across samples with [`CostDerivatives::reset`].
#[derive(Debug, Clone, PartialEq)]
pub struct CostDerivatives {
    /// Values `l_t`.
    pub l: Vec<f64>,
    /// Gradients with respect to the state.
    pub lx: VecStack,
    /// Gradients with respect to the action.
    pub lu: VecStack,
    /// State Hessians.
    pub lxx: MatStack,
    /// Action Hessians.
    pub luu: MatStack,
    /// Mixed second derivatives `∂²l/∂u∂x`.
    pub lux: MatStack,
    derivatives: bool,
    dx: usize,
    du: usize,
}

impl CostDerivatives {
    /// A zeroed buffer with derivatives for horizon `T`, state `dX`, action `dU`.
    pub fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        CostDerivatives {
            l: vec![0.0; horizon],
            lx: VecStack::zeros(horizon, dx),
            lu: VecStack::zeros(horizon, du),
            lxx: MatStack::zeros(horizon, dx, dx),
            luu: MatStack::zeros(horizon, du, du),
            lux: MatStack::zeros(horizon, du, dx),
            derivatives: true,
            dx,
            du,
        }
    }

    /// A zeroed buffer for values only.
    pub fn values_only(horizon: usize) -> Self {
        CostDerivatives {
            l: vec![0.0; horizon],
            lx: VecStack::zeros(0, 0),
            lu: VecStack::zeros(0, 0),
            lxx: MatStack::zeros(0, 0, 0),
            luu: MatStack::zeros(0, 0, 0),
            lux: MatStack::zeros(0, 0, 0),
            derivatives: false,
            dx: 0,
            du: 0,
        }
    }

    /// Whether derivatives are wanted.
    #[inline]
    pub fn has_derivatives(&self) -> bool {
        self.derivatives
    }

    /// Horizon `T`.
    pub fn horizon(&self) -> usize {
        self.l.len()
    }

    /// State dimension (0 for a values-only buffer).
    pub fn dx(&self) -> usize {
        self.dx
    }

    /// Action dimension (0 for a values-only buffer).
    pub fn du(&self) -> usize {
        self.du
    }

    /// Zero everything except `l_xx` outside `support × support` (`None`: zero all of it).
    ///
    /// After a cost with that [`state Hessian support`](crate::Cost::state_hessian_support) was
    /// accumulated, its `l_xx` is zero outside the support, so this restores an all-zero buffer
    /// at a fraction of the cost of [`CostDerivatives::reset`].
    pub fn reset_support(&mut self, support: Option<&[usize]>) {
        let Some(support) = support else {
            self.reset();
            return;
        };
        self.l.fill(0.0);
        self.lx.fill_zero();
        self.lu.fill_zero();
        self.luu.fill_zero();
        self.lux.fill_zero();
        for t in 0..self.lxx.len() {
            let mut h = self.lxx.at_mut(t);
            for &j in support {
                for &i in support {
                    h[(i, j)] = 0.0;
                }
            }
        }
    }

    /// Zero everything, keeping the allocations.
    pub fn reset(&mut self) {
        self.l.fill(0.0);
        self.lx.fill_zero();
        self.lu.fill_zero();
        self.lxx.fill_zero();
        self.luu.fill_zero();
        self.lux.fill_zero();
    }
}
