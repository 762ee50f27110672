//! The run directory `runs/<name>/`: where one `train` or `compare` keeps everything it produces.
//!
//! ```text
//! runs/<name>/
//!   config.toml        the resolved experiment (defaults filled in): marks the directory as a run
//!   metrics.csv        one row per iteration, condition and method (see metrics_log)
//!   metrics.jsonl      the same rows as JSON lines
//!   checkpoints/       <method>-seed<seed>.ckpt after every iteration
//!   plots/             cost.svg/png, success.svg/png
//!   renders/           final rollouts as GIF or PNG strips
//!   summary.md         the closing table
//! ```
//!
//! A new run never writes into a directory that holds anything: an existing run stays intact.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Name of the resolved-config file, whose presence marks a run directory.
pub const CONFIG_FILE: &str = "config.toml";

/// What can go wrong with a run directory.
#[derive(Debug, Error)]
pub enum RunDirError {
    /// The directory already holds a run.
    #[error("{}: already holds a run ({CONFIG_FILE} exists); choose another --out or use `pilqr resume {}`", path.display(), path.display())]
    HoldsAnotherRun {
        /// The directory.
        path: PathBuf,
    },
    /// The directory is not empty (and is not a run).
    #[error("{}: directory is not empty; refusing to write a run into it", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// The path exists and is not a directory.
    #[error("{}: exists and is not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The directory does not hold a run.
    #[error("{}: not a run directory (no {CONFIG_FILE})", path.display())]
    NotARun {
        /// The directory.
        path: PathBuf,
    },
    /// A file system operation failed.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> RunDirError + 'a {
    move |source| RunDirError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Create a fresh run directory at `path` (parents included). An empty existing directory
    /// is accepted; anything else is refused and left untouched.
    pub fn create(path: &Path) -> Result<RunDir, RunDirError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_err(parent, "create directory"))?;
        }
        match fs::create_dir(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !path.is_dir() {
                    return Err(RunDirError::NotADirectory {
                        path: path.to_path_buf(),
                    });
                }
                if path.join(CONFIG_FILE).exists() {
                    return Err(RunDirError::HoldsAnotherRun {
                        path: path.to_path_buf(),
                    });
                }
                let mut entries = fs::read_dir(path).map_err(io_err(path, "list directory"))?;
                if entries.next().is_some() {
                    return Err(RunDirError::NotEmpty {
                        path: path.to_path_buf(),
                    });
                }
            }
            Err(e) => return Err(io_err(path, "create directory")(e)),
        }
        let dir = RunDir {
            root: path.to_path_buf(),
        };
        for sub in [dir.checkpoints_dir(), dir.plots_dir(), dir.renders_dir()] {
            fs::create_dir_all(&sub).map_err(io_err(&sub, "create directory"))?;
        }
        Ok(dir)
    }

    /// Open an existing run directory (it must hold [`CONFIG_FILE`]).
    pub fn open(path: &Path) -> Result<RunDir, RunDirError> {
        if !path.exists() {
            return Err(RunDirError::NotARun {
                path: path.to_path_buf(),
            });
        }
        if !path.is_dir() {
            return Err(RunDirError::NotADirectory {
                path: path.to_path_buf(),
            });
        }
        if !path.join(CONFIG_FILE).is_file() {
            return Err(RunDirError::NotARun {
                path: path.to_path_buf(),
            });
        }
        let dir = RunDir {
            root: path.to_path_buf(),
        };
        for sub in [dir.checkpoints_dir(), dir.plots_dir(), dir.renders_dir()] {
            fs::create_dir_all(&sub).map_err(io_err(&sub, "create directory"))?;
        }
        Ok(dir)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The resolved config file.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// Where checkpoints go.
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// The checkpoint of one method and seed.
    pub fn checkpoint_path(&self, method: &str, seed: u64) -> PathBuf {
        self.checkpoints_dir()
            .join(format!("{method}-seed{seed}.ckpt"))
    }

    /// Where plots go.
    pub fn plots_dir(&self) -> PathBuf {
        self.root.join("plots")
    }

    /// Where renders go.
    pub fn renders_dir(&self) -> PathBuf {
        self.root.join("renders")
    }

    /// The Markdown summary.
    pub fn summary_path(&self) -> PathBuf {
        self.root.join("summary.md")
    }

    /// Write the resolved config (through a temporary file and a rename).
    pub fn write_config(&self, text: &str) -> Result<(), RunDirError> {
        let path = self.config_path();
        let tmp = self.root.join(format!(".{CONFIG_FILE}.tmp"));
        fs::write(&tmp, text).map_err(io_err(&tmp, "write"))?;
        fs::rename(&tmp, &path).map_err(io_err(&path, "rename"))
    }

    /// Read the resolved config's text.
    pub fn read_config(&self) -> Result<String, RunDirError> {
        let path = self.config_path();
        fs::read_to_string(&path).map_err(io_err(&path, "read"))
    }

    /// Write a text file inside the run directory (e.g. the summary).
    pub fn write_text(&self, path: &Path, text: &str) -> Result<(), RunDirError> {
        fs::write(path, text).map_err(io_err(path, "write"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn creates_opens_and_refuses_to_overwrite() {
        let tmp = TestDir::new("rundir");
        let path = tmp.path().join("runs").join("exp");
        let dir = RunDir::create(&path).unwrap();
        assert!(dir.checkpoints_dir().is_dir());
        assert!(matches!(
            RunDir::open(&path),
            Err(RunDirError::NotARun { .. })
        ));
        dir.write_config("seed = 1\n").unwrap();
        assert_eq!(
            RunDir::open(&path).unwrap().read_config().unwrap(),
            "seed = 1\n"
        );
        let err = RunDir::create(&path).unwrap_err();
        assert!(matches!(err, RunDirError::HoldsAnotherRun { .. }));
        assert!(err.to_string().contains("already holds a run"));
        // The existing run is untouched.
        assert_eq!(
            fs::read_to_string(path.join(CONFIG_FILE)).unwrap(),
            "seed = 1\n"
        );
    }

    #[test]
    fn accepts_an_empty_directory_and_refuses_other_content() {
        let tmp = TestDir::new("rundir-empty");
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        RunDir::create(&empty).unwrap();
        let busy = tmp.path().join("busy");
        fs::create_dir(&busy).unwrap();
        fs::write(busy.join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            RunDir::create(&busy),
            Err(RunDirError::NotEmpty { .. })
        ));
        assert_eq!(fs::read_to_string(busy.join("notes.txt")).unwrap(), "mine");
        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(matches!(
            RunDir::create(&file),
            Err(RunDirError::NotADirectory { .. })
        ));
        assert!(matches!(
            RunDir::open(&tmp.path().join("absent")),
            Err(RunDirError::NotARun { .. })
        ));
    }

    #[test]
    fn names_checkpoints_by_method_and_seed() {
        let d = RunDir {
            root: PathBuf::from("runs/a"),
        };
        assert_eq!(
            d.checkpoint_path("pilqr", 3),
            PathBuf::from("runs/a/checkpoints/pilqr-seed3.ckpt")
        );
    }
}
