//! The PI2 temperature from the convex dual (docs/design.md §4.4).
//!
//! For costs-to-go `S_i` of the N samples at one step, the dual
//! `g(η) = η ε + max(−S) + η log mean exp((−S − max(−S))/η)` is convex in η. With
//! `S̃ = S − min S` and weights `p_i ∝ exp(−S̃_i/η)`, its derivative is `g'(η) = ε − KL(p ‖ 1/N)`
//! and `d KL / d log η = −Var_p(S̃)/η²`. The bounded minimiser is therefore `min_temperature`
//! when `KL(p_{min}) ≤ ε`, and otherwise the root of `KL(p_η) = ε`, found by a safeguarded Newton
//! iteration in `log η` (bisection when Newton leaves the bracket) to a relative `1e-6` in η.

/// The temperature chosen at one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Temperature {
    /// η.
    pub eta: f64,
    /// `KL(p ‖ uniform)` of the weights at that η.
    pub kl: f64,
    /// Evaluations of the weights the search took.
    pub iterations: usize,
}

/// Moments of the weights `p_i ∝ exp(−S̃_i/η)`: `(KL(p‖1/N), E_p S̃, Var_p S̃)`.
fn moments(shifted: &[f64], eta: f64) -> (f64, f64, f64) {
    let n = shifted.len() as f64;
    let (mut z, mut m1, mut m2) = (0.0, 0.0, 0.0);
    for &s in shifted {
        let w = (-s / eta).exp();
        z += w;
        m1 += w * s;
        m2 += w * s * s;
    }
    // z ≥ 1: the minimum has S̃ = 0.
    let (m1, m2) = (m1 / z, m2 / z);
    let kl = (-m1 / eta - (z / n).ln()).max(0.0);
    (kl, m1, (m2 - m1 * m1).max(0.0))
}

/// The dual `g(η)` (for tests and diagnostics).
pub fn dual_value(costs_to_go: &[f64], eta: f64, kl_threshold: f64) -> f64 {
    let max_neg = costs_to_go.iter().fold(f64::NEG_INFINITY, |m, s| m.max(-s));
    let mean = costs_to_go
        .iter()
        .map(|s| ((-s - max_neg) / eta).exp())
        .sum::<f64>()
        / costs_to_go.len() as f64;
    eta * kl_threshold + max_neg + eta * mean.ln()
}

/// Normalised weights `p_i ∝ exp(−(S_i − min S)/η)` into `out`; returns `KL(p ‖ uniform)`.
pub fn weights_into(costs_to_go: &[f64], eta: f64, out: &mut [f64]) -> f64 {
    let min = costs_to_go.iter().copied().fold(f64::INFINITY, f64::min);
    let mut z = 0.0;
    for (o, s) in out.iter_mut().zip(costs_to_go) {
        *o = (-(s - min) / eta).exp();
        z += *o;
    }
    let n = costs_to_go.len() as f64;
    let mut kl = 0.0;
    for o in out.iter_mut() {
        *o /= z;
        if *o > 0.0 {
            kl += *o * (n * *o).ln();
        }
    }
    kl.max(0.0)
}

/// Minimise the dual over `η ∈ [min_temperature, max_temperature]`.
///
/// `scratch` holds at least `costs_to_go.len()` values.
///
/// ```
/// use pilqr_trajopt::pi2::{dual_temperature, weights_into};
///
/// let s: Vec<f64> = (0..20).map(|i| (i as f64 * 0.37).sin() * 5.0 + i as f64).collect();
/// let mut scratch = vec![0.0; 20];
/// let temp = dual_temperature(&s, 1.0, 1e-6, 1e16, &mut scratch);
/// let mut w = vec![0.0; 20];
/// assert!((weights_into(&s, temp.eta, &mut w) - 1.0).abs() < 1e-3);
/// ```
pub fn dual_temperature(
    costs_to_go: &[f64],
    kl_threshold: f64,
    min_temperature: f64,
    max_temperature: f64,
    scratch: &mut [f64],
) -> Temperature {
    dual_temperature_from(
        costs_to_go,
        kl_threshold,
        min_temperature,
        max_temperature,
        None,
        scratch,
    )
}

/// [`dual_temperature`] starting from `guess` (e.g. the neighbouring step's temperature), which
/// saves most of the bracketing when it is close.
pub fn dual_temperature_from(
    costs_to_go: &[f64],
    kl_threshold: f64,
    min_temperature: f64,
    max_temperature: f64,
    guess: Option<f64>,
    scratch: &mut [f64],
) -> Temperature {
    let min = costs_to_go.iter().copied().fold(f64::INFINITY, f64::min);
    let shifted = &mut scratch[..costs_to_go.len()];
    for (o, s) in shifted.iter_mut().zip(costs_to_go) {
        *o = s - min;
    }
    let shifted = &*shifted;
    let spread = shifted.iter().copied().fold(0.0, f64::max);
    let at_min = |iterations| Temperature {
        eta: min_temperature,
        kl: moments(shifted, min_temperature).0,
        iterations,
    };
    if spread <= 0.0 {
        // Equal costs: uniform weights at every η, the dual is smallest at the lower bound.
        return at_min(1);
    }
    let g = guess
        .filter(|g| g.is_finite() && *g > 0.0)
        .unwrap_or(0.25 * spread)
        .clamp(min_temperature, max_temperature);
    let mut iterations = 1;
    let (kl_g, _, _) = moments(shifted, g);
    // Bracket in log η: KL(a) > ε ≥ KL(b).
    let (mut a, mut b);
    if kl_g > kl_threshold {
        a = g;
        b = g;
        loop {
            if b >= max_temperature {
                return Temperature {
                    eta: max_temperature,
                    kl: moments(shifted, max_temperature).0,
                    iterations: iterations + 1,
                };
            }
            b = (b * 4.0).min(max_temperature);
            iterations += 1;
            if moments(shifted, b).0 <= kl_threshold {
                break;
            }
            a = b;
        }
    } else {
        a = g;
        b = g;
        loop {
            if a <= min_temperature {
                return at_min(iterations + 1);
            }
            a = (a * 0.25).max(min_temperature);
            iterations += 1;
            if moments(shifted, a).0 > kl_threshold {
                break;
            }
            b = a;
        }
    }
    let (mut a, mut b) = (a.ln(), b.ln());
    // Start Newton from the guess's side of the bracket.
    let mut s = if kl_g > kl_threshold { a } else { b };
    for _ in 0..200 {
        let eta = s.exp();
        let (k, _, var) = moments(shifted, eta);
        iterations += 1;
        if k > kl_threshold {
            a = a.max(s);
        } else {
            b = b.min(s);
        }
        let newton = if var > 0.0 {
            s + (k - kl_threshold) * eta * eta / var
        } else {
            f64::NAN
        };
        let next = if newton > a && newton < b {
            newton
        } else {
            0.5 * (a + b)
        };
        let done = (next - s).abs() < 1e-7 || b - a < 1e-7;
        s = next;
        if done {
            break;
        }
    }
    let eta = s.exp();
    Temperature {
        eta,
        kl: moments(shifted, eta).0,
        iterations: iterations + 1,
    }
}
