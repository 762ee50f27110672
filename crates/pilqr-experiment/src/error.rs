//! The errors of the `pilqr` command and their exit codes.
//!
//! Everything a user can get wrong (a config, an argument, a checkpoint, a run directory, an MDGPS
//! run started without a working libtorch) exits with code 2 and a one-line message naming the
//! file and field or byte offset (or what to run); a run that fails for another reason exits with
//! code 1.

use thiserror::Error;

use crate::config::config_file::ConfigError;
use crate::report::plot::PlotError;
use crate::run::checkpoint::CheckpointError;
use crate::run::metrics_log::MetricsError;
use crate::run::run_dir::RunDirError;
use crate::run::run_lock::LockError;

/// Exit code for bad input.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Exit code for a run that failed.
pub const EXIT_FAILURE: i32 = 1;

/// An error of the `pilqr` command.
#[derive(Debug, Error)]
pub enum CliError {
    /// A configuration file is malformed or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A checkpoint cannot be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The run directory cannot be used.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    /// The metrics files cannot be written or read.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// A plot cannot be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// A command-line argument is invalid (beyond what the parser checks).
    #[error("argument {argument}: {message}")]
    Argument {
        /// The argument, e.g. `--methods`.
        argument: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The command cannot do what was asked for this run (e.g. evaluate local controllers on
    /// held-out conditions).
    #[error("`pilqr {command}` cannot do that here: {missing}")]
    NotAvailable {
        /// The subcommand.
        command: &'static str,
        /// What is missing.
        missing: String,
    },
    /// The run needs libtorch (MDGPS) and libtorch does not work in this process.
    #[cfg(feature = "mdgps")]
    #[error(transparent)]
    Torch(#[from] pilqr_mdgps::TorchUnavailable),
    /// Ctrl-C stopped the run at a safe point; its checkpoints are complete.
    #[error("interrupted: {} stopped after {done}; continue with `pilqr resume {}`", dir.display(), dir.display())]
    Interrupted {
        /// The run directory.
        dir: std::path::PathBuf,
        /// What was complete, e.g. `pilqr/seed0 iteration 3 (4 of 10 done)`.
        done: String,
    },
    /// Training, evaluation or rendering failed.
    #[error("{context}: {message}")]
    Run {
        /// Which run (method, seed, condition).
        context: String,
        /// What failed.
        message: String,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Config(_)
            | CliError::Checkpoint(_)
            | CliError::Argument { .. }
            | CliError::NotAvailable { .. } => EXIT_BAD_INPUT,
            #[cfg(feature = "mdgps")]
            CliError::Torch(_) => EXIT_BAD_INPUT,
            CliError::RunDir(e) => match e {
                RunDirError::Io { .. } | RunDirError::Lock(LockError::Io { .. }) => EXIT_FAILURE,
                _ => EXIT_BAD_INPUT,
            },
            CliError::Metrics(e) => match e {
                MetricsError::BadLine { .. } => EXIT_BAD_INPUT,
                MetricsError::Io { .. } => EXIT_FAILURE,
            },
            CliError::Plot(_) | CliError::Run { .. } => EXIT_FAILURE,
            CliError::Interrupted { .. } => crate::run::interrupt::EXIT_INTERRUPTED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn bad_input_exits_with_2_and_failures_with_1() {
        let config = CliError::from(ConfigError::file(Path::new("a.toml"), "bad"));
        assert_eq!(config.exit_code(), 2);
        let ckpt = CliError::from(CheckpointError::Missing {
            path: PathBuf::from("c"),
        });
        assert_eq!(ckpt.exit_code(), 2);
        let busy = CliError::from(RunDirError::HoldsAnotherRun {
            path: PathBuf::from("runs/a"),
        });
        assert_eq!(busy.exit_code(), 2);
        let run = CliError::Run {
            context: "pilqr seed 0".into(),
            message: "diverged".into(),
        };
        assert_eq!(run.exit_code(), 1);
        assert_eq!(run.to_string(), "pilqr seed 0: diverged");
    }
}
