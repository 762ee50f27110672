//! The run directory `runs/<name>/`: where one `train` or `compare` keeps everything it produces.
//!
//! ```text
//! runs/<name>/
//!   config.toml        the resolved experiment (defaults filled in): marks the directory as a run
//!   metrics.csv        one row per iteration, condition and method (see metrics_log)
//!   metrics.jsonl      the same rows as JSON lines
//!   checkpoints/       <method>-seed<seed>.ckpt: the whole state after the last iteration
//!     <method>-seed<seed>/iteration-<K>.ctrl   the controller after iteration K (from 0)
//!   provenance.jsonl   one line per command that wrote here: version, commit, command line
//!   plots/             cost.svg/png, success.svg/png
//!   renders/           final rollouts as GIF or PNG strips
//!   summary.md         the closing table
//!   .lock              holds the PID of the process writing into the directory (see run_lock)
//! ```
//!
//! A new run never writes into a directory that holds anything: an existing run stays intact.
//! A process that writes into a run directory holds its [`RunLock`] while it runs.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use crate::run::run_lock::{LOCK_FILE, LockError, RunLock};

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
    /// Another process writes into the directory, or its lock cannot be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
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
    /// The lock of a process that writes into the directory (shared by clones).
    lock: Option<Arc<RunLock>>,
    /// Whether this process created the directory itself (not found it empty).
    created: bool,
}

/// Whether `path` holds entries other than a lock file (one left by a dead process is harmless).
fn holds_anything(path: &Path) -> Result<bool, RunDirError> {
    let entries = fs::read_dir(path).map_err(io_err(path, "list directory"))?;
    for entry in entries {
        let entry = entry.map_err(io_err(path, "list directory"))?;
        if entry.file_name() != LOCK_FILE {
            return Ok(true);
        }
    }
    Ok(false)
}

