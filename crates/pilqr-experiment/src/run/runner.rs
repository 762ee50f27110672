//! The training loop of `train`, `compare` and `resume`: run every (method, seed) job for its
//! iterations (several side by side, [`crate::run::job_pool`]), appending metrics and saving a
//! checkpoint after each iteration, and pick up exactly where an interrupted run stopped.
//!
//! The loop is generic over a [`Trainer`], the adapter to the algorithms, so that its
//! bookkeeping (checkpoint after every iteration, metrics truncation on resume, config
//! fingerprint) is tested without physics.
//!
//! Order of writes per iteration: metrics rows first, then the iteration's controller (a small
//! file kept for every iteration, for `eval`/`render --iteration`), then the checkpoint (the
//! whole state, last iteration only). A process killed before the checkpoint leaves rows (and
//! maybe a controller) of an iteration the checkpoint does not contain; [`run_jobs`] with
//! `resume = true` drops the rows before continuing, and the iteration is recomputed
//! bit-identically from the checkpoint, rewriting the controller with the same content.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use pilqr_core::Split;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::method::Method;
use crate::error::CliError;
use crate::run::checkpoint::{self, CheckpointError};
use crate::run::interrupt;
use crate::run::job_pool::run_in_order;
use crate::run::metrics_log::{MetricsLog, MetricsRow};
use crate::run::progress::{OutputMode, Progress, RunProgress};
use crate::run::provenance::original_config_crc32;
use crate::run::run_dir::RunDir;

/// The adapter between the loop and an algorithm implementation.
pub trait Trainer {
    /// Everything needed to continue a job bit-identically (controllers, dynamics buffers,
    /// step multipliers, RNG states…).
    type State: Serialize + DeserializeOwned;

    /// Label stored in checkpoints, naming the state type and its version.
    const KIND: &'static str;

    /// What is kept of every iteration: the policies a job's evaluation and renders need.
    type Controller: Serialize + DeserializeOwned;

    /// Label stored in the per-iteration controller files.
    const CONTROLLER_KIND: &'static str;

    /// The controller of `state`.
    fn controller(state: &Self::State) -> Self::Controller;

    /// The state of a job before its first iteration.
    fn start(&self, method: Method, seed: u64) -> Result<Self::State, CliError>;

    /// Iterations completed in `state`.
    fn completed(&self, state: &Self::State) -> usize;

    /// Run one iteration of `job` (every condition), returning one metrics row per condition.
    fn step(
        &self,
        job: Job,
        state: &mut Self::State,
        progress: &Progress,
    ) -> Result<Vec<MetricsRow>, CliError>;

    /// Rollouts one iteration performs (for the rollout bar).
    fn rollouts_per_iteration(&self) -> usize;
}

/// One (method, seed) pair of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The method.
    pub method: Method,
    /// The run seed.
    pub seed: u64,
}

impl Job {
    /// `method/seedN`, for progress and errors.
    pub fn label(&self) -> String {
        format!("{}/seed{}", self.method, self.seed)
    }
}

/// What a checkpoint file holds: the job, a fingerprint of the resolved config and the state.
#[derive(Debug, Serialize, Deserialize)]
struct Saved<S> {
    job: Job,
    config_digest: u32,
    state: S,
}

/// What a per-iteration controller file holds: as [`Saved`], with the iteration (from 0).
#[derive(Debug, Serialize, Deserialize)]
struct SavedController<C> {
    job: Job,
    config_digest: u32,
    iteration: usize,
    controller: C,
}

