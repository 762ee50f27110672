//! Checking a loaded experiment against its task: names, counts, conditions (trained on and
//! held out) and every settings table, with errors on the offending field and line.

use crate::config::method::LocalMethod;
use pilqr_core::{Split, Task};
use pilqr_dynamics::DynamicsError;
use pilqr_trajopt::init::InitConfig;
use pilqr_trajopt::{LqrFlmConfig, Pi2Config, StepRule, TrajOptError};

use crate::config::config_file::{ConfigError, parse_toml};
use crate::config::experiment::{ConditionRef, ExperimentFile};
use crate::config::memory_estimate;
use crate::config::method::{Family, Method};

/// The conditions of a run, as indices into the task's list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunConditions {
    /// Conditions trained on.
    pub train: Vec<usize>,
    /// Held-out conditions the global policy is evaluated on (MDGPS; empty otherwise).
    pub test: Vec<usize>,
}

/// A step rule as written in experiment files.
pub fn step_rule_name(rule: StepRule) -> &'static str {
    match rule {
        StepRule::Const => "const",
        StepRule::ResPercent => "res_percent",
        StepRule::Improvement => "improvement",
    }
}

/// A field name and its value.
type NamedValue = (&'static str, f64);

fn first_duplicate<T: PartialEq + Copy>(v: &[T]) -> Option<T> {
    v.iter()
        .enumerate()
        .find(|(i, x)| v[..*i].contains(x))
        .map(|(_, x)| *x)
}

impl ExperimentFile {
    /// Check the experiment against its task and resolve its conditions to indices.
    pub fn validate(&self, task: &dyn Task) -> Result<RunConditions, ConfigError> {
        self.check_no_empty_lists()?;
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
            Family::Trajopt => {
                let c = e.trajopt_config();
                self.check_step_rule(&e.methods)?;
                self.check_local_tables("trajopt", &c.lqr, &c.pi2, &c.init)?;
                c.validate(task.dims().horizon)
                    .map_err(|err| self.trajopt_error(&err))?
            }
            #[cfg(feature = "mdgps")]
            Family::Mdgps => {
                let m = e.mdgps_settings();
                self.check_local_tables("mdgps", &m.lqr, &m.pi2, &m.init)?;
            }
            #[cfg(not(feature = "mdgps"))]
            Family::Mdgps => {
                return Err(self.invalid("algorithm", crate::config::experiment::NO_MDGPS));
            }
        }
        match e.family() {
            Family::Trajopt => {}
            #[cfg(not(feature = "mdgps"))]
            Family::Mdgps => {}
            #[cfg(feature = "mdgps")]
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
        self.check_memory(task, train.len() + test.len())?;
        Ok(RunConditions { train, test })
    }

    /// `[trajopt] step_rule` is for `pilqr`: `lqr-flm` (`"improvement"`) and `lqr-flm-res`
    /// (`"res_percent"`) fix their own rule, so an explicit setting that differs from the rule
    /// of one of `methods` would be silently overridden and is refused. Leaving the key out
    /// gives `pilqr` the default `"res_percent"`.
    pub fn check_step_rule(&self, methods: &[Method]) -> Result<(), ConfigError> {
        let table: toml::Table = parse_toml(&self.path, &self.text)?;
        let explicit = table
            .get("trajopt")
            .and_then(|t| t.as_table())
            .is_some_and(|t| t.contains_key("step_rule"));
        if !explicit {
            return Ok(());
        }
        let rule = self.experiment.trajopt_config().step_rule;
        let conflict = methods
            .iter()
            .find_map(|&m| m.step_rule().filter(|&r| r != rule).map(|r| (m, r)));
        match conflict {
            None => Ok(()),
            Some((m, r)) => Err(self.invalid(
                "trajopt.step_rule",
                format!(
                    "\"{}\" conflicts with method {m}, which always uses \"{}\" (lqr-flm: \"improvement\", lqr-flm-res: \"res_percent\"; `step_rule` sets pilqr's rule): remove it, or leave {m} out of the methods",
                    step_rule_name(rule),
                    step_rule_name(r)
                ),
            )),
        }
    }

    /// One rule for the lists with a default: leaving the field out gives the default, an
    /// explicitly empty list is an error (it would run nothing, or silently everything).
    fn check_no_empty_lists(&self) -> Result<(), ConfigError> {
        let table: toml::Table = parse_toml(&self.path, self.effective_text())?;
        for (field, default) in [
            ("conditions", "every train condition of the task"),
            ("methods", "the family's methods"),
            ("seeds", "seed 0"),
        ] {
            if table
                .get(field)
                .and_then(|v| v.as_array())
                .is_some_and(|a| a.is_empty())
            {
                return Err(self.invalid(
                    field,
                    format!("is empty: list at least one, or leave `{field}` out for the default ({default})"),
                ));
            }
        }
        Ok(())
    }

    /// Settings that are valid but probably not meant, as one-line warnings naming file, line
    /// and field: a PI2 `kl_threshold` of at least `log(samples)` (the KL of weights to uniform
    /// cannot exceed `log N`, so the temperature search ends at one-hot weights).
    pub fn warnings(&self) -> Vec<String> {
        let e = &self.experiment;
        let uses_pi2 = e
            .methods
            .iter()
            .any(|m| matches!(m.local(), LocalMethod::Pi2 | LocalMethod::Pilqr));
        let (table, threshold) = match e.family() {
            Family::Trajopt => ("trajopt", e.trajopt_config().pi2.kl_threshold),
            #[cfg(feature = "mdgps")]
            Family::Mdgps => ("mdgps", e.mdgps_settings().pi2.kl_threshold),
            // Refused when read by a build without MDGPS: nothing to warn about.
            #[cfg(not(feature = "mdgps"))]
            Family::Mdgps => return Vec::new(),
        };
        let samples = e.samples();
        let log_n = (samples as f64).ln();
        let mut out = Vec::new();
        if uses_pi2 && threshold >= log_n {
            let field = format!("{table}.pi2.kl_threshold");
            let message = format!(
                "{threshold} is not below log(samples) = ln {samples} = {log_n:.3}, the most a KL to uniform weights can be; PI2's weights will go one-hot"
            );
            out.push(self.invalid(&field, message).to_string());
        }
        out
    }

    /// Refuse sizes whose memory cannot fit in this machine, naming the field to shrink.
    fn check_memory(&self, task: &dyn Task, conditions: usize) -> Result<(), ConfigError> {
        let e = &self.experiment;
        let dims = task.dims();
        let available = memory_estimate::physical_memory();
        let samples = e.samples();
        let field = match e.family() {
            Family::Trajopt => "trajopt.samples",
            Family::Mdgps => "mdgps.samples",
        };
        memory_estimate::check(
            memory_estimate::samples_bytes(&dims, conditions, samples),
            available,
        )
        .map_err(|m| self.invalid(field, format!("{samples} samples per condition {m}")))?;
        #[cfg(feature = "mdgps")]
        if e.family() == Family::Mdgps {
            let hidden = e.mdgps_settings().network.hidden;
            let bytes = memory_estimate::network_bytes(&dims, &hidden, conditions, samples);
            memory_estimate::check(bytes, available).map_err(|m| {
                self.invalid(
                    "mdgps.network.hidden",
                    format!("a network of hidden widths {hidden:?} {m}"),
                )
            })?;
        }
        Ok(())
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

    /// The `lqr`, `pi2` and `init` tables inside `[table]`, with errors on their own dotted
    /// paths (e.g. `trajopt.lqr.max_eta`). The initial controller's values are checked here,
    /// before anything is written, rather than when the first controller is built.
    fn check_local_tables(
        &self,
        table: &str,
        lqr: &LqrFlmConfig,
        pi2: &Pi2Config,
        init: &InitConfig,
    ) -> Result<(), ConfigError> {
        let sub = |name: &str, result: Result<(), TrajOptError>| {
            result.map_err(|err| match err {
                TrajOptError::Config { field, reason } => {
                    self.invalid(&format!("{table}.{name}.{field}"), reason)
                }
                other => self.invalid(&format!("{table}.{name}"), other.to_string()),
            })
        };
        sub("lqr", lqr.validate())?;
        sub("pi2", pi2.validate())?;
        let (checks, finite): (Vec<NamedValue>, Vec<NamedValue>) = match init {
            InitConfig::Pd(p) => (
                vec![("init_var", p.init_var)],
                vec![("pos_gain", p.pos_gain), ("vel_gain", p.vel_gain)],
            ),
            InitConfig::Lqr(l) => (
                vec![
                    ("init_var", l.init_var),
                    ("init_gains", l.init_gains),
                    ("init_acc", l.init_acc),
                ],
                vec![
                    ("stiffness", l.stiffness),
                    ("stiffness_vel", l.stiffness_vel),
                    ("final_weight", l.final_weight),
                ],
            ),
        };
        for (field, v) in checks {
            if !(v > 0.0 && v.is_finite()) {
                return Err(
                    self.invalid(&format!("{table}.init.{field}"), "must be finite and > 0")
                );
            }
        }
        for (field, v) in finite {
            if !v.is_finite() {
                return Err(self.invalid(&format!("{table}.init.{field}"), "must be finite"));
            }
        }
        Ok(())
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
