//! The global policy as MDGPS sees it: a state-independent Gaussian around a mean map of the
//! observation.

use pilqr_core::{CoreError, Policy};

use crate::error::MdgpsError;

/// `π(u | o) = N(μ(o), diag(variance))`: what the policy linearisation and the C-step need
/// from a global policy. [`crate::NnPolicy`] implements it; a linear map can too (useful in
/// tests, docs/design.md §4.6).
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

/// A global policy's mean action as a [`Policy`], the noise ignored: what evaluations and
/// renders roll out.
///
/// ```
/// use pilqr_core::{Policy, RunSeed};
/// use pilqr_mdgps::{GlobalPolicy, MeanAction, MlpConfig, NnPolicy};
///
/// let pol = NnPolicy::new(&MlpConfig::default(), 3, 1, 0.5, RunSeed::new(0)).unwrap();
/// let (mut a, mut b) = ([0.0], [0.0]);
/// MeanAction(&pol).act(0, &[], &[0.1, 0.2, 0.3], &[2.0], &mut a).unwrap();
/// pol.mean_action(&[0.1, 0.2, 0.3], &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MeanAction<'a, P: ?Sized>(pub &'a P);

impl<P: GlobalPolicy + ?Sized> Policy for MeanAction<'_, P> {
    fn action_dim(&self) -> usize {
        self.0.action_dim()
    }

    fn act(
        &self,
        _t: usize,
        _x: &[f64],
        obs: &[f64],
        _noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        self.0
            .mean_action(obs, u)
            .map_err(|e| CoreError::InvalidParameter {
                field: "observation",
                reason: e.to_string(),
            })
    }
}
