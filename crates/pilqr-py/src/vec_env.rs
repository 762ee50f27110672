//! Copies of a task stepped together across threads: the plain-Rust core behind
//! `pilqr.gym.PilqrVectorEnv` (no Python in this file).
//!
//! Each call of [`VecStepEnv::run`] gives every copy one [`Command`]: reset it (from a
//! condition, with a task seed), step it with its row of the action array, or leave it. The copies are
//! independent [`StepEnv`]s, each touched by exactly one worker during a call, and every
//! output is written to the copy's own row, so the results do not depend on the number of
//! threads nor on how rayon schedules the copies: a copy's outputs are those of a lone
//! `StepEnv` given the same commands.
//!
//! Which copy resets when (gymnasium's autoreset) is decided by the caller, which also draws
//! the conditions and seeds; this type only executes the commands.

use pilqr_core::{Outcome, TaskDims, TaskSeed};
use rayon::prelude::*;
use thiserror::Error;

use crate::step_env::{EnvError, StepEnv};

/// What can go wrong when building or driving a [`VecStepEnv`].
#[derive(Debug, Error)]
pub enum VecEnvError {
    /// A copy failed; the other copies ran their commands. The lowest failing copy is
    /// reported, so the error does not depend on the schedule either.
    #[error("copy {copy}: {source}")]
    Copy {
        /// The copy's index.
        copy: usize,
        /// Its error.
        #[source]
        source: EnvError,
    },
    /// The arguments do not fit the copies.
    #[error("{field} has {got} entries, expected {expected}")]
    Size {
        /// The argument.
        field: &'static str,
        /// Its length.
        got: usize,
        /// The length needed.
        expected: usize,
    },
    /// A vector env needs at least one copy and one thread.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// The worker threads could not be started.
    #[error("starting {threads} worker threads: {source}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The cause.
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
}

/// What one copy does in a [`VecStepEnv::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Leave the copy as it is (its outputs: its current observation and state, reward 0).
    Keep,
    /// Apply the copy's row of the actions.
    Step,
    /// Start an episode from `condition` with the task's randomness drawn from `seed` (the
    /// copy's action row is ignored).
    Reset {
        /// The condition.
        condition: usize,
        /// The task seed.
        seed: TaskSeed,
    },
}

/// The outputs of one [`VecStepEnv::run`], one row per copy (row-major arrays).
#[derive(Debug, Clone, PartialEq)]
pub struct VecOutputs {
    /// Observations `[N, dO]`.
    pub obs: Vec<f64>,
    /// States `[N, dX]`.
    pub state: Vec<f64>,
    /// Rewards `[N]` (`−c_t` of a step, 0 for a reset or a copy left alone).
    pub reward: Vec<f64>,
    /// Whether the copy's step was the last of the horizon `[N]` (false unless it stepped).
    pub truncated: Vec<bool>,
    /// The success test of the episode, for copies whose step was the last one.
    pub success: Vec<Option<Outcome>>,
}

impl VecOutputs {
    fn new(n: usize, dims: TaskDims) -> Self {
        VecOutputs {
            obs: vec![0.0; n * dims.dobs],
            state: vec![0.0; n * dims.dx],
            reward: vec![0.0; n],
            truncated: vec![false; n],
            success: vec![None; n],
        }
    }
}

/// `N` copies of a task and the worker threads that step them; see the module documentation.
pub struct VecStepEnv {
    envs: Vec<StepEnv>,
    dims: TaskDims,
    threads: usize,
    pool: rayon::ThreadPool,
    out: VecOutputs,
}

impl std::fmt::Debug for VecStepEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VecStepEnv")
            .field("task", &self.envs.first().map(StepEnv::name))
            .field("copies", &self.envs.len())
            .field("threads", &self.threads)
            .finish()
    }
}

