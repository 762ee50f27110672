//! `pilqr eval`: success rate and cost of a run's saved controllers or network.

use std::fmt::Write;

use pilqr_core::{RunSeed, Task};

use crate::cli::args::{ConditionSet, EvalArgs};
use crate::cli::session::Session;
use crate::config::memory_estimate;
use crate::config::method::Family;
use crate::error::CliError;
use crate::run::evaluation::noisy_rollouts;
use crate::run::progress::OutputMode;
use crate::task_registry::TaskRegistry;

/// The conditions `pilqr eval --conditions <set>` evaluates in `session`.
fn conditions_of(session: &Session, set: ConditionSet) -> Result<Vec<usize>, CliError> {
    match (set, session.family()) {
        (ConditionSet::Train, _) => Ok(session.conditions.train.clone()),
        (ConditionSet::Test, Family::Mdgps) if !session.conditions.test.is_empty() => {
            Ok(session.conditions.test.clone())
        }
        (ConditionSet::Test, Family::Mdgps) => Err(CliError::NotAvailable {
            command: "eval",
            missing: format!(
                "{}: this run has no held-out conditions (its task has no test conditions and test_conditions is empty)",
                session.dir.root().display()
            ),
        }),
        (ConditionSet::Test, Family::Trajopt) => Err(CliError::NotAvailable {
            command: "eval",
            missing: format!(
                "{}: this run trained local controllers, which exist for the trained conditions only; held-out conditions need a global policy (an experiment with algorithm = \"mdgps\")",
                session.dir.root().display()
            ),
        }),
    }
}

/// `pilqr eval`: roll out every job's controllers (or network, with its covariance)
/// `--rollouts` times per condition (noise streams independent of training) and print a table;
/// it is also saved as `eval-<set>.md`.
pub fn eval(args: &EvalArgs, mode: OutputMode, registry: &TaskRegistry) -> Result<(), CliError> {
    let (session, mut task) = Session::open(&args.dir, registry)?;
    let all = task.conditions().to_vec();
    let conditions = conditions_of(&session, args.conditions)?;
    let rollouts = args.rollouts as usize;
    memory_estimate::check(
        memory_estimate::rollout_bytes(&task.dims(), rollouts),
        memory_estimate::physical_memory(),
    )
    .map_err(|m| CliError::Argument {
        argument: "--rollouts",
        message: format!("{rollouts} rollouts per condition {m}"),
    })?;
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| method | seed | condition | success | mean cost | std cost | mean success metric |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|");
    for &job in &session.jobs {
        let state = session.state(job, args.iteration)?;
        for &c in &conditions {
            let policy =
                state
                    .noisy_policy(&session.conditions, c)
                    .ok_or_else(|| CliError::Run {
                        context: format!("eval {}", job.label()),
                        message: format!("no policy for condition {}", all[c].name),
                    })?;
            let t: &mut dyn Task = task.as_mut();
            let ev = noisy_rollouts(t, policy, c, args.rollouts as usize, RunSeed::new(job.seed))
                .map_err(|e| CliError::Run {
                context: format!("eval {}", job.label()),
                message: e.to_string(),
            })?;
            let (mean, std) = ev.cost_stats();
            let _ = writeln!(
                table,
                "| {} | {} | {} | {:.0}% | {:.4} | {:.4} | {:.4} |",
                job.method,
                job.seed,
                all[c].name,
                100.0 * ev.success_rate(),
                mean,
                std,
                ev.mean_metric()
            );
        }
    }
    let set = match args.conditions {
        ConditionSet::Train => "train",
        ConditionSet::Test => "test",
    };
    let suffix = args
        .iteration
        .map(|k| format!("-it{k}"))
        .unwrap_or_default();
    let path = session.dir.root().join(format!("eval-{set}{suffix}.md"));
    session.dir.write_text(&path, &table)?;
    println!("{table}");
    if mode != OutputMode::Quiet {
        println!("saved: {}", path.display());
    }
    Ok(())
}
