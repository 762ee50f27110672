use super::*;

fn state_of(r: &Reacher) -> [f64; 8] {
    let mut x = [0.0; 8];
    r.state(&mut x);
    x
}

/// Moment of inertia about a perpendicular axis through the joint of a capsule of `length`
/// and `radius` lying from the joint outwards, its near end at `offset` from the joint
/// (cylinder plus two hemispheres, density [`DENSITY`]).
fn capsule_inertia(offset: f64, length: f64, radius: f64) -> f64 {
    let rho = f64::from(DENSITY);
    let pi = std::f64::consts::PI;
    let (h, r) = (length / 2.0, radius);
    let cylinder = rho * pi * r * r * length;
    let spheres = rho * 4.0 / 3.0 * pi * r.powi(3);
    let about_centre = cylinder * (length * length / 12.0 + r * r / 4.0)
        + spheres * (0.4 * r * r + h * h + 0.75 * h * r);
    about_centre + (cylinder + spheres) * (offset + h).powi(2)
}

/// The shoulder's inertia with the arm stretched out (q₁ = 0): both links, the fingertip
/// ball and the armature.
fn shoulder_inertia() -> f64 {
    let (l1, l2, tip, r) = (
        f64::from(LINK1),
        f64::from(LINK2),
        f64::from(LINK1 + TIP),
        f64::from(RADIUS),
    );
    let ball = f64::from(DENSITY) * 4.0 / 3.0 * std::f64::consts::PI * r.powi(3);
    f64::from(ARMATURE)
        + capsule_inertia(0.0, l1, r)
        + capsule_inertia(l1, l2, r)
        + ball * (0.4 * r * r + tip * tip)
}

#[test]
fn conditions_are_seeded_split_and_drawn_like_gyms_resets() {
    let cfg = ReacherConfig {
        seed: 3,
        train_targets: 40,
        test_targets: 30,
    };
    let a = Reacher::with_config(cfg).unwrap();
    let b = Reacher::with_config(cfg).unwrap();
    let other = Reacher::with_config(ReacherConfig { seed: 4, ..cfg }).unwrap();
    assert_eq!(a.starts, b.starts);
    assert_ne!(a.starts, other.starts);
    assert_eq!(a.conditions.len(), 70);
    assert_eq!(a.conditions[39].name, "train-39");
    assert_eq!(a.conditions[40].name, "test-0");
    let train = a
        .conditions
        .iter()
        .filter(|c| c.split == Split::Train)
        .count();
    assert_eq!(train, 40);
    let mut far = 0;
    for s in &a.starts {
        let r = s.target[0].hypot(s.target[1]);
        assert!(r < TARGET_RADIUS, "target radius {r}");
        far += usize::from(r > 0.15);
        assert!(s.q.iter().all(|q| q.abs() < START_ANGLE), "{s:?}");
        assert!(s.qd.iter().all(|v| v.abs() < START_SPEED), "{s:?}");
    }
    // Uniform in the disc: a (1 − 0.75²) = 44 % share beyond 0.15 m; 70 draws leave it
    // between 20 % and 70 % with overwhelming probability.
    assert!((14..49).contains(&far), "{far} of 70 beyond 0.15 m");
    // The training conditions do not depend on how many test conditions are drawn.
    let fewer = Reacher::with_config(ReacherConfig {
        test_targets: 1,
        ..cfg
    })
    .unwrap();
    assert_eq!(fewer.starts[..40], a.starts[..40]);
    // The reset puts the arm where the condition says.
    let mut r = Reacher::new().unwrap();
    let s = r.start(5).unwrap();
    r.reset(5).unwrap();
    let x = state_of(&r);
    for k in 0..2 {
        assert!((x[k] - s.q[k]).abs() < 1e-6 && (x[2 + k] - s.qd[k]).abs() < 1e-6);
    }
    assert!(
        Reacher::with_config(ReacherConfig {
            seed: 0,
            train_targets: 0,
            test_targets: 0
        })
        .is_err()
    );
}

#[test]
fn default_dimensions_and_conditions() {
    let r = Reacher::new().unwrap();
    let d = r.dims();
    assert_eq!((d.dx, d.du, d.dobs, d.horizon), (8, 2, 10, 50));
    assert!((d.dt - 0.02).abs() < 1e-12);
    let test = r
        .conditions()
        .iter()
        .filter(|c| c.split == Split::Test)
        .count();
    assert_eq!(
        (r.conditions().len() - test, test),
        (DEFAULT_TRAIN_TARGETS, DEFAULT_TEST_TARGETS)
    );
}

