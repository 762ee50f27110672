//! The per-condition trajectory-optimisation loop (docs/design.md §4.5, issue 4 deliverable 5).
//!
//! Each iteration, for every condition: roll out `samples` trajectories of the current
//! controller → build the quadratic cost model → fit the dynamics → step rule → update with
//! LQR-FLM, PI2 or PILQR. Conditions are independent and updated in parallel (rayon); every
//! random stream is derived from the run seed and (iteration, condition, sample), so results do
//! not depend on the thread count. An iteration is atomic: if any condition fails, no state
//! changes. [`TrajOpt`] serialises entirely (controllers, fitters with their buffers, step
//! multipliers, η, iteration counters) for checkpoints.

mod config;
mod metrics;
mod state;

pub use config::{Algorithm, TrajOptConfig};
pub use metrics::{IterationMetrics, PhaseTimes, Summary};
pub use state::{ConditionState, DynamicsModel};

use std::time::Instant;

use pilqr_core::{
    CoreError, CostModelBuilder, RunSeed, SampleError, SampleRequest, Task, TaskError,
    sample_policy,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::covariance_floor::floor_covariance;
use crate::error::TrajOptError;
use crate::init::{InitConfig, init_lqr, init_pd};
use crate::lqr_flm::{LqrFlm, estimate_cost};
use crate::pi2::pi2_update;
use crate::pilqr::{
    PilqrInputs, StepRule, adjust_step_mult, apply_step_rule, approximate_costs,
    estimates_after_update, pilqr_update, residual_ratios,
};

/// What can go wrong in the loop; every variant names the condition.
#[derive(Debug, Error)]
pub enum DriverError {
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(#[source] TrajOptError),
    /// The task failed outside sampling (reset, cost).
    #[error("condition {condition}: task: {source}")]
    Task {
        /// Condition.
        condition: usize,
        /// The task's error.
        #[source]
        source: TaskError,
    },
    /// Sampling failed.
    #[error("condition {condition}, iteration {iteration}: sampling: {source}")]
    Sample {
        /// Condition.
        condition: usize,
        /// Iteration.
        iteration: usize,
        /// The sampler's error.
        #[source]
        source: SampleError,
    },
    /// The cost model could not be built.
    #[error("condition {condition}: cost model: {source}")]
    Cost {
        /// Condition.
        condition: usize,
        /// The error.
        #[source]
        source: CoreError,
    },
    /// The dynamics fit failed.
    #[error("condition {condition}, iteration {iteration}: dynamics: {source}")]
    Dynamics {
        /// Condition.
        condition: usize,
        /// Iteration.
        iteration: usize,
        /// The fitter's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The controller update failed (the previous controller is kept).
    #[error("condition {condition}, iteration {iteration}: update: {source}")]
    Update {
        /// Condition.
        condition: usize,
        /// Iteration.
        iteration: usize,
        /// The optimiser's error.
        #[source]
        source: TrajOptError,
    },
}

/// The trajectory-optimisation loop over a set of conditions of one task.
///
/// ```no_run
/// # fn demo(task: &mut dyn pilqr_core::Task) -> Result<(), Box<dyn std::error::Error>> {
/// use pilqr_core::RunSeed;
/// use pilqr_dynamics::{DynamicsConfig, DynamicsFitter};
/// use pilqr_trajopt::driver::{TrajOpt, TrajOptConfig};
///
/// let (dx, du) = (task.dims().dx, task.dims().du);
/// let mut opt = TrajOpt::new(TrajOptConfig::default(), RunSeed::new(1), task, &[0, 1], |_| {
///     DynamicsFitter::new(DynamicsConfig::default(), dx, du).expect("valid default config")
/// })?;
/// for _ in 0..10 {
///     for m in opt.iterate(task)? {
///         println!("condition {}: cost {:.3}", m.condition, m.mean_cost);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrajOpt<M> {
    config: TrajOptConfig,
    seed: RunSeed,
    iteration: usize,
    conditions: Vec<ConditionState<M>>,
}

impl<M: DynamicsModel> TrajOpt<M> {
    /// Set up the loop on `conditions` of `task`: validate the configuration and build each
    /// condition's initial controller around its initial state; `make_model(condition)` gives
    /// each condition its dynamics fitter.
    pub fn new(
        config: TrajOptConfig,
        seed: RunSeed,
        task: &mut dyn Task,
        conditions: &[usize],
        mut make_model: impl FnMut(usize) -> M,
    ) -> Result<Self, DriverError> {
        let dims = task.dims();
        config.validate(dims.horizon).map_err(DriverError::Config)?;
        let layout = task.layout();
        let mut states = Vec::with_capacity(conditions.len());
        for &condition in conditions {
            task.reset(condition)
                .map_err(|source| DriverError::Task { condition, source })?;
            let mut x0 = vec![0.0; dims.dx];
            task.state(&mut x0);
            let init = match &config.init {
                InitConfig::Pd(c) => init_pd(dims.horizon, dims.du, &layout, &x0, c),
                InitConfig::Lqr(c) => init_lqr(dims.horizon, dims.du, dims.dt, &layout, &x0, c),
            };
            let policy = init.map_err(|source| DriverError::Update {
                condition,
                iteration: 0,
                source,
            })?;
            states.push(ConditionState {
                condition,
                initial_cov: policy.cov().clone(),
                policy,
                model: make_model(condition),
                step_mult: vec![config.init_step_mult; dims.horizon],
                eta: vec![1.0; dims.horizon],
                iterations: 0,
                previous_estimates: None,
                solver: None,
            });
        }
        Ok(TrajOpt {
            config,
            seed,
            iteration: 0,
            conditions: states,
        })
    }

    /// Iterations completed.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// The configuration.
    pub fn config(&self) -> &TrajOptConfig {
        &self.config
    }

    /// The per-condition states (controllers, fitters, step multipliers).
    pub fn conditions(&self) -> &[ConditionState<M>] {
        &self.conditions
    }

    /// One iteration for every condition; returns their metrics in condition order.
    ///
    /// Conditions run in parallel on rayon's pool when `task` can be forked, one after another
    /// otherwise; the results are identical either way. On error nothing changes.
    pub fn iterate(&mut self, task: &mut dyn Task) -> Result<Vec<IterationMetrics>, DriverError> {
        let iteration = self.iteration;
        let (config, seed) = (&self.config, self.seed);
        let mut forks: Vec<Box<dyn Task>> = Vec::with_capacity(self.conditions.len());
        for _ in 0..self.conditions.len() {
            match task.fork() {
                Some(f) => forks.push(f),
                None => break,
            }
        }
        let results: Vec<Result<(ConditionState<M>, IterationMetrics), DriverError>> =
            if forks.len() == self.conditions.len() && forks.len() > 1 {
                self.conditions
                    .par_iter()
                    .zip(forks.into_par_iter())
                    .map(|(state, mut world)| {
                        step_condition(state.clone(), world.as_mut(), config, seed, iteration)
                    })
                    .collect()
            } else {
                self.conditions
                    .iter()
                    .map(|state| step_condition(state.clone(), task, config, seed, iteration))
                    .collect()
            };
        let mut next = Vec::with_capacity(results.len());
        let mut metrics = Vec::with_capacity(results.len());
        for r in results {
            let (s, m) = r?;
            next.push(s);
            metrics.push(m);
        }
        self.conditions = next;
        self.iteration += 1;
        Ok(metrics)
    }
}

/// Mean and standard deviation of the samples' total costs.
fn cost_stats(batch: &pilqr_core::SampleBatch) -> (f64, f64) {
    let n = batch.len() as f64;
    let totals: Vec<f64> = (0..batch.len()).map(|i| batch.total_cost(i)).collect();
    let mean = totals.iter().sum::<f64>() / n;
    let var = totals.iter().map(|c| (c - mean) * (c - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// One iteration of one condition, on a copy of its state.
fn step_condition<M: DynamicsModel>(
    mut state: ConditionState<M>,
    task: &mut dyn Task,
    config: &TrajOptConfig,
    seed: RunSeed,
    iteration: usize,
) -> Result<(ConditionState<M>, IterationMetrics), DriverError> {
    let condition = state.condition;
    let update_err = |source| DriverError::Update {
        condition,
        iteration,
        source,
    };
    let mut times = PhaseTimes::default();
    let clock = Instant::now();
    let request = SampleRequest {
        seed,
        iteration,
        condition,
        count: config.samples,
    };
    let batch = sample_policy(task, &state.policy, None, request).map_err(|source| {
        DriverError::Sample {
            condition,
            iteration,
            source,
        }
    })?;
    times.sampling = clock.elapsed().as_secs_f64();
    let (mean_cost, std_cost) = cost_stats(&batch);
    let dims = batch.dims();
    let horizon = dims.horizon;
    let mut metrics = IterationMetrics {
        iteration,
        condition,
        mean_cost,
        std_cost,
        kl_total: None,
        kl: None,
        eta: None,
        eta_passes: None,
        eta_converged: None,
        pi2_eta: None,
        step_mult: Summary::of(&state.step_mult),
        residual_ratio: None,
        improvement: None,
        times,
    };
    if config.algorithm == crate::driver::Algorithm::Pi2 {
        let clock = Instant::now();
        let res = pi2_update(&state.policy, &batch, &config.pi2).map_err(update_err)?;
        metrics.times.update = clock.elapsed().as_secs_f64();
        metrics.pi2_eta = Some(Summary::of(&res.eta));
        state.policy = res.policy;
        state.iterations += 1;
        return Ok((state, metrics));
    }
    let clock = Instant::now();
    let cost = task
        .cost(condition)
        .map_err(|source| DriverError::Task { condition, source })?;
    let cost_model = CostModelBuilder::new(horizon, dims.dx, dims.du)
        .build(cost.as_ref(), &batch)
        .map_err(|source| DriverError::Cost { condition, source })?;
    metrics.times.cost = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let dynamics = state
        .model
        .update(
            &batch,
            seed.derive("dynamics", &[iteration as u64, condition as u64]),
        )
        .map_err(|e| DriverError::Dynamics {
            condition,
            iteration,
            source: Box::new(e),
        })?;
    metrics.times.dynamics = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    // Step rule on the residuals of the model's predictions.
    let approximated =
        approximate_costs(&state.policy, &dynamics, &cost_model, &batch).map_err(update_err)?;
    let residual: Vec<f64> = batch
        .cost_all()
        .iter()
        .zip(&approximated)
        .map(|(c, a)| c - a)
        .collect();
    let mut ratios = vec![0.0; horizon];
    residual_ratios(
        batch.cost_all(),
        &residual,
        horizon,
        config.lqr.per_step,
        &mut ratios,
    );
    let mut global = vec![0.0; horizon];
    residual_ratios(batch.cost_all(), &residual, horizon, false, &mut global);
    metrics.residual_ratio = global.first().copied();
    let min = config
        .min_step_mult
        .resolve("min_step_mult", horizon)
        .map_err(update_err)?;
    let max = config
        .max_step_mult
        .resolve("max_step_mult", horizon)
        .map_err(update_err)?;
    let mut mult = state.step_mult.clone();
    // The `improvement` rule's estimate of the sampled controller under this iteration's fit:
    // the previous update's actual outcome now, the baseline of the next adjustment later.
    let current_estimate = if config.step_rule == StepRule::Improvement {
        Some(
            estimate_cost(&state.policy, &dynamics, &cost_model)
                .map_err(update_err)?
                .0,
        )
    } else {
        None
    };
    if let Some(current) = current_estimate {
        metrics.improvement = adjust_step_mult(
            state.previous_estimates.as_ref(),
            current,
            &min,
            &max,
            &mut mult,
        )
        .map_err(update_err)?;
    } else if state.iterations > 0 {
        apply_step_rule(
            config.step_rule,
            &config.res_percent,
            &ratios,
            &min,
            &max,
            &mut mult,
        );
    }
    let base = config
        .kl_step
        .at(state.iterations, horizon)
        .map_err(update_err)?;
    let targets: Vec<f64> = base.iter().zip(&mult).map(|(b, m)| b * m).collect();
    let solver = state
        .solver
        .get_or_insert_with(|| LqrFlm::new(horizon, dims.dx, dims.du));
    let lqr_res = match config.algorithm {
        crate::driver::Algorithm::LqrFlm => {
            let res = solver
                .update(
                    &dynamics,
                    &cost_model,
                    &state.policy,
                    &targets,
                    &state.eta,
                    &config.lqr,
                )
                .map_err(update_err)?;
            state.policy = res.policy.clone();
            res
        }
        _ => {
            let res = pilqr_update(
                solver,
                PilqrInputs {
                    previous: &state.policy,
                    kl_reference: None,
                    dynamics: &dynamics,
                    cost: &cost_model,
                    batch: &batch,
                    approximated: &approximated,
                    kl_targets: &targets,
                    eta_init: &state.eta,
                },
                &config.lqr,
                &config.pi2,
            )
            .map_err(update_err)?;
            metrics.pi2_eta = Some(Summary::of(&res.pi2.eta));
            state.policy = res.policy;
            res.lqr
        }
    };
    let (policy, _) = floor_covariance(
        state.policy.clone(),
        &state.initial_cov,
        config.min_cov_fraction,
    )
    .map_err(update_err)?;
    state.policy = policy;
    state.previous_estimates = match current_estimate {
        Some(current) => Some(
            estimates_after_update(current, &state.policy, &dynamics, &cost_model)
                .map_err(update_err)?,
        ),
        None => None,
    };
    metrics.times.update = clock.elapsed().as_secs_f64();
    metrics.kl_total = Some(lqr_res.kl_total);
    metrics.kl = Some(Summary::of(&lqr_res.kl));
    metrics.eta = Some(Summary::of(&lqr_res.eta));
    metrics.eta_passes = Some(lqr_res.iterations);
    metrics.eta_converged = Some(lqr_res.converged);
    metrics.step_mult = Summary::of(&mult);
    state.eta = lqr_res.eta;
    state.step_mult = mult;
    state.iterations += 1;
    Ok((state, metrics))
}
