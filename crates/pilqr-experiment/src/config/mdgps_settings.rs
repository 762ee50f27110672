//! The `[mdgps]` table of an experiment: every setting of [`pilqr_mdgps::MdgpsConfig`] except
//! the local method (decided by `methods` / `local`) and the dynamics fitter (the experiment's
//! `[dynamics]` table, shared with the trajectory-optimisation methods).
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `samples` | 5 | samples per training condition and iteration |
//! | `kl_step` | 0.2 | base KL step per time step of the C-step, `ε_t = kl_step · step_mult` |
//! | `init_step_mult` | 1 | first step multiplier |
//! | `min_step_mult`, `max_step_mult` | 0.01, 10 | bounds of the step multiplier |
//! | `step_rule` | `"laplace"` | `"laplace"` or `"mc"` (docs/design.md §4.6), averaged over conditions |
//! | `sample_on_policy` | false | sample the network instead of the local controllers (from iteration 2) |
//! | `[mdgps.lqr]` | LQR-FLM defaults | LQR stage (`mdgps-lqr-flm`, `mdgps-pilqr`) |
//! | `[mdgps.pi2]` | PI2 defaults | `mdgps-pi2`, and PILQR's PI2 stage; keep `kl_threshold` below `log samples` |
//! | `[mdgps.init]` | PD, variance 1 | initial local controllers (as `[trajopt.init]`) |
//! | `[mdgps.policy_prior]` | GMM 20/40/20, `mode = "add"` | policy linearisation prior (`[mdgps.policy_prior.gmm]`) and `mode` (`"add"`/`"replace"`) |
//! | `[mdgps.network]` | `hidden = [100, 100]`, `activation = "relu"` | the MLP |
//! | `init_policy_variance` | 0.1 | diagonal of `Σ_π` before the first S-step |
//! | `[mdgps.s_step]` | 4000 iterations, batch 25, lr 1e-3, weight decay 5e-3, 1 thread | the S-step's Adam |

use pilqr_dynamics::DynamicsConfig;
use pilqr_mdgps::{
    LocalMethod, MdgpsConfig, MdgpsError, MdgpsStepRule, MlpConfig, PolicyPriorConfig, SStepConfig,
};
use pilqr_trajopt::init::InitConfig;
use pilqr_trajopt::{LqrFlmConfig, Pi2Config};
use serde::{Deserialize, Serialize};

/// The `[mdgps]` table (see the module documentation for keys and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MdgpsSettings {
    /// Samples per training condition and iteration.
    pub samples: usize,
    /// Base KL step per time step.
    pub kl_step: f64,
    /// First step multiplier.
    pub init_step_mult: f64,
    /// Smallest step multiplier.
    pub min_step_mult: f64,
    /// Largest step multiplier.
    pub max_step_mult: f64,
    /// `laplace` or `mc`.
    pub step_rule: MdgpsStepRule,
    /// Sample the network instead of the local controllers.
    pub sample_on_policy: bool,
    /// LQR stage.
    pub lqr: LqrFlmConfig,
    /// PI2 settings.
    pub pi2: Pi2Config,
    /// Initial local controllers.
    pub init: InitConfig,
    /// Policy prior.
    pub policy_prior: PolicyPriorConfig,
    /// The network.
    pub network: MlpConfig,
    /// Diagonal of `Σ_π` before the first S-step.
    pub init_policy_variance: f64,
    /// The S-step.
    pub s_step: SStepConfig,
}

impl Default for MdgpsSettings {
    fn default() -> Self {
        let c = MdgpsConfig::default();
        MdgpsSettings {
            samples: c.samples,
            kl_step: c.kl_step,
            init_step_mult: c.init_step_mult,
            min_step_mult: c.min_step_mult,
            max_step_mult: c.max_step_mult,
            step_rule: c.step_rule,
            sample_on_policy: c.sample_on_policy,
            lqr: c.lqr,
            pi2: c.pi2,
            init: c.init,
            policy_prior: c.policy_prior,
            network: c.network,
            init_policy_variance: c.init_policy_variance,
            s_step: c.s_step,
        }
    }
}

impl MdgpsSettings {
    /// The loop's configuration for `local` with the experiment's `dynamics`.
    pub fn config(&self, local: LocalMethod, dynamics: &DynamicsConfig) -> MdgpsConfig {
        MdgpsConfig {
            local,
            samples: self.samples,
            kl_step: self.kl_step,
            init_step_mult: self.init_step_mult,
            min_step_mult: self.min_step_mult,
            max_step_mult: self.max_step_mult,
            step_rule: self.step_rule,
            sample_on_policy: self.sample_on_policy,
            lqr: self.lqr.clone(),
            pi2: self.pi2.clone(),
            init: self.init,
            dynamics: dynamics.clone(),
            policy_prior: self.policy_prior.clone(),
            network: self.network.clone(),
            init_policy_variance: self.init_policy_variance,
            s_step: self.s_step.clone(),
        }
    }

    /// Check every value; on error, the dotted path of the field inside `[mdgps]` and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let config = self.config(LocalMethod::LqrFlm, &DynamicsConfig::default());
        let err = match config.validate() {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        Err(match err {
            MdgpsError::InvalidConfig { field, reason } => {
                let path = match field {
                    "hidden" => "network.hidden".to_string(),
                    "batch_size" | "learning_rate" | "weight_decay" | "torch_threads" => {
                        format!("s_step.{field}")
                    }
                    other => other.to_string(),
                };
                (path, reason)
            }
            MdgpsError::Dynamics(pilqr_dynamics::DynamicsError::InvalidConfig {
                field,
                reason,
            }) => (
                format!(
                    "policy_prior.gmm.{}",
                    field.strip_prefix("prior.").unwrap_or(field)
                ),
                reason,
            ),
            other => (String::new(), other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_loops_and_errors_name_nested_fields() {
        let s = MdgpsSettings::default();
        assert_eq!(
            s.config(LocalMethod::Pi2, &DynamicsConfig::default()),
            MdgpsConfig {
                local: LocalMethod::Pi2,
                ..MdgpsConfig::default()
            }
        );
        assert!(s.validate().is_ok());
        let mut bad = s.clone();
        bad.s_step.batch_size = 0;
        assert_eq!(bad.validate().unwrap_err().0, "s_step.batch_size");
        let mut bad = s.clone();
        bad.network.hidden = vec![0];
        assert_eq!(bad.validate().unwrap_err().0, "network.hidden");
        let mut bad = s;
        bad.pi2.min_temperature = 0.0;
        assert_eq!(bad.validate().unwrap_err().0, "pi2.min_temperature");
    }
}
