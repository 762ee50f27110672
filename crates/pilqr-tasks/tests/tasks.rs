//! The `Task` contract of every task in the suite, through the public interface: declared
//! dimensions, exact reset, bit-identical sampling for any thread count, typed errors for
//! invalid actions that leave the world unchanged. (Physics sanity: `tests/physics.rs`.)

use pilqr_core::{
    LinearGaussianPolicy, RunSeed, SampleBatch, SampleRequest, Task, TaskError, sample_policy,
};
use pilqr_tasks::{TASK_NAMES, task_by_name};

/// A zero-mean Gaussian policy with standard deviation `std` per action.
fn gaussian(task: &dyn Task, std: f64) -> LinearGaussianPolicy {
    let d = task.dims();
    LinearGaussianPolicy::zero_mean(d.horizon, d.dx, d.du, std).unwrap()
}

fn request(condition: usize, count: usize) -> SampleRequest {
    SampleRequest {
        seed: RunSeed::new(11),
        iteration: 2,
        condition,
        count,
    }
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn state_of(task: &dyn Task) -> Vec<f64> {
    let mut x = vec![0.0; task.dims().dx];
    task.state(&mut x);
    x
}

#[test]
fn every_task_matches_its_declared_dimensions() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        // Every task runs T = 100 steps of 0.05 s, except gym's reacher: 50 steps of 0.02 s.
        let (horizon, dt) = if *name == "reacher" {
            (50, 0.02)
        } else {
            (100, 0.05)
        };
        assert_eq!(d.horizon, horizon, "{name}");
        assert!((d.dt - dt).abs() < 1e-9, "{name}");
        let layout = task.layout();
        assert_eq!(layout.joint_pos.len(), d.du, "{name}");
        assert!(layout.joint_vel.end <= d.dx, "{name}");
        assert!(!task.conditions().is_empty());
        for c in 0..task.conditions().len() {
            task.reset(c).unwrap();
            let x = state_of(task.as_ref());
            let mut o = vec![0.0; d.dobs];
            task.observation(&mut o);
            assert!(
                x.iter().chain(&o).all(|v| v.is_finite()),
                "{name} condition {c}"
            );
            // The default cost evaluates on a trajectory of the declared size.
            let xs: Vec<f64> = x.iter().copied().cycle().take(d.horizon * d.dx).collect();
            let us = vec![0.0; d.horizon * d.du];
            let traj = pilqr_core::TrajectoryRef::new(d.horizon, d.dx, d.du, &xs, &us).unwrap();
            let cost = task.cost(c).unwrap().values(traj).unwrap();
            assert!(cost.iter().all(|v| v.is_finite() && *v >= 0.0), "{name}");
            task.success(c, traj).unwrap();
        }
        assert!(matches!(
            task.reset(task.conditions().len()),
            Err(TaskError::UnknownCondition { .. })
        ));
    }
}

#[test]
fn unknown_task_names_list_the_known_ones() {
    let err = task_by_name("juggler").err().unwrap().to_string();
    assert!(
        err.contains("gripper-pusher") && err.contains("juggler"),
        "{err}"
    );
}

#[test]
fn sampling_is_bit_identical_across_runs_and_thread_counts() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let policy = gaussian(task.as_ref(), 0.3);
        let last = task.conditions().len() - 1;
        for c in [0, last] {
            let run = |threads: usize, task: &mut Box<dyn Task>| -> SampleBatch {
                in_pool(threads, || {
                    sample_policy(task.as_mut(), &policy, None, request(c, 5)).unwrap()
                })
            };
            let one = run(1, &mut task);
            let two = run(2, &mut task);
            let again = run(2, &mut task);
            // A freshly built task (as in another process) gives the same batch too.
            let fresh = run(2, &mut task_by_name(name).unwrap());
            assert_eq!(one, two, "{name} condition {c}: 1 vs 2 threads");
            assert_eq!(two, again, "{name} condition {c}: run to run");
            assert_eq!(one, fresh, "{name} condition {c}: fresh task");
            // Different samples really differ (the noise streams are independent).
            let mid = task.dims().horizon / 2;
            assert_ne!(one.x(0, mid), one.x(1, mid), "{name}");
        }
    }
}

/// States after each of `actions` (step-major, `dU` per step) from a reset to `c`.
fn states_after(task: &mut dyn Task, c: usize, actions: &[f64]) -> Vec<f64> {
    task.reset(c).unwrap();
    let mut xs = state_of(task);
    for u in actions.chunks(task.dims().du) {
        task.step(u).unwrap();
        xs.extend(state_of(task));
    }
    xs
}

#[test]
fn reset_restores_the_initial_state_exactly() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        let actions: Vec<f64> = (0..20 * d.du)
            .map(|k| ((k * 7 % 11) as f64 - 5.0) * 0.1)
            .collect();
        let conditions = task.conditions().len();
        for c in 0..conditions {
            // Reset, run, reset: the same initial state, observation and trajectory — also
            // after an episode of another condition, and as a freshly built task's.
            let first = states_after(task.as_mut(), c, &actions);
            let mut o_first = vec![0.0; d.dobs];
            task.reset(c).unwrap();
            task.observation(&mut o_first);
            let other = (c + 1) % conditions;
            states_after(task.as_mut(), other, &actions);
            let second = states_after(task.as_mut(), c, &actions);
            let mut o_second = vec![0.0; d.dobs];
            task.reset(c).unwrap();
            task.observation(&mut o_second);
            let fresh = states_after(task_by_name(name).unwrap().as_mut(), c, &actions);
            assert_eq!(first[..d.dx], second[..d.dx], "{name} condition {c}");
            assert_eq!(o_first, o_second, "{name} condition {c}");
            assert_eq!(first, second, "{name} condition {c}");
            assert_eq!(first, fresh, "{name} condition {c}: fresh task");
            // The actions did move the system (the check compares real trajectories).
            assert_ne!(first[..d.dx], first[first.len() - d.dx..], "{name}");
        }
    }
}

