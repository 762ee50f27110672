//! The [`Trainer`] of neural-network policies: pilqr-mdgps' loop ([`Mdgps`]) on a pilqr-tasks
//! task.
//!
//! After each iteration the network's mean action is rolled out once, without noise (in the
//! iteration's [`EvaluationEpisode`]), from every training condition and every held-out (test) condition. Training rows carry the iteration's
//! sample costs, the C-step's figures and the network's verdict on that condition; held-out rows
//! (`split = test`) carry the network's rollout cost, success and success metric (e.g. the
//! reacher's final tip distance). Evaluation time counts as physics; the policy linearisation
//! and the S-steps count as NN time (the S-steps shared equally over the training conditions).

use std::cell::RefCell;
use std::time::Instant;

use pilqr_core::{RunSeed, Split, Task};
use pilqr_mdgps::{Mdgps, MdgpsConfig, MeanAction, NnPolicy};

use crate::config::experiment::{Experiment, RunConditions};
use crate::config::method::Method;
use crate::error::CliError;
use crate::run::evaluation::{EvaluationEpisode, single_rollout};
use crate::run::metrics_log::{MetricsRow, TimeSplit};
use crate::run::progress::Progress;
use crate::run::runner::{Job, Trainer};

/// The state of one job: the whole MDGPS loop, network included.
pub type MdgpsState = Mdgps;

/// Trains a global policy with pilqr-mdgps.
pub struct MdgpsTrainer {
    experiment: Experiment,
    conditions: RunConditions,
    names: Vec<String>,
    task: RefCell<Box<dyn Task>>,
}

impl MdgpsTrainer {
    /// A trainer for `experiment` (validated, `algorithm = "mdgps"`) on `conditions` of `task`.
    pub fn new(
        experiment: Experiment,
        conditions: RunConditions,
        task: Box<dyn Task>,
    ) -> Result<Self, CliError> {
        let names = task.conditions().iter().map(|c| c.name.clone()).collect();
        Ok(MdgpsTrainer {
            experiment,
            conditions,
            names,
            task: RefCell::new(task),
        })
    }

    /// The loop's configuration for `method`.
    pub fn config(&self, method: Method) -> MdgpsConfig {
        self.experiment
            .mdgps_settings()
            .config(method.local(), &self.experiment.dynamics)
    }

    /// One held-out or training row from a noise-free rollout of the network.
    fn evaluated_row(
        &self,
        job: Job,
        state: &Mdgps,
        task: &mut dyn Task,
        condition: usize,
        split: Split,
    ) -> Result<(MetricsRow, f64), CliError> {
        let clock = Instant::now();
        let episode = EvaluationEpisode {
            seed: RunSeed::new(job.seed),
            iteration: state.iteration().saturating_sub(1),
        };
        let eval =
            single_rollout(task, &MeanAction(state.policy()), condition, episode).map_err(|e| {
                CliError::Run {
                    context: format!("{}, iteration {}", job.label(), state.iteration()),
                    message: format!("evaluating the network: {e}"),
                }
            })?;
        let seconds = clock.elapsed().as_secs_f64();
        let (cost, _) = eval.cost_stats();
        let row = MetricsRow {
            method: job.method.name().to_string(),
            seed: job.seed,
            iteration: state.iteration().saturating_sub(1),
            condition,
            condition_name: self.names[condition].clone(),
            samples: state.iteration() * self.experiment.samples(),
            mean_cost: cost,
            std_cost: 0.0,
            success_rate: eval.success_rate(),
            kl: None,
            eta: None,
            step_mult: None,
            residual_ratio: None,
            time: TimeSplit {
                physics: seconds,
                ..TimeSplit::default()
            },
            split,
            metric: Some(eval.mean_metric()),
        };
        Ok((row, seconds))
    }
}

impl Trainer for MdgpsTrainer {
    type State = MdgpsState;
    const KIND: &'static str = "pilqr-mdgps/1";
    type Controller = NnPolicy;
    const CONTROLLER_KIND: &'static str = "pilqr-mdgps-policy/1";

    fn controller(state: &Mdgps) -> NnPolicy {
        state.policy().clone()
    }

    fn start(&self, method: Method, seed: u64) -> Result<Mdgps, CliError> {
        let mut task = self.task.borrow_mut();
        Mdgps::new(
            self.config(method),
            RunSeed::new(seed),
            task.as_mut(),
            &self.conditions.train,
        )
        .map_err(|e| CliError::Run {
            context: format!("{method}/seed{seed}: set-up"),
            message: e.to_string(),
        })
    }

    fn completed(&self, state: &Mdgps) -> usize {
        state.iteration()
    }

    fn step(
        &self,
        job: Job,
        state: &mut Mdgps,
        progress: &Progress,
    ) -> Result<Vec<MetricsRow>, CliError> {
        let mut task = self.task.borrow_mut();
        let iteration = state.iteration();
        let m = state.iterate(task.as_mut()).map_err(|e| CliError::Run {
            context: format!("{}, iteration {}", job.label(), iteration),
            message: e.to_string(),
        })?;
        progress.rollouts_done(self.rollouts_per_iteration());
        let share = m.s_step_seconds() / m.conditions.len().max(1) as f64;
        let mut rows = Vec::with_capacity(m.conditions.len() + self.conditions.test.len());
        for c in &m.conditions {
            let (mut row, _) =
                self.evaluated_row(job, state, task.as_mut(), c.condition, Split::Train)?;
            row.mean_cost = c.mean_cost;
            row.std_cost = c.std_cost;
            row.kl = Some(c.kl_total);
            row.eta = Some(c.eta);
            row.step_mult = Some(m.step_mult);
            row.residual_ratio = c.residual_ratio;
            row.time = TimeSplit {
                physics: c.times.sampling + row.time.physics,
                cost: c.times.cost,
                dynamics: c.times.dynamics,
                update: c.times.update,
                nn: c.times.linearisation + share,
            };
            rows.push(row);
        }
        for &c in &self.conditions.test {
            rows.push(
                self.evaluated_row(job, state, task.as_mut(), c, Split::Test)?
                    .0,
            );
        }
        Ok(rows)
    }

    fn rollouts_per_iteration(&self) -> usize {
        self.experiment.samples() * self.conditions.train.len()
    }
}
