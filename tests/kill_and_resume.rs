//! A `pilqr train` killed with SIGKILL in the middle of an iteration and continued with
//! `pilqr resume` ends bit-identical to an uninterrupted run with the same seed: same metrics
//! (wall times aside) and byte-identical checkpoints (controllers, dynamics buffers, step
//! multipliers, η, RNG-derived state; for MDGPS also the network's weights, its observation
//! normalisation and the policy priors).

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Scratch, pilqr, point_mass_config, run};
use pilqr::run::metrics_log::{MetricsRow, read_jsonl};

fn rows_without_times(dir: &Path) -> Vec<MetricsRow> {
    read_jsonl(&dir.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .map(MetricsRow::without_times)
        .collect()
}

/// Complete rows in a metrics file (the run is still writing it).
fn complete_rows(dir: &Path) -> usize {
    fs::read_to_string(dir.join("metrics.jsonl"))
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
}

#[test]
fn a_killed_run_resumes_bit_identically() {
    kill_and_resume("kill", &point_mass_config(2, 6), 6, 2, "pilqr-seed3.ckpt");
}

// MDGPS needs the `mdgps` feature (libtorch); without it the command refuses the config.
#[cfg(feature = "mdgps")]
#[test]
fn a_killed_mdgps_run_resumes_bit_identically() {
    // 2 training rows and 1 held-out row per iteration.
    kill_and_resume(
        "kill-mdgps",
        &common::point_mass_mdgps_config("pilqr", 5),
        5,
        3,
        "mdgps-pilqr-seed3.ckpt",
    );
}

/// The complete lines of `metrics.csv` and `metrics.jsonl`.
fn metrics_files(dir: &Path) -> [String; 2] {
    ["metrics.csv", "metrics.jsonl"].map(|name| {
        let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
        match text.rfind('\n') {
            Some(i) => text[..=i].to_string(),
            None => String::new(),
        }
    })
}

/// Train `config` for `iterations` iterations (writing `rows_per_iteration` metrics rows each)
/// once uninterrupted and once killed after two iterations and resumed; compare the metrics
/// and the final checkpoint `checkpoint`.
fn kill_and_resume(
    label: &str,
    config: &str,
    iterations: usize,
    rows_per_iteration: usize,
    checkpoint: &str,
) {
    let scratch = Scratch::new(label);
    let config = scratch.write("pm.toml", config);
    let config = config.to_str().unwrap();

    // The reference: never interrupted.
    let whole = scratch.path().join("whole");
    let clock = Instant::now();
    let out = run(&[
        "train",
        "-q",
        "--config",
        config,
        "--out",
        whole.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let iteration_time = clock.elapsed() / iterations as u32;

    // The victim: killed once two iterations are written, about half an iteration later.
    let cut = scratch.path().join("cut");
    let mut child = pilqr()
        .args([
            "train",
            "-q",
            "--config",
            config,
            "--out",
            cut.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while complete_rows(&cut) < 2 * rows_per_iteration {
        assert!(Instant::now() < deadline, "the run did not progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(iteration_time / 2);
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let rows_at_kill = complete_rows(&cut);
    let files_at_kill = metrics_files(&cut);
    assert!(
        rows_at_kill < iterations * rows_per_iteration,
        "the run finished before the kill ({rows_at_kill} rows)"
    );

    let out = run(&["resume", "-q", cut.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let expected = rows_without_times(&whole);
    assert_eq!(expected.len(), iterations * rows_per_iteration);
    let got = rows_without_times(&cut);
    assert_eq!(got.len(), expected.len());
    for (a, b) in got.iter().zip(&expected) {
        assert_eq!(a, b);
        assert_eq!(a.mean_cost.to_bits(), b.mean_cost.to_bits());
    }
    // The rows written before the kill that the checkpoint covers (all but at most the last
    // iteration's) are kept byte for byte by the resume, in both files.
    let kept_at_least = (rows_at_kill / rows_per_iteration).saturating_sub(1) * rows_per_iteration;
    for (before, after) in files_at_kill.iter().zip(metrics_files(&cut)) {
        let common = before
            .lines()
            .zip(after.lines())
            .take_while(|(a, b)| a == b)
            .count();
        assert!(
            common >= kept_at_least + usize::from(before.starts_with("method,")),
            "only {common} lines kept unchanged of {kept_at_least} rows written before the kill:\n{before}\n---\n{after}"
        );
    }
    let ckpt = |d: &Path| fs::read(d.join("checkpoints").join(checkpoint)).unwrap();
    assert!(ckpt(&whole) == ckpt(&cut), "final checkpoints differ");
    assert_eq!(
        fs::read_to_string(whole.join("config.toml")).unwrap(),
        fs::read_to_string(cut.join("config.toml")).unwrap()
    );
}

/// Send SIGINT to `pid`.
fn interrupt(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Start `pilqr train` into `out`, capturing its output, and wait for its first metrics rows.
fn start_training(config: &str, out: &Path) -> std::process::Child {
    let mut child = pilqr()
        .args(["train", "--config", config, "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while complete_rows(out) == 0 {
        assert!(Instant::now() < deadline, "the run did not progress");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn ctrl_c_stops_at_a_checkpoint_and_says_how_to_resume() {
    let scratch = Scratch::new("sigint");
    let config = scratch.write("pm.toml", &point_mass_config(1, 8));
    let config = config.to_str().unwrap();
    let dir = scratch.path().join("run");
    let child = start_training(config, &dir);
    interrupt(child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("continue with `pilqr resume {}`", dir.display())),
        "{stderr}"
    );
    // Stopped at a safe point: every row written has its checkpoint.
    let rows = complete_rows(&dir);
    assert!(rows < 8, "the run finished instead of stopping");
    assert!(dir.join("checkpoints").join("pilqr-seed3.ckpt").is_file());
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(complete_rows(&dir), 8);
}