#[test]
fn state_and_observation_follow_gyms_layout() {
    let mut r = Reacher::new().unwrap();
    r.reset(2).unwrap();
    r.step(&[0.3, -0.2]).unwrap();
    let x = state_of(&r);
    let mut o = [0.0; 10];
    r.observation(&mut o);
    let t = r.target(2).unwrap();
    let (q0, q1) = (x[0], x[1]);
    assert_eq!(o[..4], [q0.cos(), q1.cos(), q0.sin(), q1.sin()]);
    assert_eq!(o[4..6], t);
    assert_eq!(o[6..8], x[2..4]);
    assert_eq!(o[8..10], [x[4] - t[0], x[5] - t[1]]);
    // Forward kinematics: tip = L1 (cos q0, sin q0) + 0.11 (cos(q0+q1), sin(q0+q1)).
    let (l1, tip) = (f64::from(LINK1), f64::from(TIP));
    let fk = [
        l1 * q0.cos() + tip * (q0 + q1).cos(),
        l1 * q0.sin() + tip * (q0 + q1).sin(),
    ];
    assert!((x[4] - fk[0]).abs() < 1e-6 && (x[5] - fk[1]).abs() < 1e-6);
    // Tip velocity = J q̇.
    let v = [
        -l1 * q0.sin() * x[2] - tip * (q0 + q1).sin() * (x[2] + x[3]),
        l1 * q0.cos() * x[2] + tip * (q0 + q1).cos() * (x[2] + x[3]),
    ];
    assert!(
        (x[6] - v[0]).abs() < 1e-4 && (x[7] - v[1]).abs() < 1e-4,
        "{x:?}"
    );
}

#[test]
fn controls_are_clipped_to_one_and_geared_to_200() {
    let mut r = Reacher::new().unwrap();
    r.reset(0).unwrap();
    r.step(&[3.0, -0.5]).unwrap();
    assert_eq!(r.world().arm(0).commanded_torques(), &[200.0, -100.0]);
    r.step(&[-7.0, 1.5]).unwrap();
    assert_eq!(r.world().arm(0).commanded_torques(), &[-200.0, 200.0]);
    // Out-of-range controls act exactly as the clipped ones.
    let mut clipped = Reacher::new().unwrap();
    clipped.reset(0).unwrap();
    clipped.step(&[1.0, -0.5]).unwrap();
    clipped.step(&[-1.0, 1.0]).unwrap();
    assert_eq!(state_of(&r), state_of(&clipped));
    // Invalid controls are typed errors, not clipped.
    assert!(matches!(
        r.step(&[f64::NAN, 0.0]),
        Err(TaskError::NonFiniteAction { index: 0, .. })
    ));
}

#[test]
fn actuation_follows_the_models_first_order_law() {
    // From rest, stretched out, a constant control on the shoulder only: the shoulder obeys
    // I q̈ = GEAR·u − DAMPING·q̇, so q̇(t) = (GEAR·u/DAMPING)(1 − exp(−DAMPING·t/I)) with I
    // the armature plus the links' inertia. (The elbow couples through the links' inertia
    // only, ~1e-3 of the armature.)
    let mut r = Reacher::new().unwrap();
    r.reset(0).unwrap();
    r.pose_from_state(&[0.0; 8]).unwrap();
    let u = 0.25;
    let inertia = shoulder_inertia();
    let (b, terminal) = (f64::from(DAMPING), GEAR * u / f64::from(DAMPING));
    let dt = r.dims().dt;
    for k in 1..=HORIZON {
        r.step(&[u, 0.0]).unwrap();
        let x = state_of(&r);
        let t = dt * k as f64;
        let law = terminal * (1.0 - (-b * t / inertia).exp());
        // Rapier's implicit step lags the exact law by ≈ dt·b/(2I) = 0.5 %.
        assert!(
            (x[2] - law).abs() < 0.01 * law,
            "step {k}: q̇0 {} vs law {law}",
            x[2]
        );
        assert!(x[3].abs() < 2e-3 * x[2], "step {k}: elbow {}", x[3]);
    }
    // Released, the shoulder's velocity decays as exp(−b t / I).
    let v0 = state_of(&r)[2];
    let arm = r.core.arm;
    r.core.world.set_torques(arm, &[0.0, 0.0]).unwrap();
    for _ in 0..HORIZON {
        r.core.world.step_control();
    }
    let law = v0 * (-b * dt * HORIZON as f64 / inertia).exp();
    let v = state_of(&r)[2];
    assert!((v - law).abs() < 0.01 * law, "decay: {v} vs {law}");
}