impl RunDir {
    /// Create a fresh run directory at `path` (parents included) and lock it. An empty existing
    /// directory is accepted; anything else is refused and left untouched.
    pub fn create(path: &Path) -> Result<RunDir, RunDirError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_err(parent, "create directory"))?;
        }
        let created = match fs::create_dir(path) {
            Ok(()) => true,
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
                if holds_anything(path)? {
                    return Err(RunDirError::NotEmpty {
                        path: path.to_path_buf(),
                    });
                }
                false
            }
            Err(e) => return Err(io_err(path, "create directory")(e)),
        };
        let lock = RunLock::acquire(path)?;
        // Another process may have started a run here between the checks above and the lock.
        if path.join(CONFIG_FILE).exists() {
            return Err(RunDirError::HoldsAnotherRun {
                path: path.to_path_buf(),
            });
        }
        let dir = RunDir {
            root: path.to_path_buf(),
            lock: Some(Arc::new(lock)),
            created,
        };
        dir.make_subdirectories()?;
        Ok(dir)
    }

    /// [`RunDir::create`], replacing the run `path` holds if any (`--force`): a run that another
    /// process is writing is refused, and a directory that holds something other than a run is
    /// never removed.
    pub fn create_replacing(path: &Path) -> Result<RunDir, RunDirError> {
        if path.join(CONFIG_FILE).is_file() {
            let _lock = RunLock::acquire(path)?;
            fs::remove_dir_all(path).map_err(io_err(path, "remove the old run"))?;
        }
        RunDir::create(path)
    }

    /// Whether any job has a checkpoint (`*.ckpt`) here.
    pub fn has_checkpoint(&self) -> bool {
        fs::read_dir(self.checkpoints_dir()).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.ends_with(".ckpt") && !name.starts_with('.')
            })
        })
    }

    /// Remove what a new run wrote before its first checkpoint: the directory if this process
    /// created it, its content if it was found empty. Nothing is left that would block a new
    /// run or make `resume` replay the failure.
    pub fn discard(&self) -> Result<(), RunDirError> {
        let root = &self.root;
        if self.created {
            return fs::remove_dir_all(root).map_err(io_err(root, "remove"));
        }
        let entries = fs::read_dir(root).map_err(io_err(root, "list directory"))?;
        for entry in entries {
            let path = entry.map_err(io_err(root, "list directory"))?.path();
            if path.is_dir() {
                fs::remove_dir_all(&path).map_err(io_err(&path, "remove"))?;
            } else {
                fs::remove_file(&path).map_err(io_err(&path, "remove"))?;
            }
        }
        Ok(())
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
            lock: None,
            created: false,
        };
        dir.make_subdirectories()?;
        Ok(dir)
    }

    /// Open an existing run directory to write into it: take its lock (refusing at once when
    /// another process holds it) and make sure its subdirectories exist.
    pub fn open_locked(path: &Path) -> Result<RunDir, RunDirError> {
        let mut dir = RunDir::open(path)?;
        dir.lock = Some(Arc::new(RunLock::acquire(path)?));
        Ok(dir)
    }

    fn make_subdirectories(&self) -> Result<(), RunDirError> {
        for sub in [self.checkpoints_dir(), self.plots_dir(), self.renders_dir()] {
            fs::create_dir_all(&sub).map_err(io_err(&sub, "create directory"))?;
        }
        Ok(())
    }

    /// Whether this process holds the directory's lock.
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
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

    /// Where the per-iteration controllers of one method and seed go.
    pub fn controllers_dir(&self, method: &str, seed: u64) -> PathBuf {
        self.checkpoints_dir().join(format!("{method}-seed{seed}"))
    }

    /// The controller of one method and seed after iteration `iteration` (from 0).
    pub fn controller_path(&self, method: &str, seed: u64, iteration: usize) -> PathBuf {
        self.controllers_dir(method, seed)
            .join(format!("iteration-{iteration}.ctrl"))
    }

    /// The iterations whose controller of one method and seed is saved, in increasing order.
    pub fn saved_iterations(&self, method: &str, seed: u64) -> Vec<usize> {
        let Ok(entries) = fs::read_dir(self.controllers_dir(method, seed)) else {
            return Vec::new();
        };
        let mut out: Vec<usize> = entries
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_prefix("iteration-")?
                    .strip_suffix(".ctrl")?
                    .parse()
                    .ok()
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Create the directory of [`RunDir::controllers_dir`] if absent.
    pub fn make_controllers_dir(&self, method: &str, seed: u64) -> Result<(), RunDirError> {
        let path = self.controllers_dir(method, seed);
        fs::create_dir_all(&path).map_err(io_err(&path, "create directory"))
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
    fn discarding_a_new_run_leaves_nothing_and_force_replaces_only_runs() {
        let tmp = TestDir::new("rundir-discard");
        let path = tmp.path().join("new");
        let dir = RunDir::create(&path).unwrap();
        dir.write_config("x = 1\n").unwrap();
        assert!(!dir.has_checkpoint());
        dir.discard().unwrap();
        assert!(!path.exists());
        // A directory found empty stays, emptied.
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        let dir = RunDir::create(&empty).unwrap();
        dir.write_config("x = 1\n").unwrap();
        dir.discard().unwrap();
        assert_eq!(fs::read_dir(&empty).unwrap().count(), 0);
        drop(dir);

        let run = tmp.path().join("run");
        let dir = RunDir::create(&run).unwrap();
        dir.write_config("x = 1\n").unwrap();
        fs::write(dir.checkpoint_path("pilqr", 0), "c").unwrap();
        assert!(dir.has_checkpoint());
        // In use: refused, untouched.
        let err = RunDir::create_replacing(&run).unwrap_err();
        assert!(err.to_string().contains("is in use by PID"), "{err}");
        assert!(dir.checkpoint_path("pilqr", 0).is_file());
        drop(dir);
        let fresh = RunDir::create_replacing(&run).unwrap();
        assert!(!fresh.has_checkpoint());
        assert!(!run.join(CONFIG_FILE).exists());
        // Not a run: never removed.
        let notes = tmp.path().join("notes");
        fs::create_dir(&notes).unwrap();
        fs::write(notes.join("a.txt"), "mine").unwrap();
        assert!(matches!(
            RunDir::create_replacing(&notes),
            Err(RunDirError::NotEmpty { .. })
        ));
        assert!(notes.join("a.txt").is_file());
    }

    #[test]
    fn names_checkpoints_by_method_and_seed() {
        let d = RunDir {
            root: PathBuf::from("runs/a"),
            lock: None,
            created: false,
        };
        assert_eq!(
            d.checkpoint_path("pilqr", 3),
            PathBuf::from("runs/a/checkpoints/pilqr-seed3.ckpt")
        );
    }
}
