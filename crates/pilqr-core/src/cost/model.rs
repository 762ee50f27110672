//! The local quadratic cost model `c(x,u) ≈ ½ yᵀ Cm_t y + yᵀ cv_t + cc_t`, `y = [x; u]`,
//! built from the costs' derivatives at the samples (docs/design.md §3).

use pilqr_linalg::{MatStack, VecStack};
use serde::{Deserialize, Serialize};

use crate::cost::derivatives::contiguous_runs;
use crate::cost::{Cost, CostDerivatives};
use crate::error::CoreError;
use crate::sample::SampleBatch;

/// Quadratic cost model in **absolute** `[x; u]` coordinates: `Cm [T,n,n]`, `cv [T,n]`, `cc [T]`
/// with `n = dX + dU`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// Quadratic terms.
    pub cm: MatStack,
    /// Linear terms.
    pub cv: VecStack,
    /// Constants.
    pub cc: Vec<f64>,
    /// State dimension `dX` (the first `dX` entries of `y`).
    pub dx: usize,
}

impl CostModel {
    /// A zero model.
    pub fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        CostModel {
            cm: MatStack::zeros(horizon, dx + du, dx + du),
            cv: VecStack::zeros(horizon, dx + du),
            cc: vec![0.0; horizon],
            dx,
        }
    }

    /// Horizon `T`.
    pub fn horizon(&self) -> usize {
        self.cc.len()
    }

    /// `dX + dU`.
    pub fn dim(&self) -> usize {
        self.cv.dim()
    }

    /// The model's cost at step `t` for `y = [x; u]`.
    pub fn eval(&self, t: usize, y: &[f64]) -> f64 {
        let cm = self.cm.at(t);
        let cv = self.cv.at(t);
        let n = y.len();
        let mut v = self.cc[t];
        for j in 0..n {
            let mut s = 0.0;
            for i in 0..n {
                s += cm[(i, j)] * y[i];
            }
            v += y[j] * (0.5 * s + cv[j]);
        }
        v
    }
}

/// Builds a [`CostModel`] from a batch: for every sample, the cost's derivatives at
/// `ŷ = [x_t; u_t]` are re-expanded about the origin
/// (`cv ← cv − Cm ŷ`, `cc ← cc − ŷᵀ cv_old + ½ ŷᵀ Cm ŷ`) and averaged over samples.
/// For a cost that is exactly quadratic the model therefore reproduces every sample's cost.
///
/// Holds its scratch buffers, so repeated builds do not reallocate them.
///
/// ```
/// use std::sync::Arc;
/// use pilqr_core::{CostModelBuilder, SampleBatch, SampleDims, StateCost, Trajectory, Cost};
///
/// let dims = SampleDims { horizon: 1, dx: 1, du: 1, dobs: 0 };
/// let cost = StateCost::new(vec![0], vec![2.0]); // ½ (x − 2)²
/// let t = |x: f64| Trajectory { x: vec![x], u: vec![0.0], obs: vec![], noise: vec![0.0], cost: vec![0.5 * (x - 2.0) * (x - 2.0)] };
/// let batch = SampleBatch::from_trajectories(dims, vec![t(0.0), t(5.0)]).unwrap();
/// let model = CostModelBuilder::new(1, 1, 1).build(&cost, &batch).unwrap();
/// assert!((model.eval(0, &[3.0, 0.0]) - 0.5).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct CostModelBuilder {
    derivs: CostDerivatives,
    y: Vec<f64>,
    cy: Vec<f64>,
}

impl CostModelBuilder {
    /// Scratch for horizon `T`, state `dX`, action `dU`.
    pub fn new(horizon: usize, dx: usize, du: usize) -> Self {
        CostModelBuilder {
            derivs: CostDerivatives::zeros(horizon, dx, du),
            y: vec![0.0; dx + du],
            cy: vec![0.0; dx + du],
        }
    }

