//! MDGPS's step-size rule: compare the improvement the C-step predicted with the one that
//! happened, averaged over the conditions, and scale the KL step accordingly (docs/design.md §4.6).
//!
//! Model the improvement as `I(ε) = (pred/ε)·ε + ((act − pred)/ε²)·ε²` in the KL step `ε`; it
//! is largest at `ε' = pred / (2 (pred − act)) · ε`, hence the multiplier
//! `mult = pred / (2·max(1e-4, pred − act))`, clamped to `[0.1, 5]`.

use serde::{Deserialize, Serialize};

use crate::error::{MdgpsError, check_finite};

/// Smallest `pred − act` used in the multiplier (an improvement better than predicted must not
/// divide by zero or flip the sign).
pub const MIN_IMPROVEMENT_GAP: f64 = 1e-4;
/// Smallest factor one adjustment may apply to the step multiplier.
pub const MIN_FACTOR: f64 = 0.1;
/// Largest factor one adjustment may apply to the step multiplier.
pub const MAX_FACTOR: f64 = 5.0;

/// Which costs the rule compares (`step_rule` in MDGPS configs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MdgpsStepRule {
    /// Costs of the linearised global policy estimated under the fitted dynamics (the
    /// Laplace approximation): `pred = prev_laplace − prev_predicted`,
    /// `act = prev_laplace − cur_laplace`.
    #[default]
    Laplace,
    /// Sampled (Monte-Carlo) costs: `pred = prev_mc − prev_predicted`, `act = prev_mc − cur_mc`.
    Mc,
}

/// One condition's figures from the previous iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PreviousCosts {
    /// Estimated total cost of the previous linearised global policy under the previous
    /// dynamics (the policy the previous samples came from).
    pub laplace: f64,
    /// Mean total cost of the previous samples.
    pub mc: f64,
    /// Estimated total cost, under the previous dynamics, of the local controller the previous
    /// C-step produced (what it predicted).
    pub predicted: f64,
}

/// One condition's figures from the current iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurrentCosts {
    /// Estimated total cost of the current linearised global policy under the current
    /// dynamics.
    pub laplace: f64,
    /// Mean total cost of the current samples.
    pub mc: f64,
}

/// The outcome of one step-size adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepAdjustment {
    /// Predicted improvement `pred` (averaged over conditions).
    pub predicted: f64,
    /// Actual improvement `act` (averaged over conditions).
    pub actual: f64,
    /// `pred / (2·max(1e-4, pred − act))` clamped to `[0.1, 5]`.
    pub factor: f64,
}

impl StepAdjustment {
    /// The new step multiplier: `factor · step_mult` clamped to `[min_mult, max_mult]`.
    pub fn apply(&self, step_mult: f64, min_mult: f64, max_mult: f64) -> f64 {
        (self.factor * step_mult).min(max_mult).max(min_mult)
    }
}

fn mean(values: impl Iterator<Item = f64>, what: &str) -> Result<f64, MdgpsError> {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        return Err(MdgpsError::NoData {
            reason: format!("no condition for the step rule's {what}"),
        });
    }
    check_finite(what, &v)?;
    Ok(v.iter().sum::<f64>() / v.len() as f64)
}

