//! Binary region cost: a constant paid while selected state entries are outside a box.

use serde::{Deserialize, Serialize};

use crate::cost::{Cost, CostDerivatives, check_buffer, check_indices};
use crate::error::CoreError;
use crate::sample::TrajectoryRef;

/// `l_t = value` while `x_t[indices]` is outside the box `[lower, upper]`, else 0.
///
/// Piecewise constant: its derivatives are zero, so a model-based method sees nothing of it —
/// which is exactly what the model-free half of PILQR is for.
///
/// ```
/// use pilqr_core::{Cost, RegionCost, TrajectoryRef};
///
/// let c = RegionCost { indices: vec![0], lower: vec![-1.0], upper: vec![1.0], value: 5.0 };
/// let traj = TrajectoryRef::new(2, 1, 1, &[0.5, 2.0], &[0.0, 0.0]).unwrap();
/// assert_eq!(c.values(traj).unwrap(), vec![0.0, 5.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionCost {
    /// State entries tested.
    pub indices: Vec<usize>,
    /// Lower corner of the box.
    pub lower: Vec<f64>,
    /// Upper corner of the box.
    pub upper: Vec<f64>,
    /// Cost paid per step while outside.
    pub value: f64,
}

impl Cost for RegionCost {
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
        check_indices("region cost", "state", &self.indices, traj.dx)?;
        for (field, v) in [("region lower", &self.lower), ("region upper", &self.upper)] {
            if v.len() != self.indices.len() {
                return Err(CoreError::Length {
                    field,
                    expected: self.indices.len(),
                    got: v.len(),
                });
            }
        }
        for t in 0..traj.horizon {
            let x = traj.x(t);
            let inside = self
                .indices
                .iter()
                .zip(self.lower.iter().zip(&self.upper))
                .all(|(&i, (&lo, &hi))| x[i] >= lo && x[i] <= hi);
            if !inside {
                out.l[t] += weight * self.value;
            }
        }
        Ok(())
    }
}
