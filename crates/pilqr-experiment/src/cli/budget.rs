//! `--iterations N` and `--samples N` of `pilqr train` and `pilqr compare`: the experiment's
//! budget changed from the command line. The values replace the file's before the experiment
//! is validated, so they go through the same checks as the file's own values, and they are what
//! the run directory's resolved `config.toml` records.

use clap::Args;

use crate::config::experiment::ExperimentFile;
use crate::config::method::Family;
use crate::error::CliError;

/// The budget options shared by `train` and `compare`.
#[derive(Debug, Clone, Default, Args)]
pub struct BudgetArgs {
    /// Iterations per (method, seed), in place of the experiment's `iterations`.
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,

    /// Samples per condition and iteration, in place of `[trajopt] samples` (or
    /// `[mdgps] samples` for an MDGPS experiment).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
}

impl BudgetArgs {
    /// Put the budget into `file`'s (normalised) experiment. A zero is an error on the
    /// argument; everything else is checked by the experiment's validation that follows.
    pub fn apply(&self, file: &mut ExperimentFile) -> Result<(), CliError> {
        let at_least_one = |argument, value: Option<usize>| match value {
            Some(0) => Err(CliError::Argument {
                argument,
                message: "must be at least 1".into(),
            }),
            _ => Ok(()),
        };
        at_least_one("--iterations", self.iterations)?;
        at_least_one("--samples", self.samples)?;
        let e = &mut file.experiment;
        if let Some(n) = self.iterations {
            e.iterations = n;
        }
        if let Some(n) = self.samples {
            match e.family() {
                Family::Trajopt => e.trajopt.get_or_insert_with(Default::default).samples = n,
                #[cfg(feature = "mdgps")]
                Family::Mdgps => e.mdgps.get_or_insert_with(Default::default).samples = n,
                // A build without MDGPS refuses MDGPS experiments when it reads them.
                #[cfg(not(feature = "mdgps"))]
                Family::Mdgps => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, run_with};
    use crate::task_registry::TaskRegistry;
    use crate::test_dir::TestDir;
    use clap::Parser;
    use std::path::Path;

    const CONFIG: &str = "name = \"budget\"\ntask = \"point-mass\"\nconditions = [\"start-0\"]\n\
                          methods = [\"lqr-flm\"]\nseeds = [0]\niterations = 4\n\
                          [trajopt]\nsamples = 6\n";

    fn file() -> ExperimentFile {
        ExperimentFile::parse(Path::new("budget.toml"), CONFIG).unwrap()
    }

    #[test]
    fn the_options_replace_the_files_budget_and_zero_is_refused() {
        let mut f = file();
        BudgetArgs::default().apply(&mut f).unwrap();
        assert_eq!((f.experiment.iterations, f.experiment.samples()), (4, 6));
        let budget = BudgetArgs {
            iterations: Some(2),
            samples: Some(9),
        };
        budget.apply(&mut f).unwrap();
        assert_eq!((f.experiment.iterations, f.experiment.samples()), (2, 9));
        for (budget, argument) in [
            (
                BudgetArgs {
                    iterations: Some(0),
                    samples: None,
                },
                "--iterations",
            ),
            (
                BudgetArgs {
                    iterations: None,
                    samples: Some(0),
                },
                "--samples",
            ),
        ] {
            let mut f = file();
            let err = budget.apply(&mut f).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert_eq!(
                err.to_string(),
                format!("argument {argument}: must be at least 1")
            );
            assert_eq!((f.experiment.iterations, f.experiment.samples()), (4, 6));
        }
    }

    #[test]
    fn a_train_with_a_budget_runs_it_and_records_it_in_the_resolved_config() {
        let tmp = TestDir::new("budget");
        let config = tmp.path().join("budget.toml");
        std::fs::write(&config, CONFIG).unwrap();
        let out = tmp.path().join("run");
        let (config, out_text) = (config.to_str().unwrap(), out.to_str().unwrap());
        let cli = Cli::parse_from([
            "pilqr",
            "train",
            "-q",
            "--config",
            config,
            "--out",
            out_text,
            "--iterations",
            "2",
            "--samples",
            "5",
        ]);
        run_with(cli, &TaskRegistry::builtin()).unwrap();
        let resolved = std::fs::read_to_string(out.join("config.toml")).unwrap();
        let resolved = ExperimentFile::parse(&out.join("config.toml"), &resolved).unwrap();
        assert_eq!(resolved.experiment.iterations, 2);
        assert_eq!(resolved.experiment.samples(), 5);
        // One row per iteration for the one condition.
        let rows = crate::run::metrics_log::read_jsonl(&out.join("metrics.jsonl")).unwrap();
        assert_eq!(rows.len(), 2);
        // A budget too large for memory is refused like the file's, before anything is written.
        let big = tmp.path().join("big");
        let cli = Cli::parse_from([
            "pilqr",
            "train",
            "-q",
            "--config",
            config,
            "--out",
            big.to_str().unwrap(),
            "--samples",
            "1000000000000",
        ]);
        let err = run_with(cli, &TaskRegistry::builtin()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("trajopt.samples"), "{err}");
        assert!(!big.exists());
    }
}
