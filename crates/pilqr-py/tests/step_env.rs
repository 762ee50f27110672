//! `StepEnv` against the Rust sampler: replaying a sampled trajectory's actions one step at a
//! time reproduces its states bit for bit, the rewards are minus its per-step costs, and the
//! success test at the end is the task's on that trajectory.

use pilqr_core::{LinearGaussianPolicy, RunSeed, SampleRequest, Task, TaskSeed, sample_policy};
use pilqr_py::{EnvError, StepEnv, trajectory_cost};

/// A zero-mean Gaussian policy with standard deviation `std` per action.
fn gaussian(task: &dyn Task, std: f64) -> LinearGaussianPolicy {
    let d = task.dims();
    LinearGaussianPolicy::zero_mean(d.horizon, d.dx, d.du, std).unwrap()
}

/// Sample two trajectories of `name` from `condition` (torques of about half their limits),
/// replay each through a `StepEnv` and compare.
fn replay_matches_the_sampler(name: &str, condition: usize) {
    let mut task = pilqr_tasks::task_by_name(name).unwrap();
    let d = task.dims();
    let limit = task.action_limits().unwrap()[0];
    let policy = gaussian(task.as_ref(), 0.5 * limit);
    let request = SampleRequest {
        seed: RunSeed::new(5),
        iteration: 1,
        condition,
        count: 2,
    };
    let batch = sample_policy(task.as_mut(), &policy, None, request).unwrap();
    let mut env = StepEnv::by_name(name).unwrap();
    for i in 0..batch.len() {
        env.reset(condition, TaskSeed::new(0)).unwrap();
        assert_eq!(env.state(), batch.x(i, 0), "{name}: initial state");
        for t in 0..d.horizon {
            let outcome = env.step(batch.u(i, t)).unwrap();
            assert_eq!(
                outcome.reward,
                -batch.cost(i, t),
                "{name}: reward of step {t}"
            );
            assert_eq!(outcome.truncated, t + 1 == d.horizon, "{name}: step {t}");
            if t + 1 < d.horizon {
                assert_eq!(
                    env.state(),
                    batch.x(i, t + 1),
                    "{name}: state after step {t}"
                );
                assert!(outcome.success.is_none());
            } else {
                let expected = task.success(condition, batch.trajectory(i)).unwrap();
                assert_eq!(outcome.success, Some(expected), "{name}: success");
            }
        }
        assert_eq!(
            env.trajectory().x,
            batch.trajectory(i).x,
            "{name}: recorded states"
        );
        assert_eq!(
            env.trajectory().u,
            batch.trajectory(i).u,
            "{name}: recorded actions"
        );
        let after = env.step(batch.u(i, 0)).unwrap_err();
        assert!(matches!(after, EnvError::Episode(_)), "{name}: {after}");
    }
}

#[test]
fn point_mass_replay_matches_the_sampler() {
    replay_matches_the_sampler("point-mass", 1);
}

#[test]
fn reacher_replay_matches_the_sampler() {
    replay_matches_the_sampler("reacher", 2);
}

#[test]
fn gripper_pusher_replay_matches_the_sampler() {
    replay_matches_the_sampler("gripper-pusher", 0);
}

#[test]
fn trajectory_cost_is_the_samplers_cost() {
    let mut task = pilqr_tasks::task_by_name("reacher").unwrap();
    let d = task.dims();
    let policy = gaussian(task.as_ref(), 0.3);
    let request = SampleRequest {
        seed: RunSeed::new(9),
        iteration: 0,
        condition: 1,
        count: 1,
    };
    let batch = sample_policy(task.as_mut(), &policy, None, request).unwrap();
    let traj = batch.trajectory(0);
    let costs = trajectory_cost(
        "reacher",
        1,
        (traj.x, [d.horizon, d.dx]),
        (traj.u, [d.horizon, d.du]),
    )
    .unwrap();
    assert_eq!(costs, batch.costs(0));
    let err = trajectory_cost(
        "reacher",
        1,
        (traj.x, [d.horizon * d.dx, 1]),
        (traj.u, [d.horizon, d.du]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "states x has shape [{}, 1], expected [{}, {}]",
            d.horizon * d.dx,
            d.horizon,
            d.dx
        )
    );
}

#[test]
fn invalid_actions_leave_the_episode_unchanged() {
    let mut env = StepEnv::by_name("point-mass").unwrap();
    let before_reset = env.step(&[0.0, 0.0]).unwrap_err();
    assert!(
        matches!(before_reset, EnvError::Episode(_)),
        "{before_reset}"
    );
    env.reset(0, TaskSeed::new(3)).unwrap();
    let first = env.step(&[0.3, -0.2]).unwrap();
    let state = env.state().to_vec();
    let short = env.step(&[0.1]).unwrap_err();
    assert_eq!(
        short.to_string(),
        "step 1: action has 1 entries, the task expects 2"
    );
    let nan = env.step(&[f64::NAN, 0.0]).unwrap_err();
    assert!(matches!(nan, EnvError::Action { step: 1, .. }), "{nan}");
    assert_eq!(env.state(), state.as_slice());
    assert_eq!(env.steps(), Some(1));
    // The same episode without the rejected calls.
    let second = env.step(&[0.1, 0.1]).unwrap();
    let mut clean = StepEnv::by_name("point-mass").unwrap();
    clean.reset(0, TaskSeed::new(3)).unwrap();
    assert_eq!(clean.step(&[0.3, -0.2]).unwrap(), first);
    assert_eq!(clean.step(&[0.1, 0.1]).unwrap(), second);
    assert_eq!(clean.state(), env.state());
    let unknown = env.reset(99, TaskSeed::new(0)).unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "condition 99 does not exist (the task has 6)"
    );
}