fn observation_of(task: &dyn Task) -> Vec<f64> {
    let mut o = vec![0.0; task.dims().dobs];
    task.observation(&mut o);
    o
}

#[test]
fn invalid_actions_are_rejected_and_leave_the_world_unchanged() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        let du = d.du;
        let mut fresh = task.fork().unwrap();
        assert!(matches!(
            task.step(&vec![0.0; du]),
            Err(TaskError::NotReady(_))
        ));
        task.reset(0).unwrap();
        fresh.reset(0).unwrap();
        let u: Vec<f64> = (0..du).map(|i| 0.2 + 0.1 * i as f64).collect();
        task.step(&u).unwrap();
        fresh.step(&u).unwrap();
        let before = (state_of(task.as_ref()), observation_of(task.as_ref()));
        for (index, bad) in [
            (du - 1, f64::NAN),
            (0, f64::INFINITY),
            (du / 2, f64::NEG_INFINITY),
        ] {
            let mut v = u.clone();
            v[index] = bad;
            assert!(
                matches!(
                    task.step(&v),
                    Err(TaskError::NonFiniteAction { index: i, .. }) if i == index
                ),
                "{name}: {bad} at {index}"
            );
        }
        for len in [0, du - 1, du + 1] {
            assert!(
                matches!(
                    task.step(&vec![0.0; len]),
                    Err(TaskError::ActionLength { expected, got }) if expected == du && got == len
                ),
                "{name}: length {len}"
            );
        }
        let after = (state_of(task.as_ref()), observation_of(task.as_ref()));
        assert_eq!(after, before, "{name}");
        // The next valid step continues exactly as if nothing had happened.
        task.step(&u).unwrap();
        fresh.step(&u).unwrap();
        assert_eq!(state_of(task.as_ref()), state_of(fresh.as_ref()), "{name}");
        // Stepping past the horizon is refused too, and changes nothing.
        for _ in 2..d.horizon {
            task.step(&u).unwrap();
        }
        let end = state_of(task.as_ref());
        assert!(
            matches!(task.step(&u), Err(TaskError::NotReady(_))),
            "{name}: step {} accepted",
            d.horizon + 1
        );
        assert_eq!(state_of(task.as_ref()), end, "{name}");
    }
}

#[test]
fn point_mass_reaches_its_target_under_pd_control() {
    let mut task = task_by_name("point-mass").unwrap();
    let d = task.dims();
    for c in 0..task.conditions().len() {
        task.reset(c).unwrap();
        let mut xs = Vec::new();
        let mut us = Vec::new();
        for t in 0..d.horizon {
            let x = state_of(task.as_ref());
            let u = [-2.0 * x[0] - 1.5 * x[2], -2.0 * x[1] - 1.5 * x[3]];
            xs.extend(&x);
            us.extend(u);
            if t + 1 < d.horizon {
                task.step(&u).unwrap();
            }
        }
        let traj = pilqr_core::TrajectoryRef::new(d.horizon, d.dx, d.du, &xs, &us).unwrap();
        let out = task.success(c, traj).unwrap();
        assert!(out.success, "condition {c}: final distance {}", out.metric);
        // Doing nothing fails.
        let still: Vec<f64> = xs[..d.dx].iter().copied().cycle().take(xs.len()).collect();
        let traj = pilqr_core::TrajectoryRef::new(d.horizon, d.dx, d.du, &still, &us).unwrap();
        assert!(!task.success(c, traj).unwrap().success);
    }
}

/// `action_limits` is the clamp `step` applies: actions three times beyond the limits act
/// exactly as the limits do, and actions a little inside them act differently (so the
/// declared limits are not wider than the real clamp).
#[test]
fn every_task_clamps_actions_to_its_declared_limits() {
    for &name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        let limits = task
            .action_limits()
            .unwrap_or_else(|| panic!("{name} declares no action limits"));
        assert_eq!(limits.len(), d.du, "{name}");
        assert!(limits.iter().all(|&l| l > 0.0 && l.is_finite()), "{name}");
        // Alternating signs, three control steps.
        let signed = |scale: f64| -> Vec<f64> {
            (0..3 * d.du)
                .map(|k| {
                    let i = k % d.du;
                    let sign = if (i + k / d.du).is_multiple_of(2) {
                        1.0
                    } else {
                        -1.0
                    };
                    sign * scale * limits[i]
                })
                .collect()
        };
        let at_limit = states_after(task.as_mut(), 0, &signed(1.0));
        let beyond = states_after(task.as_mut(), 0, &signed(3.0));
        let inside = states_after(task.as_mut(), 0, &signed(0.9));
        assert_eq!(
            at_limit, beyond,
            "{name}: actions beyond the limits are not clamped to them"
        );
        assert_ne!(
            at_limit, inside,
            "{name}: actions inside the limits are clamped"
        );
    }
}
