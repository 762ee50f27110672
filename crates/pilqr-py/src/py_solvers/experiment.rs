//! `pilqr.run_experiment`: `pilqr train` of a TOML experiment through pilqr-experiment's
//! library API (built without libtorch: trajectory-optimisation experiments only), with the
//! runner's own progress output.

use std::path::PathBuf;

use pilqr_experiment::TaskRegistry;
use pilqr_experiment::cli::args::TrainArgs;
use pilqr_experiment::cli::budget::BudgetArgs;
use pilqr_experiment::cli::session::Session;
use pilqr_experiment::cli::train::train;
use pilqr_experiment::config::experiment::ExperimentFile;
use pilqr_experiment::run::progress::OutputMode;
use pyo3::prelude::*;

use super::errors::{ExperimentError, compute};

/// Run the experiment `path` as `pilqr train --config PATH` does: its first method, seed `seed`
/// (default the experiment's first), `iterations`/`samples` in place of the file's, into the run
/// directory `out` (default `runs/NAME`, as the command), replacing a run there when `force`.
/// Progress: bars on a terminal, one line per iteration otherwise, nothing when `quiet`.
/// Returns the run directory. An MDGPS experiment is refused (it needs the `pilqr` command
/// built with libtorch).
#[pyfunction]
#[pyo3(signature = (path, out=None, seed=None, iterations=None, samples=None, force=false, quiet=false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_experiment(
    py: Python<'_>,
    path: PathBuf,
    out: Option<PathBuf>,
    seed: Option<u64>,
    iterations: Option<usize>,
    samples: Option<usize>,
    force: bool,
    quiet: bool,
) -> PyResult<PathBuf> {
    let out = match out {
        Some(o) => o,
        None => {
            let file = ExperimentFile::load_with(&path, &[])
                .map_err(|e| ExperimentError::new_err(e.to_string()))?;
            Session::default_dir(&file, "")
        }
    };
    let args = TrainArgs {
        config: path,
        seed,
        budget: BudgetArgs {
            iterations,
            samples,
        },
        set: vec![],
        out: Some(out.clone()),
        force,
    };
    let mode = OutputMode::detect(quiet);
    compute(py, || {
        train(&args, mode, &TaskRegistry::builtin())
            .map_err(|e| ExperimentError::new_err(e.to_string()))
    })?;
    Ok(out)
}
