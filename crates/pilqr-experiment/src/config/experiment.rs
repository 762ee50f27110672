//! Experiment files (`experiments/*.toml`): what to run, on which task, with which settings.
//!
//! Local controllers (trajectory optimisation):
//!
//! ```toml
//! name = "gripper_pusher_hard"          # default run directory: runs/<name>
//! description = "Fig. 3 of the paper"
//! task = "gripper-pusher"               # see `pilqr list`
//! conditions = ["hard"]                 # names or indices; default: every train condition
//! methods = ["pilqr", "lqr-flm", "lqr-flm-res", "pi2"] # `train` runs the first, `compare` all
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
//! A neural-network policy (MDGPS), tested every iteration on held-out conditions:
//!
//! ```toml
//! name = "reacher_mdgps"
//! task = "reacher"
//! algorithm = "mdgps"
//! local = "pilqr"                       # or: methods = ["mdgps-pilqr", "mdgps-lqr-flm", "mdgps-pi2"]
//! test_conditions = ["test-0", "test-1"] # default: every test condition of the task
//!
//! [mdgps]                               # pilqr::mdgps_settings::MdgpsSettings
//! samples = 20
//! ```
//!
//! | field | default | meaning |
//! |---|---|---|
//! | `name` | required | run name; letters, digits, `-`, `_`, `.` |
//! | `description` | `""` | one line shown by `pilqr list` |
//! | `task` | required | a task of `pilqr list` |
//! | `algorithm` | from `methods`, else `"trajopt"` | `"trajopt"` (local controllers) or `"mdgps"` (a network policy) |
//! | `local` | none | MDGPS only: shorthand for `methods = ["mdgps-<local>"]` (`"pilqr"`, `"lqr-flm"`, `"pi2"`) |
//! | `conditions` | every train condition | conditions trained on, by name or index |
//! | `test_conditions` | MDGPS: every test condition | held-out conditions the network is evaluated on after every iteration (MDGPS only) |
//! | `methods` | the family's methods | methods of `compare`; `train` runs the first: `pilqr`, `lqr-flm`, `lqr-flm-res`, `pi2`, or with MDGPS `mdgps-pilqr`, `mdgps-lqr-flm`, `mdgps-pi2` |
//! | `seeds` | `[0]` | seeds of `compare`; `train` runs the first |
//! | `iterations` | 20 | iterations per (method, seed) |
//! | `[trajopt]` | the paper's pusher settings | trajopt only: every setting of the optimisation loop except `algorithm`, which `methods` decides; `step_rule` is `pilqr`'s (`lqr-flm` always uses `"improvement"`, `lqr-flm-res` `"res_percent"`, and an explicit `step_rule` that differs from one of theirs is an error) |
//! | `[mdgps]` | see `pilqr::mdgps_settings` | MDGPS only: samples, KL step, step rule, local optimisers, network, S-step |
//! | `[dynamics]` | GMM prior 20/40/20, strength 1 | the dynamics fitter |
//!
//! Every table denies unknown fields; errors name the file, line and field and exit with code 2.

use std::path::{Path, PathBuf};

use crate::config::method::LocalMethod;
use pilqr_core::Task;
use pilqr_dynamics::DynamicsConfig;
use pilqr_trajopt::driver::TrajOptConfig;
use serde::{Deserialize, Serialize};

use crate::config::config_file::{ConfigError, load_toml, parse_toml};
#[cfg(feature = "mdgps")]
use crate::config::mdgps_settings::MdgpsSettings;
use crate::config::method::{Family, Method};
use crate::config::setting_override::SettingOverride;

pub use crate::config::experiment_check::RunConditions;

/// A condition named in a config: by index or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConditionRef {
    /// Index in the task's list.
    Index(usize),
    /// Name, e.g. `"hard"`.
    Name(String),
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

fn default_iterations() -> usize {
    20
}

