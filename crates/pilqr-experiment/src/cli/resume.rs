//! `pilqr resume DIR [--iterations N]`: continue every job of a run from its last checkpoint,
//! and with `--iterations N` extend (or finish) the run to N iterations per job.
//!
//! No iteration depends on how many follow it, and the checkpoints' fingerprint of the config
//! leaves the iteration count out (see [`config_digest`](crate::cli::session::config_digest)),
//! so a run of 3 iterations resumed with `--iterations 5` ends with the same metrics and
//! checkpoints as a run configured with 5 from the start. After the jobs, the metrics files are
//! put back in the order an uninterrupted run writes them (job by job, iterations in order).

use crate::cli::args::ResumeArgs;
use crate::cli::session::Session;
use crate::cli::train::{announce, check_torch, require_torch, run_and_report};
use crate::config::method::Family;
use crate::error::CliError;
use crate::run::metrics_log::MetricsLog;
use crate::run::progress::OutputMode;
use crate::run::runner::{Trainer, load_job};
use crate::task_registry::TaskRegistry;

/// `pilqr resume`: continue (and with `--iterations`, extend) every job of a run.
pub fn resume(
    args: &ResumeArgs,
    mode: OutputMode,
    registry: &TaskRegistry,
) -> Result<(), CliError> {
    let (mut session, task) = Session::open_locked(&args.dir, registry)?;
    require_torch(session.family(), check_torch)?;
    let rows = MetricsLog::in_dir(session.dir.root()).read()?;
    if !args.force && !rows.is_empty() && !session.dir.has_checkpoint() {
        return Err(CliError::Argument {
            argument: "DIR",
            message: format!(
                "{}: metrics.jsonl holds {} row(s) but no checkpoint is left in {}; resuming would start over and drop them: restore the checkpoints, or pass --force to start over",
                session.dir.root().display(),
                rows.len(),
                session.dir.checkpoints_dir().display()
            ),
        });
    }
    let side_by_side = args.jobs.count();
    // A trainer of the family, only to read how far each job's checkpoint got.
    let done = match session.family() {
        Family::Trajopt => completed(&session, &session.trajopt_trainer(session.new_task()?)?)?,
        #[cfg(feature = "mdgps")]
        Family::Mdgps => completed(&session, &session.mdgps_trainer(session.new_task()?)?)?,
        #[cfg(not(feature = "mdgps"))]
        Family::Mdgps => return check_torch(),
    };
    resume_with(
        &mut session,
        task,
        &done,
        args.iterations,
        side_by_side,
        mode,
    )
}

/// Iterations each job of `session` has completed, from its checkpoint (0 without one).
fn completed<T: Trainer>(session: &Session, trainer: &T) -> Result<Vec<usize>, CliError> {
    session
        .jobs
        .iter()
        .map(|&job| {
            let state = load_job::<T>(&session.dir, job, session.digest)?;
            Ok(state.map_or(0, |s| trainer.completed(&s)))
        })
        .collect()
}

