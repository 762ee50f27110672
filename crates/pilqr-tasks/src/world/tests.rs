use super::*;

/// One link about z carrying a ball of radius `r` at distance `l`; no damping.
fn pendulum(armature: f32, damping: f32) -> (SimWorld, f64) {
    let (r, l, density) = (0.05f32, 0.4f32, 1000.0f32);
    let link = LinkSpec {
        name: "link".into(),
        joint: JointSpec {
            damping,
            armature,
            torque_limit: 2.0,
            ..JointSpec::revolute(Vector::ZERO, Vector::Z)
        },
        shapes: vec![ShapeSpec::ball(
            Vector::X * l,
            r,
            CollisionRole::Arm,
            [0, 0, 0],
        )],
        density,
    };
    let spec = ArmSpec {
        base: Pose::from_translation(Vector::new(0.1, -0.2, 0.3)),
        base_shapes: vec![],
        links: vec![link],
        gravity_scale: 0.0,
    };
    let mut w = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
    w.add_arm(&spec).unwrap();
    let m = f64::from(density) * 4.0 / 3.0 * std::f64::consts::PI * f64::from(r).powi(3);
    let inertia = m * (0.4 * f64::from(r * r) + f64::from(l * l)) + f64::from(armature);
    (w, inertia)
}

fn two_link() -> SimWorld {
    let link = |name: &str, anchor: Vector| LinkSpec {
        name: name.into(),
        joint: JointSpec {
            torque_limit: 1.0,
            ..JointSpec::revolute(anchor, Vector::Z)
        },
        shapes: vec![ShapeSpec::capsule(
            Vector::ZERO,
            Vector::X * 0.3,
            0.02,
            CollisionRole::Arm,
            [0; 3],
        )],
        density: 1000.0,
    };
    let spec = ArmSpec {
        base: Pose::IDENTITY,
        base_shapes: vec![],
        links: vec![link("a", Vector::ZERO), link("b", Vector::X * 0.3)],
        gravity_scale: 0.0,
    };
    let mut w = SimWorld::new(Timing::default(), Vector::ZERO);
    w.add_arm(&spec).unwrap();
    w
}

#[test]
fn torque_gives_the_analytic_acceleration() {
    let (mut w, inertia) = pendulum(0.01, 0.0);
    w.set_torques(0, &[0.3]).unwrap();
    w.step_control();
    let mut qd = [0.0];
    w.joint_velocities(0, &mut qd);
    // No damping, no gravity on the arm: q̇ = u·t / (I + armature).
    let expected = 0.3 * 0.05 / inertia;
    assert!(
        (qd[0] - expected).abs() < 1e-4 * expected,
        "{} vs {expected}",
        qd[0]
    );
}

#[test]
fn torques_are_clamped_and_bad_input_is_rejected() {
    let (mut w, inertia) = pendulum(0.0, 0.0);
    w.set_torques(0, &[50.0]).unwrap();
    assert_eq!(w.arm(0).commanded_torques(), &[2.0]);
    assert!(matches!(
        w.set_torques(0, &[f64::NAN]),
        Err(WorldError::NonFinite { index: 0, .. })
    ));
    assert!(matches!(
        w.set_torques(0, &[1.0, 1.0]),
        Err(WorldError::TorqueLength {
            expected: 1,
            got: 2,
            ..
        })
    ));
    assert_eq!(w.arm(0).commanded_torques(), &[2.0]);
    w.step_control();
    let mut qd = [0.0];
    w.joint_velocities(0, &mut qd);
    assert!((qd[0] - 2.0 * 0.05 / inertia).abs() < 1e-3 * qd[0]);
}

#[test]
fn damping_slows_the_joint() {
    let (mut w, _) = pendulum(0.0, 0.0);
    let (mut wd, _) = pendulum(0.0, 0.05);
    for world in [&mut w, &mut wd] {
        world.set_torques(0, &[0.5]).unwrap();
        for _ in 0..5 {
            world.step_control();
        }
    }
    let (mut a, mut b) = ([0.0], [0.0]);
    w.joint_velocities(0, &mut a);
    wd.joint_velocities(0, &mut b);
    assert!(b[0] > 0.0 && b[0] < a[0]);
}

#[test]
fn second_joint_torque_moves_both_links_oppositely() {
    let mut w = two_link();
    w.set_torques(0, &[0.0, 0.2]).unwrap();
    w.step_control();
    let mut qd = [0.0; 2];
    w.joint_velocities(0, &mut qd);
    // The reaction turns the first link backwards, the second forwards (relative).
    assert!(qd[1] > 0.0 && qd[0] < 0.0, "{qd:?}");
}

#[test]
fn point_velocity_matches_finite_differences() {
    let mut w = two_link();
    w.set_joint_state(0, &[0.3, -0.8], &[1.0, -2.0]).unwrap();
    w.set_torques(0, &[0.1, 0.05]).unwrap();
    w.step_control();
    let local = Vector::X * 0.3;
    let p0 = w.link_point(0, 1, local);
    let v0 = w.link_point_velocity(0, 1, local);
    w.step_physics();
    let p1 = w.link_point(0, 1, local);
    let v1 = w.link_point_velocity(0, 1, local);
    let fd = (p1 - p0) / w.timing().dt as f32;
    let mid = (v0 + v1) * 0.5;
    assert!(
        (fd - mid).length() < 0.02 * mid.length(),
        "{fd:?} vs {mid:?}"
    );
}

