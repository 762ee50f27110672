//! The MDGPS loop (docs/design.md §4.6): sample → fit dynamics → (first iteration: catch-up S-step)
//! → linearise the global policy → step-size rule → C-step against the linearisation →
//! S-step.

use std::time::Instant;

use pilqr_core::{
    CostModel, CostModelBuilder, LinearGaussianPolicy, Outcome, Policy, RunSeed, SampleBatch,
    SampleRequest, Task, sample_policy,
};
use pilqr_dynamics::{DynamicsFitter, LinearDynamics};
use pilqr_trajopt::init::{InitConfig, init_lqr, init_pd};
use pilqr_trajopt::{LqrFlm, estimate_cost};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::c_step::{CStepInputs, CStepSettings, c_step};
use crate::config::MdgpsConfig;
use crate::error::MdgpsError;
use crate::global_policy::MeanAction;
use crate::metrics::{ConditionMetrics, ConditionTimes, MdgpsMetrics};
use crate::nn_policy::NnPolicy;
use crate::policy_prior::PolicyPriorGmm;
use crate::s_step::s_step;
use crate::sampling::SamplingPolicy;
use crate::step_adjust::{CurrentCosts, PreviousCosts, step_adjustment};
use crate::supervision::SStepCondition;

/// Everything one training condition carries between iterations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MdgpsCondition {
    /// Condition index in the task.
    pub condition: usize,
    /// The local controller.
    pub local: LinearGaussianPolicy,
    /// Dynamics fitter (with its buffer).
    pub fitter: DynamicsFitter,
    /// Policy prior (with its buffer).
    pub prior: PolicyPriorGmm,
    /// The LQR stage's η per step.
    pub eta: Vec<f64>,
    /// Figures of the last iteration for the step rule.
    pub previous: Option<PreviousCosts>,
}

/// The MDGPS state: the global policy, the training conditions and the shared step multiplier.
/// Serialises entirely, so a checkpoint resumes bit-identically.
///
/// The local method of the C-step is `config.local` ([`crate::LocalMethod`]): LQR-FLM, PILQR
/// or PI2, each with its KL bound taken against the linearised global policy (see
/// [`crate::c_step`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mdgps {
    config: MdgpsConfig,
    seed: RunSeed,
    iteration: usize,
    step_mult: f64,
    policy: NnPolicy,
    conditions: Vec<MdgpsCondition>,
}

/// What one condition's sampling and fitting produced this iteration.
struct Fitted {
    batch: SampleBatch,
    cost: CostModel,
    dynamics: LinearDynamics,
    times: ConditionTimes,
}

fn other(context: &str, e: impl std::fmt::Display) -> MdgpsError {
    MdgpsError::Step {
        context: context.to_string(),
        reason: e.to_string(),
    }
}

fn std_dev(batch: &SampleBatch) -> f64 {
    let n = batch.len();
    let mean = batch.mean_total_cost();
    let var = (0..n)
        .map(|i| (batch.total_cost(i) - mean).powi(2))
        .sum::<f64>()
        / n.max(1) as f64;
    var.sqrt()
}

impl Mdgps {
    /// Set up on the training `conditions` of `task`: initial local controllers, fitters,
    /// policy priors and a fresh network.
    pub fn new(
        config: MdgpsConfig,
        seed: RunSeed,
        task: &mut dyn Task,
        conditions: &[usize],
    ) -> Result<Self, MdgpsError> {
        config.validate()?;
        if conditions.is_empty() {
            return Err(MdgpsError::NoData {
                reason: "MDGPS needs at least one training condition".into(),
            });
        }
        let d = task.dims();
        let layout = task.layout();
        let mut states = Vec::with_capacity(conditions.len());
        for &condition in conditions {
            task.reset(condition)
                .map_err(|e| other(&format!("resetting condition {condition}"), e))?;
            let mut x0 = vec![0.0; d.dx];
            task.state(&mut x0);
            let local = match &config.init {
                InitConfig::Pd(c) => init_pd(d.horizon, d.du, &layout, &x0, c),
                InitConfig::Lqr(c) => init_lqr(d.horizon, d.du, d.dt, &layout, &x0, c),
            }
            .map_err(|e| other("building the initial controller", e))?;
            states.push(MdgpsCondition {
                condition,
                local,
                fitter: DynamicsFitter::new(config.dynamics.clone(), d.dx, d.du)?,
                prior: PolicyPriorGmm::new(config.policy_prior.clone(), d.dx, d.dobs)?,
                eta: vec![1.0; d.horizon],
                previous: None,
            });
        }
        let policy = NnPolicy::new(
            &config.network,
            d.dobs,
            d.du,
            config.init_policy_variance,
            seed,
        )?;
        Ok(Mdgps {
            step_mult: config.init_step_mult,
            config,
            seed,
            iteration: 0,
            policy,
            conditions: states,
        })
    }

