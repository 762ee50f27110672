//! The [`Trainer`] of local controllers: pilqr-trajopt's loop ([`TrajOpt`]) on a pilqr-tasks
//! task, with pilqr-dynamics' fitter.
//!
//! After each iteration the updated controller of every condition is rolled out once without
//! noise (in the iteration's [`EvaluationEpisode`]); its verdict is the iteration's success value (0 or 1 per condition, a rate once averaged
//! over conditions and seeds) and its time counts as physics.

use std::cell::RefCell;
use std::time::Instant;

use crate::config::method::LocalMethod;
use pilqr_core::{LinearGaussianPolicy, RunSeed, Split, Task};
use pilqr_dynamics::DynamicsFitter;
use pilqr_trajopt::driver::{Algorithm, IterationMetrics, TrajOpt};

use crate::config::experiment::Experiment;
use crate::config::method::Method;
use crate::error::CliError;
use crate::run::evaluation::{EvaluationEpisode, mean_rollout};
use crate::run::metrics_log::{MetricsRow, TimeSplit};
use crate::run::progress::Progress;
use crate::run::runner::{Job, Trainer};

/// The algorithm of the trajopt driver that implements `method` (for an MDGPS method: its
/// local method).
pub fn algorithm(method: Method) -> Algorithm {
    match method.local() {
        LocalMethod::Pilqr => Algorithm::Pilqr,
        LocalMethod::LqrFlm => Algorithm::LqrFlm,
        LocalMethod::Pi2 => Algorithm::Pi2,
    }
}

/// The state of one job: the whole optimisation loop.
pub type TrajOptState = TrajOpt<DynamicsFitter>;

/// Trains local controllers with pilqr-trajopt.
pub struct TrajOptTrainer {
    experiment: Experiment,
    samples: usize,
    conditions: Vec<usize>,
    condition_names: Vec<String>,
    task: RefCell<Box<dyn Task>>,
    fitter: DynamicsFitter,
}

impl TrajOptTrainer {
    /// A trainer for `experiment` (validated) on `conditions` of `task`.
    pub fn new(
        experiment: Experiment,
        conditions: Vec<usize>,
        task: Box<dyn Task>,
    ) -> Result<Self, CliError> {
        let dims = task.dims();
        let fitter =
            DynamicsFitter::new(experiment.dynamics.clone(), dims.dx, dims.du).map_err(|e| {
                CliError::Run {
                    context: "dynamics".into(),
                    message: e.to_string(),
                }
            })?;
        let names = task.conditions();
        let condition_names = conditions.iter().map(|&c| names[c].name.clone()).collect();
        Ok(TrajOptTrainer {
            samples: experiment.samples(),
            experiment,
            conditions,
            condition_names,
            task: RefCell::new(task),
            fitter,
        })
    }

    /// The conditions trained on.
    pub fn conditions(&self) -> &[usize] {
        &self.conditions
    }

    fn row(&self, job: Job, m: &IterationMetrics, index: usize) -> MetricsRow {
        MetricsRow {
            method: job.method.name().to_string(),
            seed: job.seed,
            iteration: m.iteration,
            condition: m.condition,
            condition_name: self.condition_names[index].clone(),
            samples: (m.iteration + 1) * self.samples,
            mean_cost: m.mean_cost,
            std_cost: m.std_cost,
            success_rate: 0.0,
            kl: m.kl_total,
            eta: m.eta.map(|s| s.median),
            step_mult: Some(m.step_mult.median),
            residual_ratio: m.residual_ratio,
            time: TimeSplit {
                physics: m.times.sampling,
                cost: m.times.cost,
                dynamics: m.times.dynamics,
                update: m.times.update,
                nn: 0.0,
            },
            split: Split::Train,
            metric: None,
        }
    }
}

/// The update of one condition at `info` level: cost, the η search's outcome, the step, the
/// dynamics fit.
fn log_update(job: Job, condition: &str, m: &IterationMetrics) {
    let eta = match (m.eta, m.eta_passes, m.eta_converged) {
        (Some(eta), passes, converged) => format!(
            "η median {:.4e} (range {:.3e}..{:.3e}) after {} pass(es), {}",
            eta.median,
            eta.min,
            eta.max,
            passes.unwrap_or(0),
            if converged == Some(false) {
                "KL target not met"
            } else {
                "KL target met"
            }
        ),
        (None, ..) => "no η search".to_string(),
    };
    tracing::info!(
        "{} iteration {} {condition}: cost {:.4}, KL {}, {eta}, step_mult median {:.3}, dynamics refit in {:.3} s",
        job.label(),
        m.iteration,
        m.mean_cost,
        m.kl_total.map_or("-".to_string(), |k| format!("{k:.4}")),
        m.step_mult.median,
        m.times.dynamics
    );
}

