use std::path::Path;

use pilqr_dynamics::DynamicsConfig;

use super::*;
use crate::config::config_file::ConfigError;

const BASE: &str =
    "name = \"pm\"\ntask = \"point-mass\"\niterations = 3\n\n[trajopt]\nsamples = 5\n";

fn check(text: &str) -> Result<RunConditions, ConfigError> {
    let file = ExperimentFile::parse(Path::new("e.toml"), text)?;
    let task = pilqr_tasks::task_by_name(&file.experiment.task)
        .map_err(|e| file.invalid("task", e.to_string()))?;
    file.validate(task.as_ref())
}

#[test]
fn a_minimal_experiment_gets_the_documented_defaults() {
    let file = ExperimentFile::parse(Path::new("e.toml"), BASE).unwrap();
    let e = &file.experiment;
    assert_eq!(e.methods, Method::TRAJOPT.to_vec());
    assert_eq!(e.family(), Family::Trajopt);
    assert_eq!(e.seeds, vec![0]);
    assert_eq!(e.samples(), 5);
    assert!(e.mdgps.is_none());
    assert_eq!(e.dynamics, DynamicsConfig::default());
    let conditions = check(BASE).unwrap();
    assert!(!conditions.train.is_empty() && conditions.test.is_empty());
}

#[test]
fn bad_values_name_their_field_and_line() {
    let cases: &[(&str, &str, usize)] = &[
        ("iterations = 0", "iterations", 3),
        ("iterations = -2", "iterations", 3),
        ("iterations = \"many\"", "iterations", 3),
    ];
    for (replacement, field, line) in cases {
        let text = BASE.replace("iterations = 3", replacement);
        let err = check(&text).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(*field), "{text}: {err}");
        assert_eq!(err.line, Some(*line), "{err}");
    }
    let err = check(&format!("{BASE}sampels = 4\n")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("trajopt.sampels"), "{err}");
    assert_eq!(err.line, Some(7));
    let err = check(&BASE.replace("samples = 5", "samples = 0")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("trajopt.samples"), "{err}");
    assert_eq!(err.line, Some(6));
}

#[test]
fn wrong_dimension_is_reported_on_its_field() {
    let err = check(&format!("{BASE}kl_step = [0.5, 0.5]\n")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("trajopt.kl_step"), "{err}");
    assert_eq!(err.line, Some(7));
    assert!(err.message.contains("horizon"), "{err}");
}

#[test]
fn unknown_task_method_and_condition_are_errors() {
    let err = check(&BASE.replace("point-mass", "juggler")).unwrap_err();
    assert_eq!(
        (err.field.as_deref(), err.line),
        (Some("task"), Some(2)),
        "{err}"
    );
    let err = check(&format!("methods = [\"pilqr\", \"ilqr\"]\n{BASE}")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("methods"), "{err}");
    let err = check(&format!("conditions = [\"nowhere\"]\n{BASE}")).unwrap_err();
    assert_eq!(
        (err.field.as_deref(), err.line),
        (Some("conditions"), Some(1)),
        "{err}"
    );
    let err = check(&format!("conditions = [99]\n{BASE}")).unwrap_err();
    assert!(err.message.contains("out of range"), "{err}");
    let err = check(&format!("seeds = []\n{BASE}")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("seeds"), "{err}");
    let err = check(&format!("methods = [\"pi2\", \"pi2\"]\n{BASE}")).unwrap_err();
    assert!(err.message.contains("twice"), "{err}");
    let err = check(&BASE.replace("\"pm\"", "\"../escape\"")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("name"), "{err}");
}

#[test]
fn algorithm_is_decided_by_methods() {
    let err = check(&format!("{BASE}algorithm = \"pi2\"\n")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("trajopt.algorithm"), "{err}");
    assert_eq!(err.line, Some(7));
}

#[test]
fn the_resolved_experiment_round_trips_through_toml() {
    let file = ExperimentFile::parse(Path::new("e.toml"), BASE).unwrap();
    let task = pilqr_tasks::task_by_name("point-mass").unwrap();
    let conditions = file.validate(task.as_ref()).unwrap();
    let resolved = file
        .experiment
        .resolved(task.as_ref(), &conditions, &[Method::Pi2], &[4]);
    let text = resolved.to_toml().unwrap();
    let back = ExperimentFile::parse(Path::new("config.toml"), &text).unwrap();
    assert_eq!(back.experiment, resolved);
    assert_eq!(back.validate(task.as_ref()).unwrap(), conditions);
}

