//! A task driven one action at a time, the way gymnasium drives an environment: the plain-Rust
//! core behind `pilqr.gym` (no Python in this file).
//!
//! An episode is the rollout of the Rust sampler (`pilqr_core::sample_policy`) with the
//! actions supplied from outside: `reset` records `x_0`, `step(u_t)` records `u_t`, scores the
//! step with the condition's cost and applies `u_t`. The reward of step `t` is `−c_t`, where
//! `c_t` is entry `t` of the task's cost evaluated along the recorded trajectory, so the `T`
//! rewards of an episode are exactly minus the per-step costs the runner computes for the same
//! states and actions.
//!
//! After `T` steps the episode is truncated and the task's success test is evaluated on the
//! `T` recorded steps. The last action is applied too (the sampler records it without applying
//! it), so that the final observation is a true next observation; the state it leads to is
//! not part of the trajectory and is not scored.

use std::sync::Arc;

use pilqr_core::{
    Condition, CoreError, Cost, CostDerivatives, Outcome, Task, TaskDims, TaskError, TaskSeed,
    TrajectoryRef, validate_action, validate_condition,
};
use thiserror::Error;

/// What can go wrong when building or driving a [`StepEnv`].
#[derive(Debug, Error)]
pub enum EnvError {
    /// The task could not be built by name.
    #[error("task {name:?}: {source}")]
    Build {
        /// The name asked for.
        name: String,
        /// The suite's error.
        #[source]
        source: pilqr_tasks::SuiteError,
    },
    /// The action was rejected (wrong length, not finite); the episode is unchanged.
    #[error("step {step}: {source}")]
    Action {
        /// The step the action was for.
        step: usize,
        /// Why it was rejected.
        #[source]
        source: TaskError,
    },
    /// `step` was called before `reset`, after the horizon, or after a failed step.
    #[error("{0}")]
    Episode(String),
    /// The condition does not exist.
    #[error(transparent)]
    Condition(TaskError),
    /// The task failed while resetting or stepping (diverged, …); the episode is over.
    #[error("step {step}: {source}")]
    Task {
        /// The step at which it failed.
        step: usize,
        /// The task's error.
        #[source]
        source: TaskError,
    },
    /// The arrays of a trajectory have the wrong sizes.
    #[error("trajectory: {0}")]
    Trajectory(#[source] CoreError),
    /// An array has the wrong shape.
    #[error("{field} has shape {got:?}, expected {expected:?}")]
    Shape {
        /// The array.
        field: &'static str,
        /// Its shape.
        got: [usize; 2],
        /// The shape the task needs (`[T, dX]` or `[T, dU]`).
        expected: [usize; 2],
    },
    /// The state could not be drawn (see [`crate::FrameRenderer`]).
    #[error("rendering task {task:?}: {source}")]
    Render {
        /// The task.
        task: String,
        /// The renderer's error.
        #[source]
        source: pilqr_tasks::render::RenderError,
    },
    /// The cost could not be built or evaluated.
    #[error("cost of condition {condition}: {message}")]
    Cost {
        /// The condition.
        condition: usize,
        /// The underlying error's message.
        message: String,
    },
}

/// The result of one [`StepEnv::step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// `−c_t`, minus the cost of the step.
    pub reward: f64,
    /// Whether this was the last step of the horizon.
    pub truncated: bool,
    /// The task's success test on the whole trajectory, on the last step only.
    pub success: Option<Outcome>,
}

/// A task with the buffers of one episode; see the module documentation.
pub struct StepEnv {
    task: Box<dyn Task>,
    dims: TaskDims,
    /// The cost of each condition, built on first use.
    costs: Vec<Option<Arc<dyn Cost>>>,
    condition: usize,
    /// Steps taken in the episode (`None`: no episode under way).
    t: Option<usize>,
    /// Recorded states `x_0..x_{T-1}`, `T·dX`, zero beyond the current step.
    x: Vec<f64>,
    /// Recorded actions, `T·dU`, zero beyond the current step.
    u: Vec<f64>,
    /// The current state and observation (after the last step: the state the last action led to).
    state: Vec<f64>,
    obs: Vec<f64>,
    /// Per-step cost values, reused.
    values: CostDerivatives,
}

