//! `pilqr merge --out DIR JOBDIR…`: put the jobs of several finished runs of one experiment
//! (e.g. one `pilqr compare --methods M --seeds S` per (method, seed), run on different
//! machines) into one compare run directory, as if `pilqr compare` had run them all.
//!
//! A job computes the same thing whichever other jobs share its run (it owns its state and
//! random streams), so the merged run is the compare of the same jobs: the same `config.toml`,
//! the metrics files in job order with the same rows (the wall-time columns are the jobs' own),
//! the checkpoints and per-iteration controllers with the merged run's config fingerprint, and
//! the summary, plots and renders written from them. Only the summary's closing sentence
//! differs: the merged run did not train here, so it has no wall time of the training.

use std::path::{Path, PathBuf};

use crate::cli::args::MergeArgs;
use crate::cli::report::finish_run_with_note;
use crate::cli::session::{Session, jobs};
use crate::config::experiment::Experiment;
use crate::config::method::{Family, Method};
use crate::error::CliError;
use crate::run::metrics_log::{MetricsLog, MetricsRow};
use crate::run::progress::OutputMode;
use crate::run::runner::{Job, Trainer, copy_job, load_job};
use crate::task_registry::TaskRegistry;

/// One source run directory of a merge, opened (and locked: nothing writes into it meanwhile).
struct Source {
    path: PathBuf,
    session: Session,
}

/// The experiment of a run without its methods and seeds: what every source must share.
fn shared_part(e: &Experiment) -> Experiment {
    Experiment {
        methods: Vec::new(),
        seeds: Vec::new(),
        ..e.clone()
    }
}

/// An error about the job directory `path`.
fn bad_source(path: &Path, message: String) -> CliError {
    CliError::Argument {
        argument: "JOBDIR",
        message: format!("{}: {message}", path.display()),
    }
}

/// What a merge puts together: the merged run's methods and seeds, and where each job is.
struct Plan {
    /// Methods, in the order they first appear in the sources.
    methods: Vec<Method>,
    /// Seeds, in the order they first appear in the sources.
    seeds: Vec<u64>,
    /// For every job of `methods` × `seeds` (methods outermost), the index of its source.
    holders: Vec<usize>,
}

/// The [`Plan`] of merging `sources`. Every job of the product must be in exactly one source.
fn plan(sources: &[Source]) -> Result<Plan, CliError> {
    let (mut methods, mut seeds) = (Vec::new(), Vec::new());
    let mut holder: Vec<(Job, usize)> = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        for &job in &source.session.jobs {
            if let Some(&(_, other)) = holder.iter().find(|(j, _)| *j == job) {
                return Err(bad_source(
                    &source.path,
                    format!(
                        "holds job {}, which {} holds too",
                        job.label(),
                        sources[other].path.display()
                    ),
                ));
            }
            holder.push((job, index));
            if !methods.contains(&job.method) {
                methods.push(job.method);
            }
            if !seeds.contains(&job.seed) {
                seeds.push(job.seed);
            }
        }
    }
    let mut order = Vec::new();
    for job in jobs(&methods, &seeds) {
        let Some(&(_, index)) = holder.iter().find(|(j, _)| *j == job) else {
            return Err(CliError::Argument {
                argument: "JOBDIR",
                message: format!(
                    "no directory holds job {}: a compare runs every method with every seed ({} × {})",
                    job.label(),
                    methods
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(","),
                    seeds
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            });
        };
        order.push(index);
    }
    Ok(Plan {
        methods,
        seeds,
        holders: order,
    })
}

/// Copy `job`'s checkpoint and controllers from `source` into `merged`, after checking that
/// the job has done every iteration of the run.
fn copy_finished<T: Trainer>(
    trainer: &T,
    source: &Source,
    merged: &Session,
    job: Job,
) -> Result<(), CliError> {
    let iterations = merged.file.experiment.iterations;
    let from = &source.session;
    let state = load_job::<T>(&from.dir, job, from.digest)?;
    let done = state.as_ref().map_or(0, |s| trainer.completed(s));
    let Some(state) = state.filter(|_| done >= iterations) else {
        return Err(bad_source(
            &source.path,
            format!(
                "job {} has done {done} of {iterations} iteration(s); finish it with `pilqr resume {}`",
                job.label(),
                source.path.display()
            ),
        ));
    };
    copy_job::<T>(
        (&from.dir, from.digest),
        (&merged.dir, merged.digest),
        job,
        state,
        iterations,
    )
}

