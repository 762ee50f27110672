//! The command line of `pilqr` (clap derive): subcommands, their options and help texts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Trajectory-centric reinforcement learning: PILQR, LQR-FLM and PI2 local controllers, and MDGPS
/// neural-network policies trained from them, on simulated robot tasks.
///
/// Experiments are TOML files (see `experiments/`); every run writes its config, metrics,
/// checkpoints, plots and renders to a run directory, `runs/<name>/` unless `--out` says
/// otherwise. MDGPS experiments need libtorch (run through `scripts/with-libtorch`). Set
/// RUST_LOG (e.g. RUST_LOG=debug) for detailed logs on stderr.
#[derive(Debug, Parser)]
#[command(name = "pilqr", version, propagate_version = true)]
#[command(long_version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("PILQR_GIT_COMMIT"), ")"))]
#[command(
    after_long_help = "Example:\n  pilqr compare --config experiments/gripper_pusher_hard.toml \
--methods pilqr,lqr-flm,pi2\n\nExit codes: 0 success, 1 a run failed, 2 bad input (config, \
arguments, checkpoint, run directory)."
)]
pub struct Cli {
    /// Print no progress (errors and the final summary only).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train one method on an experiment.
    #[command(
        after_long_help = "Example:\n  pilqr train --config experiments/gripper_pusher.toml \
--seed 3 --out runs/pusher-seed3\n\nWrites config.toml, metrics.csv/.jsonl, a checkpoint after \
every iteration, plots and renders into the run directory."
    )]
    Train(TrainArgs),

    /// Run several methods with the same task, budget, seeds and shared settings.
    #[command(
        after_long_help = "Example:\n  pilqr compare --config experiments/gripper_pusher_hard.toml \
--methods pilqr,lqr-flm,pi2 --seeds 0,1,2\n\nPrints a comparison table and writes plots of cost \
and success rate against samples, one line per method with a band over seeds."
    )]
    Compare(CompareArgs),

    /// Continue an interrupted `train` or `compare` from its last checkpoints, or extend a run.
    #[command(
        after_long_help = "Example:\n  pilqr resume runs/gripper_pusher\n  pilqr resume \
runs/gripper_pusher --iterations 40\n\nThe resumed run is bit-identical to one that was never \
interrupted; with --iterations N, to one configured with N iterations from the start. A run \
already complete is left as it is."
    )]
    Resume(ResumeArgs),

    /// Merge finished runs of one experiment's jobs into one compare run directory.
    #[command(
        after_long_help = "Example:\n  pilqr compare --config experiments/point_mass_smoke.toml \
--methods pilqr --seeds 0 --out jobs/pilqr-seed0\n  (… one run per method and seed, on any \
machine …)\n  pilqr merge --out runs/point_mass_smoke-compare jobs/*\n\nThe merged run is the \
`pilqr compare` of all the jobs: the same config.toml, the same metrics rows (the wall-time \
columns are the jobs' own), checkpoints, summary table, plots and renders. Every directory must \
hold finished jobs of the same experiment (the same config apart from methods and seeds), and \
together every method with every seed, each once."
    )]
    Merge(MergeArgs),

    /// Evaluate the saved controllers of a run: success rate and cost.
    #[command(
        after_long_help = "Example:\n  pilqr eval runs/gripper_pusher --conditions train \
--rollouts 10"
    )]
    Eval(EvalArgs),

    /// Render rollouts of the saved controllers as an animated GIF or a PNG strip.
    #[command(after_long_help = "Example:\n  pilqr render runs/gripper_pusher --condition 3 --gif")]
    Render(RenderArgs),

    /// Reproduce the paper: run every experiment of a plan and write results.md.
    #[command(
        after_long_help = "Example:\n  pilqr reproduce --quick\n\nRuns every row of \
experiments/reproduce.toml (the paper's comparisons) with `compare`, into runs/reproduce/<name> \
(resumed when interrupted), then writes docs/results.md with a table per experiment, the plots \
(docs/results/<name>/, SVG and PNG) and a render of each method's final behaviour; every table \
gives means over seeds with 95 % bootstrap intervals and the pairwise differences. --quick runs \
each row's first few seeds (`quick_seeds`, 3 by default) for its `quick_iterations` and writes \
docs/results-quick.md."
    )]
    Reproduce(ReproduceArgs),

    /// List tasks, algorithms and the shipped experiments.
    #[command(after_long_help = "Example:\n  pilqr list")]
    List,
}

/// Options of `pilqr train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Experiment file (TOML).
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,

    /// Run seed (overrides the experiment's first seed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Iterations and samples in place of the experiment's.
    #[command(flatten)]
    pub budget: crate::cli::budget::BudgetArgs,

    /// Set a field of the experiment file by its dotted path, e.g. `--set trajopt.samples=10`
    /// or `--set seeds=[0,1]` (repeatable). The value is read as a TOML value, else as a
    /// string, and checked as the file's values are; the run's config.toml records it.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<crate::config::setting_override::SettingOverride>,

    /// Run directory (default: runs/EXPERIMENT, after the config's `name`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Replace the run the directory holds, if any (never a directory that is not a run).
    #[arg(long)]
    pub force: bool,
}

