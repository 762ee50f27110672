//! `pilqr render`: roll out the saved controllers' means (or the MDGPS network's mean action)
//! and draw them.

use std::path::PathBuf;

use pilqr_core::{RunSeed, Task};

use crate::cli::args::{RenderArgs, RenderFormat};
use crate::cli::session::Session;
use crate::config::method::Family;
use crate::error::CliError;
use crate::run::evaluation::{EvaluationEpisode, single_rollout};
use crate::run::progress::OutputMode;
use crate::run::runner::Job;
use crate::task_registry::{RegistryError, TaskRegistry};

/// GIF frames: every `GIF_STRIDE`-th control step.
const GIF_STRIDE: usize = 2;

/// Frames of a PNG strip.
const STRIP_FRAMES: usize = 8;

/// Render the mean rollout of `job`'s controller (or network) after `iteration` (the last one
/// when `None`) from each of `conditions` (indices into the task) into the run's `renders/`
/// directory; returns the files written. The rollout is the one the metrics' success columns
/// judged after that iteration (its [`EvaluationEpisode`]).
pub fn render_job(
    session: &Session,
    job: Job,
    iteration: Option<usize>,
    conditions: &[usize],
    format: RenderFormat,
) -> Result<Vec<PathBuf>, CliError> {
    let state = session.state(job, iteration)?;
    let task_name = &session.file.experiment.task;
    let mut task = session
        .registry
        .render_task(task_name)
        .map_err(|e| match e {
            RegistryError::NotRenderable { .. } => CliError::NotAvailable {
                command: "render",
                missing: e.to_string(),
            },
            _ => session.file.invalid("task", e.to_string()).into(),
        })?;
    let names: Vec<String> = task.conditions().iter().map(|c| c.name.clone()).collect();
    // The episode the metrics judged after that iteration (the last saved one by default).
    let shown = iteration.or_else(|| {
        let saved = session.dir.saved_iterations(job.method.name(), job.seed);
        saved.last().copied()
    });
    let episode = EvaluationEpisode {
        seed: RunSeed::new(job.seed),
        iteration: shown.unwrap_or(0),
    };
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
            single_rollout(t, policy.as_ref(), condition, episode)
                .map_err(|e| fail(e.to_string()))?
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

/// `pilqr render`, with the tasks of `registry`.
pub fn render(
    args: &RenderArgs,
    mode: OutputMode,
    registry: &TaskRegistry,
) -> Result<(), CliError> {
    let (session, task) = Session::open(&args.dir, registry)?;
    if session
        .registry
        .is_renderable(&session.file.experiment.task)
        == Some(false)
    {
        return Err(CliError::NotAvailable {
            command: "render",
            missing: RegistryError::NotRenderable {
                name: session.file.experiment.task.clone(),
            }
            .to_string(),
        });
    }
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

    use crate::cli::{Cli, run_with};
    use crate::test_dir::TestDir;
    use clap::Parser;

    #[test]
    fn a_task_registered_without_a_renderer_trains_but_render_says_it_cannot_draw_it() {
        let tmp = TestDir::new("render-plain");
        let mut registry = TaskRegistry::new();
        registry
            .register("plain-mass", "the point mass without its renderer", || {
                Ok(pilqr_tasks::task_by_name("point-mass")?)
            })
            .unwrap();
        let config = tmp.path().join("e.toml");
        std::fs::write(
            &config,
            "name = \"plain\"\ntask = \"plain-mass\"\nconditions = [\"start-0\"]\n\
             methods = [\"lqr-flm\"]\nseeds = [0]\niterations = 1\n[trajopt]\nsamples = 5\n",
        )
        .unwrap();
        let out = tmp.path().join("run");
        let (config, out_text) = (config.to_str().unwrap(), out.to_str().unwrap());
        let train = Cli::parse_from([
            "pilqr", "train", "-q", "--config", config, "--out", out_text,
        ]);
        run_with(train, &registry).unwrap();
        let render = Cli::parse_from(["pilqr", "render", "-q", out_text]);
        let err = run_with(render, &registry).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.contains("\"plain-mass\" cannot be rendered"), "{msg}");
        assert!(msg.contains("register_renderable"), "{msg}");
        assert!(
            !out.join("renders").exists()
                || std::fs::read_dir(out.join("renders"))
                    .unwrap()
                    .next()
                    .is_none(),
            "a render was written"
        );
        // The built-in registry does not know the task: the run's own config is refused.
        let render = Cli::parse_from(["pilqr", "render", "-q", out_text]);
        let err = run_with(render, &TaskRegistry::builtin()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("unknown task \"plain-mass\""),
            "{err}"
        );
    }

    #[test]
    fn condition_names_become_file_names() {
        assert_eq!(file_safe("target 3/a"), "target_3_a");
        assert_eq!(file_safe("hard"), "hard");
    }
}
