//! Experiment files (`experiments/*.toml`): what to run, on which task, with which settings.
//!
//! ```toml
//! name = "gripper_pusher_hard"          # default run directory: runs/<name>
//! description = "Fig. 3 of the paper"
//! task = "gripper-pusher"               # see `pilqr list`
//! conditions = ["hard"]                 # names or indices; default: every train condition
//! methods = ["pilqr", "lqr-flm", "pi2"] # `train` runs the first, `compare` all
//! seeds = [0]                           # `train` runs the first, `compare` all
//! iterations = 20
//!
//! [trajopt]                             # pilqr_trajopt::driver::TrajOptConfig
//! samples = 20
//! kl_step = { start = 0.6, end = 0.2 }
//!
//! [dynamics]                            # pilqr_dynamics::DynamicsConfig
//! prior = { max_samples = 20, strength = 1.0 }
//! ```
//!
//! | field | default | meaning |
//! |---|---|---|
//! | `name` | required | run name; letters, digits, `-`, `_`, `.` |
//! | `description` | `""` | one line shown by `pilqr list` |
//! | `task` | required | a task of `pilqr list` |
//! | `conditions` | every train condition | conditions trained on, by name or index |
//! | `methods` | `["pilqr", "lqr-flm", "pi2"]` | methods of `compare`; `train` runs the first |
//! | `seeds` | `[0]` | seeds of `compare`; `train` runs the first |
//! | `iterations` | 20 | iterations per (method, seed) |
//! | `[trajopt]` | the paper's pusher settings | every setting of the optimisation loop except `algorithm`, which `methods` decides |
//! | `[dynamics]` | GMM prior 20/40/20, strength 1 | the dynamics fitter |
//!
//! Every table denies unknown fields; errors name the file, line and field and exit with code 2.

use std::path::{Path, PathBuf};

use pilqr_core::{Split, Task};
use pilqr_dynamics::{DynamicsConfig, DynamicsError};
use pilqr_trajopt::TrajOptError;
use pilqr_trajopt::driver::TrajOptConfig;
use serde::{Deserialize, Serialize};

use crate::config_file::{ConfigError, load_toml, parse_toml};
use crate::method::Method;

/// A condition named in a config: by index or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConditionRef {
    /// Index in the task's list.
    Index(usize),
    /// Name, e.g. `"hard"`.
    Name(String),
}

fn default_methods() -> Vec<Method> {
    Method::ALL.to_vec()
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

fn default_iterations() -> usize {
    20
}

/// An experiment, as written in its TOML file (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Run name; the default run directory is `runs/<name>`.
    pub name: String,
    /// One line about the experiment.
    #[serde(default)]
    pub description: String,
    /// Task name.
    pub task: String,
    /// Conditions trained on (default: every train condition of the task).
    #[serde(default)]
    pub conditions: Vec<ConditionRef>,
    /// Methods (`compare` runs all, `train` the first).
    #[serde(default = "default_methods")]
    pub methods: Vec<Method>,
    /// Seeds (`compare` runs all, `train` the first).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Iterations per (method, seed).
    #[serde(default = "default_iterations")]
    pub iterations: usize,
    /// Settings of the optimisation loop (its `algorithm` is set from `methods`).
    #[serde(default)]
    pub trajopt: TrajOptConfig,
    /// Settings of the dynamics fitter.
    #[serde(default)]
    pub dynamics: DynamicsConfig,
}

/// An experiment read from a file, with what is needed to report errors in it.
#[derive(Debug, Clone)]
pub struct ExperimentFile {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its content.
    pub experiment: Experiment,
}

