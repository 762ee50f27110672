//! Bad input to the `pilqr` command: a one-line error naming the file and field (or byte offset),
//! exit code 2, and nothing already saved is overwritten.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::{Scratch, last_stderr_line, point_mass_config, run};

/// Exit code 2 and a last stderr line `error: …` containing every one of `needles`.
fn assert_bad_input(out: &Output, needles: &[&str]) {
    let line = last_stderr_line(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(line.starts_with("error: "), "{line}");
    for n in needles {
        assert!(line.contains(n), "{line:?} lacks {n:?}");
    }
}

fn train(config: &Path, out: &Path) -> Output {
    run(&[
        "train",
        "-q",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn malformed_and_invalid_configs_name_file_line_and_field() {
    let s = Scratch::new("bad-config");
    let good = point_mass_config(1, 1);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "malformed.toml",
            good.replace("[trajopt]", "[trajopt"),
            vec!["malformed.toml:"],
        ),
        (
            "unknown.toml",
            format!("{good}sampels = 3\n"),
            vec!["unknown.toml:10:", "trajopt.sampels", "unknown field"],
        ),
        (
            "dimension.toml",
            format!("{good}kl_step = [0.5, 0.5, 0.5]\n"),
            vec!["dimension.toml:10:", "trajopt.kl_step", "horizon"],
        ),
        (
            "task.toml",
            good.replace("point-mass", "juggler"),
            vec!["task.toml:2:", "`task`", "juggler"],
        ),
        (
            "method.toml",
            good.replace("[\"pilqr\"]", "[\"ilqr\"]"),
            vec!["method.toml:4:", "`methods`"],
        ),
        (
            "zero.toml",
            good.replace("iterations = 1", "iterations = 0"),
            vec!["zero.toml:6:", "`iterations`", "at least 1"],
        ),
        (
            "negative.toml",
            good.replace("samples = 20", "samples = -5"),
            vec!["negative.toml:9:", "trajopt.samples"],
        ),
        (
            "condition.toml",
            good.replace("start-0", "start-42"),
            vec!["condition.toml:3:", "`conditions`", "start-42"],
        ),
        (
            "init.toml",
            format!("{good}\n[trajopt.init]\ntype = \"pd\"\ninit_var = nan\n"),
            vec!["init.toml:13:", "trajopt.init.init_var", "finite"],
        ),
        (
            "eta.toml",
            format!("{good}\n[trajopt.lqr]\nmax_eta = inf\n"),
            vec!["eta.toml:12:", "`trajopt.lqr.max_eta`", "finite"],
        ),
        (
            "no-conditions.toml",
            good.replace("conditions = [\"start-0\"]", "conditions = []"),
            vec!["no-conditions.toml:3:", "`conditions`", "is empty"],
        ),
        (
            "no-methods.toml",
            good.replace("methods = [\"pilqr\"]", "methods = []"),
            vec!["no-methods.toml:4:", "`methods`", "is empty"],
        ),
        (
            "no-seeds.toml",
            good.replace("seeds = [3]", "seeds = []"),
            vec!["no-seeds.toml:5:", "`seeds`", "is empty"],
        ),
        (
            "memory.toml",
            good.replace("samples = 20", "samples = 1000000000"),
            vec![
                "memory.toml:9:",
                "trajopt.samples",
                "estimated",
                "of memory",
            ],
        ),
        (
            "network.toml",
            common::point_mass_mdgps_config("pilqr", 1)
                .replace("hidden = [16, 16]", "hidden = [1000000000]"),
            vec![
                "network.toml:",
                "mdgps.network.hidden",
                "estimated",
                "of memory",
            ],
        ),
    ];
    for (name, text, needles) in cases {
        let config = s.write(name, &text);
        let out_dir = s.path().join(format!("run-{name}"));
        let out = train(&config, &out_dir);
        assert_bad_input(&out, &needles);
        assert!(!out_dir.exists(), "{name}: a run directory was created");
    }
    let out = train(&s.path().join("absent.toml"), &s.path().join("r"));
    assert_bad_input(&out, &["absent.toml", "cannot read"]);
}

#[test]
fn a_pi2_kl_threshold_above_log_samples_warns() {
    let s = Scratch::new("kl-warning");
    let text = point_mass_config(1, 1).replace("[\"pilqr\"]", "[\"pi2\"]");
    let config = s.write(
        "pi2.toml",
        &format!("{text}\n[trajopt.pi2]\nkl_threshold = 3.5\n"),
    );
    let out = train(&config, &s.path().join("r"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("pi2.toml:12: field `trajopt.pi2.kl_threshold`")
            && stderr.contains("log(samples)"),
        "{stderr}"
    );
    // ln 20 ≈ 3.0: a threshold below it is fine.
    let config = s.write(
        "ok.toml",
        &format!("{text}\n[trajopt.pi2]\nkl_threshold = 2.9\n"),
    );
    let out = train(&config, &s.path().join("r2"));
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn bad_command_line_values_exit_with_2() {
    let s = Scratch::new("bad-args");
    let config = s.write("pm.toml", &point_mass_config(1, 1));
    let out = run(&[
        "compare",
        "--config",
        config.to_str().unwrap(),
        "--methods",
        "pilqr,sgd",
        "--out",
        s.path().join("r").to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["--methods", "sgd"]);
    // Rejected by the parser itself (clap exits with 2 too).
    let out = run(&["eval", s.path().to_str().unwrap(), "--rollouts", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["resume", s.path().join("nothing").to_str().unwrap()]);
    assert_bad_input(&out, &["not a run directory"]);
}

#[test]
fn checkpoints_and_run_directories_are_protected() {
    let s = Scratch::new("bad-ckpt");
    let config = s.write("pm.toml", &point_mass_config(1, 2));
    let dir = s.path().join("run");
    let out = train(&config, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ckpt = dir.join("checkpoints").join("pilqr-seed3.ckpt");
    let original = fs::read(&ckpt).unwrap();
    let metrics = fs::read(dir.join("metrics.jsonl")).unwrap();

    // A second run into the same directory is refused and changes nothing.
    let out = train(&config, &dir);
    assert_bad_input(&out, &["already holds a run"]);
    assert_eq!(fs::read(&ckpt).unwrap(), original);
    assert_eq!(fs::read(dir.join("metrics.jsonl")).unwrap(), metrics);

    // Truncated, garbage and missing checkpoints.
    let path = ckpt.to_str().unwrap().to_string();
    fs::write(&ckpt, &original[..original.len() / 2]).unwrap();
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    assert_bad_input(&out, &[&path, "truncated at byte"]);
    assert_eq!(
        fs::read(&ckpt).unwrap().len(),
        original.len() / 2,
        "resume wrote over it"
    );

    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(&ckpt, &garbage).unwrap();
    let out = run(&["eval", dir.to_str().unwrap(), "--rollouts", "2"]);
    assert_bad_input(&out, &[&path, "not a pilqr checkpoint"]);

    let mut flipped = original.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    fs::write(&ckpt, &flipped).unwrap();
    let out = run(&["render", dir.to_str().unwrap()]);
    assert_bad_input(&out, &[&path, "corrupted"]);

    fs::remove_file(&ckpt).unwrap();
    let out = run(&["eval", dir.to_str().unwrap()]);
    assert_bad_input(&out, &["pilqr/seed3 has no checkpoint"]);

    // Every checkpoint gone: resume does not silently start over and drop the metrics.
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    assert_bad_input(&out, &["no checkpoint is left", "--force"]);
    assert_eq!(fs::read(dir.join("metrics.jsonl")).unwrap(), metrics);

    // A checkpoint of another run (same job, another config) is named as such.
    let other = s.path().join("other");
    let other_config = s.write(
        "other.toml",
        &point_mass_config(1, 2).replace("samples = 20", "samples = 21"),
    );
    assert!(train(&other_config, &other).status.success());
    fs::copy(other.join("checkpoints").join("pilqr-seed3.ckpt"), &ckpt).unwrap();
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    assert_bad_input(&out, &[&path, "written by another run"]);

    // A changed config is detected rather than silently mixed with the old checkpoints.
    fs::write(&ckpt, &original).unwrap();
    let cfg = dir.join("config.toml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(&cfg, text.replace("samples = 20", "samples = 21")).unwrap();
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    assert_bad_input(&out, &["config.toml changed"]);

    // --force replaces a run (and only a run).
    let mut forced = vec!["train", "-q", "--force", "--config"];
    forced.extend([config.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    let out = run(&forced);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&ckpt).unwrap(), original);
    let notes = s.path().join("notes");
    fs::create_dir(&notes).unwrap();
    fs::write(notes.join("a.txt"), "mine").unwrap();
    let out = run(&[
        "train",
        "-q",
        "--force",
        "--config",
        config.to_str().unwrap(),
        "--out",
        notes.to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["not empty"]);
    assert!(notes.join("a.txt").is_file());
}

#[test]
fn finished_runs_evaluate_and_render() {
    let s = Scratch::new("eval");
    let config = s.write("pm.toml", &point_mass_config(2, 2));
    let dir = s.path().join("run");
    let out = train(&config, &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "summary.md",
        "plots/cost.svg",
        "plots/cost.png",
        "plots/success.png",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    assert!(dir.join("renders/pilqr-seed3-start-1.gif").is_file());

    let out = run(&["eval", "-q", dir.to_str().unwrap(), "--rollouts", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("| pilqr | 3 | start-0 |"), "{table}");
    assert!(table.contains("| pilqr | 3 | start-1 |"), "{table}");

    let out = run(&["eval", dir.to_str().unwrap(), "--conditions", "test"]);
    assert_bad_input(&out, &["held-out conditions need a global policy", "mdgps"]);

    let out = run(&["eval", dir.to_str().unwrap(), "--rollouts", "1000000000"]);
    assert_bad_input(&out, &["--rollouts", "estimated", "of memory"]);

    // Every iteration's controller is kept: the last one evaluates exactly as the default, an
    // earlier one is available too, one that was never run is named.
    let eval_at = |k: &str| {
        let out = run(&[
            "eval",
            "-q",
            dir.to_str().unwrap(),
            "--rollouts",
            "3",
            "--iteration",
            k,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(eval_at("1"), table);
    let first = eval_at("0");
    assert!(first.contains("| pilqr | 3 | start-0 |"), "{first}");
    assert_ne!(first, table);
    assert!(dir.join("eval-train-it0.md").is_file());
    let out = run(&["eval", dir.to_str().unwrap(), "--iteration", "2"]);
    assert_bad_input(
        &out,
        &[
            "--iteration",
            "no controller saved for iteration 2",
            "saved: 0 to 1",
        ],
    );
    let out = run(&[
        "render",
        "-q",
        dir.to_str().unwrap(),
        "--iteration",
        "0",
        "--png",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("renders/pilqr-seed3-start-1-it0.png").is_file());

    // Provenance: the version, the commit and the command line that made the run.
    let provenance = fs::read_to_string(dir.join("provenance.jsonl")).unwrap();
    assert_eq!(provenance.lines().count(), 1, "{provenance}");
    let entry: serde_json::Value = serde_json::from_str(provenance.trim()).unwrap();
    assert_eq!(entry["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        entry["commit"].as_str().is_some_and(|c| !c.is_empty()),
        "{entry}"
    );
    let args: Vec<&str> = entry["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[1..3], ["train", "-q"]);
    assert!(args.contains(&config.to_str().unwrap()), "{args:?}");

    let out = run(&[
        "render",
        "-q",
        dir.to_str().unwrap(),
        "--condition",
        "start-1",
        "--png",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = fs::read(dir.join("renders/pilqr-seed3-start-1.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let out = run(&["render", dir.to_str().unwrap(), "--condition", "start-3"]);
    assert_bad_input(&out, &["--condition", "not a condition this run trained"]);
}