const MDGPS: &str = "name = \"pm\"\ntask = \"point-mass\"\nalgorithm = \"mdgps\"\nlocal = \"pilqr\"\n\n[mdgps]\nsamples = 4\n";

#[test]
fn mdgps_experiments_fold_local_into_methods_and_hold_out_test_conditions() {
    let file = ExperimentFile::parse(Path::new("e.toml"), MDGPS).unwrap();
    let e = &file.experiment;
    assert_eq!(e.family(), Family::Mdgps);
    assert_eq!(e.methods, vec![Method::MdgpsPilqr]);
    assert_eq!((e.local, e.samples()), (None, 4));
    assert!(e.trajopt.is_none());
    let c = check(MDGPS).unwrap();
    let task = pilqr_tasks::task_by_name("point-mass").unwrap();
    let all = task.conditions();
    assert!(
        c.train
            .iter()
            .all(|&i| all[i].split == pilqr_core::Split::Train)
    );
    assert!(!c.test.is_empty());
    assert!(
        c.test
            .iter()
            .all(|&i| all[i].split == pilqr_core::Split::Test)
    );
    // Methods alone decide the family; the default methods are the three MDGPS ones.
    let only =
        "name = \"pm\"\ntask = \"point-mass\"\nmethods = [\"mdgps-pi2\", \"mdgps-lqr-flm\"]\n";
    let f = ExperimentFile::parse(Path::new("e.toml"), only).unwrap();
    assert_eq!(f.experiment.family(), Family::Mdgps);
    let all3 = "name = \"pm\"\ntask = \"point-mass\"\nalgorithm = \"mdgps\"\n";
    let f = ExperimentFile::parse(Path::new("e.toml"), all3).unwrap();
    assert_eq!(f.experiment.methods, Method::MDGPS.to_vec());
}

#[test]
fn mdgps_mistakes_name_their_field() {
    let cases: &[(&str, &str)] = &[
        ("local", "algorithm = \"trajopt\"\nlocal = \"pilqr\""),
        ("local", "local = \"pilqr\"\nmethods = [\"mdgps-pi2\"]"),
        ("methods", "algorithm = \"mdgps\"\nmethods = [\"pilqr\"]"),
        ("methods", "methods = [\"mdgps-pilqr\", \"pilqr\"]"),
        ("mdgps.sampels", "local = \"pilqr\"\n\n[mdgps]\nsampels = 4"),
        (
            "mdgps.s_step.batch_size",
            "local = \"pilqr\"\n\n[mdgps.s_step]\nbatch_size = 0",
        ),
        (
            "test_conditions",
            "local = \"pilqr\"\ntest_conditions = [\"start-0\"]",
        ),
        (
            "test_conditions",
            "local = \"pilqr\"\ntest_conditions = [\"nowhere\"]",
        ),
        ("trajopt", "local = \"pilqr\"\n\n[trajopt]\nsamples = 5"),
    ];
    for (field, tail) in cases {
        let text = format!("name = \"pm\"\ntask = \"point-mass\"\n{tail}\n");
        let err = check(&text).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(*field), "{text}: {err}");
        assert!(err.line.is_some(), "{err}");
    }
    // Both tables: the [mdgps] table makes it an MDGPS experiment, so [trajopt] is the error.
    let err = check(&format!("{BASE}\n[mdgps]\nsamples = 4\n")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("trajopt"), "{err}");
    let err = check(&format!(
        "algorithm = \"trajopt\"\n{BASE}\n[mdgps]\nsamples = 4\n"
    ))
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("mdgps"), "{err}");
    let err = check(&format!("test_conditions = [\"start-4\"]\n{BASE}")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("test_conditions"), "{err}");
}

