//! `pilqr eval`: success rate and cost of a run's saved controllers.

use std::fmt::Write;

use pilqr_core::{RunSeed, Split, Task};

use crate::cli::args::{ConditionSet, EvalArgs};
use crate::cli::session::Session;
use crate::error::CliError;
use crate::evaluation::noisy_rollouts;
use crate::progress::OutputMode;

/// `pilqr eval`: roll out every job's controllers `--rollouts` times per condition (noise streams
/// independent of training) and print a table; it is also saved as `eval-<set>.md`.
pub fn eval(args: &EvalArgs, mode: OutputMode) -> Result<(), CliError> {
    let (session, mut task) = Session::open(&args.dir)?;
    let wanted = match args.conditions {
        ConditionSet::Train => Split::Train,
        ConditionSet::Test => Split::Test,
    };
    let all = task.conditions().to_vec();
    let conditions: Vec<usize> = session
        .conditions
        .iter()
        .copied()
        .filter(|&c| all[c].split == wanted)
        .collect();
    if conditions.is_empty() {
        let held_out = all.iter().filter(|c| c.split == Split::Test).count();
        return Err(CliError::NotAvailable {
            command: "eval",
            missing: format!(
                "this run trained local controllers for {} condition(s) of split {:?}; the task's {} held-out condition(s) need a global policy (MDGPS), which this build cannot train yet",
                session.conditions.len(),
                Split::Train,
                held_out
            ),
        });
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| method | seed | condition | success | mean cost | std cost | mean success metric |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|");
    for &job in &session.jobs {
        let state = session.state(job)?;
        for &c in &conditions {
            let index = session
                .conditions
                .iter()
                .position(|&d| d == c)
                .unwrap_or_default();
            let policy = &state.conditions()[index].policy;
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
    let path = session.dir.root().join(format!("eval-{set}.md"));
    session.dir.write_text(&path, &table)?;
    println!("{table}");
    if mode != OutputMode::Quiet {
        println!("saved: {}", path.display());
    }
    Ok(())
}
