//! A `pilqr train` killed with SIGKILL in the middle of an iteration and continued with
//! `pilqr resume` ends bit-identical to an uninterrupted run with the same seed: same metrics
//! (wall times aside) and byte-identical checkpoints (controllers, dynamics buffers, step
//! multipliers, η, RNG-derived state; for MDGPS also the network's weights, its observation
//! normalisation and the policy priors). The same holds for a `pilqr compare` whose jobs run
//! side by side (`--jobs 2`), against the same compare run one job at a time.

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

/// How the runs of a kill-and-resume test are started.
struct Runs<'a> {
    /// The command and its options before `--config`: `train`, or `compare` with its methods
    /// and seeds.
    command: &'a [&'a str],
    /// `--jobs` of the killed run and of its resume (the reference runs one job at a time).
    side_by_side: usize,
    /// Rows the whole run writes per iteration of one job.
    rows_per_iteration: usize,
    /// The final checkpoints of the jobs.
    checkpoints: &'a [&'a str],
}

const TRAIN: &[&str] = &["train"];

#[test]
fn a_killed_run_resumes_bit_identically() {
    let runs = Runs {
        command: TRAIN,
        side_by_side: 1,
        rows_per_iteration: 2,
        checkpoints: &["pilqr-seed3.ckpt"],
    };
    kill_and_resume("kill", &point_mass_config(2, 6), 6, &runs);
}

#[test]
fn a_killed_lqr_flm_run_resumes_bit_identically() {
    // The classic LQR-FLM carries its step rule's estimates from one iteration to the next.
    let config = point_mass_config(2, 6).replace("[\"pilqr\"]", "[\"lqr-flm\"]");
    assert!(config.contains("methods = [\"lqr-flm\"]"), "{config}");
    let runs = Runs {
        command: TRAIN,
        side_by_side: 1,
        rows_per_iteration: 2,
        checkpoints: &["lqr-flm-seed3.ckpt"],
    };
    kill_and_resume("kill-lqr-flm", &config, 6, &runs);
}

#[test]
fn a_killed_compare_with_jobs_side_by_side_resumes_bit_identically() {
    let runs = Runs {
        command: &["compare", "--methods", "pilqr,lqr-flm", "--seeds", "3,4"],
        side_by_side: 2,
        rows_per_iteration: 2,
        checkpoints: &[
            "pilqr-seed3.ckpt",
            "pilqr-seed4.ckpt",
            "lqr-flm-seed3.ckpt",
            "lqr-flm-seed4.ckpt",
        ],
    };
    kill_and_resume("kill-jobs", &point_mass_config(2, 4), 4, &runs);
}

