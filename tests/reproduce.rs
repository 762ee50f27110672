//! `pilqr reproduce` end to end on the smoke plan, and every shipped experiment and plan
//! validating against its task.

mod common;

use pilqr::cli::session::open_task;
use pilqr::config::experiment::ExperimentFile;
use pilqr::config::reproduce_plan::ReproducePlan;

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn every_shipped_experiment_validates_against_its_task() {
    let mut n = 0;
    for entry in std::fs::read_dir(repo("experiments")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".toml") {
            continue;
        }
        if name.starts_with("reproduce") {
            let plan = ReproducePlan::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!plan.entries.is_empty());
            continue;
        }
        let file = ExperimentFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let task = open_task(&file, &pilqr::experiment::TaskRegistry::builtin())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let conditions = file
            .validate(task.as_ref())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!conditions.train.is_empty(), "{name}");
        n += 1;
    }
    assert!(n >= 8, "only {n} experiments found");
}

#[test]
fn reproduce_runs_the_smoke_plan_and_writes_the_results_page() {
    let tmp = common::Scratch::new("reproduce");
    let out = tmp.path().join("out");
    let run = |extra: &[&str]| {
        common::pilqr()
            .args(["-q", "reproduce", "--plan"])
            .arg(repo("experiments/reproduce_smoke.toml"))
            .arg("--runs")
            .arg(out.join("runs"))
            .arg("--results")
            .arg(out.join("docs"))
            .args(extra)
            .output()
            .unwrap()
    };
    let first = run(&[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let page = std::fs::read_to_string(out.join("docs/results.md")).unwrap();
    for needle in [
        "## point_mass_smoke",
        "## point_mass_mdgps_smoke",
        "| pilqr |",
        "| mdgps-pi2 |",
        "held-out success",
        "![cost](results/point_mass_smoke/cost.png)",
        "| lqr-flm | ![lqr-flm](results/point_mass_smoke/",
        "Pairwise differences of the means",
        "| pilqr − lqr-flm |",
        "**What the intervals support** (generated from this run):",
        "- Final cost: ",
        // The point mass has no physics engine: no physics ratio.
        "| — |",
    ] {
        assert!(page.contains(needle), "missing {needle:?} in\n{page}");
    }
    assert!(out.join("docs/results/point_mass_smoke/cost.svg").is_file());
    // A second invocation resumes the finished runs: same tables, nothing retrained.
    let second = run(&[]);
    assert!(second.status.success());
    let again = std::fs::read_to_string(out.join("docs/results.md")).unwrap();
    let tables = |p: &str| -> Vec<String> {
        p.lines()
            .filter(|l| l.starts_with("| pilqr |") || l.starts_with("| mdgps-pilqr |"))
            .map(|l| l.split(" | ").take(7).collect::<Vec<_>>().join("|"))
            .collect()
    };
    assert_eq!(tables(&page), tables(&again));
}
