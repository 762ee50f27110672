//! Choosing η so that the KL meets its step (DESIGN.md §4.3 step 5).
//!
//! - **Global η**: bracketed geometric bisection on `[min_eta, max_eta]`. When the KL is too
//!   small η was too big: `hi = η`, `η ← max(√(lo·hi), 0.1·hi)`; otherwise `lo = η`,
//!   `η ← min(√(lo·hi), 10·lo)`; until `|KL − ε| < tol·ε`.
//! - **Per-step η_t** (`cons_per_step`): a dual method in `s_t = log η_t`. The dual's gradient
//!   in `η_t` is `KL_t − ε_t`. `log KL_t` is close to linear in `log η_t` (slope −2 once the
//!   constraint binds, about −dU/(2 KL_t) when η is small and the covariance shrinks), so each
//!   step takes a Newton step on `log KL_t = log ε_t` with the secant slope of its last two
//!   passes (−1 before it has two). A cold start (uniform η) first finds the global η meeting the
//!   summed target (a per-step warm start skips that phase). The steps are coupled (η_t moves `V`
//!   at earlier steps and the state distribution at later ones), so every step takes 0.6 of its
//!   Newton step. Every step, the last included, keeps its own bracket `[lo_t, hi_t]` (in log η)
//!   from the signs seen so far, falls back to bisection when the Newton step leaves it, and
//!   re-opens it when the coupling makes it stale. It stops when every step satisfies
//!   `|KL_t − ε_t| < tol·ε_t`, or `KL_t < ε_t` with `η_t` at `min_eta` (the constraint is
//!   inactive).
//!
//! A KL above its target at `max_eta` is a typed error ([`TrajOptError::EtaBound`]).

use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;

use crate::error::TrajOptError;
use crate::lqr_flm::{BackwardParams, EtaMode, LqrFlm, LqrFlmConfig};

/// Relative slack when testing whether η sits at a bound.
const AT_BOUND: f64 = 1e-9;
/// Largest Newton step in log η (a factor 10).
const MAX_LOG_STEP: f64 = std::f64::consts::LN_10;
/// Starting slope `d log KL_t / d log η_t` before a secant is available.
const INITIAL_SLOPE: f64 = -1.0;
/// Secant slopes flatter than this (or positive, from coupling) are not trusted.
const MIN_SLOPE: f64 = 0.5;
/// Steepest slope trusted.
const MAX_SLOPE: f64 = 4.0;
/// Fraction of the Newton step taken: the steps are coupled (η_t moves V at earlier steps and
/// the state distribution at later ones), and full simultaneous steps overshoot.
const GAIN: f64 = 0.6;
/// Width of a log bracket below which, unsatisfied, it is considered stale.
const STALE_BRACKET: f64 = 1e-3;

impl LqrFlm {
    /// Global η search; returns (passes run, converged).
    pub(crate) fn global_search(
        &mut self,
        dynamics: &LinearDynamics,
        cost: &CostModel,
        reference: &LinearGaussianPolicy,
        target: f64,
        config: &LqrFlmConfig,
    ) -> Result<(usize, bool), TrajOptError> {
        let params = BackwardParams {
            omega: config.omega,
            min_eta: config.min_eta,
            max_eta: config.max_eta,
            mode: EtaMode::Global,
        };
        let (mut lo, mut hi) = (config.min_eta, config.max_eta);
        for it in 0..config.max_iterations {
            let kl = self.pass(dynamics, cost, reference, params)?;
            let eta = self.eta[0];
            let failed = self.failed_eta().iter().copied().fold(0.0, f64::max);
            if failed > 0.0 {
                lo = lo.max(failed);
            }
            let con = kl - target;
            if con.abs() < config.tolerance * target {
                return Ok((it + 1, true));
            }
            if con < 0.0 {
                if eta <= config.min_eta * (1.0 + AT_BOUND) {
                    return Ok((it + 1, true));
                }
                hi = eta;
                let next = (lo * hi).sqrt().max(0.1 * hi);
                self.eta.fill(next.clamp(config.min_eta, config.max_eta));
            } else {
                if eta >= config.max_eta * (1.0 - AT_BOUND) {
                    return Err(TrajOptError::EtaBound {
                        step: None,
                        eta,
                        kl,
                        target,
                    });
                }
                lo = eta;
                if hi <= lo {
                    hi = config.max_eta;
                }
                let next = (lo * hi).sqrt().min(10.0 * lo);
                self.eta.fill(next.clamp(config.min_eta, config.max_eta));
            }
        }
        // Out of rounds: run the pass of the last η so that the buffers match it.
        let kl = self.pass(dynamics, cost, reference, params)?;
        let ok = (kl - target).abs() < config.tolerance * target;
        Ok((config.max_iterations + 1, ok))
    }