// MDGPS needs the `mdgps` feature (libtorch); without it the command refuses the config.
#[cfg(feature = "mdgps")]
#[test]
fn a_killed_mdgps_run_resumes_bit_identically() {
    // 2 training rows and 1 held-out row per iteration.
    let runs = Runs {
        command: TRAIN,
        side_by_side: 1,
        rows_per_iteration: 3,
        checkpoints: &["mdgps-pilqr-seed3.ckpt"],
    };
    let config = common::point_mass_mdgps_config("pilqr", 5);
    kill_and_resume("kill-mdgps", &config, 5, &runs);
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

/// The lines of `metrics.csv` and `metrics.jsonl` without their wall-time columns.
fn files_without_times(dir: &Path) -> Vec<String> {
    let [csv, jsonl] = metrics_files(dir);
    let header: Vec<String> = csv
        .lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .map(String::from)
        .collect();
    let csv_lines = csv.lines().map(|line| {
        line.split(',')
            .zip(&header)
            .map(|(cell, column)| {
                if column.starts_with("time_") {
                    ""
                } else {
                    cell
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    });
    let json_lines = jsonl.lines().map(|line| {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        value
            .as_object_mut()
            .unwrap()
            .retain(|key, _| !key.starts_with("time_"));
        serde_json::to_string(&value).unwrap()
    });
    csv_lines.chain(json_lines).collect()
}

/// Run `config` for `iterations` iterations as `runs` says, once uninterrupted (one job at a
/// time) and once killed after two iterations' rows and resumed; compare the metrics and the
/// final checkpoints.
fn kill_and_resume(label: &str, config: &str, iterations: usize, runs: &Runs) {
    let scratch = Scratch::new(label);
    let config = scratch.write("pm.toml", config);
    let config = config.to_str().unwrap();
    let rows_per_iteration = runs.rows_per_iteration;
    let jobs = runs.checkpoints.len();
    let side_by_side = runs.side_by_side.to_string();
    let command = |out: &Path, side_by_side: &str| -> Vec<String> {
        let mut args: Vec<String> = runs.command.iter().map(|a| a.to_string()).collect();
        args.extend(["-q", "--config", config, "--out", out.to_str().unwrap()].map(String::from));
        if runs.command != TRAIN {
            args.extend(["--jobs".to_string(), side_by_side.to_string()]);
        }
        args
    };

    // The reference: never interrupted, one job at a time.
    let whole = scratch.path().join("whole");
    let clock = Instant::now();
    let args = command(&whole, "1");
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let iteration_time = clock.elapsed() / (iterations * jobs) as u32;

    // The victim: killed once two iterations are written, about half an iteration later.
    let cut = scratch.path().join("cut");
    let mut child = pilqr()
        .args(command(&cut, &side_by_side))
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
        rows_at_kill < jobs * iterations * rows_per_iteration,
        "the run finished before the kill ({rows_at_kill} rows)"
    );

    let out = run(&[
        "resume",
        "-q",
        cut.to_str().unwrap(),
        "--jobs",
        &side_by_side,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let expected = rows_without_times(&whole);
    assert_eq!(expected.len(), jobs * iterations * rows_per_iteration);
    let got = rows_without_times(&cut);
    assert_eq!(got.len(), expected.len());
    for (a, b) in got.iter().zip(&expected) {
        assert_eq!(a, b);
        assert_eq!(a.mean_cost.to_bits(), b.mean_cost.to_bits());
    }
    // Wall times aside, the files are those of the run never interrupted.
    assert_eq!(files_without_times(&cut), files_without_times(&whole));
    // The rows written before the kill that the checkpoints cover (all but at most the last
    // iteration's of each running job) are kept byte for byte by the resume, in both files:
    // in place when one job ran at a time, in job order when jobs ran side by side.
    let kept_at_least =
        (rows_at_kill / rows_per_iteration).saturating_sub(runs.side_by_side) * rows_per_iteration;
    if runs.side_by_side > 1 {
        for (before, after) in files_at_kill.iter().zip(metrics_files(&cut)) {
            let kept = before
                .lines()
                .filter(|l| after.lines().any(|a| a == *l))
                .count();
            assert!(
                kept >= kept_at_least + usize::from(before.starts_with("method,")),
                "only {kept} lines kept of {kept_at_least} rows written before the kill:\n{before}\n---\n{after}"
            );
        }
    }
    for (before, after) in files_at_kill
        .iter()
        .zip(metrics_files(&cut))
        .filter(|_| runs.side_by_side == 1)
    {
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
    for checkpoint in runs.checkpoints {
        let ckpt = |d: &Path| fs::read(d.join("checkpoints").join(checkpoint)).unwrap();
        assert!(
            ckpt(&whole) == ckpt(&cut),
            "final checkpoints {checkpoint} differ"
        );
    }
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
    start(&["train"], config, out)
}

/// Start `pilqr COMMAND… --config CONFIG --out OUT`, capturing its output, and wait for its
/// first metrics rows.
fn start(command: &[&str], config: &str, out: &Path) -> std::process::Child {
    let mut child = pilqr()
        .args(command)
        .args(["--config", config, "--out", out.to_str().unwrap()])
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

#[test]
fn ctrl_c_stops_every_job_side_by_side_and_resume_continues_them_all() {
    let scratch = Scratch::new("sigint-jobs");
    let config = scratch.write("pm.toml", &point_mass_config(1, 8));
    let config = config.to_str().unwrap();
    let dir = scratch.path().join("run");
    let compare = ["compare", "--seeds", "3,4", "--jobs", "2"];
    let child = start(&compare, config, &dir);
    interrupt(child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("continue with `pilqr resume {}`", dir.display())),
        "{stderr}"
    );
    // Both jobs ran side by side and were stopped; the message names each.
    for job in ["pilqr/seed3", "pilqr/seed4"] {
        assert!(stderr.contains(job), "{stderr}");
    }
    // Stopped at a safe point: every job's rows are covered by its checkpoint, so a resume
    // keeps them all.
    let rows = read_jsonl(&dir.join("metrics.jsonl")).unwrap();
    assert!(rows.len() < 16, "the run finished instead of stopping");
    let out = run(&["resume", "-q", dir.to_str().unwrap(), "--jobs", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = read_jsonl(&dir.join("metrics.jsonl")).unwrap();
    assert_eq!(after.len(), 16);
    for row in &rows {
        assert!(after.contains(row), "row {row:?} dropped by the resume");
    }
    // In job order: seed 3's iterations, then seed 4's.
    let order: Vec<(u64, usize)> = after.iter().map(|r| (r.seed, r.iteration)).collect();
    let expected: Vec<(u64, usize)> = [3, 4]
        .iter()
        .flat_map(|&s| (0..8).map(move |i| (s, i)))
        .collect();
    assert_eq!(order, expected);
}