#[test]
fn set_joint_state_places_links_by_forward_kinematics() {
    let mut w = two_link();
    w.set_joint_state(
        0,
        &[std::f64::consts::FRAC_PI_2, -std::f64::consts::FRAC_PI_2],
        &[0.0; 2],
    )
    .unwrap();
    let tip = w.link_point(0, 1, Vector::X * 0.3);
    assert!(
        (tip - Vector::new(0.3, 0.3, 0.0)).length() < 1e-5,
        "{tip:?}"
    );
    let mut q = [0.0; 2];
    w.joint_positions(0, &mut q);
    assert!((q[0] - std::f64::consts::FRAC_PI_2).abs() < 1e-6);
}

#[test]
fn restore_is_bit_identical() {
    let mut w = two_link();
    let block = w
        .add_object(&ObjectSpec {
            name: "ball".into(),
            pose: Pose::from_translation(Vector::new(0.4, 0.15, 0.0)),
            shapes: vec![ShapeSpec::ball(
                Vector::ZERO,
                0.05,
                CollisionRole::Object,
                [0; 3],
            )],
            mass: 0.1,
            linear_damping: 0.5,
            angular_damping: 0.5,
            gravity_scale: 0.0,
        })
        .unwrap();
    let snap = w.snapshot();
    let run = |w: &mut SimWorld| {
        let mut out = Vec::new();
        for k in 0..40 {
            w.set_torques(0, &[0.3, -0.1 * (k as f64 * 0.3).sin()])
                .unwrap();
            w.step_control();
            let mut q = [0.0; 2];
            w.joint_positions(0, &mut q);
            out.extend(q);
            out.push(f64::from(w.object_pose(block).translation.x));
        }
        out
    };
    let a = run(&mut w);
    w.restore(&snap);
    let b = run(&mut w);
    let mut copy = w.clone();
    copy.restore(&snap);
    let c = run(&mut copy);
    assert_eq!(a, b);
    assert_eq!(a, c);
    // The arm must have pushed the ball at some point for this to test contacts.
    assert!(a.chunks(3).any(|s| (s[2] - 0.4).abs() > 1e-3));
}

/// A 3-D chain: yaw about z at the base, pitch about y at 0.3 m up, roll about x at 0.25 m out.
fn spatial_arm() -> (SimWorld, [Vector; 3], [Vector; 3]) {
    let anchors = [
        Vector::new(0.0, 0.0, 0.1),
        Vector::new(0.0, 0.0, 0.3),
        Vector::new(0.25, 0.0, 0.0),
    ];
    let axes = [Vector::Z, Vector::Y, Vector::X];
    let links = (0..3)
        .map(|i| LinkSpec {
            name: format!("l{i}"),
            joint: JointSpec {
                torque_limit: 5.0,
                damping: 0.0,
                ..JointSpec::revolute(anchors[i], axes[i])
            },
            shapes: vec![ShapeSpec::capsule(
                Vector::ZERO,
                if i == 0 {
                    Vector::Z * 0.3
                } else {
                    Vector::X * 0.25
                },
                0.03,
                CollisionRole::Arm,
                [0; 3],
            )],
            density: 1000.0,
        })
        .collect();
    let spec = ArmSpec {
        base: Pose::from_translation(Vector::new(0.2, 0.1, 0.0)),
        base_shapes: vec![],
        links,
        gravity_scale: 0.0,
    };
    let mut w = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
    w.add_arm(&spec).unwrap();
    (w, anchors, axes)
}

#[test]
fn spatial_arm_follows_the_documented_frame_convention() {
    let (mut w, anchors, axes) = spatial_arm();
    let q = [0.7f32, -0.4, 1.1];
    w.set_joint_state(0, &q.map(f64::from), &[0.0; 3]).unwrap();
    // Link i's frame: parent frame · translate(anchor_i) · rotate(axis_i, q_i).
    let mut frame = Pose::from_translation(Vector::new(0.2, 0.1, 0.0));
    for i in 0..3 {
        frame = frame
            * Pose::from_translation(anchors[i])
            * Pose::from_rotation(Rotation::from_axis_angle(axes[i], q[i]));
    }
    let local = Vector::new(0.25, 0.02, -0.01);
    let expected = frame * local;
    let got = w.link_point(0, 2, local);
    assert!((got - expected).length() < 1e-5, "{got:?} vs {expected:?}");
}

#[test]
fn spatial_arm_torques_accelerate_their_own_joint_and_velocities_are_exact() {
    for j in 0..3 {
        let (mut w, _, _) = spatial_arm();
        w.set_joint_state(0, &[0.3, -0.5, 0.8], &[0.0; 3]).unwrap();
        let mut u = [0.0; 3];
        u[j] = 1.0;
        w.set_torques(0, &u).unwrap();
        w.step_physics();
        let mut qd = [0.0; 3];
        w.joint_velocities(0, &mut qd);
        // From rest q̈ = M⁻¹ u and (M⁻¹)_jj > 0.
        assert!(qd[j] > 0.0, "joint {j}: {qd:?}");
    }
    let (mut w, _, _) = spatial_arm();
    w.set_joint_state(0, &[0.3, -0.5, 0.8], &[1.0, -0.7, 2.0])
        .unwrap();
    w.step_physics();
    let local = Vector::new(0.25, 0.0, 0.0);
    let (p0, v0) = (
        w.link_point(0, 2, local),
        w.link_point_velocity(0, 2, local),
    );
    w.step_physics();
    let (p1, v1) = (
        w.link_point(0, 2, local),
        w.link_point_velocity(0, 2, local),
    );
    let fd = (p1 - p0) / w.timing().dt as f32;
    let mid = (v0 + v1) * 0.5;
    assert!(
        (fd - mid).length() < 0.02 * mid.length(),
        "{fd:?} vs {mid:?}"
    );
}
