//! The `improvement` step rule of classic LQR-FLM: compare the improvement the last update
//! predicted with the one the new fit measures, and scale the step multiplier accordingly
//! (docs/design.md §4.5 step 3; the same formula as MDGPS's rule, §4.6, per condition).
//!
//! At iteration `i ≥ 1` of a condition, with `p_{i−1}` the controller of the previous samples,
//! `p_i` the controller the previous update produced (which generated this iteration's samples),
//! `F_{i−1}, c_{i−1}` the previous fit of dynamics and cost and `F_i, c_i` the current one, and
//! `L(p, F, c)` the expected total cost under the linear-Gaussian model ([`estimate_cost`]):
//!
//! - `pred = L(p_{i−1}, F_{i−1}, c_{i−1}) − L(p_i, F_{i−1}, c_{i−1})` (what the update promised),
//! - `act  = L(p_{i−1}, F_{i−1}, c_{i−1}) − L(p_i, F_i, c_i)` (what the new fit says it got),
//! - `factor = pred / (2·max(1e-4, pred − act))`, clamped to `[0.1, 5]`,
//! - `mult_t ← clamp(factor · mult_t, min_step_mult_t, max_step_mult_t)`.
//!
//! Modelling the improvement as a quadratic in the step, `I(ε) = (pred/ε)·ε + ((act − pred)/ε²)·ε²`,
//! its maximum is at `pred / (2 (pred − act)) · ε`. The factor is the same at every time step
//! (the improvement is a trajectory total). The first iteration has no previous estimate and
//! leaves the multiplier alone.
//!
//! [`estimate_cost`]: crate::lqr_flm::estimate_cost

use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use serde::{Deserialize, Serialize};

use crate::error::TrajOptError;
use crate::lqr_flm::estimate_cost;

/// Smallest `pred − act` used in the factor: an improvement better than predicted must neither
/// divide by zero nor flip the sign.
pub const MIN_IMPROVEMENT_GAP: f64 = 1e-4;
/// Smallest factor one adjustment applies to the step multiplier.
pub const MIN_IMPROVEMENT_FACTOR: f64 = 0.1;
/// Largest factor one adjustment applies to the step multiplier.
pub const MAX_IMPROVEMENT_FACTOR: f64 = 5.0;

/// What the `improvement` rule carries from one iteration of a condition to the next; both
/// estimates are taken under the dynamics and cost model fitted in that iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PreviousEstimates {
    /// Expected total cost of the controller that generated that iteration's samples.
    pub laplace: f64,
    /// Expected total cost of the controller that iteration's update produced (its prediction).
    pub predicted: f64,
}

/// The outcome of one `improvement` adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImprovementStep {
    /// Predicted improvement `pred`.
    pub predicted: f64,
    /// Actual improvement `act`.
    pub actual: f64,
    /// `pred / (2·max(1e-4, pred − act))` clamped to `[0.1, 5]`.
    pub factor: f64,
}

/// The adjustment from the previous iteration's estimates and `current`, the expected cost of
/// the controller that generated this iteration's samples under this iteration's fit.
///
/// Non-finite inputs are an error (field `improvement rule estimates`).
///
/// ```
/// use pilqr_trajopt::pilqr::{PreviousEstimates, improvement_step};
///
/// // Promised 100 → 90, the new fit says 92: the model was fairly right, so the step grows.
/// let step = improvement_step(&PreviousEstimates { laplace: 100.0, predicted: 90.0 }, 92.0).unwrap();
/// assert_eq!((step.predicted, step.actual), (10.0, 8.0));
/// assert_eq!(step.factor, 2.5); // 10 / (2 · 2)
/// ```
pub fn improvement_step(
    previous: &PreviousEstimates,
    current: f64,
) -> Result<ImprovementStep, TrajOptError> {
    let values = [previous.laplace, previous.predicted, current];
    crate::error::expect_finite("improvement rule estimates", &values, values.len())?;
    let predicted = previous.laplace - previous.predicted;
    let actual = previous.laplace - current;
    let factor = (predicted / (2.0 * MIN_IMPROVEMENT_GAP.max(predicted - actual)))
        .clamp(MIN_IMPROVEMENT_FACTOR, MAX_IMPROVEMENT_FACTOR);
    Ok(ImprovementStep {
        predicted,
        actual,
        factor,
    })
}

