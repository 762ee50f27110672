//! PI2 as MDGPS's local method: the PI2 update with its KL bound taken against the linearised
//! global policy `π̄ = (pol_K, pol_k, pol_S)` instead of the controller that drew the samples.
//!
//! See [`pi2_against_reference`] for what is computed and why.

use pilqr_core::{LinearGaussianPolicy, SampleBatch};
use pilqr_trajopt::pi2::{
    Pi2Config, Pi2Result, Pi2Samples, TemperatureSource, costs_to_go_in_place, pi2_update_with,
};

use crate::error::{MdgpsError, check_finite, check_len};
use crate::sampling::linear_gaussian_log_density;

/// Largest distance of an importance log-ratio from its step's median (a factor `e³ ≈ 20`).
pub const MAX_LOG_RATIO: f64 = 3.0;

/// Bisection rounds of the temperature search (the bracket spans at most `ln(1e16/1e-300)`).
const BISECTION_ROUNDS: usize = 100;

/// The outcome of [`pi2_against_reference`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReferencePi2 {
    /// The new controller, the KL-reference's gains kept.
    pub policy: LinearGaussianPolicy,
    /// Temperature per step (raised where a covariance had to be recovered).
    pub eta: Vec<f64>,
    /// `KL(p ‖ ŵ)` of the final sample weights to the importance weights, per step.
    pub weight_kl: Vec<f64>,
    /// Effective number of samples `1 / Σ ŵ_i²` of the importance weights, per step.
    pub effective_samples: Vec<f64>,
    /// Steps whose covariance was singular and recovered.
    pub recovered: Vec<usize>,
}

/// `KL(p ‖ w)` for `p_i ∝ w_i exp(−s_i/η)`, with `log_w` normalised (`Σ exp log_w = 1`) and
/// `s ≥ 0`.
fn weighted_kl(s: &[f64], log_w: &[f64], eta: f64) -> f64 {
    let a = |i: usize| log_w[i] - s[i] / eta;
    let m = (0..s.len()).map(a).fold(f64::NEG_INFINITY, f64::max);
    let (mut z, mut e) = (0.0, 0.0);
    for i in 0..s.len() {
        let w = (a(i) - m).exp();
        z += w;
        e += w * (-s[i] / eta);
    }
    (e / z - (m + z.ln())).max(0.0)
}

