//! Where a run directory's content came from: `provenance.jsonl` gets one line for every command
//! that wrote into the directory (`train`, `compare`, `resume`, `reproduce`), with the program
//! version, the git commit it was built from and the command line.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::run::run_dir::{RunDir, RunDirError};

/// The version of this program.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit this program was built from (`unknown` when it was built outside a git
/// checkout).
pub const COMMIT: &str = env!("PILQR_GIT_COMMIT");

/// Name of the provenance file in a run directory.
pub const PROVENANCE_FILE: &str = "provenance.jsonl";

/// One line of `provenance.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvenanceEntry {
    /// `pilqr` version.
    pub version: String,
    /// Git commit of the build.
    pub commit: String,
    /// The command line, program name first.
    pub command_line: Vec<String>,
    /// Process id.
    pub pid: u32,
    /// Start of the command, seconds since the Unix epoch.
    pub started_unix: u64,
    /// CRC-32 of the run's `config.toml` when the command started.
    #[serde(default)]
    pub config_crc32: Option<u32>,
}

impl ProvenanceEntry {
    /// The entry of this process, working on a run whose config has CRC-32 `config_crc32`.
    pub fn current(config_crc32: u32) -> Self {
        ProvenanceEntry {
            version: VERSION.to_string(),
            commit: COMMIT.to_string(),
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            pid: std::process::id(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            config_crc32: Some(config_crc32),
        }
    }
}

/// The CRC-32 of `config.toml` recorded when the run in `dir` was created (its first
/// provenance entry), if known.
pub fn original_config_crc32(dir: &RunDir) -> Option<u32> {
    let text = std::fs::read_to_string(dir.root().join(PROVENANCE_FILE)).ok()?;
    let first: ProvenanceEntry = serde_json::from_str(text.lines().next()?).ok()?;
    first.config_crc32
}

/// Append this process's entry to `dir`'s provenance file; `config_crc32` is the CRC-32 of
/// the run's `config.toml`.
pub fn record(dir: &RunDir, config_crc32: u32) -> Result<(), RunDirError> {
    let path = dir.root().join(PROVENANCE_FILE);
    let io = |source| RunDirError::Io {
        path: path.clone(),
        action: "append",
        source,
    };
    let line = serde_json::to_string(&ProvenanceEntry::current(config_crc32))
        .map_err(|e| io(std::io::Error::other(e)))?;
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io)?;
    writeln!(file, "{line}").map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn every_command_appends_its_version_commit_and_command_line() {
        let tmp = TestDir::new("provenance");
        let dir = RunDir::create(&tmp.path().join("r")).unwrap();
        assert_eq!(original_config_crc32(&dir), None);
        record(&dir, 17).unwrap();
        record(&dir, 18).unwrap();
        assert_eq!(original_config_crc32(&dir), Some(17));
        let text = std::fs::read_to_string(dir.root().join(PROVENANCE_FILE)).unwrap();
        let entries: Vec<ProvenanceEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.version, env!("CARGO_PKG_VERSION"));
        assert!(!e.commit.is_empty());
        assert_eq!(e.pid, std::process::id());
        let args: Vec<String> = std::env::args().collect();
        assert_eq!(e.command_line, args);
    }
}
