//! `pilqr reproduce`: run every experiment of a plan (default `experiments/reproduce.toml`, the
//! rows of docs/design.md §6) with `compare`, then write `results.md` with the tables, plots and a
//! render of each method's final behaviour.
//!
//! Each experiment runs in `<runs>/<name>`; when that directory already holds the same
//! experiment the run is resumed (a finished run is only re-summarised), so an interrupted
//! `reproduce` continues where it stopped. A failing experiment is reported on the page and the
//! others still run; the command then exits with an error.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::args::{RenderFormat, ReproduceArgs};
use crate::cli::render::render_job;
use crate::cli::session::{Session, open_task};
use crate::cli::train::{execute, require_torch};
use crate::config::experiment::ExperimentFile;
use crate::config::reproduce_plan::{PlanEntry, ReproducePlan};
use crate::error::CliError;
use crate::report::results_page::{Outcome, Section, keep_baselines_section, results_markdown};
use crate::report::summary::{Rollouts, summarise};
use crate::run::metrics_log::MetricsRow;
use crate::run::progress::OutputMode;
use crate::run::runner::Job;
use crate::task_registry::TaskRegistry;

/// `pilqr reproduce`, with the tasks of `registry`.
pub fn reproduce(
    args: &ReproduceArgs,
    mode: OutputMode,
    registry: &TaskRegistry,
) -> Result<(), CliError> {
    let plan = ReproducePlan::load(&args.plan)?;
    let runs = args.runs.clone().unwrap_or_else(|| {
        PathBuf::from(if args.quick {
            "runs/reproduce-quick"
        } else {
            "runs/reproduce"
        })
    });
    let page = args.results.join(if args.quick {
        "results-quick.md"
    } else {
        "results.md"
    });
    let assets = args.results.join(if args.quick {
        "results-quick"
    } else {
        "results"
    });
    let names = plan
        .entries
        .iter()
        .map(|e| ExperimentFile::load(&plan.config_path(e)).map(|f| f.experiment.name))
        .collect::<Result<Vec<_>, _>>()?;
    plan.check_ablations(&names)?;
    let mut sections = Vec::with_capacity(plan.entries.len());
    let mut failed = Vec::new();
    for (i, entry) in plan.entries.iter().enumerate() {
        if mode != OutputMode::Quiet {
            println!(
                "\n=== [{}/{}] {} ({})",
                i + 1,
                plan.entries.len(),
                entry.paper,
                entry.config.display()
            );
        }
        let section = run_entry(&plan, entry, args, &runs, &assets, mode, registry)?;
        if let Outcome::Failed { message } = &section.outcome {
            eprintln!("{}: {message}", section.name);
            failed.push(section.name.clone());
        }
        sections.push(section);
        // Rewrite the page after every experiment: a long run shows its progress there too.
        write_page(&page, &args.results, args, &sections)?;
    }
    println!("\nresults: {}", page.display());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Run {
            context: "pilqr reproduce".into(),
            message: format!(
                "{} experiment(s) failed: {}",
                failed.len(),
                failed.join(", ")
            ),
        })
    }
}

fn write_page(
    page: &Path,
    results: &Path,
    args: &ReproduceArgs,
    sections: &[Section],
) -> Result<(), CliError> {
    let command = format!(
        "pilqr reproduce{}{}",
        if args.quick { " --quick" } else { "" },
        if args.plan == Path::new(DEFAULT_PLAN) {
            String::new()
        } else {
            format!(" --plan {}", args.plan.display())
        }
    );
    // The plan's notes read the full run; they would mislabel the quick run's numbers.
    let quick_sections: Vec<Section>;
    let sections = if args.quick {
        quick_sections = sections
            .iter()
            .cloned()
            .map(|mut x| {
                x.entry.notes = None;
                x
            })
            .collect();
        &quick_sections[..]
    } else {
        sections
    };
    let text = results_markdown(if args.quick { " (quick)" } else { "" }, &command, sections);
    // `make baselines` adds its section to the page; a missing or unreadable old page has none.
    let text = match std::fs::read_to_string(page) {
        Ok(previous) => keep_baselines_section(text, &previous),
        Err(_) => text,
    };
    std::fs::create_dir_all(results).map_err(|e| io_error(results, e))?;
    std::fs::write(page, text).map_err(|e| io_error(page, e))
}

/// The plan `pilqr reproduce` uses when `--plan` is not given.
pub const DEFAULT_PLAN: &str = "experiments/reproduce.toml";

