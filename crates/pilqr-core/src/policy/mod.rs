//! Policies: anything that maps `(t, x, obs, ε)` to an action.

mod linear_gaussian;

pub use linear_gaussian::LinearGaussianPolicy;

use crate::error::CoreError;

/// A stochastic controller, evaluated one step at a time.
///
/// The randomness is explicit: the caller draws the standard-normal noise `ε_t` (`dU` values) and
/// passes it in, so that rollouts are reproducible and the noise can be stored with the sample
/// (PILQR re-uses it, docs/design.md §4.5). A policy reads whichever of the state `x` and the
/// observation `obs` it needs: local controllers use `x`, neural-network policies use `obs`.
///
/// Implementations must be deterministic given their inputs (the sampler runs them from
/// several threads at once, hence `Send + Sync`).
pub trait Policy: Send + Sync {
    /// Number of action entries (`dU`).
    fn action_dim(&self) -> usize;

    /// Write the action for step `t` into `u` (length `dU`).
    fn act(
        &self,
        t: usize,
        x: &[f64],
        obs: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError>;
}