    /// Build the model of `cost` over the samples of `batch`.
    pub fn build(&mut self, cost: &dyn Cost, batch: &SampleBatch) -> Result<CostModel, CoreError> {
        let d = batch.dims();
        let (horizon, dx, du) = (d.horizon, d.dx, d.du);
        if self.derivs.horizon() != horizon || self.derivs.dx() != dx || self.derivs.du() != du {
            *self = CostModelBuilder::new(horizon, dx, du);
        }
        let n = dx + du;
        let inv_n = 1.0 / batch.len() as f64;
        // Only the declared support of l_xx can be non-zero: restrict the O(dX²) work to it.
        let mut support: Vec<usize> = cost
            .state_hessian_support(dx)
            .unwrap_or_else(|| (0..dx).collect());
        support.sort_unstable();
        support.dedup();
        let runs = contiguous_runs(&support);
        // Costs of the state alone or the action alone have no l_ux block.
        let mixed = cost.has_mixed_hessian();
        let mut model = CostModel::zeros(horizon, dx, du);
        // The buffer starts all-zero; after each sample the pass below zeroes l_xx on the support
        // as it reads it (the cost leaves it zero elsewhere), and the rest is reset here.
        self.derivs.reset();
        for i in 0..batch.len() {
            if i > 0 {
                self.derivs.reset_except_state_hessian();
            }
            cost.accumulate(batch.trajectory(i), 1.0, &mut self.derivs)?;
            let (dxx, dux, duu) = (dx * dx, du * dx, du * du);
            let lxx_all = self.derivs.lxx.as_mut_slice();
            let lux_all = self.derivs.lux.as_slice();
            let luu_all = self.derivs.luu.as_slice();
            let cm_all = model.cm.as_mut_slice();
            for t in 0..horizon {
                self.y[..dx].copy_from_slice(batch.x(i, t));
                self.y[dx..].copy_from_slice(batch.u(i, t));
                // Column-major step slices: lxx [dx,dx], lux [du,dx], luu [du,du], cm [n,n].
                let lxx = &mut lxx_all[t * dxx..(t + 1) * dxx];
                let lux = &lux_all[t * dux..(t + 1) * dux];
                let luu = &luu_all[t * duu..(t + 1) * duu];
                let cm = &mut cm_all[t * n * n..(t + 1) * n * n];
                let lx = self.derivs.lx.at(t);
                let lu = self.derivs.lu.at(t);
                let (x, u) = self.y.split_at(dx);
                let (cyx, cyu) = self.cy.split_at_mut(dx);
                // cy = Cm_i ŷ with Cm_i = [[lxx, luxᵀ], [lux, luu]]; at the same time
                // Cm += Cm_i / N (symmetric: the lux block goes to both off-diagonal blocks).
                cyx.fill(0.0);
                cyu.fill(0.0);
                for c in (0..dx).filter(|_| mixed) {
                    let col = &lux[c * du..(c + 1) * du];
                    let mut s = 0.0;
                    for r in 0..du {
                        s += col[r] * u[r];
                        cyu[r] += col[r] * x[c];
                        let v = inv_n * col[r];
                        cm[(dx + r) + c * n] += v;
                        cm[c + (dx + r) * n] += v;
                    }
                    cyx[c] = s;
                }
                // One pass over the support block: use l_xx, add it to Cm, and zero it for the
                // next sample.
                for &c in &support {
                    let col = &mut lxx[c * dx..(c + 1) * dx];
                    let cm_col = &mut cm[c * n..c * n + dx];
                    let xc = x[c];
                    for run in &runs {
                        let r = run.clone();
                        for ((cy, h), m) in cyx[r.clone()]
                            .iter_mut()
                            .zip(&mut col[r.clone()])
                            .zip(&mut cm_col[r])
                        {
                            *cy += *h * xc;
                            *m += inv_n * *h;
                            *h = 0.0;
                        }
                    }
                }
                for c in 0..du {
                    let col = &luu[c * du..(c + 1) * du];
                    let cm_col = &mut cm[(dx + c) * n + dx..(dx + c + 1) * n];
                    for r in 0..du {
                        cyu[r] += col[r] * u[c];
                        cm_col[r] += inv_n * col[r];
                    }
                }
                let mut cv_dot_y = 0.0;
                let mut ycy = 0.0;
                let cv = model.cv.at_mut(t);
                for r in 0..dx {
                    cv_dot_y += lx[r] * x[r];
                    ycy += x[r] * cyx[r];
                    cv[r] += inv_n * (lx[r] - cyx[r]);
                }
                for r in 0..du {
                    cv_dot_y += lu[r] * u[r];
                    ycy += u[r] * cyu[r];
                    cv[dx + r] += inv_n * (lu[r] - cyu[r]);
                }
                model.cc[t] += inv_n * (self.derivs.l[t] - cv_dot_y + 0.5 * ycy);
            }
        }
        Ok(model)
    }
}
