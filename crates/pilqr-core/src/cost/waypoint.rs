//! Linear waypoint cost: `ρ(A_j x − b_j)` active on a window of time steps per waypoint.

use serde::{Deserialize, Serialize};

use crate::cost::{Cost, CostDerivatives, Penalty, check_buffer};
use crate::error::CoreError;
use crate::sample::TrajectoryRef;

/// One waypoint: `weight · ρ(A x − b)` for `start ≤ t < end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waypoint {
    /// Rows of `A` (`m`).
    pub rows: usize,
    /// `A`, `m x dX`, row-major.
    pub a: Vec<f64>,
    /// `b`, length `m`.
    pub b: Vec<f64>,
    /// First active step.
    pub start: usize,
    /// One past the last active step.
    pub end: usize,
    /// Weight of this waypoint.
    #[serde(default = "one")]
    pub weight: f64,
    /// The penalty `ρ`.
    #[serde(default)]
    pub penalty: Penalty,
}

fn one() -> f64 {
    1.0
}

/// A sequence of [`Waypoint`]s, e.g. "hand to the handle early, then the door angle to its
/// target" in door opening.
///
/// ```
/// use pilqr_core::{Cost, TrajectoryRef, Waypoint, WaypointCost, Penalty};
///
/// // x_0 + x_1 should be 1 during steps 0..1, x_1 should be 0 during 1..2.
/// let c = WaypointCost { waypoints: vec![
///     Waypoint { rows: 1, a: vec![1.0, 1.0], b: vec![1.0], start: 0, end: 1, weight: 1.0, penalty: Penalty::default() },
///     Waypoint { rows: 1, a: vec![0.0, 1.0], b: vec![0.0], start: 1, end: 2, weight: 2.0, penalty: Penalty::default() },
/// ]};
/// let traj = TrajectoryRef::new(2, 2, 1, &[1.0, 2.0, 0.0, 3.0], &[0.0, 0.0]).unwrap();
/// assert_eq!(c.values(traj).unwrap(), vec![2.0, 9.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaypointCost {
    /// The waypoints.
    pub waypoints: Vec<Waypoint>,
}

impl Cost for WaypointCost {
    fn has_mixed_hessian(&self) -> bool {
        false
    }

    fn state_hessian_support(&self, dx: usize) -> Option<Vec<usize>> {
        // Columns of any A_j with a non-zero entry.
        let mut s: Vec<usize> = (0..dx)
            .filter(|&i| {
                self.waypoints.iter().any(|w| {
                    w.a.len() == w.rows * dx && (0..w.rows).any(|r| w.a[r * dx + i] != 0.0)
                })
            })
            .collect();
        s.dedup();
        // A malformed waypoint (checked in accumulate) makes no promise.
        if self.waypoints.iter().any(|w| w.a.len() != w.rows * dx) {
            return None;
        }
        Some(s)
    }

    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), CoreError> {
        check_buffer(&traj, out)?;
        let dx = traj.dx;
        for wpt in &self.waypoints {
            let m = wpt.rows;
            if wpt.a.len() != m * dx {
                return Err(CoreError::Length {
                    field: "waypoint A",
                    expected: m * dx,
                    got: wpt.a.len(),
                });
            }
            if wpt.b.len() != m {
                return Err(CoreError::Length {
                    field: "waypoint b",
                    expected: m,
                    got: wpt.b.len(),
                });
            }
            let mut d = vec![0.0; m];
            let mut g = vec![0.0; m];
            let mut h = vec![0.0; m * m];
            let mut ath = vec![0.0; dx * m];
            for t in wpt.start..wpt.end.min(traj.horizon) {
                let r = weight * wpt.weight;
                let x = traj.x(t);
                for (j, dj) in d.iter_mut().enumerate() {
                    let row = &wpt.a[j * dx..(j + 1) * dx];
                    *dj = row.iter().zip(x).map(|(a, xi)| a * xi).sum::<f64>() - wpt.b[j];
                }
                if !out.has_derivatives() {
                    out.l[t] += r * wpt.penalty.value(&d);
                    continue;
                }
                out.l[t] += r * wpt.penalty.derivatives(&d, &mut g, &mut h);
                let lx = out.lx.at_mut(t);
                for j in 0..m {
                    let row = &wpt.a[j * dx..(j + 1) * dx];
                    for (li, a) in lx.iter_mut().zip(row) {
                        *li += r * a * g[j];
                    }
                }
                // (Aᵀ H)_{i,b} = Σ_a A_{a,i} H_{a,b}, then lxx += r (Aᵀ H) A.
                for i in 0..dx {
                    for b in 0..m {
                        ath[i + b * dx] = (0..m).map(|a| wpt.a[a * dx + i] * h[a + b * m]).sum();
                    }
                }
                let mut lxx = out.lxx.at_mut(t);
                for k in 0..dx {
                    for i in 0..dx {
                        let v: f64 = (0..m).map(|b| ath[i + b * dx] * wpt.a[b * dx + k]).sum();
                        lxx[(i, k)] += r * v;
                    }
                }
            }
        }
        Ok(())
    }
}
