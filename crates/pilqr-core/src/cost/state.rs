//! Distance of selected state entries (joint angles, end-effector points, object positions) to a
//! target, through the smooth l1/l2 penalty, with a time ramp.

use serde::{Deserialize, Serialize};

use crate::cost::{Cost, CostDerivatives, Penalty, Ramp, check_buffer, check_indices};
use crate::error::CoreError;
use crate::sample::TrajectoryRef;

/// `l_t = r_t · ρ(d_t)` with `d_t = wp ⊙ (x_t[indices] − x_t[relative_to] − target)`.
///
/// - `indices` select state entries: joint angles for a joint-space term, or the end-effector
///   points that are part of the state for a forward-kinematics point cost (whose derivatives are
///   then exact and cheap, docs/design.md §4.1);
/// - `relative_to` (optional, same length) subtracts other state entries, for a distance between
///   two tracked points (gripper to block, block to goal);
/// - `r_t` is the [`Ramp`] weight, times `final_multiplier` at the last step.
///
/// ```
/// use pilqr_core::{Cost, Penalty, Ramp, StateCost, TrajectoryRef};
///
/// // ½‖x − (1, 1)‖² on a 2-D state, full weight at every step.
/// let c = StateCost::new(vec![0, 1], vec![1.0, 1.0]);
/// let traj = TrajectoryRef::new(1, 2, 1, &[1.0, 3.0], &[0.0]).unwrap();
/// assert_eq!(c.values(traj).unwrap(), vec![2.0]);
///
/// // The same with a quadratic ramp, a ×10 final step and a smooth-l1 part.
/// let c = StateCost::new(vec![0, 1], vec![1.0, 1.0])
///     .with_ramp(Ramp::Quadratic)
///     .with_final_multiplier(10.0)
///     .with_penalty(Penalty { l2: 1.0, l1: 0.1, alpha: 1e-5 });
/// assert!(c.values(traj).unwrap()[0] > 20.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateCost {
    /// State entries measured.
    pub indices: Vec<usize>,
    /// State entries subtracted (same length as `indices`), if any.
    #[serde(default)]
    pub relative_to: Option<Vec<usize>>,
    /// Target of `x[indices] − x[relative_to]`.
    pub target: Vec<f64>,
    /// Per-entry weights `wp` (default all 1).
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
    /// The penalty `ρ`.
    #[serde(default)]
    pub penalty: Penalty,
    /// The time ramp.
    #[serde(default)]
    pub ramp: Ramp,
    /// Multiplier of the last step's weight.
    #[serde(default = "one")]
    pub final_multiplier: f64,
}

fn one() -> f64 {
    1.0
}

impl StateCost {
    /// `½‖x[indices] − target‖²` at every step; refine with the `with_*` methods.
    pub fn new(indices: Vec<usize>, target: Vec<f64>) -> Self {
        StateCost {
            indices,
            relative_to: None,
            target,
            weights: None,
            penalty: Penalty::default(),
            ramp: Ramp::Constant,
            final_multiplier: 1.0,
        }
    }

    /// Subtract `x[relative_to]` (a second tracked point).
    pub fn with_relative_to(mut self, relative_to: Vec<usize>) -> Self {
        self.relative_to = Some(relative_to);
        self
    }

    /// Per-entry weights `wp`.
    pub fn with_weights(mut self, weights: Vec<f64>) -> Self {
        self.weights = Some(weights);
        self
    }

    /// The penalty `ρ`.
    pub fn with_penalty(mut self, penalty: Penalty) -> Self {
        self.penalty = penalty;
        self
    }

    /// The time ramp.
    pub fn with_ramp(mut self, ramp: Ramp) -> Self {
        self.ramp = ramp;
        self
    }

    /// The last step's multiplier.
    pub fn with_final_multiplier(mut self, m: f64) -> Self {
        self.final_multiplier = m;
        self
    }

    fn validate(&self, dx: usize) -> Result<(), CoreError> {
        let m = self.indices.len();
        let check = |field: &'static str, got: usize| {
            if got == m {
                Ok(())
            } else {
                Err(CoreError::Length {
                    field,
                    expected: m,
                    got,
                })
            }
        };
        check("state cost target", self.target.len())?;
        if let Some(w) = &self.weights {
            check("state cost weights", w.len())?;
        }
        check_indices("state cost", "state", &self.indices, dx)?;
        if let Some(r) = &self.relative_to {
            check("state cost relative_to", r.len())?;
            check_indices("state cost", "state", r, dx)?;
        }
        if self.penalty.l1 != 0.0 && self.penalty.alpha <= 0.0 {
            return Err(CoreError::InvalidParameter {
                field: "state cost penalty alpha",
                reason: "must be > 0 when l1 ≠ 0".into(),
            });
        }
        Ok(())
    }
}

impl Cost for StateCost {
    fn has_mixed_hessian(&self) -> bool {
        false
    }

    fn state_hessian_support(&self, _dx: usize) -> Option<Vec<usize>> {
        let mut s: Vec<usize> = self.indices.clone();
        if let Some(r) = &self.relative_to {
            s.extend_from_slice(r);
        }
        s.sort_unstable();
        s.dedup();
        Some(s)
    }

    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), CoreError> {
        check_buffer(&traj, out)?;
        self.validate(traj.dx)?;
        let m = self.indices.len();
        let wp = |j: usize| self.weights.as_ref().map_or(1.0, |w| w[j]);
        let mut d = vec![0.0; m];
        let mut g = vec![0.0; m];
        let mut h = vec![0.0; m * m];
        for t in 0..traj.horizon {
            let r = weight * self.ramp.weight(t, traj.horizon, self.final_multiplier);
            if r == 0.0 {
                continue;
            }
            let x = traj.x(t);
            for j in 0..m {
                let mut v = x[self.indices[j]] - self.target[j];
                if let Some(rel) = &self.relative_to {
                    v -= x[rel[j]];
                }
                d[j] = wp(j) * v;
            }
            if !out.has_derivatives() {
                out.l[t] += r * self.penalty.value(&d);
                continue;
            }
            out.l[t] += r * self.penalty.derivatives(&d, &mut g, &mut h);
            // Chain rule through d = W (S x − target): ∂d_j/∂x = wp_j (e_idx_j − e_ref_j).
            let lx = out.lx.at_mut(t);
            for j in 0..m {
                let gj = r * wp(j) * g[j];
                lx[self.indices[j]] += gj;
                if let Some(rel) = &self.relative_to {
                    lx[rel[j]] -= gj;
                }
            }
            // l_xx += r W H W on (idx, idx), and with the opposite sign on the cross blocks
            // (idx, ref), (ref, idx), plus (ref, ref). Column-major step slice of the stack.
            let dx = traj.dx;
            let lxx = &mut out.lxx.as_mut_slice()[t * dx * dx..(t + 1) * dx * dx];
            for b in 0..m {
                let wb = r * wp(b);
                let ib = self.indices[b];
                for a in 0..m {
                    let v = wb * wp(a) * h[a + b * m];
                    let ia = self.indices[a];
                    lxx[ia + ib * dx] += v;
                    if let Some(rel) = &self.relative_to {
                        let (ra, rb) = (rel[a], rel[b]);
                        lxx[ra + rb * dx] += v;
                        lxx[ia + rb * dx] -= v;
                        lxx[ra + ib * dx] -= v;
                    }
                }
            }
        }
        Ok(())
    }
}
