//! The neural-network global policy `π_θ(u | o) = N(μ_θ(o), Σ_π)`.

use pilqr_core::{CoreError, Policy, RunSeed};
use serde::{Deserialize, Serialize};

use crate::architecture::MlpConfig;
use crate::error::{MdgpsError, check_finite, check_len};
use crate::global_policy::GlobalPolicy;
use crate::mlp_weights::MlpWeights;
use crate::normalization::ObsNormalization;

/// The MDGPS global policy: an MLP `μ_θ` on normalised observations and a state-independent
/// diagonal covariance `Σ_π`, `u = μ_θ(o·scale + bias) + chol(Σ_π) ε`.
///
/// This is a plain-Rust snapshot of the network (weights copied out of libtorch after each
/// S-step), so it is `Send + Sync`, evaluates one action in a few microseconds without a
/// libtorch call, and serialises with serde: a checkpoint holding an `NnPolicy` holds the
/// architecture, the weights, the observation normalisation and `Σ_π`. Deserialisation
/// validates all of it.
///
/// ```
/// use pilqr_core::{Policy, RunSeed};
/// use pilqr_mdgps::{GlobalPolicy, MlpConfig, NnPolicy};
///
/// let pol = NnPolicy::new(&MlpConfig::default(), 4, 2, 0.1, RunSeed::new(0)).unwrap();
/// let mut mean = [0.0; 2];
/// pol.mean_action(&[0.1, 0.2, 0.3, 0.4], &mut mean).unwrap();
/// let mut u = [0.0; 2];
/// pol.act(0, &[], &[0.1, 0.2, 0.3, 0.4], &[1.0, 0.0], &mut u).unwrap();
/// assert_eq!(u[0], mean[0] + 0.1f64.sqrt());
/// assert_eq!(u[1], mean[1]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NnPolicyParts", into = "NnPolicyParts")]
pub struct NnPolicy {
    weights: MlpWeights,
    normalization: Option<ObsNormalization>,
    variance: Vec<f64>,
    std_dev: Vec<f64>,
}

/// The stored parameters of an [`NnPolicy`] (what serde reads and writes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NnPolicyParts {
    /// Layers and activation.
    pub weights: MlpWeights,
    /// Observation normalisation, once fitted (`None`: the identity).
    pub normalization: Option<ObsNormalization>,
    /// Diagonal of `Σ_π`.
    pub variance: Vec<f64>,
}

impl TryFrom<NnPolicyParts> for NnPolicy {
    type Error = MdgpsError;
    fn try_from(p: NnPolicyParts) -> Result<Self, MdgpsError> {
        NnPolicy::from_parts(p.weights, p.normalization, p.variance)
    }
}

impl From<NnPolicy> for NnPolicyParts {
    fn from(p: NnPolicy) -> Self {
        NnPolicyParts {
            weights: p.weights,
            normalization: p.normalization,
            variance: p.variance,
        }
    }
}

/// Check that a variance vector is finite and positive.
fn check_variance(variance: &[f64]) -> Result<(), MdgpsError> {
    check_finite("policy variance", variance)?;
    if let Some(index) = variance.iter().position(|&v| v <= 0.0) {
        return Err(MdgpsError::InvalidValue {
            what: "policy variance".into(),
            index,
            value: variance[index],
        });
    }
    Ok(())
}

impl NnPolicy {
    /// A fresh network for observation width `obs_dim` and action width `action_dim`, weights
    /// drawn from the run seed's `"mdgps-policy-init"` stream, no normalisation yet, and
    /// `Σ_π = init_variance · I`.
    pub fn new(
        config: &MlpConfig,
        obs_dim: usize,
        action_dim: usize,
        init_variance: f64,
        seed: RunSeed,
    ) -> Result<Self, MdgpsError> {
        let mut rng = seed.rng("mdgps-policy-init", &[]);
        let weights = MlpWeights::init(config, obs_dim, action_dim, &mut rng)?;
        NnPolicy::from_parts(weights, None, vec![init_variance; action_dim])
    }

