//! The training loop of `train`, `compare` and `resume`: run every (method, seed) job for its
//! iterations, appending metrics and saving a checkpoint after each iteration, and pick up
//! exactly where an interrupted run stopped.
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

use pilqr_core::Split;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::method::Method;
use crate::error::CliError;
use crate::run::checkpoint::{self, CheckpointError};
use crate::run::interrupt;
use crate::run::metrics_log::{MetricsLog, MetricsRow};
use crate::run::progress::{OutputMode, Progress};
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

/// Run `jobs` for `iterations` iterations each, in order, in `dir`.
///
/// With `resume = false` the metrics files are started afresh and every job starts from
/// [`Trainer::start`]. With `resume = true` each job continues from its checkpoint when it has
/// one, and metrics rows the checkpoints do not account for are dropped first. Returns every
/// metrics row of the run.
pub fn run_jobs<T: Trainer>(
    trainer: &T,
    dir: &RunDir,
    config_digest: u32,
    jobs: &[Job],
    iterations: usize,
    mode: OutputMode,
    resume: bool,
) -> Result<Vec<MetricsRow>, CliError> {
    let log = MetricsLog::in_dir(dir.root());
    let mut states: Vec<Option<T::State>> = Vec::with_capacity(jobs.len());
    if resume {
        let mut done = Vec::with_capacity(jobs.len());
        for &job in jobs {
            let state = load_job::<T>(dir, job, config_digest)?;
            done.push((job, state.as_ref().map_or(0, |s| trainer.completed(s))));
            states.push(state);
        }
        log.retain(|r| {
            done.iter().any(|(job, n)| {
                job.method.name() == r.method && job.seed == r.seed && r.iteration < *n
            })
        })?;
    } else {
        log.create()?;
        states.resize_with(jobs.len(), || None);
    }
    for (&job, state) in jobs.iter().zip(states) {
        let mut state = match state {
            Some(s) => s,
            None => trainer.start(job.method, job.seed)?,
        };
        let path = dir.checkpoint_path(job.method.name(), job.seed);
        dir.make_controllers_dir(job.method.name(), job.seed)?;
        let start = trainer.completed(&state);
        let progress = Progress::new(mode, &job.label(), iterations, start.min(iterations));
        for it in start..iterations {
            if interrupt::requested() {
                return Err(interrupted(dir, job, it, iterations));
            }
            progress.start_iteration(it, trainer.rollouts_per_iteration());
            let rows = trainer.step(job, &mut state, &progress)?;
            log.append(&rows)?;
            let controller = SavedController {
                job,
                config_digest,
                iteration: it,
                controller: T::controller(&state),
            };
            let controller_path = dir.controller_path(job.method.name(), job.seed, it);
            checkpoint::save(&controller_path, T::CONTROLLER_KIND, &controller)?;
            let saved = Saved {
                job,
                config_digest,
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
            if interrupt::requested() && it + 1 < iterations {
                return Err(interrupted(dir, job, it + 1, iterations));
            }
        }
        progress.finish();
    }
    Ok(log.read()?)
}

/// The error of a run stopped by Ctrl-C before iteration `next` of `job`.
fn interrupted(dir: &RunDir, job: Job, next: usize, iterations: usize) -> CliError {
    let done = match next {
        0 => format!("{} had no iteration done", job.label()),
        n => format!(
            "{} iteration {} ({n} of {iterations} done, checkpoint written)",
            job.label(),
            n - 1
        ),
    };
    CliError::Interrupted {
        dir: dir.root().to_path_buf(),
        done,
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
mod tests {
    use super::*;
    use crate::run::metrics_log::TimeSplit;
    use crate::test_dir::TestDir;
    use std::cell::Cell;

    /// A deterministic stand-in for an algorithm: a state that evolves by a hash and can be
    /// told to fail at a given step (simulating a process killed mid-iteration).
    struct Fake {
        fail_at_step: Cell<Option<usize>>,
        steps: Cell<usize>,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct FakeState {
        done: usize,
        x: u64,
    }

    impl Trainer for Fake {
        type State = FakeState;
        const KIND: &'static str = "fake/1";
        type Controller = u64;
        const CONTROLLER_KIND: &'static str = "fake-controller/1";

        fn controller(s: &FakeState) -> u64 {
            s.x
        }

        fn start(&self, method: Method, seed: u64) -> Result<FakeState, CliError> {
            Ok(FakeState {
                done: 0,
                x: seed.wrapping_mul(31) ^ method.name().len() as u64,
            })
        }

        fn completed(&self, s: &FakeState) -> usize {
            s.done
        }

        fn step(
            &self,
            _: Job,
            s: &mut FakeState,
            _: &Progress,
        ) -> Result<Vec<MetricsRow>, CliError> {
            let k = self.steps.get();
            self.steps.set(k + 1);
            if self.fail_at_step.get() == Some(k) {
                return Err(CliError::Run {
                    context: "fake".into(),
                    message: "killed".into(),
                });
            }
            s.x =
                s.x.wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
            s.done += 1;
            Ok((0..2)
                .map(|c| MetricsRow {
                    method: "pilqr".into(),
                    seed: 0,
                    iteration: s.done - 1,
                    condition: c,
                    condition_name: format!("c{c}"),
                    samples: 5 * s.done,
                    mean_cost: (s.x >> 11) as f64 / (1u64 << 53) as f64,
                    std_cost: 0.0,
                    success_rate: 0.0,
                    kl: None,
                    eta: None,
                    step_mult: None,
                    residual_ratio: None,
                    time: TimeSplit {
                        physics: k as f64,
                        ..TimeSplit::default()
                    },
                    split: pilqr_core::Split::Train,
                    metric: None,
                })
                .collect())
        }

        fn rollouts_per_iteration(&self) -> usize {
            10
        }
    }

    fn fake(fail_at_step: Option<usize>) -> Fake {
        Fake {
            fail_at_step: Cell::new(fail_at_step),
            steps: Cell::new(0),
        }
    }

    const JOB: Job = Job {
        method: Method::Pilqr,
        seed: 0,
    };

    #[test]
    fn an_interrupted_run_resumes_to_the_uninterrupted_result() {
        let tmp = TestDir::new("runner");
        let whole = RunDir::create(&tmp.path().join("whole")).unwrap();
        let reference =
            run_jobs(&fake(None), &whole, 7, &[JOB], 5, OutputMode::Quiet, false).unwrap();
        assert_eq!(reference.len(), 10);

        let cut = RunDir::create(&tmp.path().join("cut")).unwrap();
        let err = run_jobs(&fake(Some(3)), &cut, 7, &[JOB], 5, OutputMode::Quiet, false);
        assert!(err.is_err());
        // Simulate the rows of an iteration written just before a kill, without its checkpoint.
        let log = MetricsLog::in_dir(cut.root());
        let mut orphan = reference[6].clone();
        orphan.mean_cost = -1.0;
        log.append(&[orphan]).unwrap();

        let resumed = run_jobs(&fake(None), &cut, 7, &[JOB], 5, OutputMode::Quiet, true).unwrap();
        let strip =
            |rows: &[MetricsRow]| rows.iter().map(|r| r.without_times()).collect::<Vec<_>>();
        assert_eq!(strip(&resumed), strip(&reference));
        let a: Saved<FakeState> =
            checkpoint::load(&whole.checkpoint_path("pilqr", 0), "fake/1").unwrap();
        let b: Saved<FakeState> =
            checkpoint::load(&cut.checkpoint_path("pilqr", 0), "fake/1").unwrap();
        assert_eq!(a.state, b.state);
    }

    #[test]
    fn every_iteration_keeps_its_controller() {
        let tmp = TestDir::new("runner-controllers");
        let dir = RunDir::create(&tmp.path().join("r")).unwrap();
        let f = fake(None);
        run_jobs(&f, &dir, 7, &[JOB], 3, OutputMode::Quiet, false).unwrap();
        // The fake's controller is its state's hash, which evolves by the same recurrence.
        let mut x = f.start(JOB.method, JOB.seed).unwrap().x;
        for it in 0..3 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let saved = load_controller::<Fake>(&dir, JOB, 7, it).unwrap();
            assert_eq!(saved, Some(x), "iteration {it}");
        }
        assert_eq!(load_controller::<Fake>(&dir, JOB, 7, 3).unwrap(), None);
        let err = load_controller::<Fake>(&dir, JOB, 8, 0).unwrap_err();
        assert!(err.to_string().contains("config.toml changed"), "{err}");
    }

    #[test]
    fn resume_refuses_a_changed_config() {
        let tmp = TestDir::new("runner-digest");
        let dir = RunDir::create(&tmp.path().join("r")).unwrap();
        run_jobs(&fake(Some(1)), &dir, 1, &[JOB], 3, OutputMode::Quiet, false).unwrap_err();
        let err = run_jobs(&fake(None), &dir, 2, &[JOB], 3, OutputMode::Quiet, true).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("config.toml changed"), "{err}");
    }

    #[test]
    fn the_iteration_line_keeps_held_out_conditions_apart() {
        let row = |split, cost: f64, success: f64, metric| MetricsRow {
            method: "mdgps-pilqr".into(),
            seed: 0,
            iteration: 0,
            condition: 0,
            condition_name: "c".into(),
            samples: 10,
            mean_cost: cost,
            std_cost: 0.0,
            success_rate: success,
            kl: None,
            eta: None,
            step_mult: None,
            residual_ratio: None,
            time: TimeSplit::default(),
            split,
            metric: Some(metric),
        };
        let rows = [
            row(Split::Train, 2.0, 1.0, 0.01),
            row(Split::Train, 4.0, 0.0, 0.2),
            row(Split::Test, 100.0, 1.0, 0.02),
        ];
        assert_eq!(
            iteration_summary(&rows),
            "cost 3.0000  success 50%  samples/cond 10  held-out success 100%  metric 0.0200"
        );
        assert_eq!(
            iteration_summary(&rows[..1]),
            "cost 2.0000  success 100%  samples/cond 10"
        );
    }

    #[test]
    fn a_finished_run_resumes_to_a_no_op() {
        let tmp = TestDir::new("runner-done");
        let dir = RunDir::create(&tmp.path().join("r")).unwrap();
        let rows = run_jobs(&fake(None), &dir, 1, &[JOB], 2, OutputMode::Quiet, false).unwrap();
        let f = fake(Some(0));
        let again = run_jobs(&f, &dir, 1, &[JOB], 2, OutputMode::Quiet, true).unwrap();
        assert_eq!(again, rows);
        assert_eq!(f.steps.get(), 0);
    }
}
