//! The KL of one time step as a closed-form function of its `η_t` (docs/design.md §4.3 steps 4–5).
//!
//! In the relative coordinates of [`crate::lqr_flm::relative_model`] the reference is
//! `z ~ N(0, I)`. With `Q_zz = U diag(λ) Uᵀ`, `Y = UᵀQ_zx` and `h = Uᵀq_z`, the step's new
//! controller at η is, in `w = Uᵀz`: mean `−D(Yx + h)` and covariance `(η+ω)D`, with
//! `D = diag(1/(λ_i+η))`. Under states `x ~ N(μ, Σ_x)` its expected KL to the reference is
//!
//! `KL(η) = ½ Σ_i [ r_i − 1 − ln r_i + a_i/(λ_i+η)² ]`, `r_i = (η+ω)/(λ_i+η)`,
//! `a_i = (Yμ + h)_i² + (Y Σ_x Yᵀ)_ii`,
//!
//! and `dKL/dη = −½ Σ_i [ (λ_i−ω)²/((η+ω)(λ_i+η)²) + 2a_i/(λ_i+η)³ ] ≤ 0`: strictly decreasing
//! on `η > −λ_min` (unless the step is already the reference), infinite at `η → −λ_min`. So the
//! `η_t` meeting a target is a 1-D root with a guaranteed bracket, found in a few Newton steps
//! on `log η` at `O(dU)` per evaluation.

use faer::{MatMut, MatRef};
use pilqr_linalg::matmul_into;

use crate::lqr_flm::GaussianTrajectory;

/// Newton/bisection rounds of [`StepKl::solve`] (it converges in far fewer).
const MAX_ROUNDS: usize = 200;
/// `Σ ln r_i` is taken as `ln Π r_i` while the product stays within `(1/this, this)`.
const LN_PRODUCT_MAX: f64 = 1e150;
/// Stop when `|log KL − log target|` is below this.
const LOG_TOLERANCE: f64 = 1e-10;

/// The KL of one step as a function of η (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepKl<'a> {
    /// Eigenvalues `λ_i` of `Q_zz`.
    pub(crate) lambda: &'a [f64],
    /// `a_i = (Yμ + h)_i² + (Y Σ_x Yᵀ)_ii`.
    pub(crate) a: &'a [f64],
    /// Entropy weight ω.
    pub(crate) omega: f64,
}

impl StepKl<'_> {
    /// `KL(η)`; requires `λ_i + η > 0` for all i.
    pub(crate) fn value(&self, eta: f64) -> f64 {
        let (mut s, mut prod) = (0.0, 1.0);
        for (l, a) in self.lambda.iter().zip(self.a) {
            let d = 1.0 / (l + eta);
            let r = (eta + self.omega) * d;
            s += r - 1.0 + a * d * d;
            prod *= r;
        }
        (0.5 * (s - self.sum_ln_r(eta, prod))).max(0.0)
    }

    /// `Σ ln r_i` from their product `prod` (one logarithm), or term by term when the product
    /// left the normal range.
    #[inline]
    fn sum_ln_r(&self, eta: f64, prod: f64) -> f64 {
        if prod.is_normal() && prod < LN_PRODUCT_MAX && prod > 1.0 / LN_PRODUCT_MAX {
            prod.ln()
        } else {
            self.lambda
                .iter()
                .map(|l| ((eta + self.omega) / (l + eta)).ln())
                .sum()
        }
    }

    /// `(KL(η), dKL/d log η)`.
    fn value_and_log_slope(&self, eta: f64) -> (f64, f64) {
        let (mut s, mut g, mut prod) = (0.0, 0.0, 1.0);
        let e = eta + self.omega;
        for (l, a) in self.lambda.iter().zip(self.a) {
            let d = 1.0 / (l + eta);
            let r = e * d;
            s += r - 1.0 + a * d * d;
            prod *= r;
            g += (l - self.omega) * (l - self.omega) * d * d / e + 2.0 * a * d * d * d;
        }
        (
            (0.5 * (s - self.sum_ln_r(eta, prod))).max(0.0),
            -0.5 * g * eta,
        )
    }

    /// The η in `[lo, hi]` (with `λ_i + lo > 0`) where `KL(η) = target`: `lo` when the KL is
    /// already below the target there (the constraint is inactive), `hi` when it is still above
    /// it there (the caller reports the bound). `guess` (if inside) starts the Newton steps.
    pub(crate) fn solve(&self, target: f64, lo: f64, hi: f64, guess: f64) -> f64 {
        let ln_target = target.ln();
        let f = |kl: f64| kl.max(f64::MIN_POSITIVE).ln() - ln_target;
        if f(self.value(lo)) <= 0.0 {
            return lo;
        }
        if hi <= lo || f(self.value(hi)) >= 0.0 {
            return hi;
        }
        // f(log η) is decreasing: f(s_lo) > 0 > f(s_hi).
        let (mut s_lo, mut s_hi) = (lo.ln(), hi.ln());
        let mut s = if guess > lo && guess < hi {
            guess.ln()
        } else {
            0.5 * (s_lo + s_hi)
        };
        for _ in 0..MAX_ROUNDS {
            let (kl, slope) = self.value_and_log_slope(s.exp());
            let fs = f(kl);
            if fs.abs() < LOG_TOLERANCE {
                break;
            }
            if fs > 0.0 {
                s_lo = s;
            } else {
                s_hi = s;
            }
            if s_hi - s_lo < 1e-13 * (1.0 + s.abs()) {
                break;
            }
            // Newton on f: f' = (dKL/ds)/KL < 0.
            let fp = slope / kl.max(f64::MIN_POSITIVE);
            let next = s - fs / fp;
            s = if fp < 0.0 && next > s_lo && next < s_hi {
                next
            } else {
                0.5 * (s_lo + s_hi)
            };
        }
        s.exp().clamp(lo, hi)
    }
}