/// An experiment, as written in its TOML file (see the module documentation).
///
/// Once loaded through [`ExperimentFile`] it is normalised: `algorithm` is set, `local` is
/// folded into `methods`, `methods` holds the methods run and exactly the family's settings
/// table (`trajopt` or `mdgps`) is present.
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
    /// `trajopt` or `mdgps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Family>,
    /// MDGPS's local method (shorthand for one `mdgps-*` method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalMethod>,
    /// Conditions trained on (default: every train condition of the task).
    #[serde(default)]
    pub conditions: Vec<ConditionRef>,
    /// Held-out conditions (MDGPS; default: every test condition of the task).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_conditions: Vec<ConditionRef>,
    /// Methods (`compare` runs all, `train` the first; default: the family's methods).
    #[serde(default)]
    pub methods: Vec<Method>,
    /// Seeds (`compare` runs all, `train` the first).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Iterations per (method, seed).
    #[serde(default = "default_iterations")]
    pub iterations: usize,
    /// Settings of the trajectory-optimisation loop (its `algorithm` is set from `methods`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajopt: Option<TrajOptConfig>,
    /// Settings of MDGPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg(feature = "mdgps")]
    pub mdgps: Option<MdgpsSettings>,
    /// The `[mdgps]` table, unread: this build has no MDGPS and refuses MDGPS experiments.
    #[cfg(not(feature = "mdgps"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdgps: Option<toml::Table>,
    /// Settings of the dynamics fitter.
    #[serde(default)]
    pub dynamics: DynamicsConfig,
}

impl Experiment {
    /// The family of the methods (normalised experiments always have one).
    pub fn family(&self) -> Family {
        self.algorithm.unwrap_or(Family::Trajopt)
    }

    /// The trajectory-optimisation settings (defaults when absent).
    pub fn trajopt_config(&self) -> TrajOptConfig {
        self.trajopt.clone().unwrap_or_default()
    }

    /// The MDGPS settings (defaults when absent).
    #[cfg(feature = "mdgps")]
    pub fn mdgps_settings(&self) -> MdgpsSettings {
        self.mdgps.clone().unwrap_or_default()
    }

    /// Samples per condition and iteration of the family's loop.
    pub fn samples(&self) -> usize {
        match self.family() {
            Family::Trajopt => self.trajopt_config().samples,
            #[cfg(feature = "mdgps")]
            Family::Mdgps => self.mdgps_settings().samples,
            // A build without MDGPS refuses MDGPS experiments when they are read, so a
            // normalised experiment never gets here; nothing is sampled for one.
            #[cfg(not(feature = "mdgps"))]
            Family::Mdgps => 0,
        }
    }
}

/// Why an MDGPS experiment is refused by a build without MDGPS.
#[cfg(not(feature = "mdgps"))]
pub const NO_MDGPS: &str = "this pilqr was built without MDGPS (feature `mdgps`): \
     trajectory-optimisation experiments only; rebuild with default features \
     (`scripts/with-libtorch cargo build --release`) to run MDGPS";

/// An experiment read from a file, with what is needed to report errors in it.
#[derive(Debug, Clone)]
pub struct ExperimentFile {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its content, normalised (see [`Experiment`]), with the overrides applied.
    pub experiment: Experiment,
    /// The `--set` overrides applied to the file's document.
    pub(crate) overrides: Vec<SettingOverride>,
    /// The document read, as TOML text, when overrides changed it (`None`: [`Self::text`]).
    pub(crate) effective: Option<String>,
}

