//! `pilqr train`, `pilqr compare` and `pilqr resume`.

use crate::cli::args::{CompareArgs, ResumeArgs, TrainArgs};
use crate::cli::report::finish_run;
use crate::cli::session::{Session, open_task};
use crate::error::CliError;
use crate::experiment::ExperimentFile;
use crate::method::Method;
use crate::progress::OutputMode;
use crate::runner::run_jobs;

/// `pilqr train`: the experiment's first method, one seed.
pub fn train(args: &TrainArgs, mode: OutputMode) -> Result<(), CliError> {
    let file = ExperimentFile::load(&args.config)?;
    let task = open_task(&file)?;
    let conditions = file.validate(task.as_ref())?;
    let e = &file.experiment;
    let method = e.methods[0];
    let seed = args.seed.unwrap_or(e.seeds[0]);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Session::default_dir(&file, ""));
    let session = Session::create(&file, task.as_ref(), conditions, &[method], &[seed], &out)?;
    execute(&session, task, mode, false)
}

/// `pilqr compare`: several methods and seeds, same task, budget and settings.
pub fn compare(args: &CompareArgs, mode: OutputMode) -> Result<(), CliError> {
    let file = ExperimentFile::load(&args.config)?;
    let task = open_task(&file)?;
    let conditions = file.validate(task.as_ref())?;
    let e = &file.experiment;
    let methods: Vec<Method> = if args.methods.is_empty() {
        e.methods.clone()
    } else {
        let mut out = Vec::with_capacity(args.methods.len());
        for name in &args.methods {
            let m: Method =
                name.parse()
                    .map_err(|err: crate::method::UnknownMethod| CliError::Argument {
                        argument: "--methods",
                        message: err.to_string(),
                    })?;
            if out.contains(&m) {
                return Err(CliError::Argument {
                    argument: "--methods",
                    message: format!("lists {m} twice"),
                });
            }
            out.push(m);
        }
        out
    };
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
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Session::default_dir(&file, "-compare"));
    let session = Session::create(&file, task.as_ref(), conditions, &methods, &seeds, &out)?;
    execute(&session, task, mode, false)
}

/// `pilqr resume`: continue every job of a run from its last checkpoint.
pub fn resume(args: &ResumeArgs, mode: OutputMode) -> Result<(), CliError> {
    let (session, task) = Session::open(&args.dir)?;
    execute(&session, task, mode, true)
}

fn execute(
    session: &Session,
    task: Box<dyn pilqr_core::Task>,
    mode: OutputMode,
    resume: bool,
) -> Result<(), CliError> {
    if mode != OutputMode::Quiet {
        let e = &session.file.experiment;
        println!(
            "{} {} in {}: task {}, {} condition(s), {} iteration(s) × {} samples, jobs: {}",
            if resume { "resuming" } else { "running" },
            e.name,
            session.dir.root().display(),
            e.task,
            session.conditions.len(),
            e.iterations,
            e.trajopt.samples,
            session
                .jobs
                .iter()
                .map(|j| j.label())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let trainer = session.trainer(task)?;
    let rows = run_jobs(
        &trainer,
        &session.dir,
        session.digest,
        &session.jobs,
        session.file.experiment.iterations,
        mode,
        resume,
    )?;
    finish_run(session, &rows, mode)
}
