//! The KL-augmented cost of LQR-FLM (docs/design.md §4.3 step 1).
//!
//! `−log p̄(u|x) = ½ yᵀ M y + yᵀ m + const`, `y = [x; u]`, with
//! `M = [[K̄ᵀP̄K̄, −K̄ᵀP̄], [−P̄K̄, P̄]]` and `m = [K̄ᵀP̄k̄; −P̄k̄]`, `P̄ = Σ̄⁻¹`, for an arbitrary
//! linear-Gaussian reference `p̄` (the previous controller in plain trajectory optimisation, the
//! linearised global policy in MDGPS). The augmented cost of docs/design.md is
//! `Ĉm = Cm/(η+ω) + η/(η+ω) M`, `ĉv = cv/(η+ω) + η/(η+ω) m`.
//!
//! The backward pass does not assemble this form: it solves the same Lagrangian
//! `(η_t+ω)·Ĉ_t = C_t + η_t M_t` (covariance `(η_t+ω) Q_uu⁻¹`; for one global η exactly DESIGN's
//! normalised form) in coordinates relative to the reference
//! ([`crate::lqr_flm::relative_model`]), where `M` is `η·I` on the action block alone. Assembled,
//! `η K̄ᵀP̄K̄` in `Q_xx` has to cancel against `Q_xu Q_uu⁻¹ Q_ux` in `V`, which loses every digit
//! once η, the gains or the reference precision are large. This function stays as the reference
//! form (tests compare the backward pass with a plain Riccati solve of it). With per-step `η_t`
//! the Lagrangian keeps `KL_t → 0` as `η_t → ∞` whatever the other steps do; the normalised form
//! with per-step `η_t` (the classic code's) keeps the future's KL penalties at full weight in
//! `V`, and a step's KL target can then be unreachable at any `η_t`.

use faer::Mat;
use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_linalg::{MatStack, VecStack, matmul_into};

/// The quadratic form `(M_t, m_t)` of `−log p̄(u|x)` at every step, computed once per update
/// (it does not depend on η).
#[derive(Debug, Clone, PartialEq)]
pub struct KlTerm {
    /// `M [T, n, n]`.
    pub quad: MatStack,
    /// `m [T, n]`.
    pub lin: VecStack,
    dx: usize,
}

impl KlTerm {
    /// A zero term (no KL penalty), for horizon `T`, state `dX`, action `dU`.
    pub fn zeros(horizon: usize, dx: usize, du: usize) -> Self {
        KlTerm {
            quad: MatStack::zeros(horizon, dx + du, dx + du),
            lin: VecStack::zeros(horizon, dx + du),
            dx,
        }
    }

    /// Fill from the reference controller `p̄` (same sizes as `self`).
    ///
    /// # Panics
    /// If the reference's sizes differ from this term's (checked by the callers).
    pub fn set_reference(&mut self, reference: &LinearGaussianPolicy) {
        let dx = self.dx;
        let du = reference.action_dim();
        let mut pk = Mat::<f64>::zeros(du, dx);
        for t in 0..reference.horizon() {
            let k = reference.gain().at(t);
            let kff = reference.offset().at(t);
            let p = reference.precision().at(t);
            matmul_into(pk.as_mut(), p, k, 1.0, false);
            let mut m = self.quad.at_mut(t);
            // K̄ᵀ P̄ K̄
            matmul_into(
                m.as_mut().submatrix_mut(0, 0, dx, dx),
                k.transpose(),
                pk.as_ref(),
                1.0,
                false,
            );
            for j in 0..dx {
                for i in 0..du {
                    m[(dx + i, j)] = -pk[(i, j)];
                    m[(j, dx + i)] = -pk[(i, j)];
                }
            }
            for j in 0..du {
                for i in 0..du {
                    m[(dx + i, dx + j)] = p[(i, j)];
                }
            }
            let v = self.lin.at_mut(t);
            // [K̄ᵀ P̄ k̄; −P̄ k̄]
            for i in 0..du {
                let mut s = 0.0;
                for j in 0..du {
                    s += p[(i, j)] * kff[j];
                }
                v[dx + i] = -s;
            }
            for j in 0..dx {
                let mut s = 0.0;
                for i in 0..du {
                    s += pk[(i, j)] * kff[i];
                }
                v[j] = s;
            }
        }
    }

    /// The term of a reference controller.
    pub fn of(reference: &LinearGaussianPolicy) -> Self {
        let mut term = KlTerm::zeros(
            reference.horizon(),
            reference.state_dim(),
            reference.action_dim(),
        );
        term.set_reference(reference);
        term
    }
}

/// docs/design.md's normalised augmented cost `(Ĉm_t, ĉv_t)` for one η, as a new [`CostModel`]
/// (`ĉc` is `cc/(η+ω)`; the reference's constant is dropped, it moves no controller).
///
/// ```
/// use faer::mat;
/// use pilqr_core::{CostModel, LinearGaussianPolicy};
/// use pilqr_linalg::{MatStack, VecStack};
/// use pilqr_trajopt::lqr_flm::{KlTerm, augmented_cost};
///
/// // dX = dU = 1, reference u = 0·x + 0, Σ̄ = 1: the KL term adds η/(η+ω) to the u-u entry.
/// let reference = LinearGaussianPolicy::new(
///     MatStack::zeros(1, 1, 1), VecStack::zeros(1, 1), MatStack::repeat(1, mat![[1.0]].as_ref()),
/// ).unwrap();
/// let cost = CostModel::zeros(1, 1, 1);
/// let aug = augmented_cost(&cost, &KlTerm::of(&reference), 1.0, 0.0);
/// assert_eq!(aug.cm.at(0)[(1, 1)], 1.0);
/// ```
pub fn augmented_cost(cost: &CostModel, kl: &KlTerm, eta: f64, omega: f64) -> CostModel {
    let s = 1.0 / (eta + omega);
    let w = eta * s;
    let mut out = cost.clone();
    for (o, m) in out.cm.as_mut_slice().iter_mut().zip(kl.quad.as_slice()) {
        *o = *o * s + w * m;
    }
    for (o, m) in out.cv.as_mut_slice().iter_mut().zip(kl.lin.as_slice()) {
        *o = *o * s + w * m;
    }
    for c in &mut out.cc {
        *c *= s;
    }
    out
}
