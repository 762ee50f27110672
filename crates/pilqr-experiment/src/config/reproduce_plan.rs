//! The plan of `pilqr reproduce`: which experiments reproduce which result of the paper, what
//! the paper saw, how many seeds each runs, and how to shorten each for `--quick`. Read from a TOML file
//! (`experiments/reproduce.toml` ships the rows of docs/design.md §6).
//!
//! ```toml
//! [[experiment]]
//! config = "gripper_pusher.toml"       # relative to the plan file
//! paper = "Fig. 3: gripper pusher"
//! expectation = "PILQR succeeds on all 4 conditions; LQR-FLM and PI2 end clearly worse."
//! quick_iterations = 8                 # --quick: this many iterations
//! seeds = 20                           # optional: seeds 0–19 instead of the experiment's own
//! quick_seeds = 3                      # optional: --quick runs the first 3 seeds (default 3)
//! notes = "what we found, and why it differs from the paper"   # optional
//! ablation_of = "gripper_pusher"       # optional: pair this row's methods with that row's
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::config_file::{ConfigError, load_toml};

/// One row of the plan.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    /// The experiment file, relative to the plan file.
    pub config: PathBuf,
    /// The paper's result this experiment stands for (a heading in `results.md`).
    pub paper: String,
    /// What the paper observed, i.e. what must hold for the result to reproduce.
    pub expectation: String,
    /// Iterations in `--quick` mode (default: the experiment's own count).
    #[serde(default)]
    pub quick_iterations: Option<usize>,
    /// Run seeds `0..seeds` in place of the experiment's own list (default: its own).
    #[serde(default)]
    pub seeds: Option<usize>,
    /// Seeds in `--quick` mode: the first this many of the row's seeds (default
    /// [`DEFAULT_QUICK_SEEDS`]).
    #[serde(default)]
    pub quick_seeds: Option<usize>,
    /// The maintainers' reading of the committed results (optional; printed under the table).
    #[serde(default)]
    pub notes: Option<String>,
    /// An ablation: the name of the earlier row (its experiment's name) this one changes one
    /// setting of. The page then compares each of this row's methods with the same method of
    /// that row, paired by seed.
    #[serde(default)]
    pub ablation_of: Option<String>,
}

/// Seeds a `--quick` row runs when the plan does not say.
pub const DEFAULT_QUICK_SEEDS: usize = 3;

impl PlanEntry {
    /// The seeds this row runs, given the experiment's own list: `0..seeds` when the plan sets
    /// `seeds`, then in `--quick` mode only the first `quick_seeds`.
    pub fn run_seeds(&self, experiment_seeds: &[u64], quick: bool) -> Vec<u64> {
        let mut seeds = match self.seeds {
            Some(n) => (0..n as u64).collect(),
            None => experiment_seeds.to_vec(),
        };
        if quick {
            seeds.truncate(self.quick_seeds.unwrap_or(DEFAULT_QUICK_SEEDS));
        }
        seeds
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    experiment: Vec<PlanEntry>,
}

/// A loaded plan.
#[derive(Debug, Clone)]
pub struct ReproducePlan {
    /// The plan file.
    pub path: PathBuf,
    /// Its rows, in order.
    pub entries: Vec<PlanEntry>,
}

impl ReproducePlan {
    /// Read and check `path`: at least one row, every `quick_iterations`, `seeds` and
    /// `quick_seeds` ≥ 1 and every experiment file present.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let (file, text) = load_toml::<PlanFile>(path)?;
        if file.experiment.is_empty() {
            return Err(ConfigError::invalid(
                path,
                &text,
                "experiment",
                "the plan lists no experiment",
            ));
        }
        let plan = ReproducePlan {
            path: path.to_path_buf(),
            entries: file.experiment,
        };
        for (i, e) in plan.entries.iter().enumerate() {
            for (field, value) in [
                ("quick_iterations", e.quick_iterations),
                ("seeds", e.seeds),
                ("quick_seeds", e.quick_seeds),
            ] {
                if value == Some(0) {
                    return Err(ConfigError::invalid(
                        path,
                        &text,
                        field,
                        format!("experiment {} ({}): must be at least 1", i + 1, e.paper),
                    ));
                }
            }
            let config = plan.config_path(e);
            if !config.is_file() {
                return Err(ConfigError::invalid(
                    path,
                    &text,
                    "config",
                    format!(
                        "experiment {} ({}): {} does not exist",
                        i + 1,
                        e.paper,
                        config.display()
                    ),
                ));
            }
        }
        Ok(plan)
    }