/// The temperature of one step: the minimiser of the importance-weighted PI2 dual over
/// `[min, max]`, i.e. the root of `KL(p_η ‖ w) = ε` for `p_η ∝ w exp(−s/η)` (or `min` when even
/// it meets the bound); `s` are costs-to-go shifted to a minimum of 0 and `log_w` normalised
/// log-weights (see [`pi2_against_reference`]).
pub fn weighted_temperature(s: &[f64], log_w: &[f64], epsilon: f64, min: f64, max: f64) -> f64 {
    if weighted_kl(s, log_w, min) <= epsilon {
        return min;
    }
    if weighted_kl(s, log_w, max) > epsilon {
        return max;
    }
    // KL falls as η grows: KL(lo) > ε ≥ KL(hi).
    let (mut lo, mut hi) = (min.ln(), max.ln());
    for _ in 0..BISECTION_ROUNDS {
        let mid = 0.5 * (lo + hi);
        if weighted_kl(s, log_w, mid.exp()) > epsilon {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    hi.exp()
}

/// Normalised, clipped importance log-weights of one step from the log-ratios `rho`.
fn importance_log_weights(rho: &mut [f64]) {
    let mut sorted = rho.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    };
    rho.iter_mut()
        .for_each(|r| *r = r.clamp(median - MAX_LOG_RATIO, median + MAX_LOG_RATIO));
    let m = rho.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_z = m + rho.iter().map(|r| (r - m).exp()).sum::<f64>().ln();
    rho.iter_mut().for_each(|r| *r -= log_z);
}

/// PI2 on `batch` (drawn from a policy whose action log-densities are `sampler_log_density`,
/// `[N, T]` sample-major) with the KL bound `epsilon` per step taken against `reference`: PI2
/// as MDGPS's local method (the choice made for docs/design.md §4.6 with PI2).
///
/// Per step `t`, PI2 solves `min_p E_p[S_t]` subject to `KL(p ‖ π̄_t) ≤ ε` over distributions
/// of the action `u_t`, whose solution is `p* ∝ π̄_t · exp(−S_t/η_t)`. The samples were drawn
/// from the sampling policy `q` (the local controller, or the network with `sample_on_policy`);
/// their actions are used **as drawn** — the noise is relative to `q`, nothing is
/// re-simulated — and every sample is importance-weighted towards `π̄`:
///
/// - `log ŵ_i = ρ_i − log Σ_j exp ρ_j` with `ρ_i = log π̄_t(u_i | x_i) − log q(u_i | ·)`, the
///   log-ratios clipped to `± MAX_LOG_RATIO` around their median at that step so that no
///   single sample can carry the whole estimate;
/// - the temperature `η_t` minimises the importance-weighted dual
///   `g(η) = η ε + min S + η log Σ_i ŵ_i exp(−(S_i − min S)/η)`, i.e. it solves
///   `KL(p_η ‖ ŵ) = ε` for `p_η ∝ ŵ exp(−S/η)` (bisection in `log η`; the lower bound
///   `min_temperature` when even it meets the bound), with
///   `ε = pi2.kl_threshold · min(1, step_mult)` — MDGPS's step rule can shrink PI2's bound,
///   never raise it past the configured threshold (which must stay below `log N`);
/// - the new controller keeps `π̄`'s gains `pol_K`, takes `k_t = Σ_i p_i (u_i − pol_K x_i)`, and
///   its covariance is the weighted scatter or, with covariance damping `d > 0`,
///   `(tr(pol_S⁻¹ Σ_ml)/dU)^{1/d} · pol_S`.
///
/// With `q = π̄` every `ŵ_i = 1/N` and this is plain PI2 on `π̄`. A fixed temperature
/// (`fixed_temperature`) replaces the dual.
pub fn pi2_against_reference(
    reference: &LinearGaussianPolicy,
    batch: &SampleBatch,
    sampler_log_density: &[f64],
    epsilon: f64,
    config: &Pi2Config,
) -> Result<ReferencePi2, MdgpsError> {
    let (n, horizon) = (batch.len(), batch.horizon());
    check_len(
        "sampler log densities",
        sampler_log_density.len(),
        n * horizon,
    )?;
    check_finite("sampler log densities", sampler_log_density)?;
    if !(epsilon > 0.0 && epsilon.is_finite()) {
        return Err(MdgpsError::InvalidConfig {
            field: "pi2.kl_threshold",
            reason: format!("the PI2 KL bound must be finite and > 0, got {epsilon}"),
        });
    }
    config.validate().map_err(|e| MdgpsError::Step {
        context: "PI2 settings".into(),
        reason: e.to_string(),
    })?;
    let mut log_w = linear_gaussian_log_density(reference, batch)?;
    for (l, q) in log_w.iter_mut().zip(sampler_log_density) {
        *l -= q;
    }
    let mut s = batch.cost_all().to_vec();
    costs_to_go_in_place(&mut s, horizon);
    check_finite("costs-to-go", &s)?;
    let mut eta = vec![0.0; horizon];
    let mut effective_samples = vec![0.0; horizon];
    let (mut col_s, mut col_w) = (vec![0.0; n], vec![0.0; n]);
    let mut adjusted = vec![0.0; n * horizon];
    for t in 0..horizon {
        for i in 0..n {
            col_s[i] = s[i * horizon + t];
            col_w[i] = log_w[i * horizon + t];
        }
        importance_log_weights(&mut col_w);
        effective_samples[t] = 1.0 / col_w.iter().map(|l| (2.0 * l).exp()).sum::<f64>();
        let min = col_s.iter().copied().fold(f64::INFINITY, f64::min);
        col_s.iter_mut().for_each(|v| *v -= min);
        eta[t] = match config.fixed_temperature {
            Some(e) => e,
            None => weighted_temperature(
                &col_s,
                &col_w,
                epsilon,
                config.min_temperature,
                config.max_temperature,
            ),
        };
        // PI2's weights exp(−(S̃ − min S̃)/η) with S̃ = S − η log ŵ are ∝ ŵ exp(−S/η).
        for i in 0..n {
            adjusted[i * horizon + t] = col_s[i] - eta[t] * col_w[i];
            log_w[i * horizon + t] = col_w[i];
        }
    }
    let Pi2Result {
        policy,
        eta: final_eta,
        recovered,
        ..
    } = pi2_update_with(
        reference,
        Pi2Samples {
            x: batch.x_all(),
            u: batch.u_all(),
            n,
        },
        &adjusted,
        TemperatureSource::Fixed(&eta),
        config,
    )
    .map_err(|e| MdgpsError::Step {
        context: "PI2 update against the linearised global policy".into(),
        reason: e.to_string(),
    })?;
    let weight_kl = (0..horizon)
        .map(|t| {
            for i in 0..n {
                col_s[i] = adjusted[i * horizon + t];
                col_w[i] = log_w[i * horizon + t];
            }
            // p ∝ exp(−S̃/η_final): its KL to ŵ.
            let a: Vec<f64> = col_s.iter().map(|v| -v / final_eta[t]).collect();
            let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = a.iter().map(|v| (v - m).exp()).sum();
            a.iter()
                .zip(&col_w)
                .map(|(v, lw)| {
                    let lp = v - m - z.ln();
                    lp.exp() * (lp - lw)
                })
                .sum::<f64>()
                .max(0.0)
        })
        .collect();
    Ok(ReferencePi2 {
        policy,
        eta: final_eta,
        weight_kl,
        effective_samples,
        recovered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_importance_weights_reduce_to_the_plain_dual() {
        let s: Vec<f64> = (0..20)
            .map(|i| (i as f64 * 0.37).sin() * 5.0 + 5.0)
            .collect();
        let min = s.iter().copied().fold(f64::INFINITY, f64::min);
        let shifted: Vec<f64> = s.iter().map(|v| v - min).collect();
        let log_w = vec![-(20f64.ln()); 20];
        let eta = weighted_temperature(&shifted, &log_w, 1.0, 1e-6, 1e16);
        let mut scratch = vec![0.0; 20];
        let plain = pilqr_trajopt::pi2::dual_temperature(&s, 1.0, 1e-6, 1e16, &mut scratch);
        assert!(
            (eta / plain.eta - 1.0).abs() < 1e-5,
            "{eta} vs {}",
            plain.eta
        );
        assert!((weighted_kl(&shifted, &log_w, eta) - 1.0).abs() < 1e-8);
    }

    #[test]
    fn the_bound_is_met_against_non_uniform_weights() {
        let s: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let mut rho: Vec<f64> = (0..10).map(|i| 0.3 * i as f64 - 1.0).collect();
        importance_log_weights(&mut rho);
        let total: f64 = rho.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
        let eta = weighted_temperature(&s, &rho, 0.5, 1e-6, 1e16);
        assert!((weighted_kl(&s, &rho, eta) - 0.5).abs() < 1e-8);
        // A bound that cannot bind gives the smallest temperature.
        assert_eq!(weighted_temperature(&s, &rho, 50.0, 1e-3, 1e16), 1e-3);
    }

    #[test]
    fn extreme_log_ratios_are_clipped_around_the_median() {
        let mut rho = vec![0.0, 0.0, 0.0, 100.0];
        importance_log_weights(&mut rho);
        let w: Vec<f64> = rho.iter().map(|l| l.exp()).collect();
        assert!((w[3] / w[0] - MAX_LOG_RATIO.exp()).abs() < 1e-9);
    }
}
