//! Step-size rules of the trajectory-optimisation loop (docs/design.md §4.5 step 3), applied
//! per condition from the second iteration on; each ends by clamping the multiplier per step to
//! `[min_step_mult_t, max_step_mult_t]`.
//!
//! - `res_percent` (PILQR's rule): the ratio of summed |residual| to summed |actual cost| — over
//!   everything, or per time suffix `τ ≥ t` when the KL constraints are per step. Above
//!   `decrease_above` (0.2) the model is poor: the step multiplier is multiplied by
//!   `decrease_factor` (0.5); below `increase_below` (0.05) by `increase_factor` (2).
//! - `improvement` (classic LQR-FLM's rule, [`crate::pilqr::improvement_rule`]): with `L` the
//!   expected total cost under the fitted linear-Gaussian model, `pred = L(p_{i−1} | fit_{i−1}) −
//!   L(p_i | fit_{i−1})` the improvement the last update predicted and `act = L(p_{i−1} |
//!   fit_{i−1}) − L(p_i | fit_i)` the one the new fit measures, every step's multiplier is
//!   multiplied by `pred / (2·max(1e-4, pred − act))` clamped to `[0.1, 5]` (the same factor at
//!   all time steps).
//! - `const` leaves the multiplier alone.

use serde::{Deserialize, Serialize};

/// Which rule adapts the step multiplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRule {
    /// Keep the multiplier.
    Const,
    /// Adapt it to the share of the cost the model fails to predict.
    ResPercent,
    /// Adapt it to the ratio of the actual to the predicted improvement of the last update
    /// (applied by the driver with [`crate::pilqr::improvement_step`] and
    /// [`crate::pilqr::scale_step_mult`]).
    Improvement,
}

/// Thresholds and factors of the `res_percent` rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResPercent {
    /// Ratio above which the step shrinks (default 0.2).
    pub decrease_above: f64,
    /// Ratio below which the step grows (default 0.05).
    pub increase_below: f64,
    /// Factor applied when shrinking (default 0.5).
    pub decrease_factor: f64,
    /// Factor applied when growing (default 2).
    pub increase_factor: f64,
}

impl Default for ResPercent {
    fn default() -> Self {
        ResPercent {
            decrease_above: 0.2,
            increase_below: 0.05,
            decrease_factor: 0.5,
            increase_factor: 2.0,
        }
    }
}

/// Residual ratios `Σ|c̃| / Σ|c|` into `out` (length `T`): per time suffix when `per_step`,
/// otherwise the global ratio in every entry. `costs` and `residuals` are `[N, T]`,
/// sample-major. A zero actual cost gives ratio 0.
pub fn residual_ratios(
    costs: &[f64],
    residuals: &[f64],
    horizon: usize,
    per_step: bool,
    out: &mut [f64],
) {
    let n = costs.len() / horizon.max(1);
    let (mut num, mut den) = (0.0, 0.0);
    for t in (0..horizon).rev() {
        for i in 0..n {
            num += residuals[i * horizon + t].abs();
            den += costs[i * horizon + t].abs();
        }
        out[t] = if den > 0.0 { num / den } else { 0.0 };
    }
    if !per_step {
        let global = out.first().copied().unwrap_or(0.0);
        out.fill(global);
    }
}

/// Update the step multipliers `mult` from the residual `ratios` (both length `T`), clamped to
/// `[min, max]` per step. Only [`StepRule::ResPercent`] reads the ratios; the other rules only
/// clamp here (the `improvement` factor is applied with [`crate::pilqr::scale_step_mult`]).
pub fn apply_step_rule(
    rule: StepRule,
    params: &ResPercent,
    ratios: &[f64],
    min: &[f64],
    max: &[f64],
    mult: &mut [f64],
) {
    for t in 0..mult.len() {
        if rule == StepRule::ResPercent {
            if ratios[t] > params.decrease_above {
                mult[t] *= params.decrease_factor;
            } else if ratios[t] < params.increase_below {
                mult[t] *= params.increase_factor;
            }
        }
        mult[t] = mult[t].clamp(min[t], max[t]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_ratios_and_rule() {
        // Two samples, three steps; residual only at the last step.
        let costs = [1.0, 1.0, 2.0, 1.0, 1.0, 2.0];
        let res = [0.0, 0.0, 1.0, 0.0, 0.0, -1.0];
        let mut r = [0.0; 3];
        residual_ratios(&costs, &res, 3, true, &mut r);
        assert_eq!(r, [2.0 / 8.0, 2.0 / 6.0, 2.0 / 4.0]);
        residual_ratios(&costs, &res, 3, false, &mut r);
        assert_eq!(r, [0.25; 3]);
        let mut mult = [1.0, 1.0, 1.0];
        apply_step_rule(
            StepRule::ResPercent,
            &ResPercent::default(),
            &[0.3, 0.1, 0.01],
            &[0.01; 3],
            &[10.0, 10.0, 1.5],
            &mut mult,
        );
        assert_eq!(mult, [0.5, 1.0, 1.5]);
        apply_step_rule(
            StepRule::Const,
            &ResPercent::default(),
            &[0.9; 3],
            &[0.8; 3],
            &[1.0; 3],
            &mut mult,
        );
        assert_eq!(mult, [0.8, 1.0, 1.0]);
    }
}
