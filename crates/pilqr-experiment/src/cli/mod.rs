//! The `pilqr` command: argument parsing and dispatch to the subcommands.

pub mod args;
pub mod budget;
pub mod eval;
pub mod jobs;
pub mod list;
pub mod merge;
pub mod render;
pub mod report;
pub mod reproduce;
pub mod resume;
pub mod session;
pub mod train;

pub use args::{Cli, Command};

use clap::Parser;

use crate::error::CliError;
use crate::run::progress::{OutputMode, init_tracing};
use crate::task_registry::TaskRegistry;

/// The whole `pilqr` command with the built-in tasks: [`main_with`] of
/// [`TaskRegistry::builtin`]. A binary's `main` needs nothing else.
pub fn main() {
    main_with(TaskRegistry::builtin())
}

/// The whole `pilqr` command with the tasks of `registry`: parse the process's arguments, run
/// the command, print any error and exit with its code (0 on success). A user's binary that
/// registers its own tasks calls this from `main`.
pub fn main_with(registry: TaskRegistry) {
    // Before any thread or libtorch call: same network bits on every x86-64 CPU. A failure only
    // matters to MDGPS, whose entry points report it again as an error.
    #[cfg(feature = "mdgps")]
    if let Err(e) = pilqr_mdgps::pin_cpu_numerics() {
        eprintln!("warning: {e}");
    }
    let cli = Cli::parse();
    if let Err(e) = run_with(cli, &registry) {
        match e {
            CliError::Interrupted { .. } => eprintln!("{e}"),
            _ => eprintln!("error: {e}"),
        }
        std::process::exit(e.exit_code());
    }
}

/// Run a parsed command line with the built-in tasks.
pub fn run(cli: Cli) -> Result<(), CliError> {
    run_with(cli, &TaskRegistry::builtin())
}

/// Run the command line `args` (program name first) with the tasks of `registry`, as the
/// `pilqr` binary would, but return its error instead of printing it and exiting: the way a
/// program or an example scripts the command. Arguments the parser refuses are a
/// [`CliError::Argument`] with the parser's first line.
///
/// ```no_run
/// use pilqr_experiment::{TaskRegistry, cli::run_args_with};
///
/// let args = ["pilqr", "train", "--config", "experiments/point_mass_smoke.toml", "--iterations", "2"];
/// run_args_with(args, &TaskRegistry::builtin()).unwrap();
/// ```
pub fn run_args_with<I, T>(args: I, registry: &TaskRegistry) -> Result<(), CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| CliError::Argument {
        argument: "command line",
        message: e
            .to_string()
            .lines()
            .next()
            .unwrap_or("invalid arguments")
            .trim_start_matches("error: ")
            .to_string(),
    })?;
    run_with(cli, registry)
}

/// Run a parsed command line with the tasks of `registry`.
pub fn run_with(cli: Cli, registry: &TaskRegistry) -> Result<(), CliError> {
    init_tracing();
    let mode = OutputMode::detect(cli.quiet);
    tracing::debug!(?mode, "output mode");
    if matches!(
        cli.command,
        Command::Train(_) | Command::Compare(_) | Command::Resume(_) | Command::Reproduce(_)
    ) {
        crate::run::interrupt::install();
    }
    match &cli.command {
        Command::Train(a) => train::train(a, mode, registry),
        Command::Compare(a) => train::compare(a, mode, registry),
        Command::Resume(a) => resume::resume(a, mode, registry),
        Command::Merge(a) => merge::merge(a, mode, registry),
        Command::Eval(a) => eval::eval(a, mode, registry),
        Command::Render(a) => render::render(a, mode, registry),
        Command::Reproduce(a) => reproduce::reproduce(a, mode, registry),
        Command::List => list::list(registry),
    }
}
