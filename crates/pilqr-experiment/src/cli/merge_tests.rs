use super::*;
use crate::cli::{Cli, run_with};
use crate::run::metrics_log::files_without_times;
use crate::test_dir::TestDir;
use clap::Parser;
use std::fs;

const CONFIG: &str = "name = \"merge\"\ntask = \"point-mass\"\nconditions = [0, 1]\n\
                      methods = [\"pilqr\", \"pi2\"]\nseeds = [0, 1]\niterations = 2\n\
                      [trajopt]\nsamples = 5\n";

fn pilqr(args: &[&str]) -> Result<(), CliError> {
    let mut all = vec!["pilqr", "-q"];
    all.extend(args);
    run_with(Cli::parse_from(all), &TaskRegistry::builtin())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir`'s `checkpoints/` (relative path, bytes), sorted.
fn saved_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    let root = dir.join("checkpoints");
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// The summary without its closing sentence (the wall time, or the merge's note) and without
/// the per-method time table's figures, which are wall times.
fn summary_without_times(dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(dir.join("summary.md")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with("Wall time") && !l.starts_with("Merged by"))
        .map(|l| {
            // Times are printed with a decimal point and a unit or share; keep only the words.
            l.split_whitespace()
                .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn a_merge_of_single_job_runs_equals_one_compare_of_all_the_jobs() {
    let tmp = TestDir::new("merge");
    let config = tmp.path().join("merge.toml");
    fs::write(&config, CONFIG).unwrap();
    let whole = tmp.path().join("whole");
    pilqr(&[
        "compare",
        "--config",
        s(&config),
        "--out",
        s(&whole),
        "-j",
        "1",
    ])
    .unwrap();

    // One run per job, as remote workers would make them; the last two jobs in one run.
    let mut parts = Vec::new();
    for (method, seed) in [("pilqr", "0"), ("pilqr", "1")] {
        let out = tmp.path().join(format!("{method}-seed{seed}"));
        pilqr(&[
            "compare",
            "--config",
            s(&config),
            "--methods",
            method,
            "--seeds",
            seed,
            "--out",
            s(&out),
        ])
        .unwrap();
        parts.push(out);
    }
    let pi2 = tmp.path().join("pi2");
    pilqr(&[
        "compare",
        "--config",
        s(&config),
        "--methods",
        "pi2",
        "--out",
        s(&pi2),
    ])
    .unwrap();
    parts.push(pi2);

    let merged = tmp.path().join("merged");
    let mut args = vec!["merge", "--out", s(&merged)];
    args.extend(parts.iter().map(|p| s(p)));
    pilqr(&args).unwrap();

    let expected = files_without_times(&whole);
    assert!(expected.len() > 10, "{expected:?}");
    assert_eq!(files_without_times(&merged), expected);
    assert_eq!(
        fs::read_to_string(merged.join("config.toml")).unwrap(),
        fs::read_to_string(whole.join("config.toml")).unwrap()
    );
    let saved = saved_files(&whole);
    // 4 jobs: a checkpoint and 2 controllers each.
    assert_eq!(saved.len(), 4 * 3, "{:?}", saved.iter().map(|f| &f.0));
    assert!(saved_files(&merged) == saved, "saved files differ");
    assert_eq!(
        summary_without_times(&merged),
        summary_without_times(&whole)
    );
    for plot in ["cost.svg", "success.svg"] {
        let read = |d: &Path| fs::read(d.join("plots").join(plot)).unwrap();
        assert!(read(&merged) == read(&whole), "{plot} differs");
    }
    // The merged run is a run like any other: complete for resume, its files readable.
    let before = fs::read(merged.join("metrics.jsonl")).unwrap();
    pilqr(&["resume", s(&merged)]).unwrap();
    assert_eq!(fs::read(merged.join("metrics.jsonl")).unwrap(), before);
    pilqr(&["eval", s(&merged), "--rollouts", "1"]).unwrap();

    // Without --force an existing run is not replaced; with it, the merge is the same again.
    let err = pilqr(&args).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    let mut forced = args.clone();
    forced.push("--force");
    pilqr(&forced).unwrap();
    assert_eq!(files_without_times(&merged), expected);
}

#[test]
fn a_merge_refuses_missing_duplicate_unfinished_and_foreign_jobs() {
    let tmp = TestDir::new("merge-refuses");
    let config = tmp.path().join("merge.toml");
    fs::write(&config, CONFIG).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec!["compare", "--config", s(&config), "--out", s(&out)];
        args.extend(extra);
        pilqr(&args).unwrap();
        out
    };
    let a = run("a", &["--methods", "pilqr", "--seeds", "0"]);
    let b = run("b", &["--methods", "pi2", "--seeds", "1"]);
    let short = run(
        "short",
        &["--methods", "pilqr", "--seeds", "1", "--iterations", "1"],
    );
    let other = run(
        "other",
        &["--methods", "pilqr", "--seeds", "1", "--samples", "6"],
    );
    let out = tmp.path().join("merged");
    let merge = |dirs: &[&Path]| {
        let mut args = vec!["merge", "--out", s(&out)];
        args.extend(dirs.iter().map(|p| s(p)));
        pilqr(&args).unwrap_err()
    };
    let both = run("both", &["--methods", "pilqr,pi2", "--seeds", "0"]);
    let cases: [(&[&Path], &str); 5] = [
        (&[&a, &b], "no directory holds job pilqr/seed1"),
        (&[&a, &a], "is given twice"),
        (&[&both, &a], "which"),
        (&[&a, &other], "differs from"),
        (&[&a, &short], "differs from"),
    ];
    for (dirs, expected) in cases {
        let err = merge(dirs);
        assert_eq!(err.exit_code(), 2, "{err}");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(!out.exists(), "{err}: left {}", out.display());
    }
    // A run shorter than the others is a different experiment (its iteration count differs);
    // one whose checkpoint stopped before its last iteration (as an interrupted run's does:
    // here the short run's checkpoint, the fingerprint leaving the count out) is unfinished.
    let interrupted = run("interrupted", &["--methods", "pilqr", "--seeds", "1"]);
    let checkpoint = Path::new("checkpoints").join("pilqr-seed1.ckpt");
    fs::copy(short.join(&checkpoint), interrupted.join(&checkpoint)).unwrap();
    let c = run("c", &["--methods", "pi2", "--seeds", "0"]);
    let err = merge(&[&a, &interrupted, &c, &b]);
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(err.to_string().contains("has done 1 of 2"), "{err}");
    assert!(err.to_string().contains("pilqr resume"), "{err}");
    assert!(!out.exists());
}
