//! `--set key.path=value` of `pilqr train` and `pilqr compare`: one field of an experiment file
//! replaced from the command line.
//!
//! An override is applied to the parsed TOML document, before it is read into an
//! [`Experiment`](crate::config::experiment::Experiment), so that the value goes through exactly
//! the checks a value written in the file goes through (unknown field, wrong type, range, memory
//! estimate); errors about it name the field and the `--set` it came from. The value is parsed as
//! a TOML value (`10`, `0.5`, `[0, 1]`, `"text"`, `{ start = 1.0, end = 0.5 }`); text that is not
//! a TOML value is taken as a string, so `--set trajopt.lqr.value_function=raw-cost` needs no
//! quotes.
//!
//! ```
//! use pilqr_experiment::config::setting_override::SettingOverride;
//!
//! let o: SettingOverride = "trajopt.samples=10".parse().unwrap();
//! assert_eq!(o.path(), "trajopt.samples");
//! let mut doc: toml::Table = toml::from_str("[trajopt]\nsamples = 20\n").unwrap();
//! o.apply(&mut doc).unwrap();
//! assert_eq!(doc["trajopt"]["samples"].as_integer(), Some(10));
//! let o: SettingOverride = "trajopt.lqr.value_function=raw-cost".parse().unwrap();
//! o.apply(&mut doc).unwrap();
//! assert_eq!(doc["trajopt"]["lqr"]["value_function"].as_str(), Some("raw-cost"));
//! ```

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// One `--set key.path=value`.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingOverride {
    /// The keys of the dotted path, outermost first (never empty).
    keys: Vec<String>,
    /// The value as given on the command line.
    raw: String,
    /// The value, parsed.
    value: toml::Value,
}

/// A `--set` argument that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OverrideError {
    /// The argument is not `key.path=value`.
    #[error("`{argument}`: expected KEY.PATH=VALUE, e.g. trajopt.samples=10")]
    Malformed {
        /// The argument as given.
        argument: String,
    },
    /// A key before the last one names a value that is not a table.
    #[error("`{argument}`: `{parent}` is not a table, it has no field `{key}`")]
    NotATable {
        /// The argument as given.
        argument: String,
        /// The dotted path of the value that is not a table.
        parent: String,
        /// The key asked for inside it.
        key: String,
    },
}

impl SettingOverride {
    /// The dotted path, e.g. `trajopt.samples`.
    pub fn path(&self) -> String {
        self.keys.join(".")
    }

    /// Whether an error about the dotted `field` concerns this override: the field itself, a
    /// field inside it, or a table it was written into.
    pub fn concerns(&self, field: &str) -> bool {
        let path = self.path();
        field == path
            || field
                .strip_prefix(path.as_str())
                .is_some_and(|r| r.starts_with('.'))
            || path.strip_prefix(field).is_some_and(|r| r.starts_with('.'))
    }

    /// Set the field in `doc`, creating the tables on the way that are not there yet.
    pub fn apply(&self, doc: &mut toml::Table) -> Result<(), OverrideError> {
        let (last, parents) = self
            .keys
            .split_last()
            .ok_or_else(|| OverrideError::Malformed {
                argument: self.to_string(),
            })?;
        let mut table = doc;
        for (i, key) in parents.iter().enumerate() {
            let entry = table
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            table = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(OverrideError::NotATable {
                        argument: self.to_string(),
                        parent: self.keys[..=i].join("."),
                        key: self.keys[i + 1].clone(),
                    });
                }
            };
        }
        table.insert(last.clone(), self.value.clone());
        Ok(())
    }
}

impl fmt::Display for SettingOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path(), self.raw)
    }
}

/// The value of `raw` read as a TOML value, or as a string when it is not one.
fn parse_value(raw: &str) -> toml::Value {
    let document = format!("value = {raw}");
    match toml::from_str::<toml::Table>(&document) {
        Ok(mut t) if t.len() == 1 => t
            .remove("value")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        _ => toml::Value::String(raw.to_string()),
    }
}

impl FromStr for SettingOverride {
    type Err = OverrideError;

