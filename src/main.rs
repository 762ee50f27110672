//! The `pilqr` command-line tool; see `pilqr --help`.

fn main() {
    pilqr::experiment::cli::main();
}