/// `a_i = (Yμ + h)_i² + (Y Σ_x Yᵀ)_ii` for `Y [dU, dX]`, `h [dU]` and states `N(μ, Σ_x)`;
/// `ys` is `dU x dX` scratch.
pub(crate) fn kl_coefficients(
    y: MatRef<'_, f64>,
    h: &[f64],
    mu_x: &[f64],
    sigma_x: MatRef<'_, f64>,
    mut ys: MatMut<'_, f64>,
    out: &mut [f64],
) {
    matmul_into(ys.as_mut(), y, sigma_x, 1.0, false);
    kl_coefficients_from(y, h, mu_x, ys.as_ref(), out);
}

/// [`kl_coefficients`] under the state marginal of step t in `states` (the `x` block of its
/// `[x; u]` Gaussian).
pub(crate) fn kl_coefficients_at(
    y: MatRef<'_, f64>,
    h: &[f64],
    states: &GaussianTrajectory,
    t: usize,
    ys: MatMut<'_, f64>,
    out: &mut [f64],
) {
    let dx = y.ncols();
    let sigma = states.sigma.at(t);
    kl_coefficients(
        y,
        h,
        &states.mu.at(t)[..dx],
        sigma.submatrix(0, 0, dx, dx),
        ys,
        out,
    );
}

/// [`kl_coefficients`] given `ys = Y Σ_x`.
pub(crate) fn kl_coefficients_from(
    y: MatRef<'_, f64>,
    h: &[f64],
    mu_x: &[f64],
    ys: MatRef<'_, f64>,
    out: &mut [f64],
) {
    let dx = mu_x.len();
    for (i, o) in out.iter_mut().enumerate() {
        let (mut m, mut q) = (h[i], 0.0);
        for j in 0..dx {
            m += y[(i, j)] * mu_x[j];
            q += ys[(i, j)] * y[(i, j)];
        }
        *o = m * m + q.max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_meets_the_target_and_respects_the_bracket() {
        let lambda = [-0.5, 2.0, 1e-3];
        let a = [0.3, 4.0, 0.0];
        let kl = StepKl {
            lambda: &lambda,
            a: &a,
            omega: 0.0,
        };
        let lo = 0.5 * (1.0 + 1e-9);
        for target in [1e-6, 0.1, 1.0, 30.0] {
            let eta = kl.solve(target, lo, 1e16, 1.0);
            assert!(
                (kl.value(eta) / target - 1.0).abs() < 1e-8,
                "target {target}"
            );
        }
        // Inactive (the KL at the lower end is already small) and unreachable targets.
        let easy = StepKl {
            lambda: &[1.0],
            a: &[0.0],
            omega: 0.0,
        };
        assert_eq!(easy.solve(100.0, 1e-8, 1e16, 1.0), 1e-8);
        assert_eq!(kl.solve(1e-40, lo, 1e3, 1.0), 1e3);
    }

    #[test]
    fn slope_matches_finite_differences() {
        let lambda = [0.7, -0.2, 3.0];
        let a = [1.0, 0.5, 2.0];
        for omega in [0.0, 0.4] {
            let kl = StepKl {
                lambda: &lambda,
                a: &a,
                omega,
            };
            for eta in [0.3, 1.0, 10.0] {
                let (_, g) = kl.value_and_log_slope(eta);
                let h = 1e-6;
                let fd = (kl.value(eta * (1.0 + h)) - kl.value(eta * (1.0 - h))) / (2.0 * h);
                assert!((g - fd).abs() < 1e-6 * (1.0 + fd.abs()), "{g} vs {fd}");
                assert!(g < 0.0);
            }
        }
    }
}
