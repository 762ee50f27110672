//! The example `examples/custom_task.rs` (a task defined outside the suite, registered with
//! `TaskRegistry` and run through `pilqr::cli::main_with`) gets the whole command line:
//! `train`, `compare`, `resume`, `eval`, `render` and `list` work on its task as on a built-in
//! one, and the stock `pilqr` binary, which does not know the task, refuses its config.
//!
//! How the example's binary is found: `cargo test` builds the examples of the package (with the
//! test profile, into `target/<profile dir>/examples/`) before it runs any test, but not when
//! only this test is asked for (`cargo test --test custom_task`). So the test first runs
//! `cargo build --profile test --example custom_task` with the cargo that runs it (`$CARGO`) —
//! a no-op after `cargo test`, the build otherwise — and takes the binary from the
//! `examples/` folder next to this test's own `deps/` folder.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Scratch, run};
use pilqr::run::metrics_log::{MetricsRow, read_jsonl};

/// The example's binary, built if needed.
fn example_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--profile",
            "test",
            "--example",
            "custom_task",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo to build the example");
    assert!(status.success(), "cargo could not build the example");
    // This test runs from <target>/<profile dir>/deps/.
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in <target>/<profile>/deps");
    let bin = profile_dir
        .join("examples")
        .join(format!("custom_task{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "{} is missing", bin.display());
    bin
}

fn example(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run the example")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rows_without_times(dir: &Path) -> Vec<MetricsRow> {
    read_jsonl(&dir.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .map(MetricsRow::without_times)
        .collect()
}

/// The example's own config, shortened to seconds.
fn config(scratch: &Scratch) -> PathBuf {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/custom_task.toml");
    let text = fs::read_to_string(&shipped).unwrap();
    assert!(text.contains("task = \"cart\""), "{text}");
    let text = text
        .replace("seeds = [0, 1]", "seeds = [0]")
        .replace("iterations = 5", "iterations = 3");
    assert!(text.contains("iterations = 3") && text.contains("seeds = [0]\n"));
    scratch.write("cart.toml", &text)
}

#[test]
fn a_custom_task_trains_compares_resumes_evaluates_and_renders() {
    let bin = example_binary();
    let scratch = Scratch::new("custom-task");
    let config = config(&scratch);
    let config = config.to_str().unwrap();
    let dir = |name: &str| scratch.path().join(name);

    // `list` shows the user's task next to the built-in ones.
    let listing = ok(&example(&bin, &["list"]));
    assert!(listing.contains("cart "), "{listing}");
    assert!(
        listing.contains("conditions: left (train), right (train)"),
        "{listing}"
    );
    assert!(listing.contains("point-mass"), "{listing}");

    // train: one method, one seed; 3 iterations × 2 conditions of metrics.
    let train = dir("train");
    ok(&example(
        &bin,
        &[
            "train",
            "-q",
            "--config",
            config,
            "--out",
            train.to_str().unwrap(),
        ],
    ));
    let rows = rows_without_times(&train);
    assert_eq!(rows.len(), 3 * 2);
    assert!(
        fs::read_to_string(train.join("config.toml"))
            .unwrap()
            .contains("task = \"cart\"")
    );

    // compare: both methods.
    let whole = dir("whole");
    ok(&example(
        &bin,
        &[
            "compare",
            "-q",
            "--config",
            config,
            "--out",
            whole.to_str().unwrap(),
        ],
    ));
    let expected = rows_without_times(&whole);
    assert_eq!(expected.len(), 2 * 3 * 2);
    assert!(whole.join("plots/cost.svg").is_file());

    // resume: a second compare whose lqr-flm job lost its checkpoints (as if it had been
    // stopped before its first one) continues and ends where the uninterrupted run ended.
    let cut = dir("cut");
    ok(&example(
        &bin,
        &[
            "compare",
            "-q",
            "--config",
            config,
            "--out",
            cut.to_str().unwrap(),
        ],
    ));
    let ckpt = cut.join("checkpoints");
    fs::remove_file(ckpt.join("lqr-flm-seed0.ckpt")).unwrap();
    fs::remove_dir_all(ckpt.join("lqr-flm-seed0")).unwrap();
    ok(&example(&bin, &["resume", "-q", cut.to_str().unwrap()]));
    let got = rows_without_times(&cut);
    assert_eq!(got.len(), expected.len());
    for (a, b) in got.iter().zip(&expected) {
        assert_eq!(a, b);
        assert_eq!(a.mean_cost.to_bits(), b.mean_cost.to_bits());
    }
    assert_eq!(
        fs::read(ckpt.join("lqr-flm-seed0.ckpt")).unwrap(),
        fs::read(whole.join("checkpoints/lqr-flm-seed0.ckpt")).unwrap()
    );

    // eval: the saved controllers on the trained conditions.
    let eval = ok(&example(
        &bin,
        &["eval", whole.to_str().unwrap(), "--rollouts", "3"],
    ));
    assert!(eval.contains("left") && eval.contains("right"), "{eval}");

    // render: the example's task draws itself.
    let renders = whole.join("renders");
    let _ = fs::remove_dir_all(&renders);
    ok(&example(
        &bin,
        &["render", "-q", whole.to_str().unwrap(), "--png"],
    ));
    let pngs: Vec<_> = fs::read_dir(&renders)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    // Two methods × two conditions.
    assert_eq!(pngs.len(), 4, "{pngs:?}");
    for png in &pngs {
        assert_eq!(&fs::read(png).unwrap()[1..4], b"PNG");
    }

    // The stock `pilqr` does not know the task: a clear error on the `task` field, exit 2.
    let stock = run(&[
        "train",
        "-q",
        "--config",
        config,
        "--out",
        dir("stock").to_str().unwrap(),
    ]);
    assert_eq!(stock.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&stock.stderr);
    assert!(msg.contains("task") && msg.contains("\"cart\""), "{msg}");
    assert!(!dir("stock").exists());
}
