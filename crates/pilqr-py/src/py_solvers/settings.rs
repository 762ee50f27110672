//! Solver settings from Python keyword arguments: a `dict` is turned into a TOML table and
//! read into the Rust settings struct, so the names, defaults and checks are exactly those of
//! the struct (and of an experiment file's tables); an unknown name is an error.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;

use super::errors::SettingsError;

/// `value` as a TOML value; `None` for Python's `None` (the setting keeps its default).
fn toml_value(value: &Bound<'_, PyAny>, key: &str) -> PyResult<Option<toml::Value>> {
    if value.is_none() {
        return Ok(None);
    }
    // `bool` first: Python's bool is an int.
    if value.is_instance_of::<PyBool>() {
        return Ok(Some(toml::Value::Boolean(value.extract()?)));
    }
    if value.is_instance_of::<PyInt>() {
        let i: i64 = value.extract().map_err(|e| {
            SettingsError::new_err(format!("setting `{key}`: integer out of range ({e})"))
        })?;
        return Ok(Some(toml::Value::Integer(i)));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(Some(toml::Value::Float(value.extract()?)));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(Some(toml::Value::String(value.extract()?)));
    }
    if let Ok(d) = value.cast::<PyDict>() {
        return Ok(Some(toml::Value::Table(table(d, key)?)));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, item) in value.try_iter()?.enumerate() {
            let item = item?;
            let at = format!("{key}[{i}]");
            match toml_value(&item, &at)? {
                Some(v) => items.push(v),
                None => {
                    return Err(SettingsError::new_err(format!(
                        "setting `{at}`: None in a list"
                    )));
                }
            }
        }
        return Ok(Some(toml::Value::Array(items)));
    }
    // numpy scalars and other numbers.
    if let Ok(f) = value.extract::<f64>() {
        return Ok(Some(toml::Value::Float(f)));
    }
    Err(SettingsError::new_err(format!(
        "setting `{key}`: unsupported type {}",
        value.get_type().name()?
    )))
}

/// The entries of `d` (string keys) as a TOML table; `None` values are left out.
fn table(d: &Bound<'_, PyDict>, prefix: &str) -> PyResult<toml::Table> {
    let mut t = toml::Table::new();
    for (k, v) in d.iter() {
        let key: String = k.extract().map_err(|_| {
            SettingsError::new_err(format!("{prefix}: setting names must be strings"))
        })?;
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if let Some(value) = toml_value(&v, &path)? {
            t.insert(key, value);
        }
    }
    Ok(t)
}

/// The TOML table of optional keyword arguments (empty without any).
pub(crate) fn kwargs_table(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<toml::Table> {
    match kwargs {
        Some(d) => table(d, ""),
        None => Ok(toml::Table::new()),
    }
}

/// `t` read into the settings struct `T`; `what` names the settings in the error.
pub(crate) fn read<T: DeserializeOwned>(t: toml::Table, what: &str) -> PyResult<T> {
    t.try_into::<T>()
        .map_err(|e| SettingsError::new_err(format!("{what}: {}", e.to_string().trim())))
}

/// A settings struct from optional keyword arguments (a `dict` argument or `**settings`).
pub(crate) fn from_kwargs<T: DeserializeOwned>(
    kwargs: Option<&Bound<'_, PyDict>>,
    what: &str,
) -> PyResult<T> {
    read(kwargs_table(kwargs)?, what)
}