impl std::fmt::Debug for StepEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepEnv")
            .field("task", &self.task.name())
            .field("condition", &self.condition)
            .field("t", &self.t)
            .finish()
    }
}

impl StepEnv {
    /// The built-in task `name` (one of `pilqr_tasks::TASK_NAMES`).
    pub fn by_name(name: &str) -> Result<Self, EnvError> {
        let task = pilqr_tasks::task_by_name(name).map_err(|source| EnvError::Build {
            name: name.to_string(),
            source,
        })?;
        Ok(Self::new(task))
    }

    /// Drive `task`.
    pub fn new(task: Box<dyn Task>) -> Self {
        let dims = task.dims();
        let conditions = task.conditions().len();
        StepEnv {
            task,
            dims,
            costs: vec![None; conditions],
            condition: 0,
            t: None,
            x: vec![0.0; dims.horizon * dims.dx],
            u: vec![0.0; dims.horizon * dims.du],
            state: vec![0.0; dims.dx],
            obs: vec![0.0; dims.dobs],
            values: CostDerivatives::values_only(dims.horizon),
        }
    }

    /// The task's name.
    pub fn name(&self) -> &str {
        self.task.name()
    }

    /// The task's sizes and control period.
    pub fn dims(&self) -> TaskDims {
        self.dims
    }

    /// The task's conditions.
    pub fn conditions(&self) -> &[Condition] {
        self.task.conditions()
    }

    /// The bounds the task clamps each action entry to (see `Task::action_limits`).
    pub fn action_limits(&self) -> Option<Vec<f64>> {
        self.task.action_limits()
    }

    /// The condition of the current (or last) episode.
    pub fn condition(&self) -> usize {
        self.condition
    }

    /// Steps taken in the current episode (`None` before the first reset or after a failure).
    pub fn steps(&self) -> Option<usize> {
        self.t
    }

    /// The current observation (`dO` values).
    pub fn observation(&self) -> &[f64] {
        &self.obs
    }

    /// The current state (`dX` values).
    pub fn state(&self) -> &[f64] {
        &self.state
    }

