//! The end of a run: the summary table (terminal and `summary.md`), the plots and the renders of
//! the final controllers.

use std::path::PathBuf;

use crate::cli::args::RenderFormat;
use crate::cli::render::render_job;
use crate::cli::session::Session;
use crate::error::CliError;
use crate::metrics_log::MetricsRow;
use crate::plot::{Metric, curves_from_metrics, plot_curves};
use crate::progress::OutputMode;
use crate::runner::Job;
use crate::summary::{markdown, summarise};

/// Write the summary, plots and renders of a finished run and tell the user where they are.
pub fn finish_run(
    session: &Session,
    rows: &[MetricsRow],
    mode: OutputMode,
) -> Result<(), CliError> {
    let e = &session.file.experiment;
    let table = markdown(&summarise(rows));
    let summary = format!(
        "# {}\n\n{}\n\ntask `{}`, {} iteration(s) × {} samples per condition\n\n{}",
        e.name, e.description, e.task, e.iterations, e.trajopt.samples, table
    );
    session
        .dir
        .write_text(&session.dir.summary_path(), &summary)?;
    println!("\n{table}");

    let mut plots: Vec<PathBuf> = Vec::new();
    for (metric, stem) in [(Metric::Cost, "cost"), (Metric::SuccessRate, "success")] {
        let curves = curves_from_metrics(rows, metric);
        let title = format!("{} ({}): {}", e.name, e.task, metric.label());
        let written = plot_curves(
            &session.dir.plots_dir().join(stem),
            &title,
            metric.label(),
            &curves,
        )?;
        plots.extend(written);
    }

    // Renders of the final controllers: every method, its first seed, every condition.
    let mut renders = Vec::new();
    let mut seen = Vec::new();
    for job in &session.jobs {
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
            &session.conditions,
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
