//! MDGPS through the `pilqr` command on a tiny point-mass experiment: `compare` of the three
//! MDGPS methods writes held-out rows, plots and renders of the network; `eval` and `render`
//! work on held-out conditions; mixing families on the command line is a bad-input error.

#![cfg(feature = "mdgps")]

mod common;

use std::fs;

use common::{Scratch, last_stderr_line, point_mass_mdgps_config, run};
use pilqr::core::Split;
use pilqr::run::metrics_log::read_jsonl;

#[test]
fn an_mdgps_compare_evaluates_the_network_on_held_out_conditions() {
    let s = Scratch::new("mdgps");
    let config = s.write("pm.toml", &point_mass_mdgps_config("all", 2));
    let dir = s.path().join("run");
    let out = run(&[
        "compare",
        "-q",
        "--config",
        config.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_jsonl(&dir.join("metrics.jsonl")).unwrap();
    // 3 methods × 2 iterations × (2 training + 1 held-out) rows.
    assert_eq!(rows.len(), 18);
    for method in ["mdgps-pilqr", "mdgps-lqr-flm", "mdgps-pi2"] {
        let test: Vec<_> = rows
            .iter()
            .filter(|r| r.method == method && r.split == Split::Test)
            .collect();
        assert_eq!(test.len(), 2, "{method}");
        assert!(test.iter().all(|r| r.condition_name == "start-4"));
        assert!(test.iter().all(|r| r.metric.is_some_and(f64::is_finite)));
        let train: Vec<_> = rows
            .iter()
            .filter(|r| r.method == method && r.split == Split::Train)
            .collect();
        assert!(train.iter().all(|r| r.kl.is_some() && r.time.nn > 0.0));
    }
    let csv = fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("split,success_metric")
    );
    assert!(csv.contains(",test,"), "{csv}");
    for f in [
        "plots/cost.svg",
        "plots/test-metric.svg",
        "plots/test-success.png",
        "checkpoints/mdgps-pi2-seed3.ckpt",
        "renders/mdgps-pilqr-seed3-start-4.gif",
        "renders/mdgps-lqr-flm-seed3-start-0.gif",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let summary = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("held-out metric"), "{summary}");

    let out = run(&[
        "eval",
        "-q",
        dir.to_str().unwrap(),
        "--conditions",
        "test",
        "--rollouts",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("| mdgps-pi2 | 3 | start-4 |"), "{table}");

    let out = run(&[
        "render",
        "-q",
        dir.to_str().unwrap(),
        "--condition",
        "start-4",
        "--png",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = fs::read(dir.join("renders/mdgps-lqr-flm-seed3-start-4.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");

    // A trajectory-optimisation method on an MDGPS experiment.
    let out = run(&[
        "compare",
        "-q",
        "--config",
        config.to_str().unwrap(),
        "--methods",
        "pilqr",
        "--out",
        s.path().join("other").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let line = last_stderr_line(&out);
    assert!(
        line.contains("--methods") && line.contains("mdgps-pilqr"),
        "{line}"
    );
    assert!(!s.path().join("other").exists());
}