#[test]
fn a_resolved_mdgps_experiment_round_trips_through_toml() {
    let file = ExperimentFile::parse(Path::new("e.toml"), MDGPS).unwrap();
    let task = pilqr_tasks::task_by_name("point-mass").unwrap();
    let conditions = file.validate(task.as_ref()).unwrap();
    let resolved = file.experiment.resolved(
        task.as_ref(),
        &conditions,
        &[Method::MdgpsPilqr, Method::MdgpsPi2],
        &[1, 2],
    );
    let text = resolved.to_toml().unwrap();
    assert!(text.contains("algorithm = \"mdgps\""), "{text}");
    assert!(!text.contains("[trajopt"), "{text}");
    let back = ExperimentFile::parse(Path::new("config.toml"), &text).unwrap();
    assert_eq!(back.experiment, resolved);
    assert_eq!(back.validate(task.as_ref()).unwrap(), conditions);
}

/// `BASE` with `methods` (top level) and `step_rule` (last, in `[trajopt]`) when given.
fn with_rule(methods: Option<&str>, rule: Option<&str>) -> String {
    let methods = methods.map_or(String::new(), |m| format!("methods = {m}\n"));
    let text = BASE.replace("iterations = 3\n", &format!("iterations = 3\n{methods}"));
    match rule {
        Some(r) => format!("{text}step_rule = \"{r}\"\n"),
        None => text,
    }
}

#[test]
fn an_explicit_step_rule_that_a_method_overrides_is_refused() {
    // The default methods include lqr-flm ("improvement") and lqr-flm-res ("res_percent"):
    // any explicit rule conflicts with one of them.
    for rule in ["const", "res_percent", "improvement"] {
        let text = with_rule(None, Some(rule));
        let err = check(&text).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("trajopt.step_rule"), "{err}");
        assert_eq!(err.line, Some(7), "{err}");
        assert!(
            err.message.contains("conflicts with method lqr-flm"),
            "{err}"
        );
    }
    // Left out: pilqr gets the default, the fixed-rule methods their own.
    check(&with_rule(None, None)).unwrap();
    // Consistent with every fixed-rule method run: accepted.
    check(&with_rule(
        Some("[\"pilqr\", \"lqr-flm\"]"),
        Some("improvement"),
    ))
    .unwrap();
    check(&with_rule(
        Some("[\"pilqr\", \"lqr-flm-res\"]"),
        Some("res_percent"),
    ))
    .unwrap();
    // `compare --methods` is checked too: the file's methods are fine, the run's are not.
    let text = with_rule(Some("[\"pilqr\", \"pi2\"]"), Some("const"));
    check(&text).unwrap();
    let file = ExperimentFile::parse(Path::new("e.toml"), &text).unwrap();
    file.check_step_rule(&[Method::Pilqr, Method::Pi2]).unwrap();
    let err = file
        .check_step_rule(&[Method::Pilqr, Method::LqrFlmRes])
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("trajopt.step_rule"), "{err}");
    assert!(err.message.contains("lqr-flm-res"), "{err}");
}

#[test]
fn a_resolved_run_of_every_method_validates_again() {
    let task = pilqr_tasks::task_by_name("point-mass").unwrap();
    // The default rule is left out of config.toml, so lqr-flm's fixed rule does not conflict.
    let file = ExperimentFile::parse(Path::new("e.toml"), BASE).unwrap();
    let conditions = file.validate(task.as_ref()).unwrap();
    let resolved = file
        .experiment
        .resolved(task.as_ref(), &conditions, &Method::TRAJOPT, &[0, 1]);
    let text = resolved.to_toml().unwrap();
    assert!(!text.contains("step_rule ="), "{text}");
    let back = ExperimentFile::parse(Path::new("config.toml"), &text).unwrap();
    assert_eq!(back.experiment, resolved);
    assert_eq!(back.validate(task.as_ref()).unwrap(), conditions);
    // A rule other than the default is kept.
    let methods = [Method::Pilqr, Method::LqrFlm];
    let text = with_rule(Some("[\"pilqr\", \"lqr-flm\"]"), Some("improvement"));
    let file = ExperimentFile::parse(Path::new("e.toml"), &text).unwrap();
    let conditions = file.validate(task.as_ref()).unwrap();
    let resolved = file
        .experiment
        .resolved(task.as_ref(), &conditions, &methods, &[0]);
    let text = resolved.to_toml().unwrap();
    assert!(text.contains("step_rule = \"improvement\""), "{text}");
    let back = ExperimentFile::parse(Path::new("config.toml"), &text).unwrap();
    assert_eq!(back.experiment, resolved);
    back.validate(task.as_ref()).unwrap();
}
