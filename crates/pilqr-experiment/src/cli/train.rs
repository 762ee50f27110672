//! `pilqr train` and `pilqr compare`, and the run of a session's jobs they share with
//! `pilqr resume` and `pilqr reproduce`.
//!
//! A run of MDGPS methods needs libtorch for its S-steps. Before anything is written, the
//! command checks that libtorch computes in this process ([`pilqr_mdgps::check_torch`]); the
//! `*_with` variants take that check as an argument so that its failure path is testable.

use std::time::Instant;

use crate::cli::args::{CompareArgs, TrainArgs};
use crate::cli::report::{WallTime, finish_run};
use crate::cli::session::{Session, open_task};
use crate::config::experiment::ExperimentFile;
use crate::config::method::{Family, Method};
use crate::error::CliError;
use crate::run::metrics_log::MetricsRow;
use crate::run::progress::OutputMode;
use crate::run::runner::run_jobs;
use crate::task_registry::TaskRegistry;

/// The check that libtorch works, run before an MDGPS run starts.
pub type TorchProbe = fn() -> Result<(), CliError>;

/// Whether libtorch computes in this process ([`pilqr_mdgps::check_torch`]).
#[cfg(feature = "mdgps")]
pub fn check_torch() -> Result<(), CliError> {
    pilqr_mdgps::check_torch().map_err(CliError::from)
}

/// A build without MDGPS has no libtorch to check: it refuses MDGPS experiments when it reads
/// them.
#[cfg(not(feature = "mdgps"))]
pub fn check_torch() -> Result<(), CliError> {
    Err(CliError::NotAvailable {
        command: "train",
        missing: crate::config::experiment::NO_MDGPS.to_string(),
    })
}

/// Fail with a clear message, before anything is written, when `family` needs libtorch and
/// `probe` says it does not work.
pub fn require_torch(family: Family, probe: TorchProbe) -> Result<(), CliError> {
    match family {
        Family::Trajopt => Ok(()),
        Family::Mdgps => probe(),
    }
}

/// Print the experiment's warnings (settings that are valid but probably not meant) on stderr.
fn warn(file: &ExperimentFile) {
    for w in file.warnings() {
        eprintln!("warning: {w}");
    }
}

/// `pilqr train`: the experiment's first method, one seed.
pub fn train(args: &TrainArgs, mode: OutputMode, registry: &TaskRegistry) -> Result<(), CliError> {
    train_with(args, mode, registry, check_torch)
}

/// [`train`] with the libtorch check `probe`.
pub fn train_with(
    args: &TrainArgs,
    mode: OutputMode,
    registry: &TaskRegistry,
    probe: TorchProbe,
) -> Result<(), CliError> {
    let mut file = ExperimentFile::load_with(&args.config, &args.set)?;
    args.budget.apply(&mut file)?;
    let task = open_task(&file, registry)?;
    let conditions = file.validate(task.as_ref())?;
    warn(&file);
    let e = &file.experiment;
    require_torch(e.family(), probe)?;
    let method = e.methods[0];
    let seed = args.seed.unwrap_or(e.seeds[0]);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Session::default_dir(&file, ""));
    let session = Session::create(
        &file,
        task.as_ref(),
        conditions,
        &[method],
        &[seed],
        &out,
        args.force,
        registry,
    )?;
    execute_new(&session, task, mode, 1).map(drop)
}