    /// The global policy.
    pub fn policy(&self) -> &NnPolicy {
        &self.policy
    }

    /// The settings.
    pub fn config(&self) -> &MdgpsConfig {
        &self.config
    }

    /// Iterations completed.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// The current step multiplier.
    pub fn step_mult(&self) -> f64 {
        self.step_mult
    }

    /// The training conditions' states.
    pub fn conditions(&self) -> &[MdgpsCondition] {
        &self.conditions
    }

    /// One MDGPS iteration over all training conditions. On error nothing changes.
    pub fn iterate(&mut self, task: &mut dyn Task) -> Result<MdgpsMetrics, MdgpsError> {
        let mut next = self.clone();
        let metrics = next.iterate_in_place(task)?;
        *self = next;
        Ok(metrics)
    }

    /// Sample every condition and fit its cost model and dynamics.
    fn sample_and_fit(&mut self, task: &mut dyn Task) -> Result<Vec<Fitted>, MdgpsError> {
        let (it, seed) = (self.iteration, self.seed);
        let d = task.dims();
        let on_policy = self.config.sample_on_policy && it > 0;
        let mut fitted = Vec::with_capacity(self.conditions.len());
        for c in &mut self.conditions {
            let m = c.condition;
            let mut times = ConditionTimes::default();
            let clock = Instant::now();
            let request = SampleRequest {
                seed,
                iteration: it,
                condition: m,
                count: self.config.samples,
            };
            let sampler: &dyn Policy = if on_policy { &self.policy } else { &c.local };
            let batch = sample_policy(task, sampler, None, request)
                .map_err(|e| other(&format!("sampling condition {m}"), e))?;
            times.sampling = clock.elapsed().as_secs_f64();
            let clock = Instant::now();
            let cost_fn = task
                .cost(m)
                .map_err(|e| other(&format!("cost of condition {m}"), e))?;
            let cost =
                CostModelBuilder::new(d.horizon, d.dx, d.du).build(cost_fn.as_ref(), &batch)?;
            times.cost = clock.elapsed().as_secs_f64();
            let clock = Instant::now();
            let dynamics = c
                .fitter
                .update(&batch, seed.derive("dynamics", &[it as u64, m as u64]))?;
            times.dynamics = clock.elapsed().as_secs_f64();
            fitted.push(Fitted {
                batch,
                cost,
                dynamics,
                times,
            });
        }
        Ok(fitted)
    }

