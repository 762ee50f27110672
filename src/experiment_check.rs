//! Checking a loaded experiment against its task: names, counts, conditions (trained on and
//! held out) and every settings table, with errors on the offending field and line.

use pilqr_core::{Split, Task};
use pilqr_dynamics::DynamicsError;
use pilqr_trajopt::TrajOptError;

use crate::config_file::ConfigError;
use crate::experiment::{ConditionRef, ExperimentFile};
use crate::method::Family;

/// The conditions of a run, as indices into the task's list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunConditions {
    /// Conditions trained on.
    pub train: Vec<usize>,
    /// Held-out conditions the global policy is evaluated on (MDGPS; empty otherwise).
    pub test: Vec<usize>,
}

fn first_duplicate<T: PartialEq + Copy>(v: &[T]) -> Option<T> {
    v.iter()
        .enumerate()
        .find(|(i, x)| v[..*i].contains(x))
        .map(|(_, x)| *x)
}

impl ExperimentFile {
    /// Check the experiment against its task and resolve its conditions to indices.
    pub fn validate(&self, task: &dyn Task) -> Result<RunConditions, ConfigError> {
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
        let train = self.resolve_conditions(task, "conditions", &e.conditions, Split::Train)?;
        let test = match e.family() {
            Family::Trajopt => Vec::new(),
            Family::Mdgps => {
                self.resolve_conditions(task, "test_conditions", &e.test_conditions, Split::Test)?
            }
        };
        if let Some(c) = test.iter().find(|c| train.contains(c)) {
            return Err(self.invalid(
                "test_conditions",
                format!(
                    "condition {} is also trained on; held-out conditions must be new to the policy",
                    task.conditions()[*c].name
                ),
            ));
        }
        match e.family() {
            Family::Trajopt => e
                .trajopt_config()
                .validate(task.dims().horizon)
                .map_err(|err| self.trajopt_error(&err))?,
            Family::Mdgps => e.mdgps_settings().validate().map_err(|(field, reason)| {
                let path = if field.is_empty() {
                    "mdgps".to_string()
                } else {
                    format!("mdgps.{field}")
                };
                self.invalid(&path, reason)
            })?,
        }
        e.dynamics
            .validate()
            .map_err(|err| self.dynamics_error(&err))?;
        Ok(RunConditions { train, test })
    }

    /// The conditions listed in `field` (by index or name), or by default every condition of
    /// split `default` (none is fine for held-out conditions, not for training ones).
    fn resolve_conditions(
        &self,
        task: &dyn Task,
        field: &str,
        list: &[ConditionRef],
        default: Split,
    ) -> Result<Vec<usize>, ConfigError> {
        let all = task.conditions();
        let e = &self.experiment;
        if list.is_empty() {
            let chosen: Vec<usize> = (0..all.len())
                .filter(|&i| all[i].split == default)
                .collect();
            if chosen.is_empty() && default == Split::Train {
                return Err(self.invalid(field, "the task has no train conditions"));
            }
            return Ok(chosen);
        }
        let names = || {
            all.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::with_capacity(list.len());
        for c in list {
            let index = match c {
                ConditionRef::Index(i) if *i < all.len() => *i,
                ConditionRef::Index(i) => {
                    return Err(self.invalid(
                        field,
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
                            field,
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
                return Err(self.invalid(field, format!("lists condition {index} twice")));
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
                let path = if top_level || field.starts_with("prior.") {
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