    /// The recorded states `[T, dX]` and actions `[T, dU]` of the episode, step-major (zero
    /// beyond the steps taken).
    pub fn trajectory(&self) -> TrajectoryRef<'_> {
        TrajectoryRef {
            horizon: self.dims.horizon,
            dx: self.dims.dx,
            du: self.dims.du,
            x: &self.x,
            u: &self.u,
        }
    }

    /// Start an episode from `condition`, with the task's own randomness (if any) drawn from
    /// `seed` (`Task::reset_seeded`).
    pub fn reset(&mut self, condition: usize, seed: TaskSeed) -> Result<(), EnvError> {
        validate_condition(condition, self.costs.len()).map_err(EnvError::Condition)?;
        self.t = None;
        self.condition = condition;
        self.cost()?;
        self.task
            .reset_seeded(condition, seed)
            .map_err(|source| EnvError::Task { step: 0, source })?;
        self.x.fill(0.0);
        self.u.fill(0.0);
        self.read_state(0)?;
        self.x[..self.dims.dx].copy_from_slice(&self.state);
        self.t = Some(0);
        Ok(())
    }

    /// Score action `u` at the current step and apply it.
    ///
    /// An invalid action (length, finiteness) is an [`EnvError::Action`] that leaves the
    /// episode as it was; a failure of the task ends the episode.
    pub fn step(&mut self, u: &[f64]) -> Result<StepOutcome, EnvError> {
        let TaskDims {
            horizon, dx, du, ..
        } = self.dims;
        let t = match self.t {
            None => {
                return Err(EnvError::Episode(
                    "step called without an episode under way; call reset first".into(),
                ));
            }
            Some(t) if t >= horizon => {
                return Err(EnvError::Episode(format!(
                    "step called after the horizon of {horizon} steps; call reset first"
                )));
            }
            Some(t) => t,
        };
        validate_action(u, du).map_err(|source| EnvError::Action { step: t, source })?;
        self.u[t * du..(t + 1) * du].copy_from_slice(u);
        let cost = self.cost()?;
        self.values.reset();
        let traj = TrajectoryRef {
            horizon,
            dx,
            du,
            x: &self.x,
            u: &self.u,
        };
        if let Err(e) = cost.accumulate(traj, 1.0, &mut self.values) {
            return Err(self.cost_error(&e));
        }
        let reward = -self.values.l[t];
        // From here on a failure ends the episode.
        self.t = None;
        self.task
            .step(u)
            .map_err(|source| EnvError::Task { step: t, source })?;
        self.read_state(t + 1)?;
        let truncated = t + 1 == horizon;
        let success = if truncated {
            let outcome = self
                .task
                .success(self.condition, self.trajectory())
                .map_err(|source| EnvError::Task { step: t, source })?;
            Some(outcome)
        } else {
            self.x[(t + 1) * dx..(t + 2) * dx].copy_from_slice(&self.state);
            None
        };
        self.t = Some(t + 1);
        Ok(StepOutcome {
            reward,
            truncated,
            success,
        })
    }

    /// Read the task's state and observation after `step` steps, refusing a non-finite state
    /// (as the sampler does).
    fn read_state(&mut self, step: usize) -> Result<(), EnvError> {
        self.task.state(&mut self.state);
        if let Some(index) = self.state.iter().position(|v| !v.is_finite()) {
            return Err(EnvError::Task {
                step,
                source: TaskError::Diverged { step, index },
            });
        }
        self.task.observation(&mut self.obs);
        Ok(())
    }

    /// The current condition's cost, built on first use.
    fn cost(&mut self) -> Result<Arc<dyn Cost>, EnvError> {
        let c = self.condition;
        if let Some(cost) = &self.costs[c] {
            return Ok(Arc::clone(cost));
        }
        let cost = self.task.cost(c).map_err(|e| EnvError::Cost {
            condition: c,
            message: e.to_string(),
        })?;
        self.costs[c] = Some(Arc::clone(&cost));
        Ok(cost)
    }

    fn cost_error(&self, e: &CoreError) -> EnvError {
        EnvError::Cost {
            condition: self.condition,
            message: e.to_string(),
        }
    }
}

/// The per-step costs `[T]` of the trajectory `x [T, dX]`, `u [T, dU]` (row-major, shapes
/// `x_shape` and `u_shape`) from `condition` of the built-in task `name`: the task's cost
/// evaluated as the runner scores a sample.
pub fn trajectory_cost(
    name: &str,
    condition: usize,
    (x, x_shape): (&[f64], [usize; 2]),
    (u, u_shape): (&[f64], [usize; 2]),
) -> Result<Vec<f64>, EnvError> {
    let task = pilqr_tasks::task_by_name(name).map_err(|source| EnvError::Build {
        name: name.to_string(),
        source,
    })?;
    validate_condition(condition, task.conditions().len()).map_err(EnvError::Condition)?;
    let d = task.dims();
    for (field, shape, cols) in [("states x", x_shape, d.dx), ("actions u", u_shape, d.du)] {
        if shape != [d.horizon, cols] {
            return Err(EnvError::Shape {
                field,
                got: shape,
                expected: [d.horizon, cols],
            });
        }
    }
    let cost_error = |e: &dyn std::fmt::Display| EnvError::Cost {
        condition,
        message: e.to_string(),
    };
    let cost = task.cost(condition).map_err(|e| cost_error(&e))?;
    let traj = TrajectoryRef::new(d.horizon, d.dx, d.du, x, u).map_err(EnvError::Trajectory)?;
    cost.values(traj).map_err(|e| cost_error(&e))
}
