//! PI2: model-free policy improvement with path integrals (docs/design.md §4.4).
//!
//! Per step t, the costs-to-go of the N samples are turned into weights
//! `p_i ∝ exp(−(S_i − min S)/η_t)` whose KL to the uniform distribution meets `kl_threshold`
//! (the temperature from the dual, [`dual_temperature`]); the new feed-forward term is the
//! weighted mean of `ũ_i = u_i − K_t x_i` and the new covariance their weighted scatter, or,
//! with `covariance_damping` `d > 0`, `Σ_new = (tr(Σ_old⁻¹ Σ_ml)/dU)^{1/d} Σ_old`. PI2 keeps
//! the gains `K`.

mod temperature;
mod update;

pub use temperature::{
    Temperature, dual_temperature, dual_temperature_from, dual_value, weights_into,
};
pub(crate) use update::pi2_core;
pub use update::{Pi2Result, Pi2Samples, TemperatureSource, costs_to_go_in_place};

use pilqr_core::{LinearGaussianPolicy, SampleBatch};
use serde::{Deserialize, Serialize};

use crate::error::{TrajOptError, expect_dim};

/// Settings of PI2. Defaults follow the classic implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pi2Config {
    /// KL between the sample weights and uniform, per step (default 2.0; keep it below
    /// `log N`, else the weights go one-hot).
    pub kl_threshold: f64,
    /// Covariance damping `d` (default 2.0; 0 = plain weighted scatter).
    pub covariance_damping: f64,
    /// Lower bound of the temperature (default 1e-3).
    pub min_temperature: f64,
    /// Upper bound of the temperature (default 1e16).
    pub max_temperature: f64,
    /// Smallest accepted size of the weighted ML covariance relative to the old one,
    /// `tr(Σ_old⁻¹ Σ_ml)/dU` (default 1e-6). Below it (near one-hot weights) or when the
    /// covariance is singular, the step's temperature is raised and the update redone; at the
    /// temperature bound, this fraction of the old covariance's mean diagonal is added instead.
    pub covariance_floor: f64,
    /// A fixed temperature for every step instead of the dual (default: none).
    pub fixed_temperature: Option<f64>,
    /// PILQR only: which costs-to-go the PI2 stage's temperature dual is solved on (default
    /// `full-costs`, as in docs/design.md §4.5). Plain PI2 ignores it.
    pub pilqr_temperature: PilqrTemperature,
}

/// Which costs-to-go PILQR's PI2 stage takes its per-step temperature `η_t` from.
///
/// The stage always reweights by the **residual** costs-to-go; the temperature only sets how
/// strongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PilqrTemperature {
    /// The dual on the full sampled costs-to-go (docs/design.md §4.5). The PI2 stage's own KL is then
    /// not bounded: residuals much larger than the spread of the full costs make its weights
    /// nearly one-hot.
    #[default]
    FullCosts,
    /// The dual on the residual costs-to-go, so that the PI2 stage's weights have exactly
    /// `kl_threshold` of KL to uniform, whatever the size of the residuals.
    ResidualCosts,
}

impl Default for Pi2Config {
    fn default() -> Self {
        Pi2Config {
            kl_threshold: 2.0,
            covariance_damping: 2.0,
            min_temperature: 1e-3,
            max_temperature: 1e16,
            covariance_floor: 1e-6,
            fixed_temperature: None,
            pilqr_temperature: PilqrTemperature::FullCosts,
        }
    }
}

impl Pi2Config {
    /// Check the values' domains.
    pub fn validate(&self) -> Result<(), TrajOptError> {
        let bad = |field, reason: &str| {
            Err(TrajOptError::Config {
                field,
                reason: reason.into(),
            })
        };
        if !(self.kl_threshold > 0.0 && self.kl_threshold.is_finite()) {
            return bad("kl_threshold", "must be finite and > 0");
        }
        if !(self.covariance_damping >= 0.0 && self.covariance_damping.is_finite()) {
            return bad("covariance_damping", "must be finite and >= 0");
        }
        if !(self.min_temperature > 0.0 && self.max_temperature > self.min_temperature) {
            return bad(
                "min_temperature",
                "need 0 < min_temperature < max_temperature",
            );
        }
        if !self.max_temperature.is_finite() {
            return bad("max_temperature", "must be finite");
        }
        if !(self.covariance_floor > 0.0 && self.covariance_floor.is_finite()) {
            return bad("covariance_floor", "must be finite and > 0");
        }
        if let Some(e) = self.fixed_temperature
            && !(e > 0.0 && e.is_finite())
        {
            return bad("fixed_temperature", "must be finite and > 0");
        }
        Ok(())
    }
}

/// Check that a batch matches a controller's sizes.
pub(crate) fn check_batch(
    batch: &SampleBatch,
    policy: &LinearGaussianPolicy,
) -> Result<(), TrajOptError> {
    let d = batch.dims();
    expect_dim("batch horizon", d.horizon, policy.horizon())?;
    expect_dim("batch state dimension", d.dx, policy.state_dim())?;
    expect_dim("batch action dimension", d.du, policy.action_dim())?;
    Ok(())
}

