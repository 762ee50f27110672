//! Settings of the MDGPS loop, with their defaults in one place.

use pilqr_dynamics::DynamicsConfig;
use pilqr_trajopt::init::InitConfig;
use pilqr_trajopt::{LqrFlmConfig, Pi2Config};
use serde::{Deserialize, Serialize};

use crate::architecture::MlpConfig;
use crate::error::MdgpsError;
use crate::local_method::LocalMethod;
use crate::policy_prior::PolicyPriorConfig;
use crate::s_step::SStepConfig;
use crate::step_adjust::MdgpsStepRule;

/// Settings of the MDGPS loop ([`crate::Mdgps`]).
///
/// | field | default | meaning |
/// |---|---|---|
/// | `local` | `lqr-flm` | C-step method: `lqr-flm`, `pilqr` or `pi2` |
/// | `samples` | 5 | samples per condition and iteration |
/// | `kl_step` | 0.2 | base KL step per time step, `ε_t = kl_step · step_mult` |
/// | `init_step_mult` | 1 | step multiplier of the first C-step |
/// | `min_step_mult`, `max_step_mult` | 0.01, 10 | bounds of the step multiplier |
/// | `step_rule` | `laplace` | `laplace` or `mc` (docs/design.md §4.6), averaged over conditions |
/// | `sample_on_policy` | false | sample the network instead of the local controllers (from the second iteration) |
/// | `lqr` | LQR-FLM defaults | LQR stage of `lqr-flm` and `pilqr` |
/// | `pi2` | PI2 defaults | `pi2`, and the PI2 stage of `pilqr` |
/// | `init` | PD, variance 1 | initial local controllers |
/// | `dynamics` | GMM prior 20/40/20 | dynamics fitting |
/// | `policy_prior` | GMM 20/40/20, `add` | policy linearisation prior and `mode` (`add`/`replace`) |
/// | `network` | 2 × 100 ReLU | the MLP |
/// | `init_policy_variance` | 0.1 | diagonal of `Σ_π` before the first S-step |
/// | `s_step` | 4000 Adam iterations, batch 25 | the S-step optimiser |
///
/// ```
/// use pilqr_mdgps::{LocalMethod, MdgpsConfig};
///
/// let c: MdgpsConfig = serde_json::from_str(r#"{"local": "pilqr", "samples": 10}"#).unwrap();
/// assert_eq!((c.local, c.samples, c.kl_step), (LocalMethod::Pilqr, 10, 0.2));
/// c.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MdgpsConfig {
    /// The C-step's local method.
    pub local: LocalMethod,
    /// Samples per condition and iteration.
    pub samples: usize,
    /// Base KL step per time step (`ε_t = kl_step · step_mult`).
    pub kl_step: f64,
    /// Initial step multiplier.
    pub init_step_mult: f64,
    /// Smallest step multiplier.
    pub min_step_mult: f64,
    /// Largest step multiplier.
    pub max_step_mult: f64,
    /// `laplace` or `mc`.
    pub step_rule: MdgpsStepRule,
    /// Sample from the network instead of the local controllers (after the first iteration).
    pub sample_on_policy: bool,
    /// LQR-FLM settings of the C-step.
    pub lqr: LqrFlmConfig,
    /// PI2 settings of the C-step.
    pub pi2: Pi2Config,
    /// Initial local controllers.
    pub init: InitConfig,
    /// Dynamics fitting.
    pub dynamics: DynamicsConfig,
    /// Policy prior (linearisation) settings.
    pub policy_prior: PolicyPriorConfig,
    /// The network.
    pub network: MlpConfig,
    /// Initial diagonal of `Σ_π` (before the first S-step).
    pub init_policy_variance: f64,
    /// S-step optimiser.
    pub s_step: SStepConfig,
}

