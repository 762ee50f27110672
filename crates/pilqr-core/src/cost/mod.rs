//! Costs: per-step values and analytic derivatives along a trajectory (docs/design.md §4.1), and the
//! local quadratic cost model built from them (docs/design.md §3).
//!
//! A [`Cost`] adds its per-step value `l_t` and, when asked, its derivatives
//! `l_x, l_u, l_xx, l_uu, l_ux` into a [`CostDerivatives`] buffer, scaled by a weight. Sums are
//! therefore free: [`WeightedSum`] forwards to its terms with their weights.
//!
//! | cost | formula |
//! |---|---|
//! | [`ActionCost`] | `½ Σ wu_i u_i²` |
//! | [`StateCost`] | `r_t · ρ(wp ⊙ (x[idx] − x[ref] − target))`, `ρ(d) = ½ l2 ‖d‖² + l1 √(α + ‖d‖²)` |
//! | [`WaypointCost`] | `Σ_j [t ∈ window_j] · ρ(A_j x − b_j)` |
//! | [`RegionCost`] | a constant while `x[idx]` is outside a box |
//! | [`WeightedSum`] | `Σ w_k c_k` |

mod action;
mod derivatives;
mod model;
mod penalty;
mod ramp;
mod region;
mod state;
mod sum;
mod waypoint;

pub use action::ActionCost;
pub use derivatives::CostDerivatives;
pub use model::{CostModel, CostModelBuilder};
pub use penalty::Penalty;
pub use ramp::Ramp;
pub use region::RegionCost;
pub use state::StateCost;
pub use sum::WeightedSum;
pub use waypoint::{Waypoint, WaypointCost};

use crate::error::CoreError;
use crate::sample::TrajectoryRef;

/// A cost function of states and actions, evaluated along whole trajectories.
///
/// Implementors add `weight ×` their contribution into `out`: always the values `out.l`, and the
/// derivatives only when `out.has_derivatives()` (a values-only buffer skips that work).
pub trait Cost: Send + Sync + std::fmt::Debug {
    /// Add `weight ×` this cost's values (and derivatives, if `out` holds them) along `traj`.
    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), CoreError>;

    /// The state entries that can appear in this cost's state Hessian `l_xx`, or `None` when
    /// any entry can (the default, always correct). Declaring a small support lets
    /// [`CostModelBuilder`] and [`CostDerivatives::reset_support`] skip the zero blocks of
    /// `l_xx`, which dominate the work at robot sizes. An implementation that declares a support
    /// must never write `l_xx` outside `support × support`.
    fn state_hessian_support(&self, dx: usize) -> Option<Vec<usize>> {
        let _ = dx;
        None
    }

    /// Whether this cost can write non-zero mixed second derivatives `l_ux` (default `true`,
    /// always correct). A cost of the state alone or of the action alone returns `false`, and
    /// [`CostModelBuilder`] then skips the `dU × dX` block. An implementation that returns
    /// `false` must never write `l_ux`.
    fn has_mixed_hessian(&self) -> bool {
        true
    }

    /// Per-step values along `traj`.
    fn values(&self, traj: TrajectoryRef<'_>) -> Result<Vec<f64>, CoreError> {
        let mut out = CostDerivatives::values_only(traj.horizon);
        self.accumulate(traj, 1.0, &mut out)?;
        Ok(out.l)
    }

    /// Values and all derivatives along `traj`, in a new buffer.
    fn evaluate(&self, traj: TrajectoryRef<'_>) -> Result<CostDerivatives, CoreError> {
        let mut out = CostDerivatives::zeros(traj.horizon, traj.dx, traj.du);
        self.accumulate(traj, 1.0, &mut out)?;
        Ok(out)
    }
}

/// Check that `out` matches `traj`'s sizes.
pub(crate) fn check_buffer(
    traj: &TrajectoryRef<'_>,
    out: &CostDerivatives,
) -> Result<(), CoreError> {
    if out.horizon() != traj.horizon {
        return Err(CoreError::Length {
            field: "cost buffer horizon",
            expected: traj.horizon,
            got: out.horizon(),
        });
    }
    if out.has_derivatives() && (out.dx() != traj.dx || out.du() != traj.du) {
        return Err(CoreError::Length {
            field: "cost buffer state dimension",
            expected: traj.dx,
            got: out.dx(),
        });
    }
    Ok(())
}

/// Check that every index is below `dim`.
pub(crate) fn check_indices(
    cost: &'static str,
    what: &'static str,
    indices: &[usize],
    dim: usize,
) -> Result<(), CoreError> {
    match indices.iter().find(|&&i| i >= dim) {
        Some(&index) => Err(CoreError::IndexOutOfRange {
            cost,
            what,
            index,
            dim,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod finite_difference;
