//! The MDGPS loop with LQR-FLM as the local method (DESIGN.md §4.6): sample → fit dynamics →
//! linearise the global policy → step-size rule → C-step against the linearisation → S-step.
//!
//! PILQR and PI2 as local methods need the trajectory optimiser to take the KL reference
//! separately from the sampling controller; see the crate docs.

use pilqr_core::{
    CoreError, CostModel, CostModelBuilder, LinearGaussianPolicy, Outcome, Policy, RunSeed,
    SampleBatch, SampleRequest, Task, sample_policy,
};
use pilqr_dynamics::{DynamicsConfig, DynamicsFitter, LinearDynamics};
use pilqr_trajopt::init::{InitConfig, init_lqr, init_pd};
use pilqr_trajopt::{LqrFlm, LqrFlmConfig, estimate_cost};
use serde::{Deserialize, Serialize};

use crate::architecture::MlpConfig;
use crate::error::MdgpsError;
use crate::global_policy::GlobalPolicy;
use crate::nn_policy::NnPolicy;
use crate::policy_prior::{PolicyPriorConfig, PolicyPriorGmm};
use crate::s_step::{SStepConfig, SStepReport, s_step};
use crate::step_adjust::{CurrentCosts, MdgpsStepRule, PreviousCosts, step_adjustment};
use crate::supervision::SStepCondition;

/// Settings of the MDGPS loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MdgpsConfig {
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
            samples: 5,
            kl_step: 0.2,
            init_step_mult: 1.0,
            min_step_mult: 0.01,
            max_step_mult: 10.0,
            step_rule: MdgpsStepRule::Laplace,
            sample_on_policy: false,
            lqr: LqrFlmConfig::default(),
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
    /// Check the loop's own values (the nested settings are checked where they are used).
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
                "step_mult",
                "need 0 < min_step_mult <= init_step_mult <= max_step_mult < ∞",
            );
        }
        if !positive(self.init_policy_variance) {
            return bad("init_policy_variance", "must be finite and positive");
        }
        self.network.validate()?;
        self.s_step.validate()
    }
}

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
    /// LQR-FLM's η per step.
    pub eta: Vec<f64>,
    /// Figures of the last iteration for the step rule.
    pub previous: Option<PreviousCosts>,
}

/// Metrics of one MDGPS iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdgpsMetrics {
    /// Iteration index.
    pub iteration: usize,
    /// Mean total sample cost per training condition.
    pub mean_cost: Vec<f64>,
    /// Total KL of each new local controller to the linearised global policy.
    pub kl_total: Vec<f64>,
    /// Step multiplier used.
    pub step_mult: f64,
    /// The catch-up S-step (first iteration only).
    pub catch_up: Option<SStepReport>,
    /// The S-step.
    pub s_step: SStepReport,
}

/// The MDGPS state: the global policy, the training conditions and the shared step multiplier.
/// Serialises entirely, so a checkpoint resumes bit-identically.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mdgps {
    config: MdgpsConfig,
    seed: RunSeed,
    iteration: usize,
    step_mult: f64,
    policy: NnPolicy,
    conditions: Vec<MdgpsCondition>,
}

/// The network's mean action, noise ignored (for evaluation).
struct MeanOf<'a>(&'a NnPolicy);