impl ExperimentFile {
    /// Read and parse `path` (no validation against a task yet).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, &[])
    }

    /// Read `path` and apply `overrides` to its document before reading the experiment from
    /// it (see [`crate::config::setting_override`]); no validation against a task yet.
    pub fn load_with(path: &Path, overrides: &[SettingOverride]) -> Result<Self, ConfigError> {
        let (_, text) = load_toml::<toml::Table>(path)?;
        Self::parse_with(path, &text, overrides)
    }

    /// Parse `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        Self::parse_with(path, text, &[])
    }

    /// Parse `text` as if read from `path`, with `overrides` applied to its document.
    pub fn parse_with(
        path: &Path,
        text: &str,
        overrides: &[SettingOverride],
    ) -> Result<Self, ConfigError> {
        let effective = if overrides.is_empty() {
            None
        } else {
            let mut doc: toml::Table = parse_toml(path, text)?;
            for o in overrides {
                o.apply(&mut doc).map_err(|e| ConfigError {
                    path: path.to_path_buf(),
                    line: None,
                    field: Some(o.path()),
                    message: e.to_string(),
                })?;
            }
            let effective = toml::to_string(&doc)
                .map_err(|e| ConfigError::file(path, format!("cannot apply --set: {e}")))?;
            Some(effective)
        };
        let errors = ErrorPlace {
            path,
            text,
            overrides,
        };
        let experiment = match &effective {
            None => parse_toml::<Experiment>(path, text)?,
            Some(t) => parse_toml::<Experiment>(path, t).map_err(|e| errors.relocated(e))?,
        };
        ExperimentFile {
            path: path.to_path_buf(),
            text: text.to_string(),
            experiment,
            overrides: overrides.to_vec(),
            effective,
        }
        .normalised()
    }

    /// The TOML text the experiment is read from: the file's, or with overrides the document
    /// they made.
    pub(crate) fn effective_text(&self) -> &str {
        self.effective.as_deref().unwrap_or(&self.text)
    }

    /// An error about `field` of this file (or of the `--set` that gave it its value).
    pub fn invalid(&self, field: &str, message: impl Into<String>) -> ConfigError {
        ErrorPlace {
            path: &self.path,
            text: &self.text,
            overrides: &self.overrides,
        }
        .invalid(field, message.into())
    }

    /// Decide the family, fold `local` into `methods`, fill the default methods, and check
    /// that methods and settings tables belong to the family.
    fn normalised(mut self) -> Result<Self, ConfigError> {
        self.check_no_algorithm()?;
        let e = &self.experiment;
        let family = match (e.algorithm, e.methods.first(), e.local, &e.mdgps) {
            (Some(f), ..) => f,
            (None, Some(m), ..) => m.family(),
            (None, None, Some(_), _) | (None, None, None, Some(_)) => Family::Mdgps,
            (None, None, None, None) => Family::Trajopt,
        };
        #[cfg(not(feature = "mdgps"))]
        if family == Family::Mdgps {
            let field = match (e.algorithm, e.methods.first(), e.local) {
                (Some(_), ..) => "algorithm",
                (None, Some(_), _) => "methods",
                (None, None, Some(_)) => "local",
                (None, None, None) => "mdgps",
            };
            return Err(self.invalid(field, NO_MDGPS));
        }
        let mut methods = e.methods.clone();
        if let Some(local) = e.local {
            if family != Family::Mdgps {
                return Err(self.invalid("local", "only applies with algorithm = \"mdgps\""));
            }
            if !methods.is_empty() {
                return Err(self.invalid(
                    "local",
                    "give either `local` or `methods` (e.g. methods = [\"mdgps-pilqr\"]), not both",
                ));
            }
            methods.push(Method::mdgps(local));
        }
        if methods.is_empty() {
            methods = Method::defaults(family);
        }
        if let Some(m) = methods.iter().find(|m| m.family() != family) {
            let hint = match family {
                Family::Mdgps => {
                    "with algorithm = \"mdgps\" the methods are mdgps-pilqr, mdgps-lqr-flm, mdgps-pi2"
                }
                Family::Trajopt => {
                    "MDGPS methods need algorithm = \"mdgps\" and cannot be mixed with trajectory-optimisation methods"
                }
            };
            return Err(self.invalid("methods", format!("{m}: {hint}")));
        }
        match family {
            Family::Trajopt => {
                if e.mdgps.is_some() {
                    return Err(self.invalid(
                        "mdgps",
                        "[mdgps] applies to algorithm = \"mdgps\" only; trajectory-optimisation settings go in [trajopt]",
                    ));
                }
                if !e.test_conditions.is_empty() {
                    return Err(self.invalid(
                        "test_conditions",
                        "held-out conditions need a global policy: use algorithm = \"mdgps\"",
                    ));
                }
            }
            Family::Mdgps => {
                if e.trajopt.is_some() {
                    return Err(self.invalid(
                        "trajopt",
                        "[trajopt] applies to local-controller methods only; MDGPS settings go in [mdgps]",
                    ));
                }
            }
        }
        let e = &mut self.experiment;
        e.algorithm = Some(family);
        e.local = None;
        e.methods = methods;
        match family {
            Family::Trajopt => e.trajopt = Some(e.trajopt.take().unwrap_or_default()),
            Family::Mdgps => e.mdgps = Some(e.mdgps.take().unwrap_or_default()),
        }
        Ok(self)
    }

    /// `trajopt.algorithm` is decided by `methods`; setting it would be silently overridden.
    fn check_no_algorithm(&self) -> Result<(), ConfigError> {
        let table: toml::Table = parse_toml(&self.path, self.effective_text())?;
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
}

