//! # pilqr-experiment
//!
//! The experiment toolchain of pilqr as a library: TOML experiment files, the training runner
//! with checkpoints and resume, the metrics log, plots, statistics over seeds, results pages and
//! the whole `pilqr` command line. The `pilqr` binary of the facade crate is one call to
//! [`cli::main`].
//!
//! | module | for |
//! |---|---|
//! | [`config`] | experiment files, methods, `[mdgps]` settings, memory estimates, the reproduce plan |
//! | [`run`] | the runner and trainers, checkpoints, metrics log, run directory, lock, provenance, evaluation |
//! | [`report`] | plots, summary, statistics, results pages |
//! | [`cli`] | argument parsing and the subcommands |
//! | [`error`] | the command's error type and exit codes |
//! | [`task_registry`] | the tasks experiments can name: built-in ones and a user's own |
//!
//! Loading an experiment and checking it against its task before anything is written:
//!
//! ```
//! use pilqr_experiment::config::experiment::Experiment;
//! let text = r#"
//! name = "doc_point_mass"
//! task = "point-mass"
//! methods = ["pilqr"]
//! seeds = [0]
//! iterations = 2
//! "#;
//! let exp: Experiment = toml::from_str(text).unwrap();
//! assert_eq!(exp.name, "doc_point_mass");
//! ```
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod error;
pub mod report;
pub mod run;
pub mod task_registry;

pub use task_registry::TaskRegistry;
#[cfg(test)]
mod test_dir;