/// `pilqr merge`: the compare run of every job of `args.jobs`' directories, in `args.out`.
pub fn merge(args: &MergeArgs, mode: OutputMode, registry: &TaskRegistry) -> Result<(), CliError> {
    let mut sources = Vec::with_capacity(args.jobs.len());
    for path in &args.jobs {
        if args.out.exists() && same_file(path, &args.out) {
            return Err(bad_source(path, "is the output directory --out".into()));
        }
        if let Some(other) = sources.iter().find(|o: &&Source| same_file(&o.path, path)) {
            return Err(bad_source(
                path,
                format!("is given twice (also as {})", other.path.display()),
            ));
        }
        let (session, _task) = Session::open_locked(path, registry)?;
        sources.push(Source {
            path: path.clone(),
            session,
        });
    }
    // The parser requires at least one JOBDIR, so there is a first source.
    let first = &sources[0];
    let shared = shared_part(&first.session.file.experiment);
    for source in &sources[1..] {
        if shared_part(&source.session.file.experiment) != shared {
            return Err(bad_source(
                &source.path,
                format!(
                    "its config.toml differs from {}'s in more than methods and seeds: runs of different experiments do not merge",
                    first.path.display()
                ),
            ));
        }
    }
    let Plan {
        methods,
        seeds,
        holders,
    } = plan(&sources)?;

    let mut file = first.session.file.clone();
    file.experiment.methods = methods.clone();
    file.experiment.seeds = seeds.clone();
    let task = first.session.new_task()?;
    let conditions = first.session.conditions.clone();
    let merged = Session::create(
        &file,
        task.as_ref(),
        conditions,
        &methods,
        &seeds,
        &args.out,
        args.force,
        registry,
    )?;
    let result = fill(&merged, &sources, &holders, mode);
    if result.is_err()
        && let Err(e) = merged.dir.discard()
    {
        tracing::warn!("could not remove the incomplete merge: {e}");
    }
    result
}

/// Whether `a` and `b` name the same directory.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Write the merged run with a trainer of its family (to read how far each job got).
fn fill(
    merged: &Session,
    sources: &[Source],
    holders: &[usize],
    mode: OutputMode,
) -> Result<(), CliError> {
    match merged.family() {
        Family::Trajopt => {
            let trainer = merged.trajopt_trainer(merged.new_task()?)?;
            fill_with(&trainer, merged, sources, holders, mode)
        }
        #[cfg(feature = "mdgps")]
        Family::Mdgps => {
            let trainer = merged.mdgps_trainer(merged.new_task()?)?;
            fill_with(&trainer, merged, sources, holders, mode)
        }
        #[cfg(not(feature = "mdgps"))]
        Family::Mdgps => crate::cli::train::check_torch(),
    }
}

/// Write the merged run: metrics rows and saved files of every job (in job order), the
/// provenance line, then the summary, plots and renders.
fn fill_with<T: Trainer>(
    trainer: &T,
    merged: &Session,
    sources: &[Source],
    holders: &[usize],
    mode: OutputMode,
) -> Result<(), CliError> {
    let iterations = merged.file.experiment.iterations;
    let log = MetricsLog::in_dir(merged.dir.root());
    log.create()?;
    let mut all: Vec<MetricsRow> = Vec::new();
    for (&job, &index) in merged.jobs.iter().zip(holders) {
        let source = &sources[index];
        let rows: Vec<MetricsRow> = MetricsLog::in_dir(source.session.dir.root())
            .read()?
            .into_iter()
            .filter(|r| r.method == job.method.name() && r.seed == job.seed)
            .collect();
        if rows.iter().any(|r| r.iteration >= iterations) {
            return Err(bad_source(
                &source.path,
                format!(
                    "metrics.jsonl has rows of {} beyond its {iterations} iteration(s)",
                    job.label()
                ),
            ));
        }
        copy_finished(trainer, source, merged, job)?;
        log.append(&rows)?;
        all.extend(rows);
    }
    crate::run::provenance::record(&merged.dir, merged.digest)?;
    let note = format!(
        "Merged by `pilqr merge` from {} run director{}; the time table sums the jobs' own times (the wall time of their training is not known here).",
        sources.len(),
        if sources.len() == 1 { "y" } else { "ies" }
    );
    finish_run_with_note(merged, &all, mode, &note)
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
