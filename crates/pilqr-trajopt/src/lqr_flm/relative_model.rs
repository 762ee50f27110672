//! The LQR-FLM problem in coordinates relative to the reference controller (docs/design.md §4.3
//! steps 1–2, reformulated for numerical robustness).
//!
//! With the reference `p̄(u|x) = N(K̄x + k̄, Σ̄)`, `Σ̄ = L̄L̄ᵀ`, write every action as
//! `u = K̄x + k̄ + L̄z`. Then `−log p̄(u|x) = ½|z|² + const`: the KL term of the augmented cost
//! touches the `z` block only, as `η·I`. The cost and the dynamics become
//! `y = T[x; z] + [0; k̄]`, `T = [[I, 0], [K̄, L̄]]`:
//! `C̃ = TᵀCT`, `c̃ = Tᵀ(c + C[0; k̄])`, `F̃ = FT = [F_x + F_uK̄, F_uL̄]`, `f̃ = f + F_uk̄`.
//!
//! This is the same Lagrangian `C + ηM` (hence the same controllers), but nothing in it grows
//! with η except the `z` block: the assembled form carries `η·K̄ᵀP̄K̄` in `Q_xx` and relies on
//! `V = Q_xx − Q_xu Q_uu⁻¹ Q_ux` to cancel it again, which loses every digit once
//! `η‖K̄ᵀP̄K̄‖` dwarfs the value function (a large η, large gains, a small reference covariance).
//! The round-off then grows through unstable fitted dynamics until `Q_uu` is indefinite at any
//! η. Here `V → ` the reference's own cost-to-go as `η → ∞`, and `Q_zz + ηI` is positive
//! definite for every `η > −λ_min(Q_zz)`.
//!
//! Everything here is independent of η: it is computed once per update.

use faer::{Mat, MatMut};
use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack, symmetrize};

use crate::kl::log_det_from_chol;
use crate::lqr_flm::kernels::add_matvec;

/// The η-independent data of one update: the transformed cost and dynamics, and the reference.
#[derive(Debug, Clone)]
pub(crate) struct RelativeModel {
    pub(crate) dx: usize,
    pub(crate) du: usize,
    /// `F̃ [T, dX, dX+dU] = [F_x + F_u K̄, F_u L̄]`.
    pub(crate) fm: MatStack,
    /// `f̃ [T, dX] = f + F_u k̄`.
    pub(crate) fv: VecStack,
    /// `C̃ [T, n, n] = Tᵀ C T`.
    pub(crate) cm: MatStack,
    /// `c̃ [T, n] = Tᵀ (c + C [0; k̄])`.
    pub(crate) cv: VecStack,
    /// Reference gains `K̄`.
    pub(crate) ref_gain: MatStack,
    /// Reference feed-forward terms `k̄`.
    pub(crate) ref_offset: VecStack,
    /// Reference covariance factors `L̄` (`Σ̄ = L̄L̄ᵀ`, lower).
    pub(crate) ref_chol: MatStack,
    /// Reference precisions `P̄ = Σ̄⁻¹`.
    pub(crate) ref_precision: MatStack,
    /// `log det Σ̄_t`.
    pub(crate) ref_log_det: Vec<f64>,
    /// The dynamics' noise covariances (unchanged by the transformation).
    pub(crate) dyn_covar: MatStack,
    /// Initial state mean.
    pub(crate) x0mu: Vec<f64>,
    /// Initial state covariance.
    pub(crate) x0sigma: Mat<f64>,
    /// `C T`, column-major `n x n` scratch.
    ct: Vec<f64>,
    /// `K̄ᵀ`, column-major `dX x dU` scratch.
    kt: Vec<f64>,
    cu_k: Vec<f64>,
}

