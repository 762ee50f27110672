//! Evaluating controllers in a task: the noise-free rollout of a controller's mean (the success
//! column of the metrics, the renders), noisy rollouts for `pilqr eval`, and [`evaluate`], the
//! cost and the task's success test of a controller or a policy over several conditions.
//!
//! ```
//! use pilqr_core::Task;
//! use pilqr_core::RunSeed;
//! use pilqr_experiment::run::evaluation::{EvaluationEpisode, NoiseFree, Rollouts, evaluate};
//! use pilqr_trajopt::init::{PdInit, init_pd};
//!
//! let mut task = pilqr_tasks::task_by_name("point-mass").unwrap();
//! let d = task.dims();
//! task.reset(0).unwrap();
//! let mut x0 = vec![0.0; d.dx];
//! task.state(&mut x0);
//! let controller = init_pd(d.horizon, d.du, &task.layout(), &x0, &PdInit::default()).unwrap();
//! // The controller's mean on conditions 0 and 1: one rollout each, no exploration noise.
//! let scores = evaluate(task.as_mut(), &[0, 1], |_| &controller, Rollouts::NoiseFree).unwrap();
//! assert_eq!(scores.len(), 2);
//! assert_eq!(scores[0].std_cost, 0.0);
//! // The same rollout by hand, for any policy.
//! let one = pilqr_experiment::run::evaluation::single_rollout(
//!     task.as_mut(),
//!     &NoiseFree(&controller),
//!     0,
//!     EvaluationEpisode { seed: RunSeed::new(0), iteration: 0 },
//! )
//! .unwrap();
//! assert_eq!(one.cost_stats().0, scores[0].mean_cost);
//! ```

use pilqr_core::{
    CoreError, LinearGaussianPolicy, Outcome, Policy, RunSeed, SampleBatch, SampleError,
    SampleRequest, Task, TaskError, sample_policy,
};
use thiserror::Error;

/// A controller's mean: `u_t = K_t x_t + k_t`, ignoring the noise.
pub struct MeanPolicy<'a>(pub &'a LinearGaussianPolicy);

impl Policy for MeanPolicy<'_> {
    fn action_dim(&self) -> usize {
        self.0.action_dim()
    }

    fn act(
        &self,
        t: usize,
        x: &[f64],
        _obs: &[f64],
        _noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        self.0.mean_action(t, x, u)
    }
}

/// Any policy without its exploration noise: it acts on a noise vector of zeros (for a
/// linear-Gaussian controller that is its mean `K_t x_t + k_t`, up to the sign of a zero; the
/// runner uses [`MeanPolicy`], which computes the mean directly).
pub struct NoiseFree<'a>(pub &'a dyn Policy);

impl Policy for NoiseFree<'_> {
    fn action_dim(&self) -> usize {
        self.0.action_dim()
    }

    fn act(
        &self,
        t: usize,
        x: &[f64],
        obs: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        self.0.act(t, x, obs, &vec![0.0; noise.len()], u)
    }
}

/// Which rollouts [`evaluate`] makes per condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollouts {
    /// One rollout of the policy without its noise ([`NoiseFree`]); a task with randomness
    /// of its own draws it from the evaluation stream of run seed 0, iteration 0 (use
    /// [`single_rollout`] with an [`EvaluationEpisode`] to choose the episode).
    NoiseFree,
    /// `count` rollouts with the policy's noise, from streams derived from `seed` (as
    /// [`noisy_rollouts`]).
    Noisy {
        /// Rollouts per condition.
        count: usize,
        /// Seed of the noise streams.
        seed: RunSeed,
    },
}

/// How a policy did on one condition.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionScore {
    /// The condition.
    pub condition: usize,
    /// Mean total cost of the rollouts.
    pub mean_cost: f64,
    /// Standard deviation of the rollouts' total costs (0 for one rollout).
    pub std_cost: f64,
    /// Fraction of rollouts the task's success test accepted.
    pub success_rate: f64,
    /// Mean of the task's success metric (e.g. final distance to the goal).
    pub mean_metric: f64,
}

/// The cost and the task's success test of a controller or a policy on each of `conditions`:
/// `policy(c)` is what acts on condition `c` (the same policy for all, or one local controller
/// per condition), rolled out as `rollouts` says.
pub fn evaluate<'p>(
    task: &mut dyn Task,
    conditions: &[usize],
    mut policy: impl FnMut(usize) -> &'p dyn Policy,
    rollouts: Rollouts,
) -> Result<Vec<ConditionScore>, EvalError> {
    conditions
        .iter()
        .map(|&condition| {
            let p = policy(condition);
            let ev = match rollouts {
                Rollouts::NoiseFree => {
                    let episode = EvaluationEpisode {
                        seed: RunSeed::new(0),
                        iteration: 0,
                    };
                    single_rollout(task, &NoiseFree(p), condition, episode)?
                }
                Rollouts::Noisy { count, seed } => noisy_rollouts(task, p, condition, count, seed)?,
            };
            let (mean_cost, std_cost) = ev.cost_stats();
            Ok(ConditionScore {
                condition,
                mean_cost,
                std_cost,
                success_rate: ev.success_rate(),
                mean_metric: ev.mean_metric(),
            })
        })
        .collect()
}