/// Where errors about an experiment file point: a line of the file, or the `--set` that gave
/// the field its value.
struct ErrorPlace<'a> {
    path: &'a Path,
    text: &'a str,
    overrides: &'a [SettingOverride],
}

impl ErrorPlace<'_> {
    /// An error about `field`: with the `--set` it concerns, or at its line in the file.
    fn invalid(&self, field: &str, message: String) -> ConfigError {
        match self.overrides.iter().rev().find(|o| o.concerns(field)) {
            Some(o) => ConfigError {
                path: self.path.to_path_buf(),
                line: None,
                field: Some(field.to_string()),
                message: format!("{message} (from --set {o})"),
            },
            None => ConfigError::invalid(self.path, self.text, field, message),
        }
    }

    /// An error found in the document the overrides made, told about the file (its lines are
    /// not the file's).
    fn relocated(&self, e: ConfigError) -> ConfigError {
        match e.field {
            Some(field) => self.invalid(&field, e.message),
            None => ConfigError { line: None, ..e },
        }
    }
}

impl Experiment {
    /// The resolved experiment of a run: conditions by name, the methods and seeds actually run.
    pub fn resolved(
        &self,
        task: &dyn Task,
        conditions: &RunConditions,
        methods: &[Method],
        seeds: &[u64],
    ) -> Experiment {
        let all = task.conditions();
        let unique_names = all
            .iter()
            .enumerate()
            .all(|(i, c)| all[..i].iter().all(|d| d.name != c.name));
        let refs = |list: &[usize]| -> Vec<ConditionRef> {
            list.iter()
                .map(|&i| {
                    if unique_names {
                        ConditionRef::Name(all[i].name.clone())
                    } else {
                        ConditionRef::Index(i)
                    }
                })
                .collect()
        };
        Experiment {
            conditions: refs(&conditions.train),
            test_conditions: refs(&conditions.test),
            methods: methods.to_vec(),
            seeds: seeds.to_vec(),
            ..self.clone()
        }
    }

    /// The experiment as TOML text (what a run directory's `config.toml` holds). The loop's
    /// `algorithm` is left out of `[trajopt]`: `methods` decides it. So is a `step_rule` equal to
    /// the default (`"res_percent"`, what leaving it out means): written explicitly it would
    /// conflict with `lqr-flm`'s fixed rule when the file is checked again (see
    /// [`ExperimentFile::check_step_rule`]).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let text = toml::to_string(self)?;
        let default_step_rule = format!(
            "step_rule = \"{}\"",
            crate::config::experiment_check::step_rule_name(TrajOptConfig::default().step_rule)
        );
        let mut out = String::with_capacity(text.len());
        let mut table = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                table = trimmed.trim_matches(|c| c == '[' || c == ']').to_string();
            } else if table == "trajopt"
                && (trimmed.starts_with("algorithm =") || trimmed == default_step_rule)
            {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "experiment_tests.rs"]
mod tests;
