//! MDGPS's C-step for one condition: update the local controller with LQR-FLM, PILQR or PI2,
//! the KL bound taken against the linearised global policy `π̄ = (pol_K, pol_k, pol_S)`
//! (docs/design.md §4.6 step 4); see [`c_step`].

use pilqr_core::{CostModel, LinearGaussianPolicy, SampleBatch};
use pilqr_dynamics::LinearDynamics;
use pilqr_trajopt::lqr_flm::{ForwardWorkspace, GaussianTrajectory, forward_pass};
use pilqr_trajopt::pilqr::{PilqrInputs, approximate_costs, residual_costs, residual_ratios};
use pilqr_trajopt::{LqrFlm, LqrFlmConfig, Pi2Config, pilqr_update, policy_kl};

use crate::error::MdgpsError;
use crate::local_method::LocalMethod;
use crate::pi2_reference::pi2_against_reference;
use crate::sampling::SamplingPolicy;

/// Everything one condition's C-step reads.
#[derive(Debug, Clone, Copy)]
pub struct CStepInputs<'a> {
    /// Fitted dynamics of this iteration.
    pub dynamics: &'a LinearDynamics,
    /// Quadratic cost model of this iteration's samples.
    pub cost: &'a CostModel,
    /// This iteration's samples, with their costs and noise.
    pub batch: &'a SampleBatch,
    /// What drew the samples.
    pub sampler: SamplingPolicy<'a>,
    /// The linearised global policy the KL bound is taken against.
    pub reference: &'a LinearGaussianPolicy,
    /// Per-step KL targets of the LQR stage, `ε_t = kl_step · step_mult`.
    pub kl_targets: &'a [f64],
    /// MDGPS's current step multiplier (PI2's bound is `kl_threshold · min(1, step_mult)`).
    pub step_mult: f64,
    /// Starting η of the LQR stage (length 1 or `T`).
    pub eta: &'a [f64],
}

/// The settings the C-step uses.
#[derive(Debug, Clone, Copy)]
pub struct CStepSettings<'a> {
    /// Which update.
    pub method: LocalMethod,
    /// LQR-FLM settings (LQR-FLM and PILQR).
    pub lqr: &'a LqrFlmConfig,
    /// PI2 settings (PI2 and PILQR's PI2 stage).
    pub pi2: &'a Pi2Config,
}

/// What a C-step produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CStepOutcome {
    /// The new local controller.
    pub policy: LinearGaussianPolicy,
    /// The LQR stage's η per step (LQR-FLM, PILQR); PI2 returns its input unchanged.
    pub eta: Vec<f64>,
    /// Median over steps of the dual variable of the update: LQR's η, or PI2's temperature.
    pub eta_median: f64,
    /// `Σ_t KL(p_new ‖ π̄)` under the new controller's state distribution in the fitted
    /// dynamics.
    pub kl_total: f64,
    /// PILQR: summed |residual cost| over summed |cost| of the samples.
    pub residual_ratio: Option<f64>,
}

fn step_err(context: &str) -> impl FnOnce(pilqr_trajopt::TrajOptError) -> MdgpsError + '_ {
    move |e| MdgpsError::Step {
        context: context.to_string(),
        reason: e.to_string(),
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => 0.5 * (s[n / 2 - 1] + s[n / 2]),
    }
}

/// `Σ_t KL(policy ‖ reference)` under `policy`'s state distribution in `dynamics`.
fn kl_to_reference(
    policy: &LinearGaussianPolicy,
    reference: &LinearGaussianPolicy,
    dynamics: &LinearDynamics,
) -> Result<f64, MdgpsError> {
    let (t, dx, du) = (policy.horizon(), policy.state_dim(), policy.action_dim());
    let mut traj = GaussianTrajectory::zeros(t, dx, du);
    forward_pass(
        dynamics,
        policy.gain(),
        policy.offset(),
        policy.cov(),
        &mut ForwardWorkspace::new(dx, du),
        &mut traj,
    );
    let kl = policy_kl(policy, reference, &traj).map_err(step_err("KL to the global policy"))?;
    Ok(kl.iter().sum())
}

