//! The global policy as MDGPS sees it: a state-independent Gaussian around a mean map of the
//! observation.

use pilqr_core::Policy;

use crate::error::MdgpsError;

/// `π(u | o) = N(μ(o), diag(variance))`: what the policy linearisation and the C-step need
/// from a global policy. [`crate::NnPolicy`] implements it; a linear map can too (useful in
/// tests, DESIGN.md §4.6).
pub trait GlobalPolicy: Policy {
    /// Observation width `dO`.
    fn obs_dim(&self) -> usize;

    /// The mean action `μ(o)` into `u` (length `dU`).
    fn mean_action(&self, obs: &[f64], u: &mut [f64]) -> Result<(), MdgpsError>;

    /// The diagonal of `Σ_π` (length `dU`).
    fn variance(&self) -> &[f64];

    /// `μ(o)` of every row of `obs` (`rows · dO` values), row after row (`rows · dU` values).
    fn mean_actions(&self, obs: &[f64]) -> Result<Vec<f64>, MdgpsError> {
        let (d_o, d_u) = (self.obs_dim(), self.action_dim());
        if d_o == 0 || !obs.len().is_multiple_of(d_o) {
            return Err(MdgpsError::Dimension {
                what: "observation rows".into(),
                expected: d_o,
                got: obs.len(),
            });
        }
        let rows = obs.len() / d_o;
        let mut out = vec![0.0; rows * d_u];
        for (o, u) in obs.chunks_exact(d_o).zip(out.chunks_exact_mut(d_u)) {
            self.mean_action(o, u)?;
        }
        Ok(out)
    }
}
