//! Quadratic action cost `½ Σ wu_i u_i²`.

use serde::{Deserialize, Serialize};

use crate::cost::{Cost, CostDerivatives, check_buffer};
use crate::error::CoreError;
use crate::sample::TrajectoryRef;

/// `l_t = ½ Σ_i wu_i u_{t,i}²` (torque penalty).
///
/// ```
/// use pilqr_core::{ActionCost, Cost, TrajectoryRef};
///
/// let c = ActionCost { weights: vec![2.0] };
/// let traj = TrajectoryRef::new(1, 1, 1, &[5.0], &[3.0]).unwrap();
/// assert_eq!(c.values(traj).unwrap(), vec![9.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionCost {
    /// Per-action weights `wu` (length `dU`).
    pub weights: Vec<f64>,
}

impl Cost for ActionCost {
    fn has_mixed_hessian(&self) -> bool {
        false
    }

    fn state_hessian_support(&self, _dx: usize) -> Option<Vec<usize>> {
        Some(Vec::new())
    }

    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), CoreError> {
        check_buffer(&traj, out)?;
        if self.weights.len() != traj.du {
            return Err(CoreError::Length {
                field: "action cost weights",
                expected: traj.du,
                got: self.weights.len(),
            });
        }
        for t in 0..traj.horizon {
            let u = traj.u(t);
            let l: f64 = u
                .iter()
                .zip(&self.weights)
                .map(|(ui, wi)| wi * ui * ui)
                .sum();
            out.l[t] += 0.5 * weight * l;
            if out.has_derivatives() {
                let lu = out.lu.at_mut(t);
                for ((g, ui), wi) in lu.iter_mut().zip(u).zip(&self.weights) {
                    *g += weight * wi * ui;
                }
                let mut luu = out.luu.at_mut(t);
                for (i, wi) in self.weights.iter().enumerate() {
                    luu[(i, i)] += weight * wi;
                }
            }
        }
        Ok(())
    }
}
