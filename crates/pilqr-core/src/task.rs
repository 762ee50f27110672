//! The environment interface: what a simulated world or a real robot implements.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cost::Cost;
use crate::sample::TrajectoryRef;
use crate::seed::TaskSeed;

/// Sizes and timing of a task.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaskDims {
    /// State dimension `dX`.
    pub dx: usize,
    /// Action dimension `dU`.
    pub du: usize,
    /// Observation dimension `dO`.
    pub dobs: usize,
    /// Horizon `T` (control steps per episode).
    pub horizon: usize,
    /// Control period in seconds.
    pub dt: f64,
}

/// Where the joint positions and velocities sit in the state vector, for initial controllers
/// (`init_pd`, `init_lqr`) that act on them. Action `i` drives the joint at `joint_pos.start + i`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateLayout {
    /// State indices of the joint positions (one per actuated joint, `dU` of them).
    pub joint_pos: Range<usize>,
    /// State indices of the joint velocities.
    pub joint_vel: Range<usize>,
}

/// Whether a condition is used to train or held out to test generalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Used for training.
    Train,
    /// Held out.
    Test,
}

/// One initial condition of a task (an initial configuration, a target, a door offset…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Short human-readable name, e.g. `"hard"` or `"target-3"`.
    pub name: String,
    /// Train or test.
    pub split: Split,
}

/// The success metric of one trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Whether the task was achieved.
    pub success: bool,
    /// The metric behind the verdict (e.g. final distance to the goal; lower is better unless
    /// the task documents otherwise).
    pub metric: f64,
}

