//! `pilqr list`: tasks, methods, shipped experiments and the plans of `pilqr reproduce`.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::config::experiment::ExperimentFile;
use crate::config::method::Method;
use crate::config::reproduce_plan::ReproducePlan;
use crate::error::CliError;
use crate::task_registry::TaskRegistry;

/// Whether `path` is a plan of `pilqr reproduce` rather than an experiment: its top level is an
/// array of `[[experiment]]` tables (an experiment file has no such key).
fn is_plan(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
        .is_some_and(|t| t.get("experiment").is_some_and(|v| v.is_array()))
}

/// Where the shipped experiments are: `./experiments`, else the source tree's.
pub fn experiments_dir() -> PathBuf {
    let local = PathBuf::from("experiments");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
    }
}

/// The listing as text.
pub fn listing(experiments: &Path, registry: &TaskRegistry) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Tasks:");
    for name in registry.names() {
        let description = registry.description(name).unwrap_or_default();
        let _ = writeln!(s, "  {name:<20} {description}");
        match registry.task(name) {
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
                    "  {:<20} dX={} dU={} T={} dt={}s; conditions: {conds}",
                    "", d.dx, d.du, d.horizon, d.dt
                );
            }
            Err(e) => {
                let _ = writeln!(s, "  {:<20} ({e})", "");
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
    let (plans, files): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(|f| is_plan(f));
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
    if !plans.is_empty() {
        let _ = writeln!(s, "\nPlans of `pilqr reproduce --plan FILE`:");
    }
    for f in plans {
        match ReproducePlan::load(&f) {
            Ok(plan) => {
                let _ = writeln!(s, "  {}", f.display());
                let _ = writeln!(
                    s,
                    "      {} experiment(s): {}",
                    plan.entries.len(),
                    plan.entries
                        .iter()
                        .map(|e| e.config.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Err(err) => {
                let _ = writeln!(s, "  {} (invalid plan: {err})", f.display());
            }
        }
    }
    s
}

/// `pilqr list`, with the tasks of `registry`.
pub fn list(registry: &TaskRegistry) -> Result<(), CliError> {
    print!("{}", listing(&experiments_dir(), registry));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn plans_are_listed_as_plans() {
        let dir = TestDir::new("list-plans");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
        std::fs::copy(
            shipped.join("point_mass_smoke.toml"),
            dir.path().join("point_mass_smoke.toml"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("reproduce.toml"),
            "[[experiment]]\nconfig = \"point_mass_smoke.toml\"\npaper = \"p\"\nexpectation = \"e\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("reproduce_broken.toml"),
            "[[experiment]]\nconfig = \"missing.toml\"\npaper = \"p\"\nexpectation = \"e\"\n",
        )
        .unwrap();
        let text = listing(dir.path(), &TaskRegistry::builtin());
        assert!(!text.contains("unknown field `experiment`"), "{text}");
        assert!(
            text.contains("Plans of `pilqr reproduce --plan FILE`:"),
            "{text}"
        );
        assert!(
            text.contains("      1 experiment(s): point_mass_smoke.toml"),
            "{text}"
        );
        assert!(
            text.contains("reproduce_broken.toml (invalid plan: "),
            "{text}"
        );
        assert!(text.contains("does not exist"), "{text}");
        // The experiment itself is still listed as one.
        assert!(text.contains("task point-mass"), "{text}");
    }

    #[test]
    fn the_shipped_plans_are_valid() {
        let text = listing(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments"),
            &TaskRegistry::builtin(),
        );
        assert!(!text.contains("invalid"), "{text}");
        assert!(
            text.contains("reproduce.toml\n      12 experiment(s)"),
            "{text}"
        );
        // Every method is listed with its line, the new LQR-FLM variant included.
        assert!(
            text.contains(&format!(
                "  {:<16} {}",
                "lqr-flm-res",
                Method::LqrFlmRes.description()
            )),
            "{text}"
        );
        assert!(
            text.contains("methods pilqr,lqr-flm,lqr-flm-res,pi2"),
            "{text}"
        );
    }
}