    /// Per-step η search; returns (passes run, converged).
    pub(crate) fn per_step_search(
        &mut self,
        dynamics: &LinearDynamics,
        cost: &CostModel,
        reference: &LinearGaussianPolicy,
        targets: &[f64],
        config: &LqrFlmConfig,
    ) -> Result<(usize, bool), TrajOptError> {
        let params = BackwardParams {
            omega: config.omega,
            min_eta: config.min_eta,
            max_eta: config.max_eta,
            mode: EtaMode::PerStep,
        };
        let (ln_min, ln_max) = (config.min_eta.ln(), config.max_eta.ln());
        let horizon = self.horizon();
        let mut lo = vec![ln_min; horizon];
        let mut hi = vec![ln_max; horizon];
        // Secant memory per step: the last (log η, log KL) and the slope d log KL / d log η.
        let mut last = vec![(f64::NAN, f64::NAN); horizon];
        let mut slope = vec![INITIAL_SLOPE; horizon];
        let mut passes = 0;
        let mut used = vec![0.0; horizon];
        // Phase 1, from a cold (uniform) start: one common η meeting the summed target (a few
        // passes of bisection). A per-step warm start (the previous iteration's η) skips it.
        if self.eta.iter().all(|&e| e == self.eta[0]) {
            let total: f64 = targets.iter().sum();
            let (p, _) = self.global_search(dynamics, cost, reference, total, config)?;
            passes += p;
            if passes >= config.max_iterations {
                return Ok((passes, false));
            }
        }
        loop {
            self.pass(dynamics, cost, reference, params)?;
            passes += 1;
            used.copy_from_slice(&self.eta);
            let mut all_ok = true;
            for t in 0..horizon {
                let (kl, eps) = (self.kl[t], targets[t]);
                let s = self.eta[t].ln();
                let failed = self.failed[t];
                if failed > 0.0 {
                    lo[t] = lo[t].max(failed.ln());
                }
                let ln_kl = kl.max(f64::MIN_POSITIVE).ln();
                let (s_old, ln_kl_old) = last[t];
                if (s - s_old).abs() > 1e-9 {
                    let m = (ln_kl - ln_kl_old) / (s - s_old);
                    if m < -MIN_SLOPE {
                        slope[t] = m.max(-MAX_SLOPE);
                    }
                }
                last[t] = (s, ln_kl);
                let con = kl - eps;
                let inactive = con < 0.0 && s <= ln_min + AT_BOUND;
                if con.abs() < config.tolerance * eps || inactive {
                    continue;
                }
                all_ok = false;
                if con > 0.0 && s >= ln_max - AT_BOUND {
                    return Err(TrajOptError::EtaBound {
                        step: Some(t),
                        eta: self.eta[t],
                        kl,
                        target: eps,
                    });
                }
                if con > 0.0 {
                    lo[t] = s;
                    if hi[t] <= lo[t] {
                        hi[t] = ln_max;
                    }
                } else {
                    hi[t] = s;
                    if lo[t] >= hi[t] {
                        lo[t] = ln_min;
                    }
                }
                // Newton step on log KL_t(log η_t) = log ε_t with the secant slope.
                let step =
                    (GAIN * (ln_kl - eps.ln()) / -slope[t]).clamp(-MAX_LOG_STEP, MAX_LOG_STEP);
                let mut next = s + step;
                if !(next > lo[t] && next < hi[t]) {
                    if hi[t] - lo[t] < STALE_BRACKET {
                        // The other steps moved under this one: re-open the bracket.
                        lo[t] = ln_min;
                        hi[t] = ln_max;
                    } else if con < 0.0 {
                        next = (0.5 * (lo[t] + hi[t])).max(hi[t] - std::f64::consts::LN_10);
                    } else {
                        next = (0.5 * (lo[t] + hi[t])).min(lo[t] + std::f64::consts::LN_10);
                    }
                }
                self.eta[t] = next.clamp(ln_min, ln_max).exp();
            }
            if all_ok {
                return Ok((passes, true));
            }
            if passes >= config.max_iterations {
                // Report the η of the last pass, which the buffers hold.
                self.eta.copy_from_slice(&used);
                return Ok((passes, false));
            }
        }
    }
}
