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

use clap::Parser;

use crate::error::CliError;
use crate::run::progress::{OutputMode, init_tracing};

/// The whole `pilqr` command: parse the process's arguments, run the command, print any error
/// and exit with its code (0 on success). A binary's `main` needs nothing else.
pub fn main() {
    // Before any thread or libtorch call: same network bits on every x86-64 CPU. A failure only
    // matters to MDGPS, whose entry points report it again as an error.
    if let Err(e) = pilqr_mdgps::pin_cpu_numerics() {
        eprintln!("warning: {e}");
    }
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        match e {
            CliError::Interrupted { .. } => eprintln!("{e}"),
            _ => eprintln!("error: {e}"),
        }
        std::process::exit(e.exit_code());
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
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
        Command::Train(a) => train::train(a, mode),
        Command::Compare(a) => train::compare(a, mode),
        Command::Resume(a) => train::resume(a, mode),
        Command::Eval(a) => eval::eval(a, mode),
        Command::Render(a) => render::render(a, mode),
        Command::Reproduce(a) => reproduce::reproduce(a, mode),
        Command::List => list::list(),
    }
}