/// What can go wrong when driving a task.
#[derive(Debug, Error)]
pub enum TaskError {
    /// The action has the wrong number of entries.
    #[error("action has {got} entries, the task expects {expected}")]
    ActionLength {
        /// Entries expected (`dU`).
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// The action holds NaN or an infinity.
    #[error("action entry {index} is not finite ({value})")]
    NonFiniteAction {
        /// The entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// No such condition.
    #[error("condition {index} does not exist (the task has {count})")]
    UnknownCondition {
        /// Index asked for.
        index: usize,
        /// Number of conditions.
        count: usize,
    },
    /// `step` was called before `reset`, or after the horizon.
    #[error("{0}")]
    NotReady(String),
    /// The simulation or the robot produced a non-finite state.
    #[error("the state became non-finite at step {step} (entry {index})")]
    Diverged {
        /// Control step.
        step: usize,
        /// First non-finite state entry.
        index: usize,
    },
    /// Any other failure of the implementation (a robot's I/O, a driver error…).
    #[error("{0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// An environment that pilqr can learn in.
///
/// The interface is episodic and step-by-step so that both a simulator and a real robot can
/// implement it: `reset(condition)` puts the system in one of its initial conditions, then
/// `step(u)` applies an action for one control period (`dims().dt` seconds), and `state`/
/// `observation` read the current `x` and `o`.
///
/// - A **simulated** task resets exactly (bit-identical, e.g. from a physics snapshot) and can
///   hand out independent copies of itself with [`Task::fork`], which the sampler uses to roll out
///   samples in parallel.
/// - A **real robot** blocks in `step` until the control period has elapsed (or streams the
///   torque command and waits for the next state message), moves to the initial configuration in
///   `reset` (with its own controller, possibly asking an operator to place objects), and returns
///   `None` from `fork`: its samples are then collected one after another. It reports I/O
///   failures through [`TaskError::Other`].
///
/// `step` must validate the action (length and finiteness) and leave the system unchanged when
/// it is invalid. Torques are clamped to the actuator ranges by the task, not by the caller.
///
/// # Seeded episodes
///
/// A task with randomness of its own (process noise, a randomised initial state, random
/// object masses…) overrides [`Task::reset_seeded`]: it receives a [`TaskSeed`] naming the
/// episode, keeps the stream(s) it derives from it ([`TaskSeed::rng`]) and draws from them in
/// `reset_seeded` and in the following `step`s. Every rollout of the sampler
/// ([`crate::sample_policy`]) starts with `reset_seeded(condition, seed.task_seed(iteration,
/// condition, sample))`, so an episode's randomness depends only on the run seed and the
/// sample's indices — never on which thread or fork ran it, nor on the episodes before it.
/// The action noise comes from a separate stream, which the task's draws do not shift.
///
/// `reset(condition)` is then the nominal episode (no randomisation, no process noise); the
/// trajectory optimisers use it to read the initial state their initial controllers are
/// built around. A task without randomness implements `reset` only: the default
/// `reset_seeded` ignores the seed and calls it, so its rollouts are what they were before
/// seeds existed, bit for bit.
pub trait Task: Send {
    /// Short name, e.g. `"gripper-pusher"`.
    fn name(&self) -> &str;

    /// Sizes and control period.
    fn dims(&self) -> TaskDims;

    /// The initial conditions.
    fn conditions(&self) -> &[Condition];

    /// Where joint positions and velocities are in the state.
    fn layout(&self) -> StateLayout;

    /// Put the system in initial condition `condition` (for a task with randomness, the nominal
    /// episode: no randomised initial state, no process noise).
    fn reset(&mut self, condition: usize) -> Result<(), TaskError>;

    /// Put the system in initial condition `condition` for the episode named by `seed`: a task
    /// with randomness of its own draws its initial state from the seed's streams and keeps a
    /// stream for the process noise of the following `step`s. The same `(condition, seed)`
    /// must give the same episode, bit for bit, on any copy of the task.
    ///
    /// The default ignores the seed and calls [`Task::reset`].
    fn reset_seeded(&mut self, condition: usize, seed: TaskSeed) -> Result<(), TaskError> {
        let _ = seed;
        self.reset(condition)
    }

    /// Apply action `u` (`dU` values) for one control period.
    fn step(&mut self, u: &[f64]) -> Result<(), TaskError>;

    /// The bound of each action entry, when the task clamps its actions: `step` uses
    /// `u[i].clamp(-limits[i], limits[i])` in place of `u[i]` (`dU` values, each `>= 0`), so
    /// actions beyond the bounds act as the bounds. `None` (the default) when the actions are
    /// not bounded or the task does not say; a wrapper presenting the task to another library
    /// (a gymnasium action space) then uses an unbounded box.
    fn action_limits(&self) -> Option<Vec<f64>> {
        None
    }

    /// Write the current state (`dX` values) into `x`.
    fn state(&self, x: &mut [f64]);

    /// Write the current observation (`dO` values) into `obs`.
    fn observation(&self, obs: &mut [f64]);

    /// The task's default cost for `condition`.
    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError>;

    /// The success metric of a trajectory from `condition`.
    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError>;

    /// An independent copy for parallel rollouts, or `None` when the task cannot be copied
    /// (a real robot). Copies must produce bit-identical trajectories to the original.
    fn fork(&self) -> Option<Box<dyn Task>> {
        None
    }

    /// Whether a rollout runs a physics engine or a robot, i.e. whether its time is the cost
    /// the learner's own time is measured against (the "non-physics / physics" ratio of the
    /// summaries). `false` for dynamics in closed form (a few arithmetic operations per step),
    /// whose rollout time says nothing about a real system.
    fn has_physics(&self) -> bool {
        true
    }
}

/// Check an action's length and finiteness, as every [`Task::step`] must.
pub fn validate_action(u: &[f64], du: usize) -> Result<(), TaskError> {
    if u.len() != du {
        return Err(TaskError::ActionLength {
            expected: du,
            got: u.len(),
        });
    }
    if let Some((index, &value)) = u.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(TaskError::NonFiniteAction { index, value });
    }
    Ok(())
}

/// Check a condition index.
pub fn validate_condition(index: usize, count: usize) -> Result<(), TaskError> {
    if index >= count {
        return Err(TaskError::UnknownCondition { index, count });
    }
    Ok(())
}