/// Options of `pilqr compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Experiment file (TOML).
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,

    /// Methods to compare, comma-separated (default: the experiment's list).
    #[arg(long, value_delimiter = ',', value_name = "M,M,...")]
    pub methods: Vec<String>,

    /// Seeds, comma-separated (default: the experiment's list).
    #[arg(long, value_delimiter = ',', value_name = "S,S,...")]
    pub seeds: Vec<u64>,

    /// Iterations and samples in place of the experiment's.
    #[command(flatten)]
    pub budget: crate::cli::budget::BudgetArgs,

    /// Set a field of the experiment file by its dotted path, e.g. `--set trajopt.samples=10`
    /// or `--set seeds=[0,1]` (repeatable). The value is read as a TOML value, else as a
    /// string, and checked as the file's values are; the run's config.toml records it.
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<crate::config::setting_override::SettingOverride>,

    /// Run directory (default: runs/EXPERIMENT-compare, after the config's `name`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Jobs side by side.
    #[command(flatten)]
    pub jobs: crate::cli::jobs::JobsArgs,

    /// Replace the run the directory holds, if any (never a directory that is not a run).
    #[arg(long)]
    pub force: bool,
}

/// Options of `pilqr resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run directory of the interrupted run.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Extend the run to N iterations per job (at least the iterations already done); the
    /// result equals a run configured with N from the start.
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,

    /// Start over when no checkpoint is left, dropping the metrics already written.
    #[arg(long)]
    pub force: bool,

    /// Jobs side by side.
    #[command(flatten)]
    pub jobs: crate::cli::jobs::JobsArgs,
}

/// Options of `pilqr merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The compare run directory to write (it must not hold anything; see --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Run directories of finished `compare`/`train` runs holding the jobs; methods and seeds
    /// are ordered as they first appear in them.
    #[arg(value_name = "JOBDIR", required = true)]
    pub jobs: Vec<PathBuf>,

    /// Replace the run --out holds, if any (never a directory that is not a run).
    #[arg(long)]
    pub force: bool,
}

/// Options of `pilqr reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// The plan: which experiments, what the paper saw, quick settings.
    #[arg(long, value_name = "FILE", default_value = crate::cli::reproduce::DEFAULT_PLAN)]
    pub plan: PathBuf,

    /// Each row's first `quick_seeds` seeds (3 by default) for its `quick_iterations`.
    #[arg(long)]
    pub quick: bool,

    /// Where the runs go (default: runs/reproduce, or runs/reproduce-quick).
    #[arg(long, value_name = "DIR")]
    pub runs: Option<PathBuf>,

    /// Where results.md and its plots and renders go.
    #[arg(long, value_name = "DIR", default_value = "docs")]
    pub results: PathBuf,

    /// Jobs side by side (within each experiment of the plan).
    #[command(flatten)]
    pub jobs: crate::cli::jobs::JobsArgs,
}

/// Which conditions to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConditionSet {
    /// The conditions trained on.
    Train,
    /// The held-out conditions.
    Test,
}

/// Options of `pilqr eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Which conditions to evaluate.
    #[arg(long, value_enum, default_value_t = ConditionSet::Train)]
    pub conditions: ConditionSet,

    /// Rollouts per condition.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rollouts: u32,

    /// Evaluate the controllers after this iteration (from 0, as in metrics.csv) instead of
    /// the last one.
    #[arg(long, value_name = "K")]
    pub iteration: Option<usize>,
}

/// The file format of renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    /// Animated GIF.
    Gif,
    /// PNG strip of key frames.
    Png,
}

/// Options of `pilqr render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The run directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Condition to render, by index or name (default: every trained condition).
    #[arg(long, value_name = "C")]
    pub condition: Option<String>,

    /// Write an animated GIF (the default).
    #[arg(long, conflicts_with = "png")]
    pub gif: bool,

    /// Write a PNG strip of key frames.
    #[arg(long)]
    pub png: bool,

    /// Render the controllers after this iteration (from 0, as in metrics.csv) instead of the
    /// last one; file names get `-itK`.
    #[arg(long, value_name = "K")]
    pub iteration: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_compare_lists() {
        let cli = Cli::try_parse_from([
            "pilqr",
            "compare",
            "--config",
            "e.toml",
            "--methods",
            "pilqr,pi2",
            "--seeds",
            "0,1,2",
            "-q",
        ])
        .unwrap();
        assert!(cli.quiet);
        match cli.command {
            Command::Compare(a) => {
                assert_eq!(a.methods, vec!["pilqr", "pi2"]);
                assert_eq!(a.seeds, vec![0, 1, 2]);
            }
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(Cli::try_parse_from(["pilqr", "eval", "runs/x", "--rollouts", "0"]).is_err());
        assert!(Cli::try_parse_from(["pilqr", "eval", "runs/x", "--rollouts", "-3"]).is_err());
        assert!(Cli::try_parse_from(["pilqr", "render", "runs/x", "--gif", "--png"]).is_err());
        assert!(
            Cli::try_parse_from(["pilqr", "compare", "--config", "e", "--seeds", "a"]).is_err()
        );
        assert!(Cli::try_parse_from(["pilqr", "train"]).is_err());
    }

    #[test]
    fn the_top_level_help_names_every_algorithm() {
        let help = Cli::command().render_help().to_string();
        for name in ["PILQR", "LQR-FLM", "PI2", "MDGPS"] {
            assert!(help.contains(name), "{name}: {help}");
        }
    }

    #[test]
    fn every_subcommand_has_an_example_in_its_long_help() {
        let mut cmd = Cli::command();
        for sub in cmd.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(
                help.contains("Example:\n  pilqr"),
                "{}: {help}",
                sub.get_name()
            );
        }
    }
}