impl Policy for MeanOf<'_> {
    fn action_dim(&self) -> usize {
        self.0.action_dim()
    }

    fn act(
        &self,
        _: usize,
        _: &[f64],
        obs: &[f64],
        _: &[f64],
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

/// What one condition's sampling and fitting produced this iteration.
struct Fitted {
    batch: SampleBatch,
    cost: CostModel,
    dynamics: LinearDynamics,
}

fn other(context: &str, e: impl std::fmt::Display) -> MdgpsError {
    MdgpsError::Step {
        context: context.to_string(),
        reason: e.to_string(),
    }
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

    /// Iterations completed.
    pub fn iteration(&self) -> usize {
        self.iteration
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

    fn iterate_in_place(&mut self, task: &mut dyn Task) -> Result<MdgpsMetrics, MdgpsError> {
        let (it, seed) = (self.iteration, self.seed);
        let d = task.dims();
        // 1–2. Sample and fit the dynamics.
        let mut fitted = Vec::with_capacity(self.conditions.len());
        for c in &mut self.conditions {
            let m = c.condition;
            let request = SampleRequest {
                seed,
                iteration: it,
                condition: m,
                count: self.config.samples,
            };
            let on_policy = self.config.sample_on_policy && it > 0;
            let sampler: &dyn Policy = if on_policy { &self.policy } else { &c.local };
            let batch = sample_policy(task, sampler, None, request)
                .map_err(|e| other(&format!("sampling condition {m}"), e))?;
            let cost_fn = task
                .cost(m)
                .map_err(|e| other(&format!("cost of condition {m}"), e))?;
            let cost =
                CostModelBuilder::new(d.horizon, d.dx, d.du).build(cost_fn.as_ref(), &batch)?;
            let dynamics = c
                .fitter
                .update(&batch, seed.derive("dynamics", &[it as u64, m as u64]))?;
            fitted.push(Fitted {
                batch,
                cost,
                dynamics,
            });
        }
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
        // 3. Linearise the global policy around each condition's samples.
        let mut linear = Vec::with_capacity(fitted.len());
        let mut current = Vec::with_capacity(fitted.len());
        for (c, f) in self.conditions.iter_mut().zip(&fitted) {
            let s = seed.derive("policy-prior", &[it as u64, c.condition as u64]);
            c.prior.update(&f.batch, &self.policy, s)?;
            let lin = c.prior.linearize(&f.batch, &self.policy)?;
            let (laplace, _) = estimate_cost(&lin, &f.dynamics, &f.cost)
                .map_err(|e| other("estimating the global policy's cost", e))?;
            current.push(CurrentCosts {
                laplace,
                mc: f.batch.mean_total_cost(),
            });
            linear.push(lin);
        }
        // 4. Step size from the previous iteration's prediction.
        let previous: Vec<PreviousCosts> =
            self.conditions.iter().filter_map(|c| c.previous).collect();
        if !previous.is_empty() {
            let adj = step_adjustment(self.config.step_rule, &previous, &current)?;
            self.step_mult = adj.apply(
                self.step_mult,
                self.config.min_step_mult,
                self.config.max_step_mult,
            );
        }
        // 5. C-step against the linearisation.
        let targets = vec![self.config.kl_step * self.step_mult; d.horizon];
        let mut solver = LqrFlm::new(d.horizon, d.dx, d.du);
        let mut kl_total = Vec::with_capacity(fitted.len());
        let per_condition = fitted.iter().zip(&linear).zip(&current);
        for (c, ((f, lin), now)) in self.conditions.iter_mut().zip(per_condition) {
            let res = solver
                .update(
                    &f.dynamics,
                    &f.cost,
                    lin,
                    &targets,
                    &c.eta,
                    &self.config.lqr,
                )
                .map_err(|e| other(&format!("C-step of condition {}", c.condition), e))?;
            let (predicted, _) = estimate_cost(&res.policy, &f.dynamics, &f.cost)
                .map_err(|e| other("estimating the new controller's cost", e))?;
            c.previous = Some(PreviousCosts {
                laplace: now.laplace,
                mc: now.mc,
                predicted,
            });
            kl_total.push(res.kl_total);
            c.local = res.policy;
            c.eta = res.eta;
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
            mean_cost: fitted.iter().map(|f| f.batch.mean_total_cost()).collect(),
            kl_total,
            step_mult: self.step_mult,
            catch_up,
            s_step: report,
        })
    }

    /// Roll out the network's mean action (no noise) once from `condition` and score it with
    /// the task's success metric.
    pub fn evaluate(&self, task: &mut dyn Task, condition: usize) -> Result<Outcome, MdgpsError> {
        let request = SampleRequest {
            seed: self.seed,
            iteration: self.iteration,
            condition,
            count: 1,
        };
        let batch = sample_policy(task, &MeanOf(&self.policy), None, request)
            .map_err(|e| other(&format!("evaluating condition {condition}"), e))?;
        task.success(condition, batch.trajectory(0))
            .map_err(|e| other(&format!("success metric of condition {condition}"), e))
    }
}
