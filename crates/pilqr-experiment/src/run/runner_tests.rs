//! Tests of the runner: resume, controllers, digests, and jobs side by side, with a fake
//! trainer (no physics).

use super::*;
use crate::run::metrics_log::{TimeSplit, files_without_times};
use crate::test_dir::TestDir;
use std::cell::Cell;

/// A deterministic stand-in for an algorithm: a state that evolves by a hash and can be
/// told to fail at a given step (simulating a process killed mid-iteration).
struct Fake {
    fail_at_step: Cell<Option<usize>>,
    steps: Cell<usize>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct FakeState {
    done: usize,
    x: u64,
}

impl Trainer for Fake {
    type State = FakeState;
    const KIND: &'static str = "fake/1";
    type Controller = u64;
    const CONTROLLER_KIND: &'static str = "fake-controller/1";

    fn controller(s: &FakeState) -> u64 {
        s.x
    }

    fn start(&self, method: Method, seed: u64) -> Result<FakeState, CliError> {
        Ok(FakeState {
            done: 0,
            x: seed.wrapping_mul(31) ^ method.name().len() as u64,
        })
    }

    fn completed(&self, s: &FakeState) -> usize {
        s.done
    }

    fn step(&self, job: Job, s: &mut FakeState, _: &Progress) -> Result<Vec<MetricsRow>, CliError> {
        let k = self.steps.get();
        self.steps.set(k + 1);
        if self.fail_at_step.get() == Some(k) {
            return Err(CliError::Run {
                context: "fake".into(),
                message: "killed".into(),
            });
        }
        s.x =
            s.x.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        s.done += 1;
        Ok((0..2)
            .map(|c| MetricsRow {
                method: job.method.name().into(),
                seed: job.seed,
                iteration: s.done - 1,
                condition: c,
                condition_name: format!("c{c}"),
                samples: 5 * s.done,
                mean_cost: (s.x >> 11) as f64 / (1u64 << 53) as f64,
                std_cost: 0.0,
                success_rate: 0.0,
                kl: None,
                eta: None,
                step_mult: None,
                residual_ratio: None,
                time: TimeSplit {
                    physics: k as f64,
                    ..TimeSplit::default()
                },
                split: pilqr_core::Split::Train,
                metric: None,
            })
            .collect())
    }

    fn rollouts_per_iteration(&self) -> usize {
        10
    }
}

fn fake(fail_at_step: Option<usize>) -> Fake {
    Fake {
        fail_at_step: Cell::new(fail_at_step),
        steps: Cell::new(0),
    }
}

const JOB: Job = Job {
    method: Method::Pilqr,
    seed: 0,
};

#[test]
fn an_interrupted_run_resumes_to_the_uninterrupted_result() {
    let tmp = TestDir::new("runner");
    let whole = RunDir::create(&tmp.path().join("whole")).unwrap();
    let reference = run_jobs(
        &mut [fake(None)],
        &whole,
        7,
        &[JOB],
        5,
        OutputMode::Quiet,
        false,
    )
    .unwrap();
    assert_eq!(reference.len(), 10);

    let cut = RunDir::create(&tmp.path().join("cut")).unwrap();
    let err = run_jobs(
        &mut [fake(Some(3))],
        &cut,
        7,
        &[JOB],
        5,
        OutputMode::Quiet,
        false,
    );
    assert!(err.is_err());
    // Simulate the rows of an iteration written just before a kill, without its checkpoint.
    let log = MetricsLog::in_dir(cut.root());
    let mut orphan = reference[6].clone();
    orphan.mean_cost = -1.0;
    log.append(&[orphan]).unwrap();

    let resumed = run_jobs(
        &mut [fake(None)],
        &cut,
        7,
        &[JOB],
        5,
        OutputMode::Quiet,
        true,
    )
    .unwrap();
    let strip = |rows: &[MetricsRow]| rows.iter().map(|r| r.without_times()).collect::<Vec<_>>();
    assert_eq!(strip(&resumed), strip(&reference));
    let a: Saved<FakeState> =
        checkpoint::load(&whole.checkpoint_path("pilqr", 0), "fake/1").unwrap();
    let b: Saved<FakeState> = checkpoint::load(&cut.checkpoint_path("pilqr", 0), "fake/1").unwrap();
    assert_eq!(a.state, b.state);
}

#[test]
fn every_iteration_keeps_its_controller() {
    let tmp = TestDir::new("runner-controllers");
    let dir = RunDir::create(&tmp.path().join("r")).unwrap();
    let mut f = [fake(None)];
    run_jobs(&mut f, &dir, 7, &[JOB], 3, OutputMode::Quiet, false).unwrap();
    // The fake's controller is its state's hash, which evolves by the same recurrence.
    let mut x = f[0].start(JOB.method, JOB.seed).unwrap().x;
    for it in 0..3 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let saved = load_controller::<Fake>(&dir, JOB, 7, it).unwrap();
        assert_eq!(saved, Some(x), "iteration {it}");
    }
    assert_eq!(load_controller::<Fake>(&dir, JOB, 7, 3).unwrap(), None);
    let err = load_controller::<Fake>(&dir, JOB, 8, 0).unwrap_err();
    assert!(err.to_string().contains("config.toml changed"), "{err}");
}

#[test]
fn resume_refuses_a_changed_config() {
    let tmp = TestDir::new("runner-digest");
    let dir = RunDir::create(&tmp.path().join("r")).unwrap();
    run_jobs(
        &mut [fake(Some(1))],
        &dir,
        1,
        &[JOB],
        3,
        OutputMode::Quiet,
        false,
    )
    .unwrap_err();
    let err = run_jobs(
        &mut [fake(None)],
        &dir,
        2,
        &[JOB],
        3,
        OutputMode::Quiet,
        true,
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("config.toml changed"), "{err}");
}