/// The step adjustment from the previous and current iteration's figures, each averaged over
/// its conditions (the two lists may have different lengths).
///
/// ```
/// use pilqr_mdgps::{CurrentCosts, MdgpsStepRule, PreviousCosts, step_adjustment};
///
/// // Predicted 10, achieved 8: the model was fairly right, so the step may grow.
/// let prev = [PreviousCosts { laplace: 100.0, mc: 105.0, predicted: 90.0 }];
/// let cur = [CurrentCosts { laplace: 92.0, mc: 99.0 }];
/// let adj = step_adjustment(MdgpsStepRule::Laplace, &prev, &cur).unwrap();
/// assert_eq!((adj.predicted, adj.actual), (10.0, 8.0));
/// assert_eq!(adj.factor, 2.5); // 10 / (2 · 2)
/// assert_eq!(adj.apply(1.0, 0.1, 10.0), 2.5);
/// ```
pub fn step_adjustment(
    rule: MdgpsStepRule,
    previous: &[PreviousCosts],
    current: &[CurrentCosts],
) -> Result<StepAdjustment, MdgpsError> {
    let prev_predicted = mean(
        previous.iter().map(|p| p.predicted),
        "previous predicted costs",
    )?;
    let (prev_base, cur_base) = match rule {
        MdgpsStepRule::Laplace => (
            mean(previous.iter().map(|p| p.laplace), "previous Laplace costs")?,
            mean(current.iter().map(|c| c.laplace), "current Laplace costs")?,
        ),
        MdgpsStepRule::Mc => (
            mean(previous.iter().map(|p| p.mc), "previous sample costs")?,
            mean(current.iter().map(|c| c.mc), "current sample costs")?,
        ),
    };
    let predicted = prev_base - prev_predicted;
    let actual = prev_base - cur_base;
    let factor = (predicted / (2.0 * MIN_IMPROVEMENT_GAP.max(predicted - actual)))
        .clamp(MIN_FACTOR, MAX_FACTOR);
    Ok(StepAdjustment {
        predicted,
        actual,
        factor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prev(laplace: f64, mc: f64, predicted: f64) -> PreviousCosts {
        PreviousCosts {
            laplace,
            mc,
            predicted,
        }
    }

    #[test]
    fn worse_than_predicted_shrinks_to_the_floor() {
        // Predicted an improvement of 10, got worse by 5: factor 10 / 30 = 1/3.
        let a = step_adjustment(
            MdgpsStepRule::Laplace,
            &[prev(100.0, 0.0, 90.0)],
            &[CurrentCosts {
                laplace: 105.0,
                mc: 0.0,
            }],
        )
        .unwrap();
        assert!((a.factor - 10.0 / 30.0).abs() < 1e-15);
        // A predicted worsening gives a negative ratio: clamped to the floor.
        let b = step_adjustment(
            MdgpsStepRule::Laplace,
            &[prev(100.0, 0.0, 110.0)],
            &[CurrentCosts {
                laplace: 100.0,
                mc: 0.0,
            }],
        )
        .unwrap();
        assert_eq!(b.factor, MIN_FACTOR);
    }

    #[test]
    fn better_than_predicted_grows_to_the_ceiling() {
        let a = step_adjustment(
            MdgpsStepRule::Laplace,
            &[prev(100.0, 0.0, 90.0)],
            &[CurrentCosts {
                laplace: 80.0,
                mc: 0.0,
            }],
        )
        .unwrap();
        assert_eq!(a.factor, MAX_FACTOR);
        assert_eq!(a.apply(1.0, 0.1, 3.0), 3.0);
    }

    #[test]
    fn mc_rule_uses_sample_costs_and_averages_conditions() {
        let previous = [prev(0.0, 100.0, 95.0), prev(0.0, 50.0, 35.0)];
        let current = [
            CurrentCosts {
                laplace: 0.0,
                mc: 96.0,
            },
            CurrentCosts {
                laplace: 0.0,
                mc: 44.0,
            },
            CurrentCosts {
                laplace: 0.0,
                mc: 40.0,
            },
        ];
        let a = step_adjustment(MdgpsStepRule::Mc, &previous, &current).unwrap();
        // prev mc 75, predicted 65, current mc 60: pred 10, act 15.
        assert!((a.predicted - 10.0).abs() < 1e-12 && (a.actual - 15.0).abs() < 1e-12);
        assert_eq!(a.factor, MAX_FACTOR);
    }

    #[test]
    fn empty_or_non_finite_inputs_are_errors() {
        assert!(matches!(
            step_adjustment(MdgpsStepRule::Mc, &[], &[]),
            Err(MdgpsError::NoData { .. })
        ));
        assert!(matches!(
            step_adjustment(
                MdgpsStepRule::Laplace,
                &[prev(f64::NAN, 0.0, 1.0)],
                &[CurrentCosts {
                    laplace: 0.0,
                    mc: 0.0
                }]
            ),
            Err(MdgpsError::InvalidValue { .. })
        ));
    }
}
