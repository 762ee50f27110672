//! PILQR: LQR-FLM on the fitted model, then PI2 on what the model failed to predict
//! (the paper's Algorithm 1, docs/design.md §4.5).
//!
//! Given the previous controller `p̄` (which generated `batch`), the fitted dynamics, the cost
//! model and the samples' approximated costs ([`approximate_costs`]):
//! 1. LQR-FLM with per-step KL steps gives `p̂`;
//! 2. every sample's action is re-expressed through `p̂` with its stored noise,
//!    `û = K̂ x + k̂ + chol(Σ̂) ε` (reparameterisation, no new rollouts);
//! 3. the temperature `η_t` comes from the PI2 dual on the *full* sampled costs-to-go (or, with
//!    [`PilqrTemperature::ResidualCosts`], on the residual ones);
//! 4. PI2 with those fixed `η_t` on the *residual* costs-to-go over the `û` gives `p^{(i)}`.

mod approximate_cost;
pub mod improvement_rule;
mod step_rule;

pub use approximate_cost::{approximate_costs, residual_costs};
pub use improvement_rule::{
    ImprovementStep, PreviousEstimates, adjust_step_mult, estimates_after_update, improvement_step,
    scale_step_mult,
};
pub use step_rule::{ResPercent, StepRule, apply_step_rule, residual_ratios};

use faer::{MatMut, MatRef};
use pilqr_core::{CostModel, LinearGaussianPolicy, SampleBatch};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::matmul_into;

use crate::error::{TrajOptError, expect_dim};
use crate::lqr_flm::{LqrFlm, LqrFlmConfig, LqrFlmResult};
use crate::pi2::{
    Pi2Config, Pi2Result, Pi2Samples, PilqrTemperature, TemperatureSource, check_batch,
    costs_to_go_in_place, dual_temperature_from, pi2_core,
};

/// The outcome of a PILQR update.
#[derive(Debug, Clone, PartialEq)]
pub struct PilqrResult {
    /// The final controller `p^{(i)}`.
    pub policy: LinearGaussianPolicy,
    /// The LQR stage (its `policy` is `p̂`).
    pub lqr: LqrFlmResult,
    /// The PI2 stage.
    pub pi2: Pi2Result,
}

/// Inputs of one PILQR update.
#[derive(Debug, Clone, Copy)]
pub struct PilqrInputs<'a> {
    /// The previous controller `p̄`, which generated `batch`.
    pub previous: &'a LinearGaussianPolicy,
    /// The controller the LQR stage's KL is taken against: `None` for `previous` (plain
    /// trajectory optimisation); MDGPS passes the linearised global policy.
    pub kl_reference: Option<&'a LinearGaussianPolicy>,
    /// Fitted dynamics.
    pub dynamics: &'a LinearDynamics,
    /// Cost model.
    pub cost: &'a CostModel,
    /// The samples, with their actual costs and noise.
    pub batch: &'a SampleBatch,
    /// Approximated costs `[N, T]` from [`approximate_costs`].
    pub approximated: &'a [f64],
    /// Per-step KL targets of the LQR stage.
    pub kl_targets: &'a [f64],
    /// Starting η (length 1 or `T`).
    pub eta_init: &'a [f64],
}

/// One PILQR update; `lqr` holds the solver's buffers for the batch's sizes.
pub fn pilqr_update(
    lqr: &mut LqrFlm,
    inputs: PilqrInputs<'_>,
    lqr_config: &LqrFlmConfig,
    pi2_config: &Pi2Config,
) -> Result<PilqrResult, TrajOptError> {
    pi2_config.validate()?;
    check_batch(inputs.batch, inputs.previous)?;
    let batch = inputs.batch;
    let horizon = inputs.previous.horizon();
    expect_dim(
        "approximated costs",
        inputs.approximated.len(),
        batch.cost_all().len(),
    )?;
    crate::error::expect_finite("approximated costs", inputs.approximated, horizon)?;
    let lqr_res = lqr.update(
        inputs.dynamics,
        inputs.cost,
        inputs.kl_reference.unwrap_or(inputs.previous),
        inputs.kl_targets,
        inputs.eta_init,
        lqr_config,
    )?;
    let p_hat = &lqr_res.policy;
    let du = p_hat.action_dim();
    let n = batch.len();
    // Reparameterised LQR actions û = K̂ x + k̂ + L̂ ε, for all samples of a step at once (their
    // states, noises and actions are strided columns of the `[N, T, ·]` arrays).
    let dx = p_hat.state_dim();
    let mut u_hat = vec![0.0; n * horizon * du];
    for t in 0..horizon {
        let xs = MatRef::from_column_major_slice_with_stride(
            &batch.x_all()[t * dx..],
            dx,
            n,
            horizon * dx,
        );
        let eps = MatRef::from_column_major_slice_with_stride(
            &batch.noise_all()[t * du..],
            du,
            n,
            horizon * du,
        );
        let mut us = MatMut::from_column_major_slice_with_stride_mut(
            &mut u_hat[t * du..],
            du,
            n,
            horizon * du,
        );
        let k = p_hat.offset().at(t);
        for i in 0..n {
            for r in 0..du {
                us[(r, i)] = k[r];
            }
        }
        matmul_into(us.as_mut(), p_hat.gain().at(t), xs, 1.0, true);
        matmul_into(us, p_hat.chol().at(t), eps, 1.0, true);
    }
    // Temperatures from the full (or, if configured, the residual) costs-to-go.
    let mut full = batch.cost_all().to_vec();
    if pi2_config.pilqr_temperature == PilqrTemperature::ResidualCosts {
        for (f, a) in full.iter_mut().zip(inputs.approximated) {
            *f -= a;
        }
    }
    costs_to_go_in_place(&mut full, horizon);
    let mut column = vec![0.0; n];
    let mut scratch = vec![0.0; n];
    let mut eta = vec![0.0; horizon];
    for t in 0..horizon {
        for i in 0..n {
            column[i] = full[i * horizon + t];
        }
        eta[t] = match pi2_config.fixed_temperature {
            Some(e) => e,
            None => {
                let guess = (t > 0).then(|| eta[t - 1]);
                dual_temperature_from(
                    &column,
                    pi2_config.kl_threshold,
                    pi2_config.min_temperature,
                    pi2_config.max_temperature,
                    guess,
                    &mut scratch,
                )
                .eta
            }
        };
    }
    // PI2 on the residual costs-to-go with those temperatures.
    let mut residual: Vec<f64> = batch
        .cost_all()
        .iter()
        .zip(inputs.approximated)
        .map(|(c, a)| c - a)
        .collect();
    costs_to_go_in_place(&mut residual, horizon);
    let pi2 = pi2_core(
        p_hat,
        Pi2Samples {
            x: batch.x_all(),
            u: &u_hat,
            n,
        },
        &residual,
        TemperatureSource::Fixed(&eta),
        pi2_config,
    )?;
    Ok(PilqrResult {
        policy: pi2.policy.clone(),
        lqr: lqr_res,
        pi2,
    })
}

#[cfg(test)]
mod tests;
