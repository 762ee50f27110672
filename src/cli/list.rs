//! `pilqr list`: tasks, methods and shipped experiments.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::error::CliError;
use crate::experiment::ExperimentFile;
use crate::method::Method;

/// Where the shipped experiments are: `./experiments`, else the source tree's.
pub fn experiments_dir() -> PathBuf {
    let local = PathBuf::from("experiments");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments")
    }
}

/// The listing as text.
pub fn listing(experiments: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Tasks:");
    for name in pilqr_tasks::TASK_NAMES {
        match pilqr_tasks::task_by_name(name) {
            Ok(task) => {
                let d = task.dims();
                let conds = task
                    .conditions()
                    .iter()
                    .map(|c| format!("{} ({:?})", c.name, c.split).to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(
                    s,
                    "  {name:<16} dX={} dU={} T={} dt={}s; conditions: {conds}",
                    d.dx, d.du, d.horizon, d.dt
                );
            }
            Err(e) => {
                let _ = writeln!(s, "  {name:<16} (cannot be built: {e})");
            }
        }
    }
    let _ = writeln!(s, "\nMethods:");
    for m in Method::ALL {
        let _ = writeln!(s, "  {:<16} {}", m.name(), m.description());
    }
    let _ = writeln!(s, "\nExperiments ({}):", experiments.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(experiments)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        let _ = writeln!(s, "  (none found)");
    }
    for f in files {
        match ExperimentFile::load(&f) {
            Ok(file) => {
                let e = &file.experiment;
                let _ = writeln!(s, "  {}", f.display());
                let _ = writeln!(
                    s,
                    "      task {}, methods {}, {} iteration(s) × {} samples — {}",
                    e.task,
                    e.methods
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(","),
                    e.iterations,
                    e.samples(),
                    e.description
                );
            }
            Err(err) => {
                let _ = writeln!(s, "  {} (invalid: {err})", f.display());
            }
        }
    }
    s
}

/// `pilqr list`.
pub fn list() -> Result<(), CliError> {
    print!("{}", listing(&experiments_dir()));
    Ok(())
}