/// Run (or resume) one experiment and gather its section of the page. Bad input (a config that
/// does not validate, a run directory of another experiment) is an error; a failure during the
/// run becomes a failed section.
fn run_entry(
    plan: &ReproducePlan,
    entry: &PlanEntry,
    args: &ReproduceArgs,
    runs: &Path,
    assets: &Path,
    mode: OutputMode,
    registry: &TaskRegistry,
) -> Result<Section, CliError> {
    let quick = args.quick;
    let mut file = ExperimentFile::load(&plan.config_path(entry))?;
    {
        let e = &mut file.experiment;
        if quick {
            e.iterations = entry.quick_iterations.unwrap_or(e.iterations);
        }
        e.seeds = entry.run_seeds(&e.seeds, quick);
    }
    let task = open_task(&file, registry)?;
    let rollouts = Rollouts::of(task.has_physics());
    let conditions = file.validate(task.as_ref())?;
    let e = &file.experiment;
    require_torch(e.family(), crate::cli::train::check_torch)?;
    let name = e.name.clone();
    let run_dir = runs.join(&name);
    let setup = format!(
        "task `{}`, {} training condition(s){}, {} iteration(s) × {} samples per condition, \
         {}, methods {}",
        e.task,
        conditions.train.len(),
        if conditions.test.is_empty() {
            String::new()
        } else {
            format!(" + {} held out", conditions.test.len())
        },
        e.iterations,
        e.samples(),
        seeds_text(&e.seeds),
        e.methods
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let started = Instant::now();
    let resume = run_dir.join("config.toml").is_file();
    let (session, task) = if resume {
        Session::open_locked(&run_dir, registry)?
    } else {
        let methods = e.methods.clone();
        let seeds = e.seeds.clone();
        let session = Session::create(
            &file,
            task.as_ref(),
            conditions,
            &methods,
            &seeds,
            &run_dir,
            false,
            registry,
        )?;
        (session, task)
    };
    let rows = match execute(&session, task, mode, resume, args.jobs.count()) {
        Ok(rows) => rows,
        Err(err)
            if err.exit_code() == crate::error::EXIT_BAD_INPUT
                || matches!(err, CliError::Interrupted { .. }) =>
        {
            return Err(err);
        }
        Err(err) => {
            return Ok(Section {
                entry: entry.clone(),
                name,
                setup,
                run_dir,
                wall_seconds: started.elapsed().as_secs_f64(),
                rollouts,
                outcome: Outcome::Failed {
                    message: err.to_string(),
                },
            });
        }
    };
    let outcome = collect_assets(&session, &rows, &assets.join(&name), assets)?;
    let wall_seconds = accumulate_wall_time(&run_dir, started.elapsed().as_secs_f64())?;
    Ok(Section {
        entry: entry.clone(),
        name,
        setup,
        run_dir,
        wall_seconds,
        rollouts,
        outcome,
    })
}

/// "20 seeds (0–19)" for a contiguous list, else "3 seeds [0, 4, 7]".
fn seeds_text(seeds: &[u64]) -> String {
    let contiguous = seeds.windows(2).all(|w| w[1] == w[0] + 1);
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if contiguous && seeds.len() > 1 => {
            format!("{} seeds ({a}–{b})", seeds.len())
        }
        _ => format!(
            "{} seed{} {seeds:?}",
            seeds.len(),
            if seeds.len() == 1 { "" } else { "s" }
        ),
    }
}

/// The file in a run directory that sums the wall time of every `reproduce` session that worked
/// on it, so a resumed experiment reports its whole wall time, not only the last session's.
const WALL_TIME_FILE: &str = "reproduce_wall_seconds";

/// Add `elapsed` seconds to the run's recorded wall time and return the new total. A missing or
/// unreadable record counts as zero (the run predates it); only a failed write is an error.
fn accumulate_wall_time(run_dir: &Path, elapsed: f64) -> Result<f64, CliError> {
    let path = run_dir.join(WALL_TIME_FILE);
    let before = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(0.0);
    let total = before + elapsed;
    std::fs::write(&path, format!("{total}\n")).map_err(|e| io_error(&path, e))?;
    Ok(total)
}

/// Copy the run's PNG plots into `dir` and render each method's first seed there (a PNG strip,
/// on the first held-out condition if there is one, else on the last training condition — the
/// hard one in the shipped experiments). Paths in the outcome are relative to `assets`' parent.
fn collect_assets(
    session: &Session,
    rows: &[MetricsRow],
    dir: &Path,
    assets: &Path,
) -> Result<Outcome, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let base = assets.parent().unwrap_or(Path::new("."));
    let relative = |p: &Path| p.strip_prefix(base).unwrap_or(p).to_path_buf();
    let mut plots = Vec::new();
    let plots_dir = session.dir.plots_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&plots_dir)
        .map_err(|e| io_error(&plots_dir, e))?
        .filter_map(|d| d.ok().map(|d| d.path()))
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("png" | "svg")))
        .collect();
    entries.sort();
    for src in entries {
        let Some(file_name) = src.file_name() else {
            continue;
        };
        let dst = dir.join(file_name);
        std::fs::copy(&src, &dst).map_err(|e| io_error(&dst, e))?;
        if dst.extension().and_then(|x| x.to_str()) == Some("png") {
            plots.push(relative(&dst));
        }
    }
    let condition = session
        .conditions
        .test
        .first()
        .or(session.conditions.train.last())
        .copied();
    let mut renders = Vec::new();
    if let Some(condition) = condition {
        let mut seen = Vec::new();
        for job in &session.jobs {
            if seen.contains(&job.method) {
                continue;
            }
            seen.push(job.method);
            let job = Job {
                method: job.method,
                seed: job.seed,
            };
            for src in render_job(session, job, None, &[condition], RenderFormat::Png)? {
                let Some(file_name) = src.file_name() else {
                    continue;
                };
                let dst = dir.join(file_name);
                std::fs::copy(&src, &dst).map_err(|e| io_error(&dst, e))?;
                renders.push((job.method.name().to_string(), relative(&dst)));
            }
        }
    }
    Ok(Outcome::Finished {
        summaries: summarise(rows),
        plots,
        renders,
    })
}

fn io_error(path: &Path, e: std::io::Error) -> CliError {
    CliError::Run {
        context: path.display().to_string(),
        message: e.to_string(),
    }
}