/// Plain PI2: update `previous` from its own samples `batch` (actions and costs as sampled).
///
/// ```
/// use faer::mat;
/// use pilqr_core::{LinearGaussianPolicy, SampleBatch, SampleDims, Trajectory};
/// use pilqr_linalg::{MatStack, VecStack};
/// use pilqr_trajopt::pi2::{Pi2Config, pi2_update};
///
/// // One step, u ~ N(0, 1), cost (u − 1)²: the update moves k towards 1.
/// let prev = LinearGaussianPolicy::new(
///     MatStack::zeros(1, 1, 1), VecStack::zeros(1, 1), MatStack::repeat(1, mat![[1.0]].as_ref()),
/// ).unwrap();
/// let dims = SampleDims { horizon: 1, dx: 1, du: 1, dobs: 0 };
/// let trajs = (0..20).map(|i| {
///     let u = -2.0 + 4.0 * i as f64 / 19.0;
///     Trajectory { x: vec![0.0], u: vec![u], obs: vec![], noise: vec![u], cost: vec![(u - 1.0) * (u - 1.0)] }
/// }).collect();
/// let batch = SampleBatch::from_trajectories(dims, trajs).unwrap();
/// let res = pi2_update(&prev, &batch, &Pi2Config::default()).unwrap();
/// assert!(res.policy.offset().at(0)[0] > 0.5);
/// ```
pub fn pi2_update(
    previous: &LinearGaussianPolicy,
    batch: &SampleBatch,
    config: &Pi2Config,
) -> Result<Pi2Result, TrajOptError> {
    config.validate()?;
    check_batch(batch, previous)?;
    let horizon = previous.horizon();
    let mut s = batch.cost_all().to_vec();
    costs_to_go_in_place(&mut s, horizon);
    let fixed;
    let temperature = match config.fixed_temperature {
        Some(e) => {
            fixed = vec![e; horizon];
            TemperatureSource::Fixed(&fixed)
        }
        None => TemperatureSource::Dual,
    };
    pi2_core(
        previous,
        Pi2Samples {
            x: batch.x_all(),
            u: batch.u_all(),
            n: batch.len(),
        },
        &s,
        temperature,
        config,
    )
}

/// PI2 update of `reference` from given samples and costs-to-go: the general form behind
/// [`pi2_update`], for callers whose samples, costs or temperatures are not a controller's own
/// (MDGPS updates against a linearised global policy from samples of another controller).
///
/// `samples` hold `N` samples' states `[N, T, dX]` and actions `[N, T, dU]`; `cost_to_go` is
/// `[N, T]` (sample-major). The result keeps `reference`'s gains `K`, fits `k` to the weighted
/// `u − K x`, and its covariance is the weighted scatter or, with covariance damping, a multiple
/// of `reference`'s covariance. Every size and value is checked.
pub fn pi2_update_with(
    reference: &LinearGaussianPolicy,
    samples: Pi2Samples<'_>,
    cost_to_go: &[f64],
    temperature: TemperatureSource<'_>,
    config: &Pi2Config,
) -> Result<Pi2Result, TrajOptError> {
    config.validate()?;
    let (horizon, dx, du) = (
        reference.horizon(),
        reference.state_dim(),
        reference.action_dim(),
    );
    if samples.n == 0 {
        return Err(TrajOptError::Dimension {
            field: "PI2 sample count",
            expected: 1,
            got: 0,
        });
    }
    expect_dim(
        "PI2 sample states",
        samples.x.len(),
        samples.n * horizon * dx,
    )?;
    expect_dim(
        "PI2 sample actions",
        samples.u.len(),
        samples.n * horizon * du,
    )?;
    expect_dim("PI2 costs-to-go", cost_to_go.len(), samples.n * horizon)?;
    // Values are sample-major `[N, T, width]`: report the time step of the first bad one.
    let finite = |field: &'static str, values: &[f64], width: usize| match values
        .iter()
        .position(|v| !v.is_finite())
    {
        None => Ok(()),
        Some(p) => Err(TrajOptError::NonFinite {
            field,
            step: (p / width.max(1)) % horizon.max(1),
        }),
    };
    finite("PI2 sample states", samples.x, dx)?;
    finite("PI2 sample actions", samples.u, du)?;
    finite("PI2 costs-to-go", cost_to_go, 1)?;
    if let TemperatureSource::Fixed(etas) = temperature {
        expect_dim("PI2 temperatures", etas.len(), horizon)?;
        if let Some(t) = etas.iter().position(|e| !(*e > 0.0 && e.is_finite())) {
            return Err(TrajOptError::NonFinite {
                field: "PI2 temperatures (must be finite and > 0)",
                step: t,
            });
        }
    }
    pi2_core(reference, samples, cost_to_go, temperature, config)
}

#[cfg(test)]
mod tests;