#[test]
fn the_iteration_line_keeps_held_out_conditions_apart() {
    let row = |split, cost: f64, success: f64, metric| MetricsRow {
        method: "mdgps-pilqr".into(),
        seed: 0,
        iteration: 0,
        condition: 0,
        condition_name: "c".into(),
        samples: 10,
        mean_cost: cost,
        std_cost: 0.0,
        success_rate: success,
        kl: None,
        eta: None,
        step_mult: None,
        residual_ratio: None,
        time: TimeSplit::default(),
        split,
        metric: Some(metric),
    };
    let rows = [
        row(Split::Train, 2.0, 1.0, 0.01),
        row(Split::Train, 4.0, 0.0, 0.2),
        row(Split::Test, 100.0, 1.0, 0.02),
    ];
    assert_eq!(
        iteration_summary(&rows),
        "cost 3.0000  success 50%  samples/cond 10  held-out success 100%  metric 0.0200"
    );
    assert_eq!(
        iteration_summary(&rows[..1]),
        "cost 2.0000  success 100%  samples/cond 10"
    );
}

#[test]
fn a_finished_run_resumes_to_a_no_op() {
    let tmp = TestDir::new("runner-done");
    let dir = RunDir::create(&tmp.path().join("r")).unwrap();
    let rows = run_jobs(
        &mut [fake(None)],
        &dir,
        1,
        &[JOB],
        2,
        OutputMode::Quiet,
        false,
    )
    .unwrap();
    let mut f = [fake(Some(0))];
    let again = run_jobs(&mut f, &dir, 1, &[JOB], 2, OutputMode::Quiet, true).unwrap();
    assert_eq!(again, rows);
    assert_eq!(f[0].steps.get(), 0);
}

/// Two methods × three seeds, methods outermost (as sessions order them).
fn six_jobs() -> Vec<Job> {
    [Method::Pilqr, Method::LqrFlm]
        .into_iter()
        .flat_map(|method| (0..3).map(move |seed| Job { method, seed }))
        .collect()
}

#[test]
fn jobs_side_by_side_write_the_files_of_jobs_one_after_another() {
    let tmp = TestDir::new("runner-side-by-side");
    let jobs = six_jobs();
    let one = RunDir::create(&tmp.path().join("one")).unwrap();
    let rows = run_jobs(
        &mut [fake(None)],
        &one,
        7,
        &jobs,
        4,
        OutputMode::Quiet,
        false,
    )
    .unwrap();
    // One after another: methods, then seeds, then iterations, each iteration's rows in
    // the trainer's order.
    let order: Vec<(String, u64, usize, usize)> = rows
        .iter()
        .map(|r| (r.method.clone(), r.seed, r.iteration, r.condition))
        .collect();
    let expected: Vec<(String, u64, usize, usize)> = jobs
        .iter()
        .flat_map(|j| {
            (0..4).flat_map(move |it| (0..2).map(move |c| (j.method.name().into(), j.seed, it, c)))
        })
        .collect();
    assert_eq!(order, expected);
    for workers in [2, 3, 8] {
        let dir = RunDir::create(&tmp.path().join(format!("w{workers}"))).unwrap();
        let mut trainers: Vec<Fake> = (0..workers).map(|_| fake(None)).collect();
        let got = run_jobs(&mut trainers, &dir, 7, &jobs, 4, OutputMode::Quiet, false).unwrap();
        let strip =
            |rows: &[MetricsRow]| rows.iter().map(|r| r.without_times()).collect::<Vec<_>>();
        assert_eq!(strip(&got), strip(&rows), "{workers} workers");
        assert_eq!(
            files_without_times(dir.root()),
            files_without_times(one.root())
        );
        let steps: usize = trainers.iter().map(|t| t.steps.get()).sum();
        assert_eq!(steps, jobs.len() * 4, "{workers} workers");
        for job in &jobs {
            let ckpt = |d: &RunDir| std::fs::read(d.checkpoint_path(job.method.name(), job.seed));
            assert_eq!(ckpt(&dir).unwrap(), ckpt(&one).unwrap(), "{}", job.label());
        }
    }
}

#[test]
fn a_failing_job_stops_the_others_and_resume_finishes_them_all() {
    let tmp = TestDir::new("runner-side-by-side-fail");
    let jobs = six_jobs();
    let whole = RunDir::create(&tmp.path().join("whole")).unwrap();
    let reference = run_jobs(
        &mut [fake(None)],
        &whole,
        7,
        &jobs,
        4,
        OutputMode::Quiet,
        false,
    )
    .unwrap();
    let cut = RunDir::create(&tmp.path().join("cut")).unwrap();
    // The second worker fails at its sixth step, whichever job that is.
    let mut trainers = [fake(None), fake(Some(5))];
    let err = run_jobs(&mut trainers, &cut, 7, &jobs, 4, OutputMode::Quiet, false).unwrap_err();
    assert!(err.to_string().contains("killed"), "{err}");
    let done = MetricsLog::in_dir(cut.root()).read().unwrap().len();
    assert!(done < reference.len(), "the failure did not stop the run");
    let resumed = run_jobs(
        &mut [fake(None), fake(None)],
        &cut,
        7,
        &jobs,
        4,
        OutputMode::Quiet,
        true,
    )
    .unwrap();
    let strip = |rows: &[MetricsRow]| rows.iter().map(|r| r.without_times()).collect::<Vec<_>>();
    assert_eq!(strip(&resumed), strip(&reference));
    assert_eq!(
        files_without_times(cut.root()),
        files_without_times(whole.root())
    );
}
