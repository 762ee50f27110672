//! The `pilqr` command-line tool; see `pilqr --help`.

use clap::Parser;

fn main() {
    let cli = pilqr::cli::Cli::parse();
    if let Err(e) = pilqr::cli::run(cli) {
        match e {
            pilqr::error::CliError::Interrupted { .. } => eprintln!("{e}"),
            _ => eprintln!("error: {e}"),
        }
        std::process::exit(e.exit_code());
    }
}