/// A smooth, large control sequence that swings the arm through the workspace.
fn swing(k: usize) -> [f64; 2] {
    let t = k as f64 * 0.02;
    [0.3 * (4.0 * t).sin(), -0.4 * (3.0 * t + 0.5).cos()]
}

#[test]
fn substeps_are_converged() {
    let cfg = ReacherConfig::default();
    let fine = Timing {
        dt: 0.001,
        substeps: 20,
    };
    let mut coarse = Reacher::with_config(cfg).unwrap();
    let mut reference = Reacher::build(cfg, fine).unwrap();
    let mut worst = 0.0f64;
    for c in [0, 7] {
        coarse.reset(c).unwrap();
        reference.reset(c).unwrap();
        for k in 0..HORIZON {
            coarse.step(&swing(k)).unwrap();
            reference.step(&swing(k)).unwrap();
            let (a, b) = (state_of(&coarse), state_of(&reference));
            worst = worst.max((a[4] - b[4]).hypot(a[5] - b[5]));
        }
    }
    // The arm did move across the workspace, and the 0.01 s steps stay well inside the success
    // radius of 0.001 s steps (a third of it; measured: 4.8 mm at worst).
    let x = state_of(&coarse);
    assert!(x[0].abs() > 0.3, "{x:?}");
    assert!(
        worst < SUCCESS_RADIUS / 3.0,
        "largest tip deviation {worst} m"
    );
}

#[test]
fn success_is_the_final_tip_distance_below_3_cm() {
    let r = Reacher::new().unwrap();
    let t = r.target(3).unwrap();
    let make = |offset: f64| {
        let mut xs = vec![0.0; HORIZON * 8];
        // Far away at every step but the last.
        for k in 0..HORIZON - 1 {
            xs[k * 8 + 4] = t[0] + 0.5;
        }
        let last = (HORIZON - 1) * 8;
        xs[last + 4] = t[0] + offset;
        xs[last + 5] = t[1];
        xs
    };
    let us = vec![0.0; HORIZON * 2];
    for (offset, success) in [(0.029, true), (-0.02, true), (0.031, false), (0.1, false)] {
        let xs = make(offset);
        let traj = TrajectoryRef::new(HORIZON, 8, 2, &xs, &us).unwrap();
        let out = r.success(3, traj).unwrap();
        assert!((out.metric - offset.abs()).abs() < 1e-12, "{out:?}");
        assert_eq!(out.success, success, "offset {offset}");
    }
    let xs = make(0.0);
    let traj = TrajectoryRef::new(HORIZON, 8, 2, &xs, &us).unwrap();
    assert!(r.success(r.conditions().len(), traj).is_err());
}

#[test]
fn reset_is_bit_identical_and_a_fork_equals_the_original() {
    let mut r = Reacher::new().unwrap();
    let run = |task: &mut dyn Task, c: usize| -> Vec<f64> {
        task.reset(c).unwrap();
        let mut xs = Vec::new();
        for k in 0..HORIZON {
            task.step(&swing(k)).unwrap();
            let mut x = [0.0; 8];
            task.state(&mut x);
            xs.extend(x);
        }
        xs
    };
    let first = run(&mut r, 4);
    run(&mut r, 9);
    let mut fork = r.fork().unwrap();
    assert_eq!(run(&mut r, 4), first);
    assert_eq!(run(fork.as_mut(), 4), first);
}

#[test]
fn the_cost_is_huber_style_on_the_tip_plus_gyms_control_term() {
    let r = Reacher::new().unwrap();
    let t = r.target(1).unwrap();
    let cost = r.cost(1).unwrap();
    let eval = |tip: [f64; 2], u: [f64; 2]| {
        let x = [0.0, 0.0, 0.0, 0.0, tip[0], tip[1], 0.0, 0.0];
        let traj = TrajectoryRef::new(1, 8, 2, &x, &u).unwrap();
        cost.values(traj).unwrap()[0]
    };
    for (d, u) in [
        (0.0f64, [0.0, 0.0]),
        (0.1, [0.5, -0.2]),
        (0.004, [0.0, 1.0]),
    ] {
        let rho = 0.5 * 10.0 * d * d + (1e-4 + d * d).sqrt();
        let expected = rho + u[0] * u[0] + u[1] * u[1];
        let got = eval([t[0] + d, t[1]], u);
        assert!((got - expected).abs() < 1e-12, "d {d}: {got} vs {expected}");
    }
}
