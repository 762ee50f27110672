//! Rolling out a policy in a task: `N` samples of one condition, in parallel when the task can
//! be forked, bit-identical whatever the thread count.

use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use thiserror::Error;

use crate::cost::Cost;
use crate::error::CoreError;
use crate::policy::Policy;
use crate::sample::{SampleBatch, SampleDims, Trajectory};
use crate::seed::RunSeed;
use crate::task::{Task, TaskError};

/// What can go wrong while sampling.
#[derive(Debug, Error)]
pub enum SampleError {
    /// The task failed (diverged, bad action, robot I/O…), in sample `sample` at step `step`.
    #[error("sample {sample}, step {step}: {source}")]
    Task {
        /// Sample index.
        sample: usize,
        /// Control step.
        step: usize,
        /// The task's error.
        #[source]
        source: TaskError,
    },
    /// The policy failed (dimension mismatch…).
    #[error("sample {sample}, step {step}: policy: {source}")]
    Policy {
        /// Sample index.
        sample: usize,
        /// Control step.
        step: usize,
        /// The policy's error.
        #[source]
        source: CoreError,
    },
    /// The cost could not be evaluated, or the batch is invalid.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The task's cost could not be built.
    #[error("cost of condition {condition}: {source}")]
    Cost {
        /// Condition.
        condition: usize,
        /// The task's error.
        #[source]
        source: TaskError,
    },
}

/// Which samples to draw: the run seed and the indices that name their noise streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRequest {
    /// Run seed.
    pub seed: RunSeed,
    /// Iteration (names the noise streams).
    pub iteration: usize,
    /// Condition to reset to.
    pub condition: usize,
    /// Number of samples `N`.
    pub count: usize,
}

/// Roll out `request.count` samples of `policy` from `request.condition` of `task`, scoring
/// each with `cost` (`None`: the task's default cost of that condition).
///
/// Sample `i` draws its action noise from `seed.sample_rng(iteration, condition, i)` and starts
/// with `task.reset_seeded(condition, seed.task_seed(iteration, condition, i))` (the task's own
/// randomness, if it has any), so results do not depend on the number of threads. When the task can be forked, samples run in parallel on
/// rayon's pool, each worker on its own copy of the world; otherwise one after another on
/// `task` itself.
///
/// ```
/// # use pilqr_core::{sample_policy, SampleRequest, RunSeed};
/// # fn demo(task: &mut dyn pilqr_core::Task, policy: &dyn pilqr_core::Policy) {
/// let req = SampleRequest { seed: RunSeed::new(0), iteration: 0, condition: 0, count: 20 };
/// let batch = sample_policy(task, policy, None, req).unwrap();
/// println!("mean cost {}", batch.mean_total_cost());
/// # }
/// ```
pub fn sample_policy(
    task: &mut dyn Task,
    policy: &dyn Policy,
    cost: Option<&dyn Cost>,
    request: SampleRequest,
) -> Result<SampleBatch, SampleError> {
    let d = task.dims();
    let dims = SampleDims {
        horizon: d.horizon,
        dx: d.dx,
        du: d.du,
        dobs: d.dobs,
    };
    if policy.action_dim() != d.du {
        return Err(SampleError::Core(CoreError::Length {
            field: "policy action dimension",
            expected: d.du,
            got: policy.action_dim(),
        }));
    }
    let owned_cost;
    let cost: &dyn Cost = match cost {
        Some(c) => c,
        None => {
            owned_cost = task
                .cost(request.condition)
                .map_err(|source| SampleError::Cost {
                    condition: request.condition,
                    source,
                })?;
            owned_cost.as_ref()
        }
    };
    let workers = rayon::current_num_threads().clamp(1, request.count.max(1));
    let mut forks: Vec<Box<dyn Task>> = Vec::with_capacity(workers);
    for _ in 0..workers {
        match task.fork() {
            Some(f) => forks.push(f),
            None => break,
        }
    }
    let trajectories: Vec<Trajectory> = if forks.len() == workers && workers > 1 {
        // Worker w rolls out samples w, w + W, w + 2W, … on its own copy of the world. Every
        // rollout resets its world and draws from its own noise stream, so the result does not
        // depend on W.
        let mut done: Vec<(usize, Trajectory)> = forks
            .into_par_iter()
            .enumerate()
            .map(|(w, mut world)| {
                (w..request.count)
                    .step_by(workers)
                    .map(|i| Ok((i, rollout(world.as_mut(), policy, cost, dims, request, i)?)))
                    .collect::<Result<Vec<_>, SampleError>>()
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, tr)| tr).collect()
    } else {
        (0..request.count)
            .map(|i| rollout(task, policy, cost, dims, request, i))
            .collect::<Result<_, _>>()?
    };
    Ok(SampleBatch::from_trajectories(dims, trajectories)?)
}

/// One rollout of sample `i`.
fn rollout(
    task: &mut dyn Task,
    policy: &dyn Policy,
    cost: &dyn Cost,
    dims: SampleDims,
    req: SampleRequest,
    i: usize,
) -> Result<Trajectory, SampleError> {
    let SampleDims {
        horizon,
        dx,
        du,
        dobs,
    } = dims;
    let mut rng = req.seed.sample_rng(req.iteration, req.condition, i);
    let noise: Vec<f64> = (0..horizon * du)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let mut x = vec![0.0; horizon * dx];
    let mut u = vec![0.0; horizon * du];
    let mut obs = vec![0.0; horizon * dobs];
    let task_err = |step, source| SampleError::Task {
        sample: i,
        step,
        source,
    };
    task.reset_seeded(
        req.condition,
        req.seed.task_seed(req.iteration, req.condition, i),
    )
    .map_err(|e| task_err(0, e))?;
    for t in 0..horizon {
        let xt = &mut x[t * dx..(t + 1) * dx];
        task.state(xt);
        if let Some(index) = xt.iter().position(|v| !v.is_finite()) {
            return Err(task_err(t, TaskError::Diverged { step: t, index }));
        }
        let ot = &mut obs[t * dobs..(t + 1) * dobs];
        task.observation(ot);
        let ut = &mut u[t * du..(t + 1) * du];
        policy
            .act(t, xt, ot, &noise[t * du..(t + 1) * du], ut)
            .map_err(|source| SampleError::Policy {
                sample: i,
                step: t,
                source,
            })?;
        // The last action is recorded but not applied: x_T is not part of a sample.
        if t + 1 < horizon {
            task.step(ut).map_err(|e| task_err(t, e))?;
        }
    }
    let traj = crate::sample::TrajectoryRef::new(horizon, dx, du, &x, &u)?;
    let c = cost.values(traj)?;
    Ok(Trajectory {
        x,
        u,
        obs,
        noise,
        cost: c,
    })
}
