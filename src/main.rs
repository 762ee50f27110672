//! The `pilqr` command-line tool; see `pilqr --help`.

use clap::Parser;

fn main() {
    // Before any thread or libtorch call: same network bits on every x86-64 CPU. A failure only
    // matters to MDGPS, whose entry points report it again as an error.
    if let Err(e) = pilqr::mdgps::pin_cpu_numerics() {
        eprintln!("warning: {e}");
    }
    let cli = pilqr::cli::Cli::parse();
    if let Err(e) = pilqr::cli::run(cli) {
        match e {
            pilqr::error::CliError::Interrupted { .. } => eprintln!("{e}"),
            _ => eprintln!("error: {e}"),
        }
        std::process::exit(e.exit_code());
    }
}
