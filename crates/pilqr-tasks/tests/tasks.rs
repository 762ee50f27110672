//! Integration tests of the task suite through the public `Task` interface.

use pilqr_core::{
    CoreError, LinearGaussianPolicy, Policy, RunSeed, SampleBatch, SampleRequest, Task, TaskError,
    sample_policy,
};
use pilqr_linalg::{MatStack, VecStack};
use pilqr_tasks::{TASK_NAMES, task_by_name};

/// Torques at ± the clamp, the sign from the sample's noise (an honest "random torques at the
/// clamp" policy that the sampler can run in parallel).
struct BangBang {
    limits: Vec<f64>,
}

impl Policy for BangBang {
    fn action_dim(&self) -> usize {
        self.limits.len()
    }
    fn act(
        &self,
        _t: usize,
        _x: &[f64],
        _o: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        for ((ui, n), l) in u.iter_mut().zip(noise).zip(&self.limits) {
            // 1.5× the limit: the task must clamp.
            *ui = 1.5 * l * n.signum();
        }
        Ok(())
    }
}

/// A zero-mean Gaussian policy with standard deviation `std` per action.
fn gaussian(task: &dyn Task, std: f64) -> LinearGaussianPolicy {
    let d = task.dims();
    let cov = MatStack::from_fn(d.horizon, d.du, d.du, |_, mut m| {
        for i in 0..d.du {
            m[(i, i)] = std * std;
        }
    });
    LinearGaussianPolicy::new(
        MatStack::zeros(d.horizon, d.du, d.dx),
        VecStack::zeros(d.horizon, d.du),
        cov,
    )
    .unwrap()
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
        assert_eq!(d.horizon, 100, "{name}");
        assert!((d.dt - 0.05).abs() < 1e-9, "{name}");
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
        let limits = 0.3;
        let policy = gaussian(task.as_ref(), limits);
        let c = task.conditions().len() - 1;
        let run = |threads: usize, task: &mut Box<dyn Task>| -> SampleBatch {
            in_pool(threads, || {
                sample_policy(task.as_mut(), &policy, None, request(c, 5)).unwrap()
            })
        };
        let one = run(1, &mut task);
        let two = run(2, &mut task);
        let again = run(2, &mut task);
        assert_eq!(one, two, "{name}: 1 vs 2 threads");
        assert_eq!(two, again, "{name}: run to run");
        // Different samples really differ (the noise streams are independent).
        assert_ne!(one.x(0, 50), one.x(1, 50), "{name}");
    }
}

#[test]
fn reset_restores_the_initial_state_exactly() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        for c in 0..task.conditions().len() {
            task.reset(c).unwrap();
            let x0 = state_of(task.as_ref());
            let actions: Vec<f64> = (0..20 * d.du)
                .map(|k| ((k * 7 % 11) as f64 - 5.0) * 0.1)
                .collect();
            let mut first = Vec::new();
            for u in actions.chunks(d.du) {
                task.step(u).unwrap();
                first.extend(state_of(task.as_ref()));
            }
            task.reset(c).unwrap();
            assert_eq!(state_of(task.as_ref()), x0, "{name} condition {c}");
            let mut second = Vec::new();
            for u in actions.chunks(d.du) {
                task.step(u).unwrap();
                second.extend(state_of(task.as_ref()));
            }
            assert_eq!(first, second, "{name} condition {c}");
        }
    }
}

#[test]
fn invalid_actions_are_rejected_and_leave_the_world_unchanged() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let du = task.dims().du;
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
        let before = state_of(task.as_ref());
        let mut nan = u.clone();
        nan[du - 1] = f64::NAN;
        assert!(matches!(
            task.step(&nan),
            Err(TaskError::NonFiniteAction { index, .. }) if index == du - 1
        ));
        assert!(matches!(
            task.step(&vec![0.0; du + 1]),
            Err(TaskError::ActionLength { expected, got }) if expected == du && got == du + 1
        ));
        assert_eq!(state_of(task.as_ref()), before, "{name}");
        // The next valid step continues exactly as if nothing had happened.
        task.step(&u).unwrap();
        fresh.step(&u).unwrap();
        assert_eq!(state_of(task.as_ref()), state_of(fresh.as_ref()), "{name}");
    }
}

#[test]
fn a_positive_torque_increases_the_joint_velocity() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        let layout = task.layout();
        for j in 0..d.du {
            for sign in [1.0, -1.0] {
                task.reset(0).unwrap();
                let before = state_of(task.as_ref())[layout.joint_vel.start + j];
                let mut u = vec![0.0; d.du];
                u[j] = 0.5 * sign;
                task.step(&u).unwrap();
                let after = state_of(task.as_ref())[layout.joint_vel.start + j];
                assert!(
                    sign * (after - before) > 1e-3,
                    "{name} joint {j} sign {sign}: {before} -> {after}"
                );
            }
        }
    }
}

#[test]
fn random_torques_at_the_clamp_do_not_explode() {
    for name in ["reacher", "gripper-pusher"] {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        // Clamp limits are task-specific; 100 N·m is far above any of them.
        let policy = BangBang {
            limits: vec![100.0; d.du],
        };
        for c in 0..task.conditions().len().min(4) {
            let count = 100 / task.conditions().len().min(4);
            let batch = sample_policy(task.as_mut(), &policy, None, request(c, count)).unwrap();
            for v in batch.x_all() {
                assert!(v.is_finite() && v.abs() < 200.0, "{name}: state value {v}");
            }
        }
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
