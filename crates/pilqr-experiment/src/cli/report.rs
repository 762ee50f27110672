//! The end of a run: the summary table (terminal and `summary.md`), the plots (training
//! conditions; for MDGPS also the held-out ones) and the renders of the final controllers or
//! network.

use std::path::PathBuf;

use pilqr_core::Split;

use crate::cli::args::RenderFormat;
use crate::cli::render::render_job;
use crate::cli::session::Session;
use crate::error::CliError;
use crate::report::plot::{Metric, curves_from_metrics, plot_curves};
use crate::report::summary::{Rollouts, markdown, summarise};
use crate::run::metrics_log::MetricsRow;
use crate::run::progress::OutputMode;
use crate::run::runner::Job;

/// The wall time of the command that trained a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WallTime {
    /// Seconds from the first job's start to the last job's end, in this command (a resumed
    /// run counts only what the resume did).
    pub seconds: f64,
    /// How many jobs ran side by side.
    pub side_by_side: usize,
}

impl WallTime {
    /// The sentence of the summary: the wall time, and why the time table may exceed it.
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "Wall time of the training: {:.1} s ({} job(s) side by side",
            self.seconds, self.side_by_side
        );
        if self.side_by_side > 1 {
            s.push_str(
                "; the time table sums every job's own times, so it can exceed the wall time",
            );
        }
        s.push_str(").");
        s
    }
}

/// Write the summary, plots and renders of a finished run and tell the user where they are;
/// `wall` is the wall time of the training.
pub fn finish_run(
    session: &Session,
    rows: &[MetricsRow],
    mode: OutputMode,
    wall: WallTime,
) -> Result<(), CliError> {
    finish_run_with_note(session, rows, mode, &wall.sentence())
}

/// [`finish_run`] with `note` as the summary's closing sentence in place of the wall time (a
/// run merged from job directories by `pilqr merge` did not train here).
pub fn finish_run_with_note(
    session: &Session,
    rows: &[MetricsRow],
    mode: OutputMode,
    note: &str,
) -> Result<(), CliError> {
    let e = &session.file.experiment;
    let rollouts = Rollouts::of(session.new_task()?.has_physics());
    let table = markdown(&summarise(rows), rollouts);
    let summary = format!(
        "# {}\n\n{}\n\ntask `{}`, {} iteration(s) × {} samples per condition\n\n{}\n{}\n",
        e.name,
        e.description,
        e.task,
        e.iterations,
        e.samples(),
        table,
        note
    );
    session
        .dir
        .write_text(&session.dir.summary_path(), &summary)?;
    println!("\n{table}\n{note}");

    let mut plots: Vec<PathBuf> = Vec::new();
    let split = |split: Split| -> Vec<MetricsRow> {
        rows.iter().filter(|r| r.split == split).cloned().collect()
    };
    let (train, test) = (split(Split::Train), split(Split::Test));
    let mut figures = vec![
        (&train, Metric::Cost, "cost", ""),
        (&train, Metric::SuccessRate, "success", ""),
    ];
    if !test.is_empty() {
        figures.extend([
            (&test, Metric::Cost, "test-cost", "held-out "),
            (&test, Metric::SuccessRate, "test-success", "held-out "),
            (&test, Metric::SuccessMetric, "test-metric", "held-out "),
        ]);
    }
    for (data, metric, stem, prefix) in figures {
        let curves = curves_from_metrics(data, metric);
        if curves.is_empty() {
            continue;
        }
        let title = format!("{} ({}): {prefix}{}", e.name, e.task, metric.label());
        let written = plot_curves(
            &session.dir.plots_dir().join(stem),
            &title,
            &format!("{prefix}{}", metric.label()),
            &curves,
        )?;
        plots.extend(written);
    }

    // Renders of the final controllers: every method, its first seed, every condition; none
    // for a task registered without a renderer.
    let mut renders = Vec::new();
    let mut seen = Vec::new();
    let renderable = session.registry.is_renderable(&e.task) != Some(false);
    if !renderable && mode != OutputMode::Quiet {
        println!("render:  none (task `{}` has no renderer)", e.task);
    }
    for job in session.jobs.iter().filter(|_| renderable) {
        if seen.contains(&job.method) {
            continue;
        }
        seen.push(job.method);
        renders.extend(render_job(
            session,
            Job {
                method: job.method,
                seed: job.seed,
            },
            None,
            &session.evaluable(),
            RenderFormat::Gif,
        )?);
    }

    if mode != OutputMode::Quiet {
        println!("summary: {}", session.dir.summary_path().display());
        println!(
            "metrics: {} (and .jsonl)",
            session.dir.root().join("metrics.csv").display()
        );
        for p in &plots {
            println!("plot:    {}", p.display());
        }
        for p in &renders {
            println!("render:  {}", p.display());
        }
    } else {
        println!("results in {}", session.dir.root().display());
    }
    Ok(())
}