/// What can go wrong while evaluating.
#[derive(Debug, Error)]
pub enum EvalError {
    /// Rolling out failed.
    #[error("condition {condition}: {source}")]
    Sample {
        /// Condition.
        condition: usize,
        /// The sampler's error.
        #[source]
        source: SampleError,
    },
    /// The task's success metric failed.
    #[error("condition {condition}: success metric: {source}")]
    Success {
        /// Condition.
        condition: usize,
        /// The task's error.
        #[source]
        source: TaskError,
    },
}

/// The rollouts of one condition and their verdicts.
#[derive(Debug)]
pub struct Evaluated {
    /// The rollouts.
    pub batch: SampleBatch,
    /// One outcome per rollout.
    pub outcomes: Vec<Outcome>,
}

impl Evaluated {
    /// Fraction of successful rollouts.
    pub fn success_rate(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        self.outcomes.iter().filter(|o| o.success).count() as f64 / self.outcomes.len() as f64
    }

    /// Mean of the success metric (e.g. final distance).
    pub fn mean_metric(&self) -> f64 {
        if self.outcomes.is_empty() {
            return f64::NAN;
        }
        self.outcomes.iter().map(|o| o.metric).sum::<f64>() / self.outcomes.len() as f64
    }

    /// Mean and standard deviation of the rollouts' total costs.
    pub fn cost_stats(&self) -> (f64, f64) {
        let n = self.batch.len();
        if n == 0 {
            return (f64::NAN, f64::NAN);
        }
        let totals: Vec<f64> = (0..n).map(|i| self.batch.total_cost(i)).collect();
        let mean = totals.iter().sum::<f64>() / n as f64;
        let var = totals.iter().map(|c| (c - mean) * (c - mean)).sum::<f64>() / n as f64;
        (mean, var.sqrt())
    }
}