/// [`resume`] once the iterations each job has `done` are known: check and apply the new
/// iteration count `target`, say so when there is nothing left to do, otherwise run the rest
/// with up to `side_by_side` jobs at a time.
fn resume_with(
    session: &mut Session,
    task: Box<dyn pilqr_core::Task>,
    done: &[usize],
    target: Option<usize>,
    side_by_side: usize,
    mode: OutputMode,
) -> Result<(), CliError> {
    let before = session.file.experiment.iterations;
    if let Some(n) = target {
        if n == 0 {
            return Err(CliError::Argument {
                argument: "--iterations",
                message: "must be at least 1".into(),
            });
        }
        if let Some((job, &most)) = session.jobs.iter().zip(done).max_by_key(|(_, d)| **d)
            && n < most
        {
            return Err(CliError::Argument {
                argument: "--iterations",
                message: format!(
                    "{n} is below the {most} iteration(s) {} has done already in {}; a run can be extended, not shortened",
                    job.label(),
                    session.dir.root().display()
                ),
            });
        }
        if n != before {
            session.set_iterations(n)?;
        }
    }
    let iterations = session.file.experiment.iterations;
    if done.iter().all(|&d| d >= iterations) && session.dir.summary_path().exists() {
        println!(
            "run complete: {iterations} of {iterations} iterations in {}; use --iterations N to extend",
            session.dir.root().display()
        );
        return Ok(());
    }
    announce(session, mode, true, side_by_side);
    run_and_report(session, task, mode, true, side_by_side)?;
    if iterations > before && session.jobs.len() > 1 {
        // The extension appended each job's new iterations after every job's old ones.
        MetricsLog::in_dir(session.dir.root()).sort_by_key(|r| {
            let job = session
                .jobs
                .iter()
                .position(|j| j.method.name() == r.method && j.seed == r.seed);
            (job, r.iteration)
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, run_with};
    use crate::run::metrics_log::{MetricsRow, read_jsonl};
    use crate::test_dir::TestDir;
    use clap::Parser;
    use std::path::Path;

    const CONFIG: &str = "name = \"extend\"\ntask = \"point-mass\"\nconditions = [0, 1]\n\
                          methods = [\"lqr-flm\", \"pilqr\"]\nseeds = [0]\niterations = 5\n\
                          [trajopt]\nsamples = 5\n";

    fn pilqr(args: &[&str]) -> Result<(), CliError> {
        let mut all = vec!["pilqr", "-q"];
        all.extend(args);
        run_with(Cli::parse_from(all), &TaskRegistry::builtin())
    }

    fn rows_without_times(dir: &Path) -> Vec<MetricsRow> {
        read_jsonl(&dir.join("metrics.jsonl"))
            .unwrap()
            .iter()
            .map(MetricsRow::without_times)
            .collect()
    }

    /// The metrics files with the wall-time columns and fields blanked (they differ between
    /// any two runs).
    fn files_without_times(dir: &Path) -> Vec<String> {
        let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
        let mut columns = csv.lines().next().unwrap().split(',');
        let time_columns: Vec<usize> = (0..)
            .zip(columns.by_ref())
            .filter(|(_, c)| c.starts_with("time_"))
            .map(|(i, _)| i)
            .collect();
        assert!(!time_columns.is_empty());
        let csv: Vec<String> = csv
            .lines()
            .map(|l| {
                l.split(',')
                    .enumerate()
                    .filter(|(i, _)| !time_columns.contains(i))
                    .map(|(_, f)| f)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        let jsonl: Vec<String> = rows_without_times(dir)
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        vec![csv.join("\n"), jsonl.join("\n")]
    }

    #[test]
    fn a_run_extended_by_resume_equals_one_configured_with_the_count_from_the_start() {
        let tmp = TestDir::new("extend");
        let config = tmp.path().join("extend.toml");
        std::fs::write(&config, CONFIG).unwrap();
        let config = config.to_str().unwrap();
        let (whole, short) = (tmp.path().join("whole"), tmp.path().join("short"));
        let (whole_s, short_s) = (whole.to_str().unwrap(), short.to_str().unwrap());
        pilqr(&["compare", "--config", config, "--out", whole_s]).unwrap();
        let three = [
            "compare",
            "--config",
            config,
            "--out",
            short_s,
            "--iterations",
            "3",
        ];
        pilqr(&three).unwrap();
        assert_eq!(rows_without_times(&short).len(), 2 * 2 * 3);

        // Nothing left to do: a note, nothing written.
        let metrics = std::fs::read(short.join("metrics.jsonl")).unwrap();
        pilqr(&["resume", short_s]).unwrap();
        assert_eq!(std::fs::read(short.join("metrics.jsonl")).unwrap(), metrics);

        pilqr(&["resume", short_s, "--iterations", "5"]).unwrap();
        let (expected, got) = (rows_without_times(&whole), rows_without_times(&short));
        assert_eq!(expected.len(), 2 * 2 * 5);
        assert_eq!(got, expected);
        for (a, b) in got.iter().zip(&expected) {
            assert_eq!(a.mean_cost.to_bits(), b.mean_cost.to_bits());
        }
        assert_eq!(files_without_times(&short), files_without_times(&whole));
        for name in ["lqr-flm-seed0.ckpt", "pilqr-seed0.ckpt"] {
            let ckpt = |d: &Path| std::fs::read(d.join("checkpoints").join(name)).unwrap();
            assert!(ckpt(&short) == ckpt(&whole), "{name} differs");
        }
        assert_eq!(
            std::fs::read_to_string(short.join("config.toml")).unwrap(),
            std::fs::read_to_string(whole.join("config.toml")).unwrap()
        );

        // Shorter than what is done: refused, nothing changed.
        let config_text = std::fs::read_to_string(short.join("config.toml")).unwrap();
        let err = pilqr(&["resume", short_s, "--iterations", "4"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("4 is below the 5 iteration(s)"),
            "{err}"
        );
        let err = pilqr(&["resume", short_s, "--iterations", "0"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            std::fs::read_to_string(short.join("config.toml")).unwrap(),
            config_text
        );
        // The same count again: complete.
        pilqr(&["resume", short_s, "--iterations", "5"]).unwrap();
    }
}