impl VecStepEnv {
    /// `copies` copies of the built-in task `name`, stepped by `threads` worker threads.
    pub fn by_name(name: &str, copies: usize, threads: usize) -> Result<Self, VecEnvError> {
        if copies == 0 {
            return Err(VecEnvError::Zero("the number of copies"));
        }
        let envs = (0..copies)
            .map(|copy| StepEnv::by_name(name).map_err(|source| VecEnvError::Copy { copy, source }))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(envs, threads)
    }

    /// Drive `envs` (copies of one task: same sizes) with `threads` worker threads.
    pub fn new(envs: Vec<StepEnv>, threads: usize) -> Result<Self, VecEnvError> {
        let dims = envs
            .first()
            .ok_or(VecEnvError::Zero("the number of copies"))?
            .dims();
        if threads == 0 {
            return Err(VecEnvError::Zero("the number of threads"));
        }
        if let Some(copy) = envs.iter().position(|e| e.dims() != dims) {
            return Err(VecEnvError::Copy {
                copy,
                source: EnvError::Episode(format!(
                    "task {:?} has other sizes than copy 0 ({:?})",
                    envs[copy].name(),
                    envs[0].name()
                )),
            });
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("pilqr-vec-{i}"))
            .build()
            .map_err(|source| VecEnvError::Threads { threads, source })?;
        let out = VecOutputs::new(envs.len(), dims);
        Ok(VecStepEnv {
            envs,
            dims,
            threads,
            pool,
            out,
        })
    }

    /// The number of copies `N`.
    pub fn copies(&self) -> usize {
        self.envs.len()
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The task's sizes (the same for every copy).
    pub fn dims(&self) -> TaskDims {
        self.dims
    }

    /// The copies.
    pub fn envs(&self) -> &[StepEnv] {
        &self.envs
    }

    /// The outputs of the last [`VecStepEnv::run`] (zeros before the first).
    pub fn outputs(&self) -> &VecOutputs {
        &self.out
    }

    /// Give copy `i` the command `commands[i]`, stepping it with row `i` of `actions`
    /// (`[N, dU]`, row-major) when the command is [`Command::Step`]; returns the outputs.
    ///
    /// On a failure the copies that succeeded have their outputs written and the error of
    /// the lowest failing copy is returned (an invalid action leaves that copy's episode as
    /// it was; a failing task ends that copy's episode).
    pub fn run(
        &mut self,
        commands: &[Command],
        actions: &[f64],
    ) -> Result<&VecOutputs, VecEnvError> {
        let n = self.envs.len();
        let TaskDims { dx, du, dobs, .. } = self.dims;
        if commands.len() != n {
            return Err(VecEnvError::Size {
                field: "commands",
                got: commands.len(),
                expected: n,
            });
        }
        if actions.len() != n * du {
            return Err(VecEnvError::Size {
                field: "actions",
                got: actions.len(),
                expected: n * du,
            });
        }
        let envs = &mut self.envs;
        let results: Vec<Result<Option<_>, EnvError>> = self.pool.install(|| {
            envs.par_iter_mut()
                .zip(commands.par_iter())
                .zip(actions.par_chunks(du.max(1)))
                .map(|((env, command), u)| match *command {
                    Command::Keep => Ok(None),
                    Command::Step => env.step(&u[..du]).map(Some),
                    Command::Reset { condition, seed } => env.reset(condition, seed).map(|()| None),
                })
                .collect()
        });
        let out = &mut self.out;
        let mut first_error = None;
        for (i, (env, result)) in self.envs.iter().zip(results).enumerate() {
            let (reward, truncated, success) = match result {
                Ok(Some(o)) => (o.reward, o.truncated, o.success),
                Ok(None) => (0.0, false, None),
                Err(source) => {
                    first_error.get_or_insert(VecEnvError::Copy { copy: i, source });
                    (0.0, false, None)
                }
            };
            out.obs[i * dobs..(i + 1) * dobs].copy_from_slice(env.observation());
            out.state[i * dx..(i + 1) * dx].copy_from_slice(env.state());
            out.reward[i] = reward;
            out.truncated[i] = truncated;
            out.success[i] = success;
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(&self.out),
        }
    }
}
