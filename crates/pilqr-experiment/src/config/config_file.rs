//! Loading TOML files into serde structs, with one-line errors that name the file, line and field.
//!
//! Config structs use `#[serde(deny_unknown_fields)]`, so a misspelt key is an error rather than
//! a silently ignored setting. Errors found after parsing (a zero count, an unknown task) are
//! reported through [`ConfigError::invalid`], which finds the field's line in the source text.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use thiserror::Error;

/// A configuration file that cannot be used, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Error)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// The dotted field path (`section.key`), when known.
    pub field: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ConfigError {
    /// An error about `field` (dotted path, e.g. `"run.samples"`) of the config read from `path`
    /// whose text is `source`; the line is looked up in the text.
    pub fn invalid(path: &Path, source: &str, field: &str, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line: locate_field(source, field),
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// An error about the file as a whole (cannot be read, is not UTF-8).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line: None,
            field: None,
            message: message.into(),
        }
    }
}

/// Read and parse the TOML file at `path`; returns the parsed value and the file's text.
pub fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<(T, String), ConfigError> {
    let bytes =
        std::fs::read(path).map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ConfigError::file(
            path,
            format!(
                "not UTF-8 text (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let value = parse_toml(path, &text)?;
    Ok((value, text))
}

/// Parse TOML `text` (read from `path`, named in errors).
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| from_toml_error(path, text, &e))
}

/// Turn the toml crate's (multi-line) error into a one-line [`ConfigError`].
fn from_toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim()
        .to_string();
    match e.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            // A missing field's span is its table (empty for the document's top level): the
            // field is the table's path and the missing name, not the key written there.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|r| r.split('`').next())
                .map(str::to_string);
            let field = match missing {
                Some(name) if span.is_empty() => Some(name),
                Some(name) => field_at(text, span).map(|table| format!("{table}.{name}")),
                None => field_at(text, span),
            };
            ConfigError {
                path: path.to_path_buf(),
                line: Some(line),
                field,
                message,
            }
        }
        None => {
            // Without a span the toml crate appends "in `a.b`" to its display.
            let rendered = e.to_string();
            let field = rendered
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("in `"))
                .map(|l| l.trim_end_matches('`').to_string());
            let line = field.as_deref().and_then(|f| locate_field(text, f));
            ConfigError {
                path: path.to_path_buf(),
                line,
                field,
                message,
            }
        }
    }
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The table header a line declares (`[a.b]` or `[[a.b]]`), if any.
fn table_header(line: &str) -> Option<String> {
    let l = line.trim();
    let inner = l
        .strip_prefix("[[")
        .and_then(|r| r.split("]]").next())
        .or_else(|| l.strip_prefix('[').and_then(|r| r.split(']').next()))?;
    Some(inner.trim().replace(' ', ""))
}

/// The key a `key = value` line assigns, if any.
fn line_key(line: &str) -> Option<String> {
    let l = line.trim();
    if l.starts_with('#') || l.starts_with('[') {
        return None;
    }
    let (key, _) = l.split_once('=')?;
    let key = key.trim().trim_matches('"').replace(' ', "");
    (!key.is_empty()).then_some(key)
}

/// The dotted field path of the key on the line containing `span`, qualified by its table.
fn field_at(text: &str, span: Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[line_start..line_end];
    if let Some(header) = table_header(line) {
        return Some(header);
    }
    let key = line_key(line)?;
    let table = text[..line_start].lines().rev().find_map(table_header);
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key,
    })
}

/// The 1-based line where the dotted `field` is assigned (or its table declared); when the field
/// itself is not written (a default, or inside an inline table), the line of its closest written
/// parent.
pub fn locate_field(text: &str, field: &str) -> Option<usize> {
    let mut path = field;
    loop {
        if let Some(line) = locate_exact(text, path) {
            return Some(line);
        }
        path = &path[..path.rfind('.')?];
    }
}

/// The line where exactly `field` is assigned or declared.
fn locate_exact(text: &str, field: &str) -> Option<usize> {
    let mut table = String::new();
    let mut table_line = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = table_header(line) {
            if h == field {
                table_line = Some(i + 1);
            }
            table = h;
            continue;
        }
        if let Some(key) = line_key(line) {
            let full = if table.is_empty() {
                key
            } else {
                format!("{table}.{key}")
            };
            if full == field {
                return Some(i + 1);
            }
        }
    }
    table_line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Run {
        samples: usize,
        #[serde(default)]
        name: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct File {
        seed: u64,
        run: Run,
    }

    fn parse(text: &str) -> Result<File, ConfigError> {
        parse_toml(Path::new("exp.toml"), text)
    }

    #[test]
    fn parses_a_valid_file() {
        let f = parse("seed = 3\n[run]\nsamples = 20\n").unwrap();
        assert_eq!(
            f,
            File {
                seed: 3,
                run: Run {
                    samples: 20,
                    name: String::new()
                }
            }
        );
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let err = parse("seed = 3\n[run]\nsamples = 20\nsampels = 4\n").unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.field.as_deref(), Some("run.sampels"));
        let s = err.to_string();
        assert!(
            s.starts_with("exp.toml:4: field `run.sampels`: unknown field"),
            "{s}"
        );
        assert!(!s.contains('\n'));
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = parse("seed = 3\n[run]\nsamples = \"many\"\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(err.field.as_deref(), Some("run.samples"));
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }

    #[test]
    fn negative_count_is_rejected_by_the_type() {
        let err = parse("seed = 3\n[run]\nsamples = -4\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("run.samples"));
    }

    #[test]
    fn malformed_toml_gives_a_line() {
        let err = parse("seed = 3\n[run\nsamples = 1\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn missing_field_is_named() {
        let err = parse("seed = 3\n[run]\nname = \"a\"\n").unwrap_err();
        assert!(
            err.message.contains("missing field `samples`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_missing_field_is_named_by_its_own_path() {
        // Top level: not the key written on the first line.
        let err = parse("[run]\nsamples = 2\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("seed"), "{err}");
        let err = parse("seed = 3\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("run"), "{err}");
        // In a table: the table's path and the field.
        let err = parse("seed = 3\n[run]\nname = \"a\"\n").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("run.samples"), "{err}");
        assert!(
            err.to_string()
                .contains("field `run.samples`: missing field `samples`"),
            "{err}"
        );
    }

    #[test]
    fn invalid_locates_fields_in_tables() {
        let text = "seed = 1\n[run]\nname = \"x\"\nsamples = 0\n";
        let err = ConfigError::invalid(Path::new("a.toml"), text, "run.samples", "must be ≥ 1");
        assert_eq!(
            err.to_string(),
            "a.toml:4: field `run.samples`: must be ≥ 1"
        );
        assert_eq!(locate_field(text, "run"), Some(2));
        assert_eq!(locate_field(text, "seed"), Some(1));
        assert_eq!(locate_field(text, "nothing"), None);
        // Not written: the closest written parent.
        assert_eq!(locate_field(text, "run.limit"), Some(2));
        let inline = "[dynamics]\nprior = { max_samples = 0 }\n";
        assert_eq!(locate_field(inline, "dynamics.prior.max_samples"), Some(2));
    }

    #[test]
    fn unreadable_file_is_reported() {
        let err = load_toml::<File>(Path::new("/nonexistent/dir/x.toml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/dir/x.toml: cannot read")
        );
    }
}