    /// From stored parameters, validated: consistent layers, finite values, a normalisation
    /// of the input width and a positive variance of the output width.
    pub fn from_parts(
        weights: MlpWeights,
        normalization: Option<ObsNormalization>,
        variance: Vec<f64>,
    ) -> Result<Self, MdgpsError> {
        weights.validate()?;
        if let Some(n) = &normalization {
            check_len("normalisation width", n.dim(), weights.input_dim())?;
        }
        check_len("policy variance", variance.len(), weights.output_dim())?;
        check_variance(&variance)?;
        let std_dev = variance.iter().map(|v| v.sqrt()).collect();
        Ok(NnPolicy {
            weights,
            normalization,
            variance,
            std_dev,
        })
    }

    /// The parameters, for a checkpoint.
    pub fn parts(&self) -> NnPolicyParts {
        self.clone().into()
    }

    /// The network's weights.
    pub fn weights(&self) -> &MlpWeights {
        &self.weights
    }

    /// Hidden layers and activation.
    pub fn config(&self) -> MlpConfig {
        self.weights.config()
    }

    /// The observation normalisation, once fitted.
    pub fn normalization(&self) -> Option<&ObsNormalization> {
        self.normalization.as_ref()
    }

    /// Replace the weights (same architecture required).
    pub fn set_weights(&mut self, weights: MlpWeights) -> Result<(), MdgpsError> {
        weights.validate()?;
        if weights.config() != self.weights.config()
            || weights.input_dim() != self.weights.input_dim()
            || weights.output_dim() != self.weights.output_dim()
        {
            return Err(MdgpsError::Inconsistent {
                reason: "new weights do not have the policy's architecture".into(),
            });
        }
        self.weights = weights;
        Ok(())
    }

    /// Set the observation normalisation (its width must be `dO`).
    pub fn set_normalization(&mut self, n: ObsNormalization) -> Result<(), MdgpsError> {
        check_len("normalisation width", n.dim(), self.weights.input_dim())?;
        self.normalization = Some(n);
        Ok(())
    }

    /// Set the diagonal of `Σ_π` (finite, positive, length `dU`).
    pub fn set_variance(&mut self, variance: Vec<f64>) -> Result<(), MdgpsError> {
        check_len("policy variance", variance.len(), self.weights.output_dim())?;
        check_variance(&variance)?;
        self.std_dev = variance.iter().map(|v| v.sqrt()).collect();
        self.variance = variance;
        Ok(())
    }

    /// The network input for observation `obs`: `obs·scale + bias`, or `obs` itself before the
    /// normalisation is fitted.
    pub fn normalize_into(&self, obs: &[f64], out: &mut [f64]) {
        match &self.normalization {
            Some(n) => n.apply(obs, out),
            None => out.copy_from_slice(obs),
        }
    }

    fn mean_unchecked(&self, obs: &[f64], u: &mut [f64]) {
        let mut input = vec![0.0; obs.len()];
        self.normalize_into(obs, &mut input);
        self.weights.forward(&input, u);
    }
}

impl GlobalPolicy for NnPolicy {
    fn obs_dim(&self) -> usize {
        self.weights.input_dim()
    }

    fn mean_action(&self, obs: &[f64], u: &mut [f64]) -> Result<(), MdgpsError> {
        check_len("observation", obs.len(), self.obs_dim())?;
        check_len("action", u.len(), self.weights.output_dim())?;
        self.mean_unchecked(obs, u);
        Ok(())
    }

    /// Every row through the batched fixed-order forward pass (much faster than row by row;
    /// agrees with [`GlobalPolicy::mean_action`] up to rounding, as it orders its sums
    /// differently).
    fn mean_actions(&self, obs: &[f64]) -> Result<Vec<f64>, MdgpsError> {
        let (d_o, d_u) = (self.obs_dim(), self.action_dim());
        if !obs.len().is_multiple_of(d_o) {
            return Err(MdgpsError::Dimension {
                what: "observation rows".into(),
                expected: d_o,
                got: obs.len(),
            });
        }
        let rows = obs.len() / d_o;
        let mut input = vec![0.0; obs.len()];
        for (o, i) in obs.chunks_exact(d_o).zip(input.chunks_exact_mut(d_o)) {
            self.normalize_into(o, i);
        }
        let mut out = vec![0.0; rows * d_u];
        crate::mlp_training::forward::forward_rows(&self.weights, &input, &mut out)?;
        Ok(out)
    }