fn judge(
    task: &mut dyn Task,
    condition: usize,
    batch: SampleBatch,
) -> Result<Evaluated, EvalError> {
    let outcomes = (0..batch.len())
        .map(|i| {
            task.success(condition, batch.trajectory(i))
                .map_err(|source| EvalError::Success { condition, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Evaluated { batch, outcomes })
}

/// The episode of the noise-free evaluation of a job after one of its iterations: what the
/// metrics' success columns and the renders of that iteration roll out.
///
/// Its random streams (the task's own randomness; the evaluated policies ignore their action
/// noise) are derived from the run seed, the iteration and the condition under the label
/// `"evaluation"`, like every other stream of a run (docs/design.md §3): independent of the
/// training samples' streams, of `pilqr eval`'s and of other seeds' and iterations'. A task
/// without randomness of its own rolls out the same trajectory whatever the episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationEpisode {
    /// The job's run seed.
    pub seed: RunSeed,
    /// The iteration just done (from 0, as in `metrics.csv`).
    pub iteration: usize,
}

impl EvaluationEpisode {
    /// The sample request of this episode on `condition`: one rollout.
    pub fn request(&self, condition: usize) -> SampleRequest {
        SampleRequest {
            seed: RunSeed::new(self.seed.derive("evaluation", &[])),
            iteration: self.iteration,
            condition,
            count: 1,
        }
    }
}

/// One rollout of `policy`'s mean from `condition`, in `episode`.
pub fn mean_rollout(
    task: &mut dyn Task,
    policy: &LinearGaussianPolicy,
    condition: usize,
    episode: EvaluationEpisode,
) -> Result<Evaluated, EvalError> {
    single_rollout(task, &MeanPolicy(policy), condition, episode)
}

/// One rollout of `policy` from `condition` in `episode` (pass a policy that ignores its
/// noise, such as [`MeanPolicy`] or `pilqr_mdgps::MeanAction`, for the noise-free behaviour).
pub fn single_rollout(
    task: &mut dyn Task,
    policy: &dyn Policy,
    condition: usize,
    episode: EvaluationEpisode,
) -> Result<Evaluated, EvalError> {
    let batch = sample_policy(task, policy, None, episode.request(condition))
        .map_err(|source| EvalError::Sample { condition, source })?;
    judge(task, condition, batch)
}

/// `rollouts` noisy rollouts of `policy` from `condition`, with noise streams derived from
/// `seed` under the label `"eval"` (independent of the training samples).
pub fn noisy_rollouts(
    task: &mut dyn Task,
    policy: &dyn Policy,
    condition: usize,
    rollouts: usize,
    seed: RunSeed,
) -> Result<Evaluated, EvalError> {
    let request = SampleRequest {
        seed: RunSeed::new(seed.derive("eval", &[])),
        iteration: 0,
        condition,
        count: rollouts,
    };
    let batch = sample_policy(task, policy, None, request)
        .map_err(|source| EvalError::Sample { condition, source })?;
    judge(task, condition, batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pilqr_linalg::{MatStack, VecStack};

    fn policy(task: &dyn Task, var: f64) -> LinearGaussianPolicy {
        let d = task.dims();
        let cov = MatStack::from_fn(d.horizon, d.du, d.du, |_, mut m| {
            for i in 0..d.du {
                m[(i, i)] = var;
            }
        });
        LinearGaussianPolicy::new(
            MatStack::zeros(d.horizon, d.du, d.dx),
            VecStack::zeros(d.horizon, d.du),
            cov,
        )
        .unwrap()
    }

    #[test]
    fn evaluate_scores_each_condition_as_the_single_rollouts_do() {
        let mut task = pilqr_tasks::task_by_name("point-mass").unwrap();
        let wide = policy(task.as_ref(), 1.0);
        let scores = evaluate(task.as_mut(), &[0, 2], |_| &wide, Rollouts::NoiseFree).unwrap();
        assert_eq!(
            scores.iter().map(|s| s.condition).collect::<Vec<_>>(),
            [0, 2]
        );
        for s in &scores {
            let mean = mean_rollout(
                task.as_mut(),
                &wide,
                s.condition,
                EvaluationEpisode {
                    seed: RunSeed::new(0),
                    iteration: 0,
                },
            )
            .unwrap();
            assert_eq!(s.mean_cost, mean.cost_stats().0);
            assert_eq!(s.success_rate, mean.success_rate());
            assert_eq!(s.std_cost, 0.0);
        }
        let seed = RunSeed::new(4);
        let noisy = Rollouts::Noisy { count: 3, seed };
        let scores = evaluate(task.as_mut(), &[1], |_| &wide, noisy).unwrap();
        let by_hand = noisy_rollouts(task.as_mut(), &wide, 1, 3, seed).unwrap();
        assert_eq!(scores[0].mean_cost, by_hand.cost_stats().0);
        assert!(scores[0].std_cost > 0.0);
    }

    #[test]
    fn mean_rollout_ignores_the_noise_and_noisy_rollouts_do_not() {
        let mut task = pilqr_tasks::task_by_name("point-mass").unwrap();
        let wide = policy(task.as_ref(), 1.0);
        let narrow = policy(task.as_ref(), 1e-6);
        let episode = EvaluationEpisode {
            seed: RunSeed::new(5),
            iteration: 2,
        };
        let a = mean_rollout(task.as_mut(), &wide, 0, episode).unwrap();
        let b = mean_rollout(task.as_mut(), &narrow, 0, episode).unwrap();
        assert_eq!(a.batch.x_all(), b.batch.x_all());
        assert_eq!(a.outcomes.len(), 1);
        let n = noisy_rollouts(task.as_mut(), &wide, 0, 3, RunSeed::new(5)).unwrap();
        assert_eq!(n.outcomes.len(), 3);
        assert_ne!(n.batch.x_all(), a.batch.x_all());
        let again = noisy_rollouts(task.as_mut(), &wide, 0, 3, RunSeed::new(5)).unwrap();
        assert_eq!(again.batch.x_all(), n.batch.x_all());
        let (mean, std) = n.cost_stats();
        assert!(mean.is_finite() && std >= 0.0);
        assert!((0.0..=1.0).contains(&n.success_rate()));
        // The evaluation's streams are its own: not a training sample's, not another
        // iteration's or seed's.
        let r = episode.request(0);
        let training = RunSeed::new(5).task_seed(2, 0, 0);
        assert_ne!(r.seed.task_seed(r.iteration, 0, 0), training);
        for other in [
            EvaluationEpisode {
                iteration: 3,
                ..episode
            },
            EvaluationEpisode {
                seed: RunSeed::new(6),
                ..episode
            },
        ] {
            let o = other.request(0);
            assert_ne!(
                o.seed.task_seed(o.iteration, 0, 0),
                r.seed.task_seed(r.iteration, 0, 0)
            );
        }
    }
}
