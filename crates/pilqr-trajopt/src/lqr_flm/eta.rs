//! Choosing η so that the KL meets its step (docs/design.md §4.3 step 5).
//!
//! - **Global η**: bracketed geometric bisection on `[min_eta, max_eta]`. When the KL is too
//!   small η was too big: `hi = η`, `η ← max(√(lo·hi), 0.1·hi)`; otherwise `lo = η`,
//!   `η ← min(√(lo·hi), 10·lo)`; until `|KL − ε| < tol·ε`.
//! - **Per-step η_t** (`cons_per_step`): under fixed state marginals the KL of step t is a
//!   closed-form, strictly decreasing function of `η_t` alone ([`crate::lqr_flm::step_kl`]),
//!   and the backward pass runs from the last step, so every `η_t` can be solved exactly, in the
//!   pass, given the `V` that the later steps' η produce. What couples the steps is the state
//!   distribution (η_t moves the marginals of later steps), so the search is a fixed-point
//!   iteration on the marginals. Each round is one backward pass that solves every `η_t` under
//!   the marginals of the last forward sweep, then one forward sweep that computes the exact
//!   marginals of that controller step by step and, at each step, its KL: a step within
//!   `tol·ε_t` of its target (or below it with `η_t` at its lower end, where the constraint is
//!   inactive) keeps its η; any other step re-solves `η_t` under the exact marginals (with the
//!   value function of the backward pass, now slightly stale) so that the next round starts
//!   from marginals near the fixed point. A round in which no step changed η has found it: the
//!   controller is exactly the backward pass's, the marginals are its own and every step meets
//!   its target. The check and the forward pass are the same sweep, so a round costs one
//!   backward and one forward pass. A cold start (uniform η) takes the reference's own
//!   marginals first; a warm start (per-step η, e.g. the previous iteration's) first runs a
//!   round at those η, which may already satisfy every constraint. Every step, the first and
//!   the last included, is solved on every pass.
//!
//! A KL above its target at the bound of η is a typed error ([`TrajOptError::EtaBound`]): at
//! `max_eta` for the global η, at `max_eta · max(1, max|λ_t|, √max a_t)` for a per-step `η_t`
//! ([`crate::lqr_flm::backward::eta_ceiling`]: η acts relative to the scale of the step's Q
//! function and state spread, which a badly scaled model can push to 1e16 and beyond).

use crate::error::TrajOptError;
use crate::lqr_flm::backward::{EtaMode, EtaRule};
use crate::lqr_flm::{LqrFlm, LqrFlmConfig};

/// Relative slack when testing whether η sits at a bound.
const AT_BOUND: f64 = 1e-9;

impl LqrFlm {
    /// Global η search; returns (passes run, converged). Each pass is one backward and one
    /// forward pass.
    pub(crate) fn global_search(
        &mut self,
        target: f64,
        config: &LqrFlmConfig,
    ) -> Result<(usize, bool), TrajOptError> {
        let params = LqrFlm::params(config, EtaMode::Global);
        let (mut lo, mut hi) = (config.min_eta, config.max_eta);
        for it in 0..config.max_iterations {
            let kl = self.run_pass(EtaRule::Fixed, params)?;
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
        let kl = self.run_pass(EtaRule::Fixed, params)?;
        let ok = (kl - target).abs() < config.tolerance * target;
        Ok((config.max_iterations + 1, ok))
    }

    /// Per-step η search; returns (backward passes, forward passes, converged).
    pub(crate) fn per_step_search(
        &mut self,
        targets: &[f64],
        config: &LqrFlmConfig,
    ) -> Result<(usize, usize, bool), TrajOptError> {
        let params = LqrFlm::params(config, EtaMode::PerStep);
        let keep = config.tolerance;
        let (mut backward, mut forward) = (0, 1);
        if self.eta.iter().all(|&e| e == self.eta[0]) {
            // Cold: the first η_t are solved under the reference's own marginals.
            self.reference_states();
        } else {
            // Warm: the given η may already meet every target.
            self.backward_only(None, params)?;
            backward += 1;
            let changed = self.forward_solve_pass(targets, params, keep);
            if changed == 0 && self.check_per_step(targets, config)? {
                return Ok((backward, forward, true));
            }
        }
        while backward < config.max_iterations {
            self.backward_only(Some(targets), params)?;
            backward += 1;
            let changed = self.forward_solve_pass(targets, params, keep);
            forward += 1;
            if changed == 0 && self.check_per_step(targets, config)? {
                return Ok((backward, forward, true));
            }
        }
        // Out of rounds: the last forward sweep may have re-solved some η_t against a stale
        // value function; one pass at the η reached makes the controller and its KL consistent.
        self.run_pass(EtaRule::Fixed, params)?;
        Ok((backward + 1, forward + 1, false))
    }

    /// Whether every step's KL meets its target (or is inactive at `min_eta`); a KL still above
    /// its target at `max_eta` is an error.
    fn check_per_step(&self, targets: &[f64], config: &LqrFlmConfig) -> Result<bool, TrajOptError> {
        let mut all_ok = true;
        for (t, (&kl, &eps)) in self.kl.iter().zip(targets).enumerate() {
            let eta = self.eta[t];
            let con = kl - eps;
            let inactive = con < 0.0 && eta <= config.min_eta * (1.0 + AT_BOUND);
            if con.abs() < config.tolerance * eps || inactive {
                continue;
            }
            if con > 0.0 && eta >= self.sol.eta_bound[t] * (1.0 - AT_BOUND) {
                return Err(TrajOptError::EtaBound {
                    step: Some(t),
                    eta,
                    kl,
                    target: eps,
                });
            }
            all_ok = false;
        }
        Ok(all_ok)
    }
}
