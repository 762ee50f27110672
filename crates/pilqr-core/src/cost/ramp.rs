//! Time ramps: how a cost term's weight varies over the horizon.

use serde::{Deserialize, Serialize};

/// How a cost term is weighted over time, `r_t` for `t = 0..T-1`:
/// constant `1`, linear `(t+1)/T`, quadratic `((t+1)/T)²`, or final-only (`0` except `r_{T-1}=1`).
/// The final step's weight is then multiplied by the term's final multiplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ramp {
    /// `r_t = 1`.
    #[default]
    Constant,
    /// `r_t = (t+1)/T`.
    Linear,
    /// `r_t = ((t+1)/T)²`.
    Quadratic,
    /// `r_t = 0` except the last step.
    FinalOnly,
}

impl Ramp {
    /// `r_t` times the final multiplier at the last step.
    pub fn weight(&self, t: usize, horizon: usize, final_multiplier: f64) -> f64 {
        let frac = (t + 1) as f64 / horizon as f64;
        let last = t + 1 == horizon;
        let r = match self {
            Ramp::Constant => 1.0,
            Ramp::Linear => frac,
            Ramp::Quadratic => frac * frac,
            Ramp::FinalOnly => {
                if last {
                    1.0
                } else {
                    0.0
                }
            }
        };
        if last { r * final_multiplier } else { r }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_have_documented_values() {
        assert_eq!(Ramp::Constant.weight(0, 4, 10.0), 1.0);
        assert_eq!(Ramp::Constant.weight(3, 4, 10.0), 10.0);
        assert_eq!(Ramp::Linear.weight(1, 4, 1.0), 0.5);
        assert_eq!(Ramp::Quadratic.weight(1, 4, 1.0), 0.25);
        assert_eq!(Ramp::FinalOnly.weight(2, 4, 3.0), 0.0);
        assert_eq!(Ramp::FinalOnly.weight(3, 4, 3.0), 3.0);
    }
}
