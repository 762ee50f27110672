//! Helpers shared by the integration tests of the `pilqr` command.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under the system's temporary directory, removed when dropped.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// Create `pilqr-it-<label>-<pid>-<n>`.
    pub fn new(label: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("pilqr-it-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch directory");
        Scratch { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `text` to `name` inside the directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path.join(name);
        std::fs::write(&p, text).expect("write a scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The `pilqr` binary under test, with logs quiet: the one cargo built, or the one named by
/// `PILQR_TEST_BIN` (to check that a regression test fails on an older build).
pub fn pilqr() -> Command {
    let bin = std::env::var_os("PILQR_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_pilqr")));
    let mut c = Command::new(bin);
    c.env_remove("RUST_LOG");
    c
}

/// Run `pilqr` with `args`.
pub fn run(args: &[&str]) -> Output {
    pilqr().args(args).output().expect("run the pilqr binary")
}

/// A small point-mass experiment: `conditions` conditions, `iterations` iterations.
pub fn point_mass_config(conditions: usize, iterations: usize) -> String {
    let names: Vec<String> = (0..conditions).map(|i| format!("\"start-{i}\"")).collect();
    format!(
        "name = \"pm\"\ntask = \"point-mass\"\nconditions = [{}]\nmethods = [\"pilqr\"]\n\
         seeds = [3]\niterations = {iterations}\n\n[trajopt]\nsamples = 20\n",
        names.join(", ")
    )
}

/// A tiny MDGPS point-mass experiment (seconds per iteration): `local` as the local method
/// (or, with `methods`, every MDGPS method), training starts 0 and 1, held-out start 4, a
/// 16×16 network.
pub fn point_mass_mdgps_config(local: &str, iterations: usize) -> String {
    let methods = if local == "all" {
        "methods = [\"mdgps-pilqr\", \"mdgps-lqr-flm\", \"mdgps-pi2\"]".to_string()
    } else {
        format!("local = \"{local}\"")
    };
    format!(
        "name = \"pm-mdgps\"\ntask = \"point-mass\"\nalgorithm = \"mdgps\"\n{methods}\n\
         conditions = [\"start-0\", \"start-1\"]\ntest_conditions = [\"start-4\"]\n\
         seeds = [3]\niterations = {iterations}\n\n[mdgps]\nsamples = 4\n\n\
         [mdgps.pi2]\nkl_threshold = 0.5\n\n[mdgps.network]\nhidden = [16, 16]\n\n\
         [mdgps.s_step]\niterations = 300\n"
    )
}

/// The last line of stderr.
pub fn last_stderr_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}