/// The controller of `job` after iteration `iteration` (from 0, as in `metrics.csv`), from its
/// file in `dir`; `None` when that iteration has not been saved. The file must belong to `job`,
/// to that iteration and to the config whose digest is `config_digest`.
pub fn load_controller<T: Trainer>(
    dir: &RunDir,
    job: Job,
    config_digest: u32,
    iteration: usize,
) -> Result<Option<T::Controller>, CliError> {
    let path = dir.controller_path(job.method.name(), job.seed, iteration);
    let saved: SavedController<T::Controller> = match checkpoint::load(&path, T::CONTROLLER_KIND) {
        Ok(s) => s,
        Err(CheckpointError::Missing { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    check_origin(
        dir,
        &path,
        saved.job,
        job,
        saved.config_digest,
        config_digest,
    )?;
    if saved.iteration != iteration {
        return Err(CliError::Run {
            context: path.display().to_string(),
            message: format!("holds iteration {} instead of {iteration}", saved.iteration),
        });
    }
    Ok(Some(saved.controller))
}

/// A saved file must belong to the job and config it is read for. When its config differs,
/// the run's provenance tells whether `config.toml` was edited since the run was created or
/// the file came from another run.
fn check_origin(
    dir: &RunDir,
    path: &std::path::Path,
    saved_job: Job,
    job: Job,
    saved_digest: u32,
    config_digest: u32,
) -> Result<(), CliError> {
    if saved_job != job {
        return Err(CliError::Argument {
            argument: "DIR",
            message: format!(
                "{}: holds job {} instead of {} (copied from another job's file?)",
                path.display(),
                saved_job.label(),
                job.label()
            ),
        });
    }
    if saved_digest != config_digest {
        let message = if original_config_crc32(dir) == Some(config_digest) {
            format!(
                "{}: was written by another run (its config differs from this run's config.toml, which is unchanged since the run was created); restore this run's own file",
                path.display()
            )
        } else {
            format!(
                "{}: config.toml changed since the checkpoint was written; restore it or start a new run",
                path.display()
            )
        };
        return Err(CliError::Argument {
            argument: "DIR",
            message,
        });
    }
    Ok(())
}

/// The state of `job` from its checkpoint in `dir`, or `None` when it has none yet. The
/// checkpoint must belong to `job` and to the config whose digest is `config_digest`.
pub fn load_job<T: Trainer>(
    dir: &RunDir,
    job: Job,
    config_digest: u32,
) -> Result<Option<T::State>, CliError> {
    let path = dir.checkpoint_path(job.method.name(), job.seed);
    let saved: Saved<T::State> = match checkpoint::load(&path, T::KIND) {
        Ok(s) => s,
        Err(CheckpointError::Missing { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    check_origin(
        dir,
        &path,
        saved.job,
        job,
        saved.config_digest,
        config_digest,
    )?;
    Ok(Some(saved.state))
}

/// Copy the saved files of `job` from the run `from` (whose config digest is `from_digest`) into
/// the run `to` (digest `to_digest`): the controllers of iterations `0..iterations` and the
/// checkpoint holding `state` (the job's state read from `from`), each re-labelled with
/// `to_digest` and otherwise the same. `pilqr merge` uses it: a job's computation does not
/// depend on the other jobs of its run, so its files in a run of all the jobs would be these.
pub fn copy_job<T: Trainer>(
    from: (&RunDir, u32),
    to: (&RunDir, u32),
    job: Job,
    state: T::State,
    iterations: usize,
) -> Result<(), CliError> {
    let ((from, from_digest), (to, to_digest)) = (from, to);
    let (method, seed) = (job.method.name(), job.seed);
    to.make_controllers_dir(method, seed)?;
    for iteration in 0..iterations {
        let controller =
            load_controller::<T>(from, job, from_digest, iteration)?.ok_or_else(|| {
                CliError::Argument {
                    argument: "JOBDIR",
                    message: format!(
                        "{}: the controller of iteration {iteration} is missing",
                        from.controller_path(method, seed, iteration).display()
                    ),
                }
            })?;
        let saved = SavedController {
            job,
            config_digest: to_digest,
            iteration,
            controller,
        };
        checkpoint::save(
            &to.controller_path(method, seed, iteration),
            T::CONTROLLER_KIND,
            &saved,
        )?;
    }
    let saved = Saved {
        job,
        config_digest: to_digest,
        state,
    };
    checkpoint::save(&to.checkpoint_path(method, seed), T::KIND, &saved)?;
    Ok(())
}

/// Run `jobs` for `iterations` iterations each in `dir`, up to `trainers.len()` of them side
/// by side (each worker thread drives its own trainer; jobs are started in order).
///
/// With `resume = false` the metrics files are started afresh and every job starts from
/// [`Trainer::start`]. With `resume = true` each job continues from its checkpoint when it has
/// one, and metrics rows the checkpoints do not account for are dropped first. Returns every
/// metrics row of the run.
///
/// Jobs side by side append their rows to the metrics files as their iterations finish; when
/// the jobs stop (finished, interrupted or failed) the files are sorted by (job, iteration), the
/// order of jobs run one after another, so that they do not depend on the number of workers
/// (the wall-time columns aside). Ctrl-C stops every job at its next safe point; a failing job
/// stops the others there too, and its error (the first in job order) is returned.
pub fn run_jobs<T>(
    trainers: &mut [T],
    dir: &RunDir,
    config_digest: u32,
    jobs: &[Job],
    iterations: usize,
    mode: OutputMode,
    resume: bool,
) -> Result<Vec<MetricsRow>, CliError>
where
    T: Trainer + Send,
    T::State: Send,
{
    let Some(first) = trainers.first() else {
        return Err(CliError::Run {
            context: dir.root().display().to_string(),
            message: "no trainer to run the jobs with".into(),
        });
    };
    let log = MetricsLog::in_dir(dir.root());
    let rank = |r: &MetricsRow| {
        let job = jobs
            .iter()
            .position(|j| j.method.name() == r.method && j.seed == r.seed);
        (job.unwrap_or(jobs.len()), r.iteration)
    };
    let mut states: Vec<Option<T::State>> = Vec::with_capacity(jobs.len());
    if resume {
        let mut done = Vec::with_capacity(jobs.len());
        for &job in jobs {
            let state = load_job::<T>(dir, job, config_digest)?;
            done.push((job, state.as_ref().map_or(0, |s| first.completed(s))));
            states.push(state);
        }
        log.retain(|r| {
            done.iter().any(|(job, n)| {
                job.method.name() == r.method && job.seed == r.seed && r.iteration < *n
            })
        })?;
        // A run killed while jobs ran side by side left their rows interleaved.
        log.sort_by_key(rank)?;
    } else {
        log.create()?;
        states.resize_with(jobs.len(), || None);
    }
    let run = JobsRun {
        dir,
        config_digest,
        iterations,
        log: &log,
        append: Mutex::new(()),
        failed: AtomicBool::new(false),
        states: Mutex::new(states),
        progress: RunProgress::new(mode, jobs.len()),
    };
    let stop = || run.stop_requested();
    let ends = run_in_order(trainers, jobs.len(), &stop, &|trainer: &mut T, index| {
        let end = run.job(trainer, jobs[index], index);
        match &end {
            Ok(JobEnd::Finished) => run.progress.job_finished(),
            Ok(JobEnd::Stopped { .. }) => {}
            Err(_) => run.failed.store(true, Ordering::SeqCst),
        }
        end
    });
    drop(run);
    let sorted = log.sort_by_key(rank);
    let (mut stopped, mut not_started) = (Vec::new(), 0);
    for (job, end) in jobs.iter().zip(ends) {
        match end {
            Some(Ok(JobEnd::Finished)) => {}
            Some(Ok(JobEnd::Stopped { next })) => {
                stopped.push(progress_text(*job, next, iterations))
            }
            Some(Err(e)) => return Err(e),
            None => not_started += 1,
        }
    }
    if not_started > 0 {
        stopped.push(format!("{not_started} job(s) not started"));
    }
    let rows = sorted?;
    if stopped.is_empty() {
        Ok(rows)
    } else {
        Err(CliError::Interrupted {
            dir: dir.root().to_path_buf(),
            done: stopped.join("; "),
        })
    }
}

/// How a job's run ended, when it did not fail.
enum JobEnd {
    /// Every iteration done.
    Finished,
    /// Stopped at a safe point (Ctrl-C, or another job failed) before iteration `next`.
    Stopped {
        /// The first iteration not done.
        next: usize,
    },
}

/// What the jobs of one [`run_jobs`] share.
struct JobsRun<'a, T: Trainer> {
    dir: &'a RunDir,
    config_digest: u32,
    iterations: usize,
    log: &'a MetricsLog,
    /// Held while a job appends its rows, so that rows of different jobs never mix in a line.
    append: Mutex<()>,
    /// Set when a job failed: the others stop at their next safe point.
    failed: AtomicBool,
    /// The checkpointed state of each job not started yet (resume), taken by its worker.
    states: Mutex<Vec<Option<T::State>>>,
    progress: RunProgress,
}

impl<T: Trainer> JobsRun<'_, T> {
    fn stop_requested(&self) -> bool {
        interrupt::requested() || self.failed.load(Ordering::SeqCst)
    }

    /// Run job number `index` (`job`) to its last iteration or to a stop.
    fn job(&self, trainer: &mut T, job: Job, index: usize) -> Result<JobEnd, CliError> {
        let (dir, iterations) = (self.dir, self.iterations);
        // A poisoned lock only means another job panicked; the states are whole values.
        let saved = self
            .states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(index)
            .and_then(Option::take);
        let mut state = match saved {
            Some(s) => s,
            None => trainer.start(job.method, job.seed)?,
        };
        let path = dir.checkpoint_path(job.method.name(), job.seed);
        dir.make_controllers_dir(job.method.name(), job.seed)?;
        let start = trainer.completed(&state);
        let progress = self
            .progress
            .job(&job.label(), iterations, start.min(iterations));
        for it in start..iterations {
            if self.stop_requested() {
                return Ok(JobEnd::Stopped { next: it });
            }
            progress.start_iteration(it, trainer.rollouts_per_iteration());
            let rows = trainer.step(job, &mut state, &progress)?;
            {
                let _appending = self.append.lock().unwrap_or_else(PoisonError::into_inner);
                self.log.append(&rows)?;
            }
            let controller = SavedController {
                job,
                config_digest: self.config_digest,
                iteration: it,
                controller: T::controller(&state),
            };
            let controller_path = dir.controller_path(job.method.name(), job.seed, it);
            checkpoint::save(&controller_path, T::CONTROLLER_KIND, &controller)?;
            let saved = Saved {
                job,
                config_digest: self.config_digest,
                state,
            };
            checkpoint::save(&path, T::KIND, &saved)?;
            state = saved.state;
            let summary = iteration_summary(&rows);
            tracing::info!(
                "{}: iteration {it} ({} of {iterations} done): {summary}",
                job.label(),
                it + 1
            );
            progress.finish_iteration(it, &summary);
            if self.stop_requested() && it + 1 < iterations {
                return Ok(JobEnd::Stopped { next: it + 1 });
            }
        }
        progress.finish();
        Ok(JobEnd::Finished)
    }
}

/// Where a job stopped before iteration `next`, for the message of an interrupted run.
fn progress_text(job: Job, next: usize, iterations: usize) -> String {
    match next {
        0 => format!("{} had no iteration done", job.label()),
        n => format!(
            "{} iteration {} ({n} of {iterations} done, checkpoint written)",
            job.label(),
            n - 1
        ),
    }
}

/// One line about an iteration: mean cost and success over its training conditions, and for
/// MDGPS the network's success and mean success metric on the held-out conditions.
fn iteration_summary(rows: &[MetricsRow]) -> String {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (train, test): (Vec<&MetricsRow>, Vec<&MetricsRow>) =
        rows.iter().partition(|r| r.split == Split::Train);
    if train.is_empty() {
        return String::new();
    }
    let cost = mean(&train.iter().map(|r| r.mean_cost).collect::<Vec<_>>());
    let success = mean(&train.iter().map(|r| r.success_rate).collect::<Vec<_>>());
    let samples = train.iter().map(|r| r.samples).max().unwrap_or(0);
    let mut line = format!(
        "cost {cost:.4}  success {:.0}%  samples/cond {samples}",
        100.0 * success
    );
    if !test.is_empty() {
        let held = mean(&test.iter().map(|r| r.success_rate).collect::<Vec<_>>());
        let metric = mean(&test.iter().filter_map(|r| r.metric).collect::<Vec<_>>());
        line.push_str(&format!(
            "  held-out success {:.0}%  metric {metric:.4}",
            100.0 * held
        ));
    }
    line
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