impl Default for MdgpsConfig {
    fn default() -> Self {
        MdgpsConfig {
            local: LocalMethod::LqrFlm,
            samples: 5,
            kl_step: 0.2,
            init_step_mult: 1.0,
            min_step_mult: 0.01,
            max_step_mult: 10.0,
            step_rule: MdgpsStepRule::Laplace,
            sample_on_policy: false,
            lqr: LqrFlmConfig::default(),
            pi2: Pi2Config::default(),
            init: InitConfig::default(),
            dynamics: DynamicsConfig::default(),
            policy_prior: PolicyPriorConfig::default(),
            network: MlpConfig::default(),
            init_policy_variance: 0.1,
            s_step: SStepConfig::default(),
        }
    }
}

impl MdgpsConfig {
    /// Check every value; errors name the field (nested fields as `lqr.max_eta`…).
    pub fn validate(&self) -> Result<(), MdgpsError> {
        let bad = |field, reason: &str| {
            Err(MdgpsError::InvalidConfig {
                field,
                reason: reason.into(),
            })
        };
        if self.samples < 2 {
            return bad(
                "samples",
                "the policy linearisation needs at least 2 samples",
            );
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.kl_step) {
            return bad("kl_step", "must be finite and positive");
        }
        if !(positive(self.min_step_mult)
            && self.min_step_mult <= self.init_step_mult
            && self.init_step_mult <= self.max_step_mult
            && self.max_step_mult.is_finite())
        {
            return bad(
                "init_step_mult",
                "need 0 < min_step_mult <= init_step_mult <= max_step_mult < ∞",
            );
        }
        if !positive(self.init_policy_variance) {
            return bad("init_policy_variance", "must be finite and positive");
        }
        let nested = |prefix: &'static str| {
            move |e: pilqr_trajopt::TrajOptError| match e {
                pilqr_trajopt::TrajOptError::Config { field, reason } => {
                    MdgpsError::InvalidConfig {
                        field: nested_field(prefix, field),
                        reason,
                    }
                }
                other => MdgpsError::InvalidConfig {
                    field: prefix,
                    reason: other.to_string(),
                },
            }
        };
        self.lqr.validate().map_err(nested("lqr"))?;
        self.pi2.validate().map_err(nested("pi2"))?;
        self.dynamics.validate()?;
        self.policy_prior.gmm.validate()?;
        self.network.validate()?;
        self.s_step.validate()
    }
}

/// `prefix.field` as a static string for the fields of the nested optimiser settings.
fn nested_field(prefix: &'static str, field: &'static str) -> &'static str {
    const KNOWN: &[(&str, &str, &str)] = &[
        ("lqr", "omega", "lqr.omega"),
        ("lqr", "min_eta", "lqr.min_eta"),
        ("lqr", "max_eta", "lqr.max_eta"),
        ("lqr", "max_iterations", "lqr.max_iterations"),
        ("lqr", "tolerance", "lqr.tolerance"),
        ("pi2", "kl_threshold", "pi2.kl_threshold"),
        ("pi2", "covariance_damping", "pi2.covariance_damping"),
        ("pi2", "min_temperature", "pi2.min_temperature"),
        ("pi2", "max_temperature", "pi2.max_temperature"),
        ("pi2", "covariance_floor", "pi2.covariance_floor"),
        ("pi2", "fixed_temperature", "pi2.fixed_temperature"),
    ];
    KNOWN
        .iter()
        .find(|(p, f, _)| *p == prefix && *f == field)
        .map_or(prefix, |(_, _, full)| full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_errors_name_their_table() {
        let mut c = MdgpsConfig::default();
        c.pi2.kl_threshold = -1.0;
        match c.validate() {
            Err(MdgpsError::InvalidConfig { field, .. }) => assert_eq!(field, "pi2.kl_threshold"),
            other => panic!("{other:?}"),
        }
        let c = MdgpsConfig {
            samples: 1,
            ..MdgpsConfig::default()
        };
        assert!(matches!(
            c.validate(),
            Err(MdgpsError::InvalidConfig {
                field: "samples",
                ..
            })
        ));
    }
}