    /// Check every `ablation_of` against the rows' experiment names (`names[i]` is row `i`'s):
    /// it must name an earlier row.
    pub fn check_ablations(&self, names: &[String]) -> Result<(), ConfigError> {
        for (i, e) in self.entries.iter().enumerate() {
            let Some(base) = &e.ablation_of else { continue };
            let earlier = &names[..i.min(names.len())];
            if !earlier.contains(base) {
                let text = std::fs::read_to_string(&self.path).unwrap_or_default();
                return Err(ConfigError::invalid(
                    &self.path,
                    &text,
                    "ablation_of",
                    format!(
                        "experiment {} ({}): `{base}` is not the name of an earlier row (earlier \
                         rows: {})",
                        i + 1,
                        e.paper,
                        if earlier.is_empty() {
                            "none".to_string()
                        } else {
                            earlier.join(", ")
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The experiment file of `entry`, resolved against the plan's directory.
    pub fn config_path(&self, entry: &PlanEntry) -> PathBuf {
        self.path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&entry.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn loads_rows_and_rejects_bad_plans() {
        let tmp = TestDir::new("plan");
        std::fs::write(tmp.path().join("a.toml"), "name = \"a\"\n").unwrap();
        let plan = tmp.path().join("plan.toml");
        std::fs::write(
            &plan,
            "[[experiment]]\nconfig = \"a.toml\"\npaper = \"Fig. 1\"\nexpectation = \"works\"\nquick_iterations = 2\nseeds = 20\nquick_seeds = 4\n",
        )
        .unwrap();
        let p = ReproducePlan::load(&plan).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].quick_iterations, Some(2));
        assert_eq!(p.config_path(&p.entries[0]), tmp.path().join("a.toml"));
        let e = &p.entries[0];
        assert_eq!(e.run_seeds(&[7, 8], false), (0..20).collect::<Vec<u64>>());
        assert_eq!(e.run_seeds(&[7, 8], true), vec![0, 1, 2, 3]);
        let own = PlanEntry {
            seeds: None,
            quick_seeds: None,
            ..e.clone()
        };
        assert_eq!(
            own.run_seeds(&[7, 8, 9, 10, 11], false),
            vec![7, 8, 9, 10, 11]
        );
        assert_eq!(own.run_seeds(&[7, 8, 9, 10, 11], true), vec![7, 8, 9]);

        let ablations = tmp.path().join("ablations.toml");
        std::fs::write(
            &ablations,
            "[[experiment]]\nconfig = \"a.toml\"\npaper = \"p\"\nexpectation = \"e\"\n\
             [[experiment]]\nconfig = \"a.toml\"\npaper = \"q\"\nexpectation = \"e\"\nablation_of = \"a\"\n",
        )
        .unwrap();
        let p = ReproducePlan::load(&ablations).unwrap();
        assert_eq!(p.entries[1].ablation_of.as_deref(), Some("a"));
        p.check_ablations(&["a".into(), "b".into()]).unwrap();
        let err = p
            .check_ablations(&["c".into(), "a".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ablations.toml: field `ablation_of`: experiment 2 (q)")
                && err.contains("`a` is not the name of an earlier row (earlier rows: c)"),
            "{err}"
        );

        let cases = [
            (
                "[[experiment]]\nconfig = \"missing.toml\"\npaper = \"p\"\nexpectation = \"e\"\n",
                "does not exist",
            ),
            (
                "[[experiment]]\nconfig = \"a.toml\"\npaper = \"p\"\nexpectation = \"e\"\nquick_iterations = 0\n",
                "at least 1",
            ),
            (
                "[[experiment]]\nconfig = \"a.toml\"\npaper = \"p\"\nexpectaton = \"e\"\n",
                "expectaton",
            ),
            ("experiment = []\n", "no experiment"),
            (
                "[[experiment]]\nconfig = \"a.toml\"\npaper = \"p\"\nexpectation = \"e\"\nseeds = 0\n",
                "seeds",
            ),
            (
                "[[experiment]]\nconfig = \"a.toml\"\npaper = \"p\"\nexpectation = \"e\"\nquick_seeds = 0\n",
                "quick_seeds",
            ),
        ];
        for (text, needle) in cases {
            std::fs::write(&plan, text).unwrap();
            let err = ReproducePlan::load(&plan).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
