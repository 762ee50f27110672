//! The smooth l1/l2 ("Huber-like") penalty `ρ(d) = ½ l2 ‖d‖² + l1 √(α + ‖d‖²)`.

use serde::{Deserialize, Serialize};

/// Penalty on a distance vector `d`: `ρ(d) = ½ l2 ‖d‖² + l1 √(α + ‖d‖²)`.
///
/// The l2 part pulls hard from far away; the l1 part keeps a sharp valley near zero so the
/// optimiser drives the distance all the way down; `α > 0` smooths the l1 kink.
///
/// Its derivatives with `s = √(α + ‖d‖²)`:
/// `∂ρ/∂d = l2 d + l1 d / s`, `∂²ρ/∂d² = l2 I + l1 (I / s − d dᵀ / s³)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Penalty {
    /// Weight of the quadratic part.
    pub l2: f64,
    /// Weight of the smooth-l1 part.
    pub l1: f64,
    /// Smoothing of the l1 part (must be > 0 when `l1 ≠ 0`).
    pub alpha: f64,
}

impl Default for Penalty {
    /// `l2 = 1, l1 = 0, α = 1e-5`: plain `½‖d‖²`.
    fn default() -> Self {
        Penalty {
            l2: 1.0,
            l1: 0.0,
            alpha: 1e-5,
        }
    }
}

impl Penalty {
    /// `ρ(d)`.
    pub fn value(&self, d: &[f64]) -> f64 {
        let sq: f64 = d.iter().map(|v| v * v).sum();
        0.5 * self.l2 * sq + self.l1 * (self.alpha + sq).sqrt()
    }

    /// `ρ(d)`, and into `grad` (length `m`) and `hess` (column-major `m x m`) its derivatives.
    pub fn derivatives(&self, d: &[f64], grad: &mut [f64], hess: &mut [f64]) -> f64 {
        let m = d.len();
        let sq: f64 = d.iter().map(|v| v * v).sum();
        let s = (self.alpha + sq).sqrt();
        let value = 0.5 * self.l2 * sq + self.l1 * s;
        let g = self.l2 + if self.l1 != 0.0 { self.l1 / s } else { 0.0 };
        let c = if self.l1 != 0.0 {
            self.l1 / (s * s * s)
        } else {
            0.0
        };
        for (gi, di) in grad.iter_mut().zip(d) {
            *gi = g * di;
        }
        for (j, col) in hess.chunks_exact_mut(m).take(m).enumerate() {
            let cdj = c * d[j];
            for (h, di) in col.iter_mut().zip(d) {
                *h = -cdj * di;
            }
            col[j] += g;
        }
        value
    }
}
