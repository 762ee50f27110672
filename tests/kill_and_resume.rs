//! A `pilqr train` killed with SIGKILL in the middle of an iteration and continued with
//! `pilqr resume` ends bit-identical to an uninterrupted run with the same seed: same metrics
//! (wall times aside) and byte-identical checkpoints (controllers, dynamics buffers, step
//! multipliers, η, RNG-derived state; for MDGPS also the network's weights, its observation
//! normalisation and the policy priors).

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Scratch, pilqr, point_mass_config, point_mass_mdgps_config, run};
use pilqr::metrics_log::{MetricsRow, read_jsonl};

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

#[test]
fn a_killed_mdgps_run_resumes_bit_identically() {
    // 2 training rows and 1 held-out row per iteration.
    kill_and_resume(
        "kill-mdgps",
        &point_mass_mdgps_config("pilqr", 5),
        5,
        3,
        "mdgps-pilqr-seed3.ckpt",
    );
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
    let ckpt = |d: &Path| fs::read(d.join("checkpoints").join(checkpoint)).unwrap();
    assert!(ckpt(&whole) == ckpt(&cut), "final checkpoints differ");
    assert_eq!(
        fs::read_to_string(whole.join("config.toml")).unwrap(),
        fs::read_to_string(cut.join("config.toml")).unwrap()
    );
}
