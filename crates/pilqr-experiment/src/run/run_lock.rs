//! The lock that keeps two processes out of one run directory.
//!
//! A process that writes into a run directory (`train`, `compare`, `resume`) holds an exclusive
//! advisory lock (`flock`) on the file `.lock` inside it for as long as it runs, and writes its
//! PID into that file. A second process that tries to take the lock fails at once and reports
//! the PID it finds there. The kernel drops the lock when its holder exits, however it exits
//! (`kill -9` included), so a lock file left behind by a dead process never blocks a later run:
//! the file's content is only ever read to name the holder, never to decide whether it holds.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Name of the lock file inside a run directory.
pub const LOCK_FILE: &str = ".lock";

/// Why the lock could not be taken.
#[derive(Debug, Error)]
pub enum LockError {
    /// Another live process holds the lock.
    #[error("{}: is in use by PID {pid} (another `pilqr train`, `compare` or `resume` is writing into it); wait for it to finish or stop it", dir.display())]
    InUse {
        /// The run directory.
        dir: PathBuf,
        /// The holder's PID as it wrote it (`unknown` if it has not written it yet).
        pid: String,
    },
    /// The lock file could not be opened, locked or written.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
}

/// An exclusive lock on a run directory, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    // Holding the open file is holding the lock.
    _file: File,
}

impl RunLock {
    /// Take the lock on the run directory `dir` (which must exist), without waiting.
    pub fn acquire(dir: &Path) -> Result<RunLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_err = |action: &'static str| {
            let path = path.clone();
            move |source| LockError::Io {
                path,
                action,
                source,
            }
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                // The holder may not have written its PID yet; then it is unknown.
                let _ = file.read_to_string(&mut text);
                let pid = text.trim();
                return Err(LockError::InUse {
                    dir: dir.to_path_buf(),
                    pid: if pid.is_empty() {
                        "unknown".to_string()
                    } else {
                        pid.to_string()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err("lock")(e)),
        }
        file.set_len(0).map_err(io_err("truncate"))?;
        file.seek(SeekFrom::Start(0)).map_err(io_err("seek"))?;
        writeln!(file, "{}", std::process::id()).map_err(io_err("write"))?;
        file.flush().map_err(io_err("write"))?;
        Ok(RunLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let tmp = TestDir::new("lock");
        let first = RunLock::acquire(tmp.path()).unwrap();
        let err = RunLock::acquire(tmp.path()).unwrap_err();
        let pid = std::process::id().to_string();
        match &err {
            LockError::InUse { pid: p, .. } => assert_eq!(p, &pid),
            other => panic!("unexpected {other}"),
        }
        assert!(
            err.to_string().contains(&format!("is in use by PID {pid}")),
            "{err}"
        );
        drop(first);
        let _again = RunLock::acquire(tmp.path()).unwrap();
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_does_not_block() {
        let tmp = TestDir::new("lock-stale");
        std::fs::write(tmp.path().join(LOCK_FILE), "4194303\n").unwrap();
        let _lock = RunLock::acquire(tmp.path()).unwrap();
        let text = std::fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
    }
}