    fn iterate_in_place(&mut self, task: &mut dyn Task) -> Result<MdgpsMetrics, MdgpsError> {
        let (it, seed) = (self.iteration, self.seed);
        let d = task.dims();
        // 1–2. Sample and fit the dynamics.
        let mut fitted = self.sample_and_fit(task)?;
        // First iteration: catch the network up with the initial controllers.
        let catch_up = if it == 0 {
            let data: Vec<_> = self
                .conditions
                .iter()
                .zip(&fitted)
                .map(|(c, f)| SStepCondition {
                    samples: &f.batch,
                    local: &c.local,
                    weights: None,
                })
                .collect();
            Some(s_step(
                &mut self.policy,
                &data,
                &self.config.s_step,
                seed,
                2 * it,
            )?)
        } else {
            None
        };
        // 3. Linearise the global policy around each condition's samples. Every condition's
        // prior, linearisation and cost estimate depend on that condition alone, so they run in
        // parallel; the results are collected in condition order (and the first error in that
        // order is reported), which keeps every bit independent of the thread count.
        let policy = &self.policy;
        let section = Instant::now();
        let linearised: Vec<Result<(LinearGaussianPolicy, CurrentCosts, f64), MdgpsError>> = self
            .conditions
            .par_iter_mut()
            .zip(fitted.par_iter_mut())
            .map(|(c, f)| {
                let clock = Instant::now();
                let s = seed.derive("policy-prior", &[it as u64, c.condition as u64]);
                c.prior.update(&f.batch, policy, s)?;
                let lin = c.prior.linearize(&f.batch, policy)?;
                let (laplace, _) = estimate_cost(&lin, &f.dynamics, &f.cost)
                    .map_err(|e| other("estimating the global policy's cost", e))?;
                let now = CurrentCosts {
                    laplace,
                    mc: f.batch.mean_total_cost(),
                };
                Ok((lin, now, clock.elapsed().as_secs_f64()))
            })
            .collect();
        let wall = section.elapsed().as_secs_f64();
        let mut linear = Vec::with_capacity(fitted.len());
        let mut current = Vec::with_capacity(fitted.len());
        let mut own = Vec::with_capacity(fitted.len());
        for r in linearised {
            let (lin, now, seconds) = r?;
            linear.push(lin);
            current.push(now);
            own.push(seconds);
        }
        // Each condition's share of the section's wall time, in proportion to its own time
        // (so the shares add up to the wall time however many threads ran them).
        let busy: f64 = own.iter().sum();
        for (f, seconds) in fitted.iter_mut().zip(&own) {
            f.times.linearisation = if busy > 0.0 {
                wall * seconds / busy
            } else {
                0.0
            };
        }
        // 4. Step size from the previous iteration's prediction, averaged over conditions.
        let previous: Vec<PreviousCosts> =
            self.conditions.iter().filter_map(|c| c.previous).collect();
        let step_adjustment = if previous.is_empty() {
            None
        } else {
            let adj = step_adjustment(self.config.step_rule, &previous, &current)?;
            self.step_mult = adj.apply(
                self.step_mult,
                self.config.min_step_mult,
                self.config.max_step_mult,
            );
            Some(adj)
        };
        // 5. C-step against the linearisation.
        let targets = vec![self.config.kl_step * self.step_mult; d.horizon];
        let mut solver = LqrFlm::new(d.horizon, d.dx, d.du);
        let on_policy = self.config.sample_on_policy && it > 0;
        let settings = CStepSettings {
            method: self.config.local,
            lqr: &self.config.lqr,
            pi2: &self.config.pi2,
        };
        let mut rows = Vec::with_capacity(fitted.len());
        let per_condition = fitted.iter_mut().zip(&linear).zip(&current);
        for (c, ((f, lin), now)) in self.conditions.iter_mut().zip(per_condition) {
            let clock = Instant::now();
            let sampler = if on_policy {
                SamplingPolicy::Global {
                    policy: &self.policy,
                    linear: lin,
                }
            } else {
                SamplingPolicy::Local(&c.local)
            };
            let inputs = CStepInputs {
                dynamics: &f.dynamics,
                cost: &f.cost,
                batch: &f.batch,
                sampler,
                reference: lin,
                kl_targets: &targets,
                step_mult: self.step_mult,
                eta: &c.eta,
            };
            let res = c_step(&mut solver, inputs, settings)
                .map_err(|e| other(&format!("C-step of condition {}", c.condition), e))?;
            let (predicted, _) = estimate_cost(&res.policy, &f.dynamics, &f.cost)
                .map_err(|e| other("estimating the new controller's cost", e))?;
            c.previous = Some(PreviousCosts {
                laplace: now.laplace,
                mc: now.mc,
                predicted,
            });
            c.local = res.policy;
            c.eta = res.eta;
            f.times.update = clock.elapsed().as_secs_f64();
            rows.push(ConditionMetrics {
                condition: c.condition,
                mean_cost: f.batch.mean_total_cost(),
                std_cost: std_dev(&f.batch),
                kl_total: res.kl_total,
                eta: res.eta_median,
                residual_ratio: res.residual_ratio,
                times: f.times,
            });
        }
        // 6. S-step onto the new local controllers.
        let data: Vec<_> = self
            .conditions
            .iter()
            .zip(&fitted)
            .map(|(c, f)| SStepCondition {
                samples: &f.batch,
                local: &c.local,
                weights: None,
            })
            .collect();
        let report = s_step(
            &mut self.policy,
            &data,
            &self.config.s_step,
            seed,
            2 * it + 1,
        )?;
        self.iteration += 1;
        Ok(MdgpsMetrics {
            iteration: it,
            conditions: rows,
            step_mult: self.step_mult,
            step_adjustment,
            catch_up,
            s_step: report,
        })
    }

    /// Roll out the network's mean action (no noise) once from `condition` (any condition of
    /// the task, trained on or held out) and score it with the task's success metric; returns
    /// the rollout too.
    pub fn evaluate_rollout(
        &self,
        task: &mut dyn Task,
        condition: usize,
    ) -> Result<(SampleBatch, Outcome), MdgpsError> {
        let request = SampleRequest {
            seed: self.seed,
            iteration: self.iteration,
            condition,
            count: 1,
        };
        let batch = sample_policy(task, &MeanAction(&self.policy), None, request)
            .map_err(|e| other(&format!("evaluating condition {condition}"), e))?;
        let outcome = task
            .success(condition, batch.trajectory(0))
            .map_err(|e| other(&format!("success metric of condition {condition}"), e))?;
        Ok((batch, outcome))
    }

    /// [`Mdgps::evaluate_rollout`]'s verdict only.
    pub fn evaluate(&self, task: &mut dyn Task, condition: usize) -> Result<Outcome, MdgpsError> {
        Ok(self.evaluate_rollout(task, condition)?.1)
    }
}
