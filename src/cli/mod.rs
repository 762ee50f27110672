//! The `pilqr` command: argument parsing and dispatch to the subcommands.

pub mod args;
pub mod eval;
pub mod list;
pub mod render;
pub mod report;
pub mod reproduce;
pub mod session;
pub mod train;

pub use args::{Cli, Command};

use crate::error::CliError;
use crate::progress::{OutputMode, init_tracing};

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    init_tracing();
    let mode = OutputMode::detect(cli.quiet);
    tracing::debug!(?mode, "output mode");
    if matches!(
        cli.command,
        Command::Train(_) | Command::Compare(_) | Command::Resume(_) | Command::Reproduce(_)
    ) {
        crate::interrupt::install();
    }
    match &cli.command {
        Command::Train(a) => train::train(a, mode),
        Command::Compare(a) => train::compare(a, mode),
        Command::Resume(a) => train::resume(a, mode),
        Command::Eval(a) => eval::eval(a, mode),
        Command::Render(a) => render::render(a, mode),
        Command::Reproduce(a) => reproduce::reproduce(a, mode),
        Command::List => list::list(),
    }
}
