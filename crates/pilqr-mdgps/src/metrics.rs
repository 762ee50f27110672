//! What one MDGPS iteration reports.

use serde::{Deserialize, Serialize};

use crate::s_step::SStepReport;
use crate::step_adjust::StepAdjustment;

/// Wall time of one condition's share of an iteration, in seconds (not part of any result).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ConditionTimes {
    /// Rolling out the samples.
    pub sampling: f64,
    /// Building the cost model.
    pub cost: f64,
    /// Fitting the dynamics.
    pub dynamics: f64,
    /// The C-step.
    pub update: f64,
    /// The policy prior, linearisation and cost estimate of the global policy. The conditions
    /// run these in parallel: each gets the section's wall time in proportion to its own
    /// thread time, so the conditions' values add up to the wall time.
    pub linearisation: f64,
}

/// One training condition's figures of an iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionMetrics {
    /// Condition index in the task.
    pub condition: usize,
    /// Mean total cost of this iteration's samples.
    pub mean_cost: f64,
    /// Standard deviation of the samples' total costs.
    pub std_cost: f64,
    /// `Σ_t KL(new local ‖ linearised global policy)` under the fitted dynamics.
    pub kl_total: f64,
    /// Median over steps of the C-step's dual variable (LQR's η, or PI2's temperature).
    pub eta: f64,
    /// PILQR: summed |residual cost| over summed |cost|.
    pub residual_ratio: Option<f64>,
    /// Where this condition's time went.
    pub times: ConditionTimes,
}

/// Metrics of one MDGPS iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdgpsMetrics {
    /// Iteration index.
    pub iteration: usize,
    /// One entry per training condition, in the order they were given.
    pub conditions: Vec<ConditionMetrics>,
    /// Step multiplier used by this iteration's C-step.
    pub step_mult: f64,
    /// The step-size rule's figures (from the second iteration on).
    pub step_adjustment: Option<StepAdjustment>,
    /// The catch-up S-step (first iteration only).
    pub catch_up: Option<SStepReport>,
    /// The S-step.
    pub s_step: SStepReport,
}

impl MdgpsMetrics {
    /// Mean sample cost per training condition.
    pub fn mean_cost(&self) -> Vec<f64> {
        self.conditions.iter().map(|c| c.mean_cost).collect()
    }

    /// KL of each new local controller to the linearised global policy.
    pub fn kl_total(&self) -> Vec<f64> {
        self.conditions.iter().map(|c| c.kl_total).collect()
    }

    /// Seconds spent in the S-steps of this iteration (catch-up included).
    pub fn s_step_seconds(&self) -> f64 {
        self.s_step.seconds + self.catch_up.as_ref().map_or(0.0, |c| c.seconds)
    }
}
