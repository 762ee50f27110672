//! What the paper-experiment examples share: running one of `experiments/*.toml` through the
//! library (`pilqr::cli::run`, the same code as the `pilqr` command) with a budget taken from
//! the command line or the environment, and the tiny budget their tests run in CI.

// Each example uses `main` (its binary) or `run_tiny` (its test), not both in one build.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pilqr::cli::run_args_with;
use pilqr::error::CliError;
use pilqr::experiment::TaskRegistry;
use pilqr::run::metrics_log::{MetricsRow, read_jsonl};

/// How much of an experiment to run.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    /// Iterations per (method, seed); `None`: the experiment's own.
    pub iterations: Option<usize>,
    /// Samples per condition and iteration; `None`: the experiment's own.
    pub samples: Option<usize>,
    /// Seeds; empty: the experiment's own.
    pub seeds: Vec<u64>,
    /// Further `--set key.path=value` overrides (e.g. fewer conditions).
    pub sets: Vec<String>,
}

impl Budget {
    /// The budget of `cargo run --example NAME [-- ITERATIONS]`: the iterations from the first
    /// argument, else from `PILQR_EXAMPLE_ITERATIONS`, else the experiment's own.
    pub fn from_env() -> Budget {
        let iterations = std::env::args()
            .nth(1)
            .or_else(|| std::env::var("PILQR_EXAMPLE_ITERATIONS").ok())
            .map(|s| match s.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    eprintln!("error: the budget is a number of iterations ≥ 1, not `{s}`");
                    std::process::exit(2);
                }
            });
        Budget {
            iterations,
            ..Budget::default()
        }
    }

    /// One iteration of 4 samples, seed 0, and the overrides `sets`: seconds, for CI.
    pub fn tiny(sets: &[&str]) -> Budget {
        Budget {
            iterations: Some(1),
            samples: Some(4),
            seeds: vec![0],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The experiment file `experiments/<file>` of this repository.
pub fn experiment(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments")
        .join(file)
}

/// `pilqr compare` of `experiments/<file>` within `budget`, into `out` (replaced if it holds a
/// run): the comparison table, plots and renders, as the command writes them. Returns the
/// metrics rows.
pub fn compare(
    file: &str,
    budget: &Budget,
    out: &Path,
    quiet: bool,
) -> Result<Vec<MetricsRow>, CliError> {
    let mut args: Vec<String> = vec!["pilqr".into(), "compare".into(), "--force".into()];
    if quiet {
        args.push("--quiet".into());
    }
    args.extend(["--config".into(), experiment(file).display().to_string()]);
    args.extend(["--out".into(), out.display().to_string()]);
    if let Some(n) = budget.iterations {
        args.extend(["--iterations".into(), n.to_string()]);
    }
    if let Some(n) = budget.samples {
        args.extend(["--samples".into(), n.to_string()]);
    }
    if !budget.seeds.is_empty() {
        let seeds: Vec<String> = budget.seeds.iter().map(u64::to_string).collect();
        args.extend(["--seeds".into(), seeds.join(",")]);
    }
    for s in &budget.sets {
        args.extend(["--set".into(), s.clone()]);
    }
    run_args_with(args, &TaskRegistry::builtin())?;
    Ok(read_jsonl(&out.join("metrics.jsonl"))?)
}

/// `main` of a paper-experiment example: the experiment within the budget of the command line
/// into `runs/example-<name>`; errors as the `pilqr` command prints them.
pub fn main(name: &str, file: &str) {
    let out = PathBuf::from("runs").join(format!("example-{name}"));
    if let Err(e) = compare(file, &Budget::from_env(), &out, false) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
    println!("run directory: {}", out.display());
}

/// The test of a paper-experiment example: the experiment within `budget` in a fresh
/// temporary directory; every (method, seed, condition) gets its rows.
pub fn run_tiny(name: &str, file: &str, budget: &Budget) {
    let out = std::env::temp_dir().join(format!("pilqr-example-{name}-{}", std::process::id()));
    let rows = compare(file, budget, &out, true).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!rows.is_empty(), "{name}: no metrics rows");
    assert!(
        rows.iter().all(|r| r.mean_cost.is_finite()),
        "{name}: a non-finite cost"
    );
    assert!(out.join("summary.md").is_file(), "{name}: no summary");
    std::fs::remove_dir_all(&out).ok();
}