impl ExperimentFile {
    /// Read and parse `path` (no validation against a task yet).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let (experiment, text) = load_toml::<Experiment>(path)?;
        let file = ExperimentFile {
            path: path.to_path_buf(),
            text,
            experiment,
        };
        file.check_no_algorithm()?;
        Ok(file)
    }

    /// Parse `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let experiment = parse_toml::<Experiment>(path, text)?;
        let file = ExperimentFile {
            path: path.to_path_buf(),
            text: text.to_string(),
            experiment,
        };
        file.check_no_algorithm()?;
        Ok(file)
    }

    /// `trajopt.algorithm` is decided by `methods`; setting it would be silently overridden.
    fn check_no_algorithm(&self) -> Result<(), ConfigError> {
        let table: toml::Table = parse_toml(&self.path, &self.text)?;
        let set = table
            .get("trajopt")
            .and_then(|t| t.as_table())
            .is_some_and(|t| t.contains_key("algorithm"));
        if set {
            return Err(self.invalid(
                "trajopt.algorithm",
                "is decided by `methods` (e.g. methods = [\"pilqr\"]); remove it",
            ));
        }
        Ok(())
    }

    /// An error about `field` of this file.
    pub fn invalid(&self, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(&self.path, &self.text, field, message)
    }

    /// Check the experiment against its task and resolve its conditions to indices.
    pub fn validate(&self, task: &dyn Task) -> Result<Vec<usize>, ConfigError> {
        let e = &self.experiment;
        if e.name.is_empty()
            || !e
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || e.name.starts_with('.')
        {
            return Err(self.invalid(
                "name",
                "must be non-empty and use only letters, digits, '-', '_' and '.' (it names the run directory)",
            ));
        }
        if e.iterations == 0 {
            return Err(self.invalid("iterations", "must be at least 1"));
        }
        if e.methods.is_empty() {
            return Err(self.invalid("methods", "must name at least one method"));
        }
        if let Some(m) = first_duplicate(&e.methods) {
            return Err(self.invalid("methods", format!("lists {m} twice")));
        }
        if e.seeds.is_empty() {
            return Err(self.invalid("seeds", "must list at least one seed"));
        }
        if let Some(s) = first_duplicate(&e.seeds) {
            return Err(self.invalid("seeds", format!("lists seed {s} twice")));
        }
        let conditions = self.resolve_conditions(task)?;
        e.trajopt
            .validate(task.dims().horizon)
            .map_err(|err| self.trajopt_error(&err))?;
        e.dynamics
            .validate()
            .map_err(|err| self.dynamics_error(&err))?;
        Ok(conditions)
    }

    fn resolve_conditions(&self, task: &dyn Task) -> Result<Vec<usize>, ConfigError> {
        let all = task.conditions();
        let e = &self.experiment;
        if e.conditions.is_empty() {
            let train: Vec<usize> = (0..all.len())
                .filter(|&i| all[i].split == Split::Train)
                .collect();
            if train.is_empty() {
                return Err(self.invalid("conditions", "the task has no train conditions"));
            }
            return Ok(train);
        }
        let names = || {
            all.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::with_capacity(e.conditions.len());
        for c in &e.conditions {
            let index = match c {
                ConditionRef::Index(i) if *i < all.len() => *i,
                ConditionRef::Index(i) => {
                    return Err(self.invalid(
                        "conditions",
                        format!(
                            "index {i} is out of range: task {} has {} conditions ({})",
                            e.task,
                            all.len(),
                            names()
                        ),
                    ));
                }
                ConditionRef::Name(n) => {
                    all.iter().position(|c| &c.name == n).ok_or_else(|| {
                        self.invalid(
                            "conditions",
                            format!(
                                "task {} has no condition {n:?} (it has: {})",
                                e.task,
                                names()
                            ),
                        )
                    })?
                }
            };
            if out.contains(&index) {
                return Err(self.invalid("conditions", format!("lists condition {index} twice")));
            }
            out.push(index);
        }
        Ok(out)
    }

    fn trajopt_error(&self, err: &TrajOptError) -> ConfigError {
        match err {
            TrajOptError::Config { field, reason } => {
                self.invalid(&format!("trajopt.{field}"), reason.clone())
            }
            other => self.invalid("trajopt", other.to_string()),
        }
    }

    fn dynamics_error(&self, err: &DynamicsError) -> ConfigError {
        match err {
            DynamicsError::InvalidConfig { field, reason } => {
                let top_level = matches!(*field, "regularization" | "initial_state_var");
                let path = if top_level {
                    format!("dynamics.{field}")
                } else {
                    format!("dynamics.prior.{field}")
                };
                self.invalid(&path, reason.clone())
            }
            other => self.invalid("dynamics", other.to_string()),
        }
    }
}

fn first_duplicate<T: PartialEq + Copy>(v: &[T]) -> Option<T> {
    v.iter()
        .enumerate()
        .find(|(i, x)| v[..*i].contains(x))
        .map(|(_, x)| *x)
}

impl Experiment {
    /// The resolved experiment of a run: conditions by name, the methods and seeds actually run.
    pub fn resolved(
        &self,
        task: &dyn Task,
        conditions: &[usize],
        methods: &[Method],
        seeds: &[u64],
    ) -> Experiment {
        let all = task.conditions();
        let unique_names = all
            .iter()
            .enumerate()
            .all(|(i, c)| all[..i].iter().all(|d| d.name != c.name));
        Experiment {
            conditions: conditions
                .iter()
                .map(|&i| {
                    if unique_names {
                        ConditionRef::Name(all[i].name.clone())
                    } else {
                        ConditionRef::Index(i)
                    }
                })
                .collect(),
            methods: methods.to_vec(),
            seeds: seeds.to_vec(),
            ..self.clone()
        }
    }