    fn variance(&self) -> &[f64] {
        &self.variance
    }
}

impl Policy for NnPolicy {
    fn action_dim(&self) -> usize {
        self.weights.output_dim()
    }

    /// `u = μ_θ(o) + chol(Σ_π) ε`; ignores `t` and `x`.
    fn act(
        &self,
        _t: usize,
        _x: &[f64],
        obs: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        let length = |field, expected, got| CoreError::Length {
            field,
            expected,
            got,
        };
        let (d_o, d_u) = (self.weights.input_dim(), self.weights.output_dim());
        if obs.len() != d_o {
            return Err(length("observation", d_o, obs.len()));
        }
        if noise.len() != d_u {
            return Err(length("noise", d_u, noise.len()));
        }
        if u.len() != d_u {
            return Err(length("action u", d_u, u.len()));
        }
        self.mean_unchecked(obs, u);
        for ((ui, s), e) in u.iter_mut().zip(&self.std_dev).zip(noise) {
            *ui += s * e;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> NnPolicy {
        NnPolicy::new(&MlpConfig::default(), 3, 2, 0.5, RunSeed::new(11)).unwrap()
    }

    #[test]
    fn batched_mean_actions_agree_with_row_by_row_ones() {
        let mut p = policy();
        p.set_normalization(ObsNormalization::fit(&[0.0, 1.0, 2.0, 1.0, 3.0, 5.0], 3).unwrap())
            .unwrap();
        // 150 rows: two full chunks of 64 and a partial one.
        let obs: Vec<f64> = (0..150 * 3).map(|i| ((i as f64) * 0.37).sin()).collect();
        let batched = p.mean_actions(&obs).unwrap();
        assert_eq!(batched.len(), 300);
        for (o, b) in obs.chunks_exact(3).zip(batched.chunks_exact(2)) {
            let mut u = [0.0; 2];
            p.mean_action(o, &mut u).unwrap();
            for (x, y) in u.iter().zip(b) {
                assert!((x - y).abs() <= 1e-13 * (1.0 + x.abs()), "{x} vs {y}");
            }
        }
        assert!(p.mean_actions(&obs[..4]).is_err());
    }

    #[test]
    fn act_checks_lengths() {
        let p = policy();
        let mut u = [0.0; 2];
        assert!(matches!(
            p.act(0, &[], &[0.0; 2], &[0.0; 2], &mut u),
            Err(CoreError::Length {
                field: "observation",
                expected: 3,
                got: 2
            })
        ));
        assert!(matches!(
            p.act(0, &[], &[0.0; 3], &[0.0; 1], &mut u),
            Err(CoreError::Length { field: "noise", .. })
        ));
    }

    #[test]
    fn same_seed_same_weights_other_seed_other_weights() {
        let a = policy();
        let b = policy();
        let c = NnPolicy::new(&MlpConfig::default(), 3, 2, 0.5, RunSeed::new(12)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.weights(), c.weights());
    }

    #[test]
    fn normalisation_is_applied_before_the_network() {
        let mut p = policy();
        let obs = [1.0, 2.0, 3.0];
        let mut before = [0.0; 2];
        p.mean_action(&[0.5, 1.0, 1.5], &mut before).unwrap();
        p.set_normalization(ObsNormalization::new(vec![0.5; 3], vec![0.0; 3]).unwrap())
            .unwrap();
        let mut after = [0.0; 2];
        p.mean_action(&obs, &mut after).unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn deserialisation_validates() {
        let mut parts = policy().parts();
        parts.variance[1] = -1.0;
        let json = serde_json::to_string(&parts).unwrap();
        let err = serde_json::from_str::<NnPolicy>(&json).unwrap_err();
        assert!(err.to_string().contains("policy variance"), "{err}");
    }
}