impl Trainer for TrajOptTrainer {
    type State = TrajOptState;
    // Version 2: each condition's state carries the `improvement` step rule's estimates.
    const KIND: &'static str = "pilqr-trajopt/2";
    /// One controller per trained condition, in the run's order.
    type Controller = Vec<LinearGaussianPolicy>;
    const CONTROLLER_KIND: &'static str = "pilqr-trajopt-controllers/1";

    fn controller(state: &TrajOptState) -> Vec<LinearGaussianPolicy> {
        state
            .conditions()
            .iter()
            .map(|c| c.policy.clone())
            .collect()
    }

    fn start(&self, method: Method, seed: u64) -> Result<TrajOptState, CliError> {
        let mut config = self.experiment.trajopt_config();
        config.algorithm = algorithm(method);
        // lqr-flm and lqr-flm-res fix their step rule (a conflicting `[trajopt] step_rule` is
        // refused when the experiment is validated).
        if let Some(rule) = method.step_rule() {
            config.step_rule = rule;
        }
        let mut task = self.task.borrow_mut();
        TrajOpt::new(
            config,
            RunSeed::new(seed),
            task.as_mut(),
            &self.conditions,
            |_| self.fitter.clone(),
        )
        .map_err(|e| CliError::Run {
            context: format!("{method}/seed{seed}: set-up"),
            message: e.to_string(),
        })
    }

    fn completed(&self, state: &TrajOptState) -> usize {
        state.iteration()
    }

    fn step(
        &self,
        job: Job,
        state: &mut TrajOptState,
        progress: &Progress,
    ) -> Result<Vec<MetricsRow>, CliError> {
        let mut task = self.task.borrow_mut();
        let iteration = state.iteration();
        let metrics = state.iterate(task.as_mut()).map_err(|e| CliError::Run {
            context: format!("{}, iteration {}", job.label(), iteration),
            message: e.to_string(),
        })?;
        progress.rollouts_done(self.rollouts_per_iteration());
        let mut rows = Vec::with_capacity(metrics.len());
        for (index, m) in metrics.iter().enumerate() {
            log_update(job, &self.condition_names[index], m);
            let mut row = self.row(job, m, index);
            let clock = Instant::now();
            let episode = EvaluationEpisode {
                seed: RunSeed::new(job.seed),
                iteration: m.iteration,
            };
            let eval = mean_rollout(
                task.as_mut(),
                &state.conditions()[index].policy,
                m.condition,
                episode,
            )
            .map_err(|e| CliError::Run {
                context: format!("{}, iteration {}", job.label(), iteration),
                message: e.to_string(),
            })?;
            row.time.physics += clock.elapsed().as_secs_f64();
            row.success_rate = eval.success_rate();
            row.metric = Some(eval.mean_metric());
            rows.push(row);
        }
        Ok(rows)
    }