    fn from_str(argument: &str) -> Result<Self, Self::Err> {
        let malformed = || OverrideError::Malformed {
            argument: argument.to_string(),
        };
        let (path, raw) = argument.split_once('=').ok_or_else(malformed)?;
        let keys: Vec<String> = path.split('.').map(|k| k.trim().to_string()).collect();
        let bare = |k: &String| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !keys.iter().all(bare) {
            return Err(malformed());
        }
        let raw = raw.trim().to_string();
        Ok(SettingOverride {
            value: parse_value(&raw),
            keys,
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(arg: &str) -> SettingOverride {
        arg.parse().unwrap()
    }

    #[test]
    fn values_are_toml_values_or_else_strings() {
        assert_eq!(set("a=10").value, toml::Value::Integer(10));
        assert_eq!(set("a=0.5").value, toml::Value::Float(0.5));
        assert_eq!(set("a=true").value, toml::Value::Boolean(true));
        assert_eq!(
            set("seeds=[0,1]").value,
            toml::Value::Array(vec![toml::Value::Integer(0), toml::Value::Integer(1)])
        );
        assert_eq!(set("a=\"x y\"").value, toml::Value::String("x y".into()));
        assert_eq!(
            set("a=raw-cost").value,
            toml::Value::String("raw-cost".into())
        );
        // Not one TOML value (a second key would sneak in): the text, as a string.
        assert_eq!(
            set("a=1\nb = 2").value,
            toml::Value::String("1\nb = 2".into())
        );
        assert_eq!(set("a.b=").value, toml::Value::String(String::new()));
        let t = set("k={ start = 1.0, end = 0.5 }").value;
        assert_eq!(t["start"].as_float(), Some(1.0));
    }

    #[test]
    fn malformed_arguments_are_refused() {
        for bad in ["samples", "=3", "a..b=1", "a.=1", "a b=1", ".a=1"] {
            let err = bad.parse::<SettingOverride>().unwrap_err();
            assert!(matches!(err, OverrideError::Malformed { .. }), "{bad}");
            assert!(err.to_string().contains("KEY.PATH=VALUE"), "{err}");
        }
    }

    #[test]
    fn apply_creates_tables_and_refuses_to_go_through_a_value() {
        let mut doc: toml::Table = toml::from_str("iterations = 3\n").unwrap();
        set("dynamics.prior.strength=2.0").apply(&mut doc).unwrap();
        assert_eq!(doc["dynamics"]["prior"]["strength"].as_float(), Some(2.0));
        set("iterations=5").apply(&mut doc).unwrap();
        assert_eq!(doc["iterations"].as_integer(), Some(5));
        let err = set("iterations.x=1").apply(&mut doc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`iterations.x=1`: `iterations` is not a table, it has no field `x`"
        );
    }

    #[test]
    fn concerns_the_field_its_children_and_its_parents() {
        let o = set("trajopt.lqr.max_eta=1");
        assert!(o.concerns("trajopt.lqr.max_eta"));
        assert!(o.concerns("trajopt.lqr"));
        assert!(o.concerns("trajopt"));
        assert!(!o.concerns("trajopt.lqr.max"));
        assert!(!o.concerns("trajopt.samples"));
        assert!(set("seeds=[0]").concerns("seeds.1"));
        assert!(!set("seeds=[0]").concerns("seed"));
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use crate::cli::{Cli, run_with};
    use crate::config::experiment::ExperimentFile;
    use crate::task_registry::TaskRegistry;
    use crate::test_dir::TestDir;
    use clap::Parser;
    use pilqr_trajopt::lqr_flm::ValueFunction;
    use std::path::Path;

    const CONFIG: &str = "name = \"set\"\ntask = \"point-mass\"\nconditions = [\"start-0\"]\n\
                          methods = [\"lqr-flm\"]\nseeds = [0]\niterations = 2\n\
                          [trajopt]\nsamples = 6\n";

    fn parse(sets: &[&str]) -> Result<ExperimentFile, crate::config::config_file::ConfigError> {
        let sets: Vec<SettingOverride> = sets.iter().map(|s| s.parse().unwrap()).collect();
        ExperimentFile::parse_with(Path::new("e.toml"), CONFIG, &sets)
    }

    #[test]
    fn a_set_replaces_or_adds_a_field_of_the_document() {
        let f = parse(&[
            "trajopt.samples=10",
            "trajopt.lqr.value_function=raw-cost",
            "seeds=[0,1]",
        ])
        .unwrap();
        let e = &f.experiment;
        assert_eq!(e.samples(), 10);
        assert_eq!(
            e.trajopt_config().lqr.value_function,
            ValueFunction::RawCost
        );
        assert_eq!(e.seeds, vec![0, 1]);
        // The file's own values stay as written.
        assert_eq!(e.iterations, 2);
        // The last of two sets of one field wins.
        let f = parse(&["iterations=3", "iterations=4"]).unwrap();
        assert_eq!(f.experiment.iterations, 4);
    }

    #[test]
    fn an_unknown_path_is_the_files_unknown_field_error_naming_the_set() {
        let err = parse(&["trajopt.sampels=10"]).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.sampels"), "{err}");
        assert_eq!(err.line, None);
        let text = err.to_string();
        assert!(
            text.starts_with("e.toml: field `trajopt.sampels`: unknown field `sampels`"),
            "{text}"
        );
        assert!(text.ends_with("(from --set trajopt.sampels=10)"), "{text}");
        let err = parse(&["nonsense.deep.key=1"]).unwrap_err();
        // As for a file with a `[nonsense.deep]` table: the field is the table's header.
        assert_eq!(err.field.as_deref(), Some("nonsense.deep"), "{err}");
        assert!(err.message.contains("unknown field `nonsense`"), "{err}");
        assert!(
            err.to_string().contains("--set nonsense.deep.key=1"),
            "{err}"
        );
        let err = parse(&["iterations.x=1"]).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("iterations.x"), "{err}");
        assert!(
            err.to_string().contains("`iterations` is not a table"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_or_range_is_refused_as_in_the_file() {
        let err = parse(&["trajopt.samples=many"]).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.samples"), "{err}");
        assert!(err.message.contains("invalid type"), "{err}");
        assert!(err.message.contains("--set trajopt.samples=many"), "{err}");
        let err = parse(&["trajopt.lqr.value_function=cost"]).unwrap_err();
        assert_eq!(
            err.field.as_deref(),
            Some("trajopt.lqr.value_function"),
            "{err}"
        );
        // Checks made after parsing (against the task) name the set too.
        let f = parse(&["trajopt.samples=0"]).unwrap();
        let task = pilqr_tasks::task_by_name("point-mass").unwrap();
        let err = f.validate(task.as_ref()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.samples"), "{err}");
        assert!(err.message.contains("--set trajopt.samples=0"), "{err}");
        // An error elsewhere in the file keeps its line in the file.
        let sets = ["trajopt.samples=7".parse().unwrap()];
        let text = CONFIG.replace("iterations = 2", "iterations = \"two\"");
        let err = ExperimentFile::parse_with(Path::new("e.toml"), &text, &sets).unwrap_err();
        assert_eq!(
            (err.field.as_deref(), err.line),
            (Some("iterations"), Some(6)),
            "{err}"
        );
    }

    #[test]
    fn a_train_with_sets_records_them_in_the_resolved_config_and_a_bad_one_exits_2() {
        let tmp = TestDir::new("set");
        let config = tmp.path().join("set.toml");
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
            "--set",
            "trajopt.samples=5",
            "--set",
            "trajopt.lqr.value_function=raw-cost",
            "--set",
            "iterations=1",
        ]);
        run_with(cli, &TaskRegistry::builtin()).unwrap();
        let path = out.join("config.toml");
        let resolved =
            ExperimentFile::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
        let e = &resolved.experiment;
        assert_eq!((e.iterations, e.samples()), (1, 5));
        assert_eq!(
            e.trajopt_config().lqr.value_function,
            ValueFunction::RawCost
        );
        let rows = crate::run::metrics_log::read_jsonl(&out.join("metrics.jsonl")).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].samples, 5);

        let bad = tmp.path().join("bad");
        let cli = Cli::parse_from([
            "pilqr",
            "compare",
            "-q",
            "--config",
            config,
            "--out",
            bad.to_str().unwrap(),
            "--set",
            "trajopt.lqr.max_etaa=1.0",
        ]);
        let err = run_with(cli, &TaskRegistry::builtin()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("trajopt.lqr.max_etaa"), "{err}");
        assert!(!bad.exists());
        // A malformed argument is refused by the parser.
        assert!(
            Cli::try_parse_from(["pilqr", "train", "--config", config, "--set", "samples"])
                .is_err()
        );
    }
}
