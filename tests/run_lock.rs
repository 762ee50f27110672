//! Two processes never write into one run directory: while a run is going, a `resume` of its
//! directory refuses at once (exit 2, naming the PID that holds it) and changes nothing; once
//! the holder is dead (even killed with SIGKILL, leaving its lock file behind) a `resume` runs.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Scratch, last_stderr_line, pilqr, point_mass_config, run};

/// Complete lines of the run's metrics file.
fn complete_rows(dir: &Path) -> usize {
    fs::read_to_string(dir.join("metrics.jsonl"))
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
}

/// Start `pilqr train` into `out` and wait until it has written its first metrics rows.
fn start_training(config: &Path, out: &Path) -> Child {
    let mut child = pilqr()
        .args([
            "train",
            "-q",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while complete_rows(out) == 0 {
        assert!(Instant::now() < deadline, "the run did not progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the test could use it"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn a_directory_in_use_is_refused_and_a_dead_holder_does_not_block() {
    let s = Scratch::new("lock");
    let config = s.write("pm.toml", &point_mass_config(2, 12));
    let dir = s.path().join("run");
    let mut child = start_training(&config, &dir);

    let clock = Instant::now();
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    let waited = clock.elapsed();
    let still_running = child.try_wait().unwrap().is_none();
    let line = last_stderr_line(&out);
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert!(
        line.contains(&format!("is in use by PID {}", child.id())),
        "{line}"
    );
    assert!(line.contains(dir.to_str().unwrap()), "{line}");
    assert!(
        still_running,
        "the first run ended before the second was refused"
    );
    assert!(
        waited < Duration::from_secs(20),
        "the refusal took {waited:?}"
    );

    // Killed without a chance to clean up: its lock file stays, naming it, and blocks nothing.
    child.kill().unwrap();
    child.wait().unwrap();
    let lock = fs::read_to_string(dir.join(".lock")).unwrap();
    assert_eq!(lock.trim(), child.id().to_string());
    let before = complete_rows(&dir);
    assert!(before < 24, "the run finished before it was killed");
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(complete_rows(&dir), 24);
}