/// Scale every step's multiplier by `factor`, then clamp it per step to `[min, max]`.
pub fn scale_step_mult(factor: f64, min: &[f64], max: &[f64], mult: &mut [f64]) {
    for t in 0..mult.len() {
        mult[t] = (mult[t] * factor).clamp(min[t], max[t]);
    }
}

/// The rule at the start of an iteration, once the dynamics and cost are fitted: `current` is
/// the expected cost of the controller that generated this iteration's samples under that fit.
/// Without a previous estimate (the first iteration) `mult` is left as it is and `None`
/// returned; otherwise `mult` is scaled by [`improvement_step`]'s factor and clamped.
pub fn adjust_step_mult(
    previous: Option<&PreviousEstimates>,
    current: f64,
    min: &[f64],
    max: &[f64],
    mult: &mut [f64],
) -> Result<Option<ImprovementStep>, TrajOptError> {
    let Some(previous) = previous else {
        return Ok(None);
    };
    let step = improvement_step(previous, current)?;
    scale_step_mult(step.factor, min, max, mult);
    Ok(Some(step))
}

/// What the rule carries to the next iteration: `current` (as in [`adjust_step_mult`]) and the
/// expected cost of the `updated` controller under this iteration's `dynamics` and `cost`.
pub fn estimates_after_update(
    current: f64,
    updated: &LinearGaussianPolicy,
    dynamics: &LinearDynamics,
    cost: &CostModel,
) -> Result<PreviousEstimates, TrajOptError> {
    Ok(PreviousEstimates {
        laplace: current,
        predicted: estimate_cost(updated, dynamics, cost)?.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::mat;
    use pilqr_linalg::{MatStack, VecStack};

    /// One step, `x ~ N(mean, 1)`, cost `½x² + ½u²`.
    fn fit(mean: f64) -> (LinearDynamics, CostModel) {
        let mut dynamics = LinearDynamics::zeros(1, 1, 1);
        dynamics.x0mu[0] = mean;
        let mut cost = CostModel::zeros(1, 1, 1);
        cost.cm.at_mut(0)[(0, 0)] = 1.0;
        cost.cm.at_mut(0)[(1, 1)] = 1.0;
        (dynamics, cost)
    }

    /// `u ~ N(k, var)`, no gain.
    fn policy(k: f64, var: f64) -> LinearGaussianPolicy {
        let mut offset = VecStack::zeros(1, 1);
        offset.at_mut(0)[0] = k;
        LinearGaussianPolicy::new(
            MatStack::zeros(1, 1, 1),
            offset,
            MatStack::repeat(1, mat![[var]].as_ref()),
        )
        .unwrap()
    }

    #[test]
    fn two_iterations_against_the_hand_computation() {
        // Expected cost ½(μ² + 1) + ½(k² + var).
        let (dyn_prev, cost_prev) = fit(1.0);
        let (dyn_cur, cost_cur) = fit(1.5);
        let p_prev = policy(2.0, 1.0);
        let p_new = policy(1.0, 0.25);
        let mut mult = [1.0, 2.0];
        let (min, max) = ([0.1, 0.1], [10.0, 2.5]);
        // First iteration: L(p_prev | prev fit) = 1 + 2.5 = 3.5, nothing to compare with.
        let laplace = estimate_cost(&p_prev, &dyn_prev, &cost_prev).unwrap().0;
        assert!((laplace - 3.5).abs() < 1e-12);
        assert_eq!(
            adjust_step_mult(None, laplace, &min, &max, &mut mult).unwrap(),
            None
        );
        assert_eq!(mult, [1.0, 2.0]);
        // The update's prediction: L(p_new | prev fit) = 1 + 0.625 = 1.625.
        let previous = estimates_after_update(laplace, &p_new, &dyn_prev, &cost_prev).unwrap();
        assert!((previous.predicted - 1.625).abs() < 1e-12);
        // Next iteration: L(p_new | current fit) = ½(2.25 + 1) + 0.625 = 2.25, so
        // pred = 3.5 − 1.625 = 1.875, act = 3.5 − 2.25 = 1.25, factor 1.875 / (2·0.625) = 1.5.
        let current = estimate_cost(&p_new, &dyn_cur, &cost_cur).unwrap().0;
        assert!((current - 2.25).abs() < 1e-12);
        let step = adjust_step_mult(Some(&previous), current, &min, &max, &mut mult)
            .unwrap()
            .unwrap();
        assert!((step.predicted - 1.875).abs() < 1e-12);
        assert!((step.actual - 1.25).abs() < 1e-12);
        assert!((step.factor - 1.5).abs() < 1e-12);
        // The same factor at both steps, the second clamped to its own ceiling.
        assert!((mult[0] - 1.5).abs() < 1e-12);
        assert_eq!(mult[1], 2.5);
    }

    fn prev(laplace: f64, predicted: f64) -> PreviousEstimates {
        PreviousEstimates { laplace, predicted }
    }

    #[test]
    fn factor_follows_the_quadratic_model_and_its_clamps() {
        // Promised 10, got 8: 10 / (2·2) = 2.5.
        assert_eq!(
            improvement_step(&prev(100.0, 90.0), 92.0).unwrap().factor,
            2.5
        );
        // Promised 10, got worse by 5: 10 / (2·15) = 1/3.
        let s = improvement_step(&prev(100.0, 90.0), 105.0).unwrap();
        assert_eq!((s.predicted, s.actual), (10.0, -5.0));
        assert!((s.factor - 1.0 / 3.0).abs() < 1e-15);
        // Promised 10, got 1: 10 / 18 (inside the clamps, shrinks).
        let s = improvement_step(&prev(100.0, 90.0), 99.0).unwrap();
        assert!((s.factor - 10.0 / 18.0).abs() < 1e-15);
        // Better than promised: the gap floor makes the factor huge, clamped to 5.
        assert_eq!(
            improvement_step(&prev(100.0, 90.0), 80.0).unwrap().factor,
            MAX_IMPROVEMENT_FACTOR
        );
        // Promised 10, got 9.99: 10 / (2·0.01) = 500, clamped to 5.
        assert_eq!(
            improvement_step(&prev(100.0, 90.0), 90.01).unwrap().factor,
            MAX_IMPROVEMENT_FACTOR
        );
        // A predicted worsening gives a negative ratio: clamped to the floor.
        assert_eq!(
            improvement_step(&prev(100.0, 110.0), 100.0).unwrap().factor,
            MIN_IMPROVEMENT_FACTOR
        );
        // Promised 10, got 87.5 worse: 10 / (2·97.5) ≈ 0.05, below the floor.
        assert_eq!(
            improvement_step(&prev(100.0, 90.0), 187.5).unwrap().factor,
            MIN_IMPROVEMENT_FACTOR
        );
    }

    #[test]
    fn non_finite_estimates_are_errors() {
        for (p, c) in [
            (prev(f64::NAN, 1.0), 0.0),
            (prev(1.0, f64::INFINITY), 0.0),
            (prev(1.0, 0.0), f64::NAN),
        ] {
            assert!(matches!(
                improvement_step(&p, c),
                Err(TrajOptError::NonFinite {
                    field: "improvement rule estimates",
                    ..
                })
            ));
        }
    }

    #[test]
    fn scaling_is_uniform_then_clamped_per_step() {
        let mut mult = [1.0, 2.0, 0.5];
        scale_step_mult(2.5, &[0.1, 0.1, 0.1], &[10.0, 4.0, 10.0], &mut mult);
        assert_eq!(mult, [2.5, 4.0, 1.25]);
        scale_step_mult(0.1, &[0.5, 0.1, 0.01], &[10.0; 3], &mut mult);
        assert_eq!(mult, [0.5, 0.4, 0.125]);
    }
}