/// `pilqr compare`: several methods and seeds, same task, budget and settings.
pub fn compare(
    args: &CompareArgs,
    mode: OutputMode,
    registry: &TaskRegistry,
) -> Result<(), CliError> {
    let mut file = ExperimentFile::load_with(&args.config, &args.set)?;
    args.budget.apply(&mut file)?;
    let task = open_task(&file, registry)?;
    let conditions = file.validate(task.as_ref())?;
    warn(&file);
    let e = &file.experiment;
    let methods: Vec<Method> = if args.methods.is_empty() {
        e.methods.clone()
    } else {
        let mut out = Vec::with_capacity(args.methods.len());
        for name in &args.methods {
            let m: Method = name
                .parse()
                .map_err(
                    |err: crate::config::method::UnknownMethod| CliError::Argument {
                        argument: "--methods",
                        message: err.to_string(),
                    },
                )?;
            if out.contains(&m) {
                return Err(CliError::Argument {
                    argument: "--methods",
                    message: format!("lists {m} twice"),
                });
            }
            if m.family() != e.family() {
                return Err(CliError::Argument {
                    argument: "--methods",
                    message: format!(
                        "{m} does not apply to {} (algorithm = \"{}\"); its methods are {}",
                        file.path.display(),
                        e.family(),
                        Method::defaults(e.family())
                            .iter()
                            .map(|m| m.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            out.push(m);
        }
        out
    };
    if e.family() == Family::Trajopt {
        file.check_step_rule(&methods)?;
    }
    let seeds: Vec<u64> = if args.seeds.is_empty() {
        e.seeds.clone()
    } else {
        for (i, s) in args.seeds.iter().enumerate() {
            if args.seeds[..i].contains(s) {
                return Err(CliError::Argument {
                    argument: "--seeds",
                    message: format!("lists seed {s} twice"),
                });
            }
        }
        args.seeds.clone()
    };
    require_torch(e.family(), check_torch)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Session::default_dir(&file, "-compare"));
    let session = Session::create(
        &file,
        task.as_ref(),
        conditions,
        &methods,
        &seeds,
        &out,
        args.force,
        registry,
    )?;
    execute_new(&session, task, mode, args.jobs.count()).map(drop)
}

/// [`execute`] for a run just created: when it fails before any job wrote its first
/// checkpoint, nothing is worth resuming, and the directory is removed so that a corrected
/// command can use it again.
fn execute_new(
    session: &Session,
    task: Box<dyn pilqr_core::Task>,
    mode: OutputMode,
    side_by_side: usize,
) -> Result<Vec<MetricsRow>, CliError> {
    let result = execute(session, task, mode, false, side_by_side);
    if result.is_err()
        && !session.dir.has_checkpoint()
        && let Err(e) = session.dir.discard()
    {
        tracing::warn!("could not remove the failed run: {e}");
    }
    result
}

/// Run (or, with `resume`, continue) every job of `session`, up to `side_by_side` of them at a
/// time, then write the summary, plots and renders. Returns all metrics rows of the run.
pub(crate) fn execute(
    session: &Session,
    task: Box<dyn pilqr_core::Task>,
    mode: OutputMode,
    resume: bool,
    side_by_side: usize,
) -> Result<Vec<MetricsRow>, CliError> {
    announce(session, mode, resume, side_by_side);
    run_and_report(session, task, mode, resume, side_by_side)
}

/// The number of jobs that run side by side: `side_by_side`, at least 1 and at most the jobs.
fn workers(session: &Session, side_by_side: usize) -> usize {
    side_by_side.clamp(1, session.jobs.len().max(1))
}

/// One line about what is about to run (not in quiet mode).
pub(crate) fn announce(session: &Session, mode: OutputMode, resume: bool, side_by_side: usize) {
    let e = &session.file.experiment;
    if mode != OutputMode::Quiet {
        let held_out = if session.conditions.test.is_empty() {
            String::new()
        } else {
            format!(", {} held out", session.conditions.test.len())
        };
        println!(
            "{} {} in {}: task {}, {} condition(s){held_out}, {} iteration(s) × {} samples, jobs ({} side by side): {}",
            if resume { "resuming" } else { "running" },
            e.name,
            session.dir.root().display(),
            e.task,
            session.conditions.train.len(),
            e.iterations,
            e.samples(),
            workers(session, side_by_side),
            session
                .jobs
                .iter()
                .map(|j| j.label())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// The part of [`execute`] after the [`announce`]ment: record the command in the provenance,
/// run the jobs (one trainer per worker, each with its own instance of the task; the first
/// reuses `task`), write the summary, plots and renders.
pub(crate) fn run_and_report(
    session: &Session,
    task: Box<dyn pilqr_core::Task>,
    mode: OutputMode,
    resume: bool,
    side_by_side: usize,
) -> Result<Vec<MetricsRow>, CliError> {
    crate::run::provenance::record(&session.dir, session.digest)?;
    let e = &session.file.experiment;
    let workers = workers(session, side_by_side);
    let (dir, digest, jobs, iterations) =
        (&session.dir, session.digest, &session.jobs, e.iterations);
    let mut task = Some(task);
    let mut next_task = || match task.take() {
        Some(t) => Ok(t),
        None => session.new_task(),
    };
    let started = Instant::now();
    let rows = match session.family() {
        Family::Trajopt => {
            let mut trainers = (0..workers)
                .map(|_| session.trajopt_trainer(next_task()?))
                .collect::<Result<Vec<_>, _>>()?;
            run_jobs(&mut trainers, dir, digest, jobs, iterations, mode, resume)?
        }
        #[cfg(feature = "mdgps")]
        Family::Mdgps => {
            let mut trainers = (0..workers)
                .map(|_| session.mdgps_trainer(next_task()?))
                .collect::<Result<Vec<_>, _>>()?;
            run_jobs(&mut trainers, dir, digest, jobs, iterations, mode, resume)?
        }
        #[cfg(not(feature = "mdgps"))]
        Family::Mdgps => check_torch().map(|()| Vec::new())?,
    };
    let wall = WallTime {
        seconds: started.elapsed().as_secs_f64(),
        side_by_side: workers,
    };
    finish_run(session, &rows, mode, wall)?;
    Ok(rows)
}

#[cfg(all(test, feature = "mdgps"))]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    fn no_torch() -> Result<(), CliError> {
        Err(pilqr_mdgps::TorchUnavailable {
            reason: "libtorch_cpu.so could not be loaded (simulated)".into(),
        }
        .into())
    }

    fn must_not_be_called() -> Result<(), CliError> {
        panic!("a trajectory-optimisation run must not need libtorch")
    }

    #[test]
    fn an_mdgps_config_without_libtorch_fails_at_start_and_writes_nothing() {
        let tmp = TestDir::new("no-torch");
        let config = tmp.path().join("e.toml");
        std::fs::write(
            &config,
            "name = \"pm\"\ntask = \"point-mass\"\nalgorithm = \"mdgps\"\nlocal = \"lqr-flm\"\n",
        )
        .unwrap();
        let out = tmp.path().join("run");
        let args = TrainArgs {
            config,
            seed: None,
            budget: Default::default(),
            set: Vec::new(),
            out: Some(out.clone()),
            force: false,
        };
        let err =
            train_with(&args, OutputMode::Quiet, &TaskRegistry::builtin(), no_torch).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.contains("scripts/with-libtorch"), "{msg}");
        assert!(msg.contains("simulated"), "{msg}");
        assert!(!msg.contains('\n'));
        assert!(!out.exists(), "a run directory was created");
        assert!(require_torch(Family::Trajopt, must_not_be_called).is_ok());
        assert!(require_torch(Family::Mdgps, check_torch).is_ok());
    }
}
