//! Configuration of the per-condition trajectory-optimisation loop, read from TOML by the
//! `pilqr` command. Every struct denies unknown fields; defaults are documented per field.

use serde::{Deserialize, Serialize};

use crate::error::TrajOptError;
use crate::init::InitConfig;
use crate::lqr_flm::LqrFlmConfig;
use crate::pi2::Pi2Config;
use crate::pilqr::{ResPercent, StepRule};
use crate::step_size::{KlStep, PerStep, Ramp};

/// Which update the loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Model-based only.
    LqrFlm,
    /// Model-free only.
    Pi2,
    /// The hybrid (default).
    Pilqr,
}

/// Settings of [`crate::driver::TrajOpt`].
///
/// Defaults are the released configuration of the paper's gripper-pusher experiment:
/// PILQR, 20 samples, per-step KL constraints with `ε_t` from 0.6 to 0.2 along the horizon,
/// step-multiplier bounds `[0.01 → 0.5, 10 → 5]`, the `res_percent` step rule, and a zero-mean
/// initial Gaussian with unit variance.
///
/// ```
/// use pilqr_trajopt::driver::{Algorithm, TrajOptConfig};
///
/// let c: TrajOptConfig = serde_json::from_str(r#"{"algorithm": "lqr_flm", "kl_step": 1.0}"#).unwrap();
/// assert_eq!(c.algorithm, Algorithm::LqrFlm);
/// assert_eq!(c.samples, 20);
/// assert!(serde_json::from_str::<TrajOptConfig>(r#"{"sample": 5}"#).is_err()); // typo
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrajOptConfig {
    /// LQR-FLM, PI2 or PILQR (default `pilqr`).
    pub algorithm: Algorithm,
    /// Samples per condition and iteration (default 20).
    pub samples: usize,
    /// Base KL step `ε_t` of the LQR stage, per step or per iteration (default 0.6 → 0.2).
    pub kl_step: KlStep,
    /// Smallest step multiplier per step (default 0.01 → 0.5).
    pub min_step_mult: PerStep,
    /// Largest step multiplier per step (default 10 → 5).
    pub max_step_mult: PerStep,
    /// Step multiplier of the first iteration (default 1).
    pub init_step_mult: f64,
    /// Step rule: `res_percent` (default), `improvement` or `const` (see [`StepRule`]).
    pub step_rule: StepRule,
    /// Thresholds of the `res_percent` rule.
    pub res_percent: ResPercent,
    /// LQR-FLM settings (default: per-step η).
    pub lqr: LqrFlmConfig,
    /// PI2 settings.
    pub pi2: Pi2Config,
    /// Initial controller.
    pub init: InitConfig,
    /// Floor on the exploration after every LQR-FLM or PILQR update (PI2 alone is unchanged), as a fraction `f` of the initial
    /// controller's covariance: each `Σ_t` is raised to `Σ_t ⪰ f·Σ⁰_t` (in the coordinates
    /// whitened by `Σ⁰_t`, eigenvalues below `f` become `f`; see
    /// [`crate::covariance_floor`]). Without it (`0`, or `ω = 0` and no floor) the covariance
    /// shrinks at every KL step and long runs get worse once the samples stop exploring.
    /// Independent of the cost's units. Default 0.01 (a standard deviation of at least 10 % of
    /// the initial one); must be in `[0, 1]`.
    pub min_cov_fraction: f64,
}

impl Default for TrajOptConfig {
    fn default() -> Self {
        TrajOptConfig {
            algorithm: Algorithm::Pilqr,
            samples: 20,
            kl_step: KlStep::Fixed(PerStep::Linear(Ramp {
                start: 0.6,
                end: 0.2,
            })),
            min_step_mult: PerStep::Linear(Ramp {
                start: 0.01,
                end: 0.5,
            }),
            max_step_mult: PerStep::Linear(Ramp {
                start: 10.0,
                end: 5.0,
            }),
            init_step_mult: 1.0,
            step_rule: StepRule::ResPercent,
            res_percent: ResPercent::default(),
            lqr: LqrFlmConfig::default(),
            pi2: Pi2Config::default(),
            init: InitConfig::default(),
            min_cov_fraction: 0.01,
        }
    }
}

impl TrajOptConfig {
    /// Check every field against horizon `T`.
    pub fn validate(&self, horizon: usize) -> Result<(), TrajOptError> {
        if self.samples < 2 {
            return Err(TrajOptError::Config {
                field: "samples",
                reason: "need at least 2 samples".into(),
            });
        }
        self.kl_step.at(0, horizon)?;
        let min = self.min_step_mult.resolve("min_step_mult", horizon)?;
        let max = self.max_step_mult.resolve("max_step_mult", horizon)?;
        if let Some(t) = (0..horizon).find(|&t| min[t] > max[t]) {
            return Err(TrajOptError::Config {
                field: "min_step_mult",
                reason: format!("exceeds max_step_mult at time step {t}"),
            });
        }
        if !(self.init_step_mult > 0.0 && self.init_step_mult.is_finite()) {
            return Err(TrajOptError::Config {
                field: "init_step_mult",
                reason: "must be finite and > 0".into(),
            });
        }
        if !(0.0..=1.0).contains(&self.min_cov_fraction) {
            return Err(TrajOptError::Config {
                field: "min_cov_fraction",
                reason: format!("{} is not in [0, 1]", self.min_cov_fraction),
            });
        }
        self.lqr.validate()?;
        self.pi2.validate()?;
        Ok(())
    }
}
