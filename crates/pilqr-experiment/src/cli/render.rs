//! `pilqr render`: roll out the saved controllers' means (or the MDGPS network's mean action)
//! and draw them.

use std::path::PathBuf;

use pilqr_core::Task;

use crate::cli::args::{RenderArgs, RenderFormat};
use crate::cli::session::Session;
use crate::config::method::Family;
use crate::error::CliError;
use crate::run::evaluation::single_rollout;
use crate::run::progress::OutputMode;
use crate::run::runner::Job;

/// GIF frames: every `GIF_STRIDE`-th control step.
const GIF_STRIDE: usize = 2;

/// Frames of a PNG strip.
const STRIP_FRAMES: usize = 8;

/// Render the mean rollout of `job`'s controller (or network) after `iteration` (the last one
/// when `None`) from each of `conditions` (indices into the task) into the run's `renders/`
/// directory; returns the files written.
pub fn render_job(
    session: &Session,
    job: Job,
    iteration: Option<usize>,
    conditions: &[usize],
    format: RenderFormat,
) -> Result<Vec<PathBuf>, CliError> {
    let state = session.state(job, iteration)?;
    let task_name = &session.file.experiment.task;
    let mut task = pilqr_tasks::render_task_by_name(task_name)
        .map_err(|e| session.file.invalid("task", e.to_string()))?;
    let names: Vec<String> = task.conditions().iter().map(|c| c.name.clone()).collect();
    let mut written = Vec::with_capacity(conditions.len());
    for &condition in conditions {
        let fail = |message: String| CliError::Run {
            context: format!("render {}, condition {}", job.label(), names[condition]),
            message,
        };
        let policy = state
            .mean_policy(&session.conditions, condition)
            .ok_or_else(|| fail("this run did not train that condition".into()))?;
        let rollout = {
            let t: &mut dyn Task = task.as_mut();
            single_rollout(t, policy.as_ref(), condition).map_err(|e| fail(e.to_string()))?
        };
        let states = rollout.batch.x_all();
        let stem = format!(
            "{}-seed{}-{}{}",
            job.method,
            job.seed,
            file_safe(&names[condition]),
            iteration.map(|k| format!("-it{k}")).unwrap_or_default()
        );
        let path = match format {
            RenderFormat::Gif => {
                let p = session.dir.renders_dir().join(format!("{stem}.gif"));
                pilqr_tasks::render::render_gif(task.as_mut(), condition, states, GIF_STRIDE, &p)
                    .map_err(|e| fail(e.to_string()))?;
                p
            }
            RenderFormat::Png => {
                let p = session.dir.renders_dir().join(format!("{stem}.png"));
                pilqr_tasks::render::render_png_strip(
                    task.as_mut(),
                    condition,
                    states,
                    STRIP_FRAMES,
                    &p,
                )
                .map_err(|e| fail(e.to_string()))?;
                p
            }
        };
        written.push(path);
    }
    Ok(written)
}

/// A condition name usable in a file name.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `pilqr render`.
pub fn render(args: &RenderArgs, mode: OutputMode) -> Result<(), CliError> {
    let (session, task) = Session::open(&args.dir)?;
    let format = if args.png {
        RenderFormat::Png
    } else {
        RenderFormat::Gif
    };
    let evaluable = session.evaluable();
    let conditions: Vec<usize> = match &args.condition {
        None => evaluable.clone(),
        Some(c) => {
            let all = task.conditions();
            let index = match c.parse::<usize>() {
                Ok(i) => Some(i),
                Err(_) => all.iter().position(|d| &d.name == c),
            };
            match index.filter(|i| evaluable.contains(i)) {
                Some(i) => vec![i],
                None => {
                    let trained: Vec<String> = evaluable
                        .iter()
                        .map(|&i| format!("{i} ({})", all[i].name))
                        .collect();
                    let what = match session.family() {
                        Family::Trajopt => "trained",
                        Family::Mdgps => "trained or held out",
                    };
                    return Err(CliError::Argument {
                        argument: "--condition",
                        message: format!(
                            "{c:?} is not a condition this run {what} ({what}: {})",
                            trained.join(", ")
                        ),
                    });
                }
            }
        }
    };
    for &job in &session.jobs {
        for path in render_job(&session, job, args.iteration, &conditions, format)? {
            if mode != OutputMode::Quiet {
                println!("render: {}", path.display());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_names_become_file_names() {
        assert_eq!(file_safe("target 3/a"), "target_3_a");
        assert_eq!(file_safe("hard"), "hard");
    }
}
