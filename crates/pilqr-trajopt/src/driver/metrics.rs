//! What one iteration of one condition reports.

use serde::{Deserialize, Serialize};

/// Wall-clock seconds per phase of an iteration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseTimes {
    /// Rolling out the samples (physics, policy, cost values).
    pub sampling: f64,
    /// Building the quadratic cost model.
    pub cost: f64,
    /// Fitting the dynamics.
    pub dynamics: f64,
    /// Step rule and controller update.
    pub update: f64,
}

/// Minimum, median and maximum of a per-step quantity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Smallest value.
    pub min: f64,
    /// Median.
    pub median: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summary of `values` (zeros when empty).
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Summary::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[m]
        } else {
            0.5 * (v[m - 1] + v[m])
        };
        Summary {
            min: v[0],
            median,
            max: v[v.len() - 1],
        }
    }
}

/// Metrics of one iteration of one condition. The costs are those of the samples drawn at this
/// iteration, i.e. of the controller *before* this iteration's update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationMetrics {
    /// Iteration index.
    pub iteration: usize,
    /// Condition index.
    pub condition: usize,
    /// Mean total cost of the samples.
    pub mean_cost: f64,
    /// Standard deviation of the samples' total costs.
    pub std_cost: f64,
    /// Total KL of the LQR stage to the previous controller (model-based algorithms).
    pub kl_total: Option<f64>,
    /// Per-step KL of the LQR stage.
    pub kl: Option<Summary>,
    /// LQR-FLM's η per step.
    pub eta: Option<Summary>,
    /// Passes of the η search.
    pub eta_passes: Option<usize>,
    /// Whether the η search met its tolerance.
    pub eta_converged: Option<bool>,
    /// PI2 temperatures per step.
    pub pi2_eta: Option<Summary>,
    /// Step multipliers after the step rule.
    pub step_mult: Summary,
    /// Global residual ratio `Σ|c̃|/Σ|c|` (model-based algorithms).
    pub residual_ratio: Option<f64>,
    /// The `improvement` step rule's predicted and actual improvement and factor (that rule,
    /// from the second iteration on).
    pub improvement: Option<crate::pilqr::ImprovementStep>,
    /// Time per phase.
    pub times: PhaseTimes,
}