impl RelativeModel {
    /// Storage for horizon `T`, state `dX`, action `dU`.
    pub(crate) fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        let n = dx + du;
        RelativeModel {
            dx,
            du,
            fm: MatStack::zeros(horizon, dx, n),
            fv: VecStack::zeros(horizon, dx),
            cm: MatStack::zeros(horizon, n, n),
            cv: VecStack::zeros(horizon, n),
            ref_gain: MatStack::zeros(horizon, du, dx),
            ref_offset: VecStack::zeros(horizon, du),
            ref_chol: MatStack::zeros(horizon, du, du),
            ref_precision: MatStack::zeros(horizon, du, du),
            ref_log_det: vec![0.0; horizon],
            dyn_covar: MatStack::zeros(horizon, dx, dx),
            x0mu: vec![0.0; dx],
            x0sigma: Mat::zeros(dx, dx),
            ct: vec![0.0; n * n],
            kt: vec![0.0; dx * du],
            cu_k: vec![0.0; n],
        }
    }

    /// Horizon `T`.
    pub(crate) fn horizon(&self) -> usize {
        self.ref_log_det.len()
    }

    /// Fill from a model, a cost and a reference whose sizes match this storage (checked by
    /// the callers).
    pub(crate) fn set(
        &mut self,
        dynamics: &LinearDynamics,
        cost: &CostModel,
        reference: &LinearGaussianPolicy,
    ) {
        let (dx, du) = (self.dx, self.du);
        let n = dx + du;
        self.ref_gain
            .as_mut_slice()
            .copy_from_slice(reference.gain().as_slice());
        self.ref_offset
            .as_mut_slice()
            .copy_from_slice(reference.offset().as_slice());
        self.ref_chol
            .as_mut_slice()
            .copy_from_slice(reference.chol().as_slice());
        self.ref_precision
            .as_mut_slice()
            .copy_from_slice(reference.precision().as_slice());
        self.dyn_covar
            .as_mut_slice()
            .copy_from_slice(dynamics.dyn_covar.as_slice());
        self.x0mu.copy_from_slice(&dynamics.x0mu);
        self.x0sigma.copy_from(dynamics.x0sigma.at(0));
        for t in 0..self.horizon() {
            let kff = reference.offset().at(t);
            self.ref_log_det[t] = log_det_from_chol(reference.chol().at(t));
            // Dynamics: F̃ = [F_x + F_u K̄, F_u L̄], f̃ = f + F_u k̄, one column at a time.
            let f = dynamics.fm.step_slice(t);
            let fu = &f[dx * dx..];
            let (k_s, l_s) = (
                reference.gain().step_slice(t),
                reference.chol().step_slice(t),
            );
            let fm_t = &mut self.fm.as_mut_slice()[t * dx * n..(t + 1) * dx * n];
            for (j, col) in fm_t.chunks_exact_mut(dx).enumerate() {
                if j < dx {
                    col.copy_from_slice(&f[j * dx..(j + 1) * dx]);
                    add_matvec(col, fu, dx, &k_s[j * du..(j + 1) * du]);
                } else {
                    col.fill(0.0);
                    add_matvec(col, fu, dx, &l_s[(j - dx) * du..(j - dx + 1) * du]);
                }
            }
            let fv = self.fv.at_mut(t);
            fv.copy_from_slice(dynamics.fv.at(t));
            add_matvec(fv, fu, dx, kff);
            // Cost: C T = [C_:x + C_:u K̄, C_:u L̄], then C̃ = Tᵀ (C T): its first dX rows are
            // (CT)_x + K̄ᵀ (CT)_u, its last dU rows L̄ᵀ (CT)_u.
            let c = cost.cm.step_slice(t);
            let cu = &c[dx * n..];
            let ct = &mut self.ct;
            for (j, col) in ct.chunks_exact_mut(n).enumerate() {
                if j < dx {
                    col.copy_from_slice(&c[j * n..(j + 1) * n]);
                    add_matvec(col, cu, n, &k_s[j * du..(j + 1) * du]);
                } else {
                    col.fill(0.0);
                    add_matvec(col, cu, n, &l_s[(j - dx) * du..(j - dx + 1) * du]);
                }
            }
            // K̄ᵀ with contiguous columns (column i is row i of K̄).
            for i in 0..du {
                for j in 0..dx {
                    self.kt[j + i * dx] = k_s[i + j * du];
                }
            }
            let ctil = &mut self.cm.as_mut_slice()[t * n * n..(t + 1) * n * n];
            for (col, out) in ct.chunks_exact(n).zip(ctil.chunks_exact_mut(n)) {
                let (ct_x, ct_u) = col.split_at(dx);
                let (top, bottom) = out.split_at_mut(dx);
                top.copy_from_slice(ct_x);
                add_matvec(top, &self.kt, dx, ct_u);
                for (i, o) in bottom.iter_mut().enumerate() {
                    // L̄ lower: (L̄ᵀ v)_i = Σ_{r ≥ i} L̄[r, i] v_r.
                    *o = (i..du).map(|r| l_s[r + i * du] * ct_u[r]).sum();
                }
            }
            symmetrize(MatMut::from_column_major_slice_mut(ctil, n, n));
            // c' = c + C_:u k̄; c̃ = [c'_x + K̄ᵀ c'_u; L̄ᵀ c'_u].
            self.cu_k.copy_from_slice(cost.cv.at(t));
            add_matvec(&mut self.cu_k, cu, n, kff);
            let (cu_x, cu_u) = self.cu_k.split_at(dx);
            let (top, bottom) = self.cv.at_mut(t).split_at_mut(dx);
            top.copy_from_slice(cu_x);
            add_matvec(top, &self.kt, dx, cu_u);
            for (i, o) in bottom.iter_mut().enumerate() {
                *o = (i..du).map(|r| l_s[r + i * du] * cu_u[r]).sum();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::*;

    #[test]
    fn transformed_cost_and_dynamics_agree_with_the_originals() {
        let (t, dx, du) = (3, 4, 2);
        let dynamics = linear_system(101, t, dx, du, 0.01);
        let cost = quadratic_cost(102, t, dx, du);
        let reference = random_policy(103, t, dx, du, 0.5);
        let mut model = RelativeModel::zeros(t, dx, du);
        model.set(&dynamics, &cost, &reference);
        let mut r = rng(104);
        for s in 0..t {
            let x: Vec<f64> = (0..dx).map(|_| normal(&mut r)).collect();
            let z: Vec<f64> = (0..du).map(|_| normal(&mut r)).collect();
            // u = K̄x + k̄ + L̄z
            let mut u = vec![0.0; du];
            reference.act_state(s, &x, &z, &mut u).unwrap();
            let y: Vec<f64> = x.iter().chain(&u).copied().collect();
            let w: Vec<f64> = x.iter().chain(&z).copied().collect();
            let quad = |m: faer::MatRef<'_, f64>, v: &[f64], lin: &[f64]| {
                let mut s = 0.0;
                for i in 0..v.len() {
                    s += lin[i] * v[i];
                    for j in 0..v.len() {
                        s += 0.5 * v[i] * m[(i, j)] * v[j];
                    }
                }
                s
            };
            // Costs differ by a constant only: compare differences between two points.
            let c0 = quad(cost.cm.at(s), &vec![0.0; dx + du], cost.cv.at(s));
            let mut y0 = vec![0.0; dx + du];
            y0[dx..].copy_from_slice(reference.offset().at(s));
            let base = quad(cost.cm.at(s), &y0, cost.cv.at(s)) - c0;
            let original = quad(cost.cm.at(s), &y, cost.cv.at(s)) - c0 - base;
            let relative = quad(model.cm.at(s), &w, model.cv.at(s));
            assert!((original - relative).abs() < 1e-10 * (1.0 + original.abs()));
            let f = dynamics.fm.at(s);
            for i in 0..dx {
                let a = dynamics.fv.at(s)[i] + (0..dx + du).map(|j| f[(i, j)] * y[j]).sum::<f64>();
                let b = model.fv.at(s)[i]
                    + (0..dx + du)
                        .map(|j| model.fm.at(s)[(i, j)] * w[j])
                        .sum::<f64>();
                assert!((a - b).abs() < 1e-12 * (1.0 + a.abs()));
            }
        }
    }
}
