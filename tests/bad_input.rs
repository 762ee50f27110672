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

    // A changed config is detected rather than silently mixed with the old checkpoints.
    fs::write(&ckpt, &original).unwrap();
    let cfg = dir.join("config.toml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(&cfg, text.replace("samples = 20", "samples = 21")).unwrap();
    let out = run(&["resume", "-q", dir.to_str().unwrap()]);
    assert_bad_input(&out, &["config.toml changed"]);
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
