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
        self.reset_except_state_hessian();
        let runs = contiguous_runs(support);
        let dx = self.dx;
        for h in self.lxx.as_mut_slice().chunks_exact_mut(dx * dx) {
            for &j in support {
                let col = &mut h[j * dx..(j + 1) * dx];
                for r in &runs {
                    col[r.clone()].fill(0.0);
                }
            }
        }
    }

    /// Zero everything except `l_xx` (for a caller that zeroes `l_xx` itself while reading it).
    pub(crate) fn reset_except_state_hessian(&mut self) {
        self.l.fill(0.0);
        self.lx.fill_zero();
        self.lu.fill_zero();
        self.luu.fill_zero();
        self.lux.fill_zero();
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

/// The maximal runs of consecutive indices in a sorted index list (`[0,1,2,5,6]` →
/// `[0..3, 5..7]`): loops over them touch contiguous memory.
pub(crate) fn contiguous_runs(sorted: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for &i in sorted {
        match runs.last_mut() {
            Some(r) if r.end == i => r.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_consecutive_indices() {
        assert_eq!(
            contiguous_runs(&[0, 1, 2, 5, 6, 9]),
            vec![0..3, 5..7, 9..10]
        );
        assert!(contiguous_runs(&[]).is_empty());
    }

    #[test]
    fn reset_support_zeroes_exactly_the_support_block() {
        let mut d = CostDerivatives::zeros(2, 4, 1);
        d.lxx.as_mut_slice().fill(1.0);
        d.reset_support(Some(&[1, 2]));
        for t in 0..2 {
            let h = d.lxx.at(t);
            for j in 0..4 {
                for i in 0..4 {
                    let inside = (1..3).contains(&i) && (1..3).contains(&j);
                    assert_eq!(h[(i, j)], if inside { 0.0 } else { 1.0 }, "({i},{j})");
                }
            }
        }
    }
}