    fn rollouts_per_iteration(&self) -> usize {
        self.samples * self.conditions.len()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use pilqr_trajopt::StepRule;

    use super::*;
    use crate::config::experiment::ExperimentFile;

    use pilqr_core::TrajectoryRef;
    use pilqr_core::{Condition, Cost, Outcome, StateLayout, TaskDims, TaskError, TaskSeed};
    use std::sync::Arc;

    /// The point mass, recording the seed of its last episode; its success metric is that
    /// seed (shifted to fit a double exactly), so that a metrics row tells which episode was
    /// judged.
    struct Stamped {
        inner: Box<dyn Task>,
        episode: Option<TaskSeed>,
    }

    impl Stamped {
        fn new(inner: Box<dyn Task>) -> Self {
            Stamped {
                inner,
                episode: None,
            }
        }
    }

    impl Task for Stamped {
        fn name(&self) -> &str {
            "stamped"
        }
        fn dims(&self) -> TaskDims {
            self.inner.dims()
        }
        fn conditions(&self) -> &[Condition] {
            self.inner.conditions()
        }
        fn layout(&self) -> StateLayout {
            self.inner.layout()
        }
        fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
            self.episode = None;
            self.inner.reset(condition)
        }
        fn reset_seeded(&mut self, condition: usize, seed: TaskSeed) -> Result<(), TaskError> {
            self.episode = Some(seed);
            self.inner.reset_seeded(condition, seed)
        }
        fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
            self.inner.step(u)
        }
        fn state(&self, x: &mut [f64]) {
            self.inner.state(x)
        }
        fn observation(&self, obs: &mut [f64]) {
            self.inner.observation(obs)
        }
        fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
            self.inner.cost(condition)
        }
        fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
            let verdict = self.inner.success(condition, traj)?;
            Ok(Outcome {
                success: verdict.success,
                metric: self.episode.map_or(-1.0, |s| (s.value() >> 11) as f64),
            })
        }
        fn fork(&self) -> Option<Box<dyn Task>> {
            Some(Box::new(Stamped::new(self.inner.fork()?)))
        }
        fn has_physics(&self) -> bool {
            false
        }
    }

    /// The episode each iteration's noise-free evaluation rolled out, per condition, for two
    /// iterations of `seed`.
    fn evaluated_episodes(seed: u64) -> Vec<f64> {
        let text = "name = \"stamp\"\ntask = \"point-mass\"\nmethods = [\"lqr-flm\"]\n\
                    iterations = 2\n[trajopt]\nsamples = 4\n";
        let experiment: Experiment = toml::from_str(text).unwrap();
        let task = Box::new(Stamped::new(
            pilqr_tasks::task_by_name("point-mass").unwrap(),
        ));
        let trainer = TrajOptTrainer::new(experiment, vec![0, 1], task).unwrap();
        let mut state = trainer.start(Method::LqrFlm, seed).unwrap();
        let job = Job {
            method: Method::LqrFlm,
            seed,
        };
        let progress = Progress::new(crate::run::progress::OutputMode::Quiet, "stamp", 2, 0);
        let mut episodes = Vec::new();
        for _ in 0..2 {
            let rows = trainer.step(job, &mut state, &progress).unwrap();
            episodes.extend(rows.iter().map(|r| r.metric.unwrap()));
        }
        episodes
    }

    /// The evaluation after each iteration draws the task's randomness from its own stream,
    /// named by the run seed, the iteration and the condition (issue 18: it used seed 0,
    /// iteration 0 for every iteration and every run seed).
    #[test]
    fn each_evaluation_rolls_out_its_own_episode() {
        let a = evaluated_episodes(5);
        assert_eq!(a.len(), 4);
        assert!(a.iter().all(|&m| m >= 0.0), "{a:?}");
        for i in 0..a.len() {
            for j in 0..i {
                assert_ne!(a[i], a[j], "episodes {i} and {j} are the same: {a:?}");
            }
        }
        assert_eq!(evaluated_episodes(5), a, "not reproducible");
        let b = evaluated_episodes(6);
        assert!(
            a.iter().all(|m| !b.contains(m)),
            "seeds 5 and 6 share an episode"
        );
        // Not a training sample's episode either.
        let training: Vec<f64> = (0..2)
            .flat_map(|it| (0..2).flat_map(move |c| (0..4).map(move |s| (it, c, s))))
            .map(|(it, c, s)| (RunSeed::new(5).task_seed(it, c, s).value() >> 11) as f64)
            .collect();
        assert!(a.iter().all(|m| !training.contains(m)), "{a:?}");
    }

    /// The step rule the loop of `method` runs with, for an experiment with `[trajopt]` `extra`.
    fn rule_of(method: Method, extra: &str) -> StepRule {
        let text = format!(
            "name = \"pm\"\ntask = \"point-mass\"\nmethods = [\"{method}\"]\n\n[trajopt]\nsamples = 5\n{extra}"
        );
        let file = ExperimentFile::parse(Path::new("e.toml"), &text).unwrap();
        let task = pilqr_tasks::task_by_name("point-mass").unwrap();
        let conditions = file.validate(task.as_ref()).unwrap();
        let trainer = TrajOptTrainer::new(file.experiment.clone(), conditions.train, task).unwrap();
        let state = trainer.start(method, 0).unwrap();
        assert_eq!(state.config().algorithm, algorithm(method));
        state.config().step_rule
    }

    #[test]
    fn the_lqr_flm_methods_run_their_own_step_rule_and_pilqr_the_files() {
        assert_eq!(rule_of(Method::LqrFlm, ""), StepRule::Improvement);
        assert_eq!(rule_of(Method::LqrFlmRes, ""), StepRule::ResPercent);
        assert_eq!(rule_of(Method::Pilqr, ""), StepRule::ResPercent);
        let constant = "step_rule = \"const\"\n";
        assert_eq!(rule_of(Method::Pilqr, constant), StepRule::Const);
        let improvement = "step_rule = \"improvement\"\n";
        assert_eq!(rule_of(Method::Pilqr, improvement), StepRule::Improvement);
        assert_eq!(rule_of(Method::LqrFlm, improvement), StepRule::Improvement);
    }
}