    /// The experiment as TOML text (what a run directory's `config.toml` holds). The loop's
    /// `algorithm` is left out: `methods` decides it.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let text = toml::to_string(self)?;
        let mut out = String::with_capacity(text.len());
        let mut table = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                table = trimmed.trim_matches(|c| c == '[' || c == ']').to_string();
            } else if table == "trajopt" && trimmed.starts_with("algorithm =") {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "name = \"pm\"\ntask = \"point-mass\"\niterations = 3\n\n[trajopt]\nsamples = 5\n";

    fn check(text: &str) -> Result<Vec<usize>, ConfigError> {
        let file = ExperimentFile::parse(Path::new("e.toml"), text)?;
        let task = pilqr_tasks::task_by_name(&file.experiment.task)
            .map_err(|e| file.invalid("task", e.to_string()))?;
        file.validate(task.as_ref())
    }

    #[test]
    fn a_minimal_experiment_gets_the_documented_defaults() {
        let file = ExperimentFile::parse(Path::new("e.toml"), BASE).unwrap();
        let e = &file.experiment;
        assert_eq!(e.methods, Method::ALL.to_vec());
        assert_eq!(e.seeds, vec![0]);
        assert_eq!(e.trajopt.samples, 5);
        assert_eq!(e.dynamics, DynamicsConfig::default());
        let conditions = check(BASE).unwrap();
        assert!(!conditions.is_empty());
    }

    #[test]
    fn bad_values_name_their_field_and_line() {
        let cases: &[(&str, &str, usize)] = &[
            ("iterations = 0", "iterations", 3),
            ("iterations = -2", "iterations", 3),
            ("iterations = \"many\"", "iterations", 3),
        ];
        for (replacement, field, line) in cases {
            let text = BASE.replace("iterations = 3", replacement);
            let err = check(&text).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(*field), "{text}: {err}");
            assert_eq!(err.line, Some(*line), "{err}");
        }
        let err = check(&format!("{BASE}sampels = 4\n")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.sampels"), "{err}");
        assert_eq!(err.line, Some(7));
        let err = check(&BASE.replace("samples = 5", "samples = 0")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.samples"), "{err}");
        assert_eq!(err.line, Some(6));
    }

    #[test]
    fn wrong_dimension_is_reported_on_its_field() {
        let err = check(&format!("{BASE}kl_step = [0.5, 0.5]\n")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.kl_step"), "{err}");
        assert_eq!(err.line, Some(7));
        assert!(err.message.contains("horizon"), "{err}");
    }

    #[test]
    fn unknown_task_method_and_condition_are_errors() {
        let err = check(&BASE.replace("point-mass", "juggler")).unwrap_err();
        assert_eq!(
            (err.field.as_deref(), err.line),
            (Some("task"), Some(2)),
            "{err}"
        );
        let err = check(&format!("methods = [\"pilqr\", \"ilqr\"]\n{BASE}")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("methods"), "{err}");
        let err = check(&format!("conditions = [\"nowhere\"]\n{BASE}")).unwrap_err();
        assert_eq!(
            (err.field.as_deref(), err.line),
            (Some("conditions"), Some(1)),
            "{err}"
        );
        let err = check(&format!("conditions = [99]\n{BASE}")).unwrap_err();
        assert!(err.message.contains("out of range"), "{err}");
        let err = check(&format!("seeds = []\n{BASE}")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("seeds"), "{err}");
        let err = check(&format!("methods = [\"pi2\", \"pi2\"]\n{BASE}")).unwrap_err();
        assert!(err.message.contains("twice"), "{err}");
        let err = check(&BASE.replace("\"pm\"", "\"../escape\"")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("name"), "{err}");
    }

    #[test]
    fn algorithm_is_decided_by_methods() {
        let err = check(&format!("{BASE}algorithm = \"pi2\"\n")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.algorithm"), "{err}");
        assert_eq!(err.line, Some(7));
    }

    #[test]
    fn the_resolved_experiment_round_trips_through_toml() {
        let file = ExperimentFile::parse(Path::new("e.toml"), BASE).unwrap();
        let task = pilqr_tasks::task_by_name("point-mass").unwrap();
        let conditions = file.validate(task.as_ref()).unwrap();
        let resolved = file
            .experiment
            .resolved(task.as_ref(), &conditions, &[Method::Pi2], &[4]);
        let text = resolved.to_toml().unwrap();
        let back = ExperimentFile::parse(Path::new("config.toml"), &text).unwrap();
        assert_eq!(back.experiment, resolved);
        assert_eq!(back.validate(task.as_ref()).unwrap(), conditions);
    }
}