/// One condition's C-step; `solver` holds LQR-FLM's buffers for the problem's sizes.
///
/// - **LQR-FLM**: the augmented cost's KL term uses `π̄`'s gains, offsets and precision;
///   `η_t` meets `KL(p ‖ π̄) = ε_t` per step (or in total).
/// - **PILQR**: the LQR stage as above gives `p̂`; the approximated costs re-simulate every
///   sample's noise through the controller that drew it (the local controller, or with
///   `sample_on_policy` the network's linearisation with the network's own covariance `Σ_π`);
///   PI2 then runs on the residual costs over the reparameterised LQR actions with its
///   temperature from the full costs — the PI2 stage is relative to `p̂`, which is itself
///   within the bound of `π̄` (the paper's MDGPS-PILQR).
/// - **PI2**: see [`crate::pi2_against_reference`]: importance weights towards `π̄`, the
///   temperature from the importance-weighted dual with `ε = kl_threshold · min(1, step_mult)`
///   (the step rule may shrink PI2's bound but never push it past the configured threshold,
///   which must stay below `log N` or the weights go one-hot), `π̄`'s gains kept.
pub fn c_step(
    solver: &mut LqrFlm,
    inputs: CStepInputs<'_>,
    settings: CStepSettings<'_>,
) -> Result<CStepOutcome, MdgpsError> {
    let i = inputs;
    match settings.method {
        LocalMethod::LqrFlm => {
            let res = solver
                .update(
                    i.dynamics,
                    i.cost,
                    i.reference,
                    i.kl_targets,
                    i.eta,
                    settings.lqr,
                )
                .map_err(step_err("LQR-FLM against the global policy"))?;
            Ok(CStepOutcome {
                eta_median: median(&res.eta),
                kl_total: res.kl_total,
                policy: res.policy,
                eta: res.eta,
                residual_ratio: None,
            })
        }
        LocalMethod::Pilqr => {
            let noise = i.sampler.noise_controller()?;
            let approximated = approximate_costs(&noise, i.dynamics, i.cost, i.batch)
                .map_err(step_err("PILQR's approximated costs"))?;
            let residuals = residual_costs(i.batch, &approximated)
                .map_err(step_err("PILQR's residual costs"))?;
            let mut ratio = vec![0.0; i.batch.horizon()];
            residual_ratios(
                i.batch.cost_all(),
                &residuals,
                i.batch.horizon(),
                false,
                &mut ratio,
            );
            let res = pilqr_update(
                solver,
                PilqrInputs {
                    previous: &noise,
                    kl_reference: Some(i.reference),
                    dynamics: i.dynamics,
                    cost: i.cost,
                    batch: i.batch,
                    approximated: &approximated,
                    kl_targets: i.kl_targets,
                    eta_init: i.eta,
                },
                settings.lqr,
                settings.pi2,
            )
            .map_err(step_err("PILQR against the global policy"))?;
            let kl_total = kl_to_reference(&res.policy, i.reference, i.dynamics)?;
            Ok(CStepOutcome {
                eta_median: median(&res.lqr.eta),
                kl_total,
                policy: res.policy,
                eta: res.lqr.eta,
                residual_ratio: ratio.first().copied(),
            })
        }
        LocalMethod::Pi2 => {
            let log_q = i.sampler.action_log_density(i.batch)?;
            let epsilon = settings.pi2.kl_threshold * i.step_mult.min(1.0);
            let res = pi2_against_reference(i.reference, i.batch, &log_q, epsilon, settings.pi2)?;
            let kl_total = kl_to_reference(&res.policy, i.reference, i.dynamics)?;
            Ok(CStepOutcome {
                eta_median: median(&res.eta),
                kl_total,
                policy: res.policy,
                eta: i.eta.to_vec(),
                residual_ratio: None,
            })
        }
    }
}
