//! The 7-DoF arm shared by the 3-D tasks (`door-opening`, `hockey`, `power-plug`).
//!
//! A PR2-like chain (z up; at `q = 0` the arm points straight along the base's +x):
//!
//! | joint | name | axis (q = 0) | anchor in parent | limits (rad) | torque limit (N·m) |
//! |---|---|---|---|---|---|
//! | 0 | shoulder pan | z | base origin | ±2.0 | 8 |
//! | 1 | shoulder lift | y | (0.10, 0, 0) | [−1.3, 1.4] | 8 |
//! | 2 | upper-arm roll | x | shoulder | ±2.6 | 4 |
//! | 3 | elbow flex | y | (0.40, 0, 0) | [−2.3, 2.3] | 4 |
//! | 4 | forearm roll | x | elbow | ±2.6 | 2 |
//! | 5 | wrist flex | y | (0.32, 0, 0) | ±2.0 | 2 |
//! | 6 | wrist roll | x | wrist | ±2.6 | 1 |
//!
//! A positive angle about y turns the link's x axis *down* (toward −z). Links: upper arm a
//! capsule of radius 0.045 m, forearm 0.04 m, balls at the shoulder, elbow and wrist; density
//! 400 kg/m³ (upper arm ≈ 1.2 kg, forearm ≈ 0.8 kg). The arm is gravity-compensated (its links
//! feel no gravity), joint damping (1.0, 1.0, 0.5, 0.5, 0.2, 0.2, 0.1) N·m·s/rad, armature
//! (0.05, 0.05, 0.02, 0.02, 0.01, 0.01, 0.01) kg·m². Each task adds its tool (hook, stick, plug)
//! to the last link, whose frame has its origin on the wrist and x along the hand.

use crate::world::{
    ArmSpec, CollisionRole, JointSpec, LinkSpec, Pose, ShapeSpec, SimWorld, Vector,
};

/// Number of joints.
pub const DOF: usize = 7;
/// Torque limit of each joint (N·m).
pub const TORQUE_LIMITS: [f64; DOF] = [8.0, 8.0, 4.0, 4.0, 2.0, 2.0, 1.0];
/// Index of the hand link (the last one).
pub const HAND: usize = DOF - 1;

const DAMPING: [f32; DOF] = [1.0, 1.0, 0.5, 0.5, 0.2, 0.2, 0.1];
const ARMATURE: [f32; DOF] = [0.05, 0.05, 0.02, 0.02, 0.01, 0.01, 0.01];
/// Joint limits `[lo, hi]` of each joint (rad).
pub const JOINT_LIMITS: [[f32; 2]; DOF] = [
    [-2.0, 2.0],
    [-1.3, 1.4],
    [-2.6, 2.6],
    [-2.3, 2.3],
    [-2.6, 2.6],
    [-2.0, 2.0],
    [-2.6, 2.6],
];
const SHOULDER_OFFSET: f32 = 0.10;
/// Upper arm and forearm lengths (m).
pub const UPPER_ARM: f32 = 0.40;
/// Forearm length (m).
pub const FOREARM: f32 = 0.32;
const DENSITY: f32 = 400.0;

/// The 7-DoF arm on a base at `base` carrying `tool` (shapes in the hand's frame).
pub fn seven_dof_arm(base: Pose, tool: Vec<ShapeSpec>) -> ArmSpec {
    let (x, y) = (Vector::X, Vector::Y);
    let grey = [120, 125, 135];
    let blue = [70, 110, 200];
    let light = [110, 150, 225];
    let ball = |r: f32| vec![ShapeSpec::ball(Vector::ZERO, r, CollisionRole::Arm, grey)];
    let capsule = |len: f32, r: f32, color| {
        vec![ShapeSpec::capsule(
            Vector::ZERO,
            x * len,
            r,
            CollisionRole::Arm,
            color,
        )]
    };
    let parts: [(&str, Vector, Vector, Vec<ShapeSpec>); DOF] = [
        ("shoulder_pan", Vector::ZERO, Vector::Z, ball(0.06)),
        ("shoulder_lift", x * SHOULDER_OFFSET, y, ball(0.05)),
        (
            "upper_arm_roll",
            Vector::ZERO,
            x,
            capsule(UPPER_ARM, 0.045, blue),
        ),
        ("elbow_flex", x * UPPER_ARM, y, ball(0.045)),
        (
            "forearm_roll",
            Vector::ZERO,
            x,
            capsule(FOREARM, 0.04, light),
        ),
        ("wrist_flex", x * FOREARM, y, ball(0.035)),
        ("wrist_roll", Vector::ZERO, x, tool),
    ];
    let links = parts
        .into_iter()
        .enumerate()
        .map(|(i, (name, anchor, axis, shapes))| LinkSpec {
            name: name.into(),
            joint: JointSpec {
                anchor,
                axis,
                limits: Some(JOINT_LIMITS[i]),
                torque_limit: TORQUE_LIMITS[i],
                damping: DAMPING[i],
                armature: ARMATURE[i],
            },
            shapes,
            density: DENSITY,
        })
        .collect();
    ArmSpec {
        base,
        base_shapes: vec![ShapeSpec::cylinder(
            Vector::new(0.0, 0.0, -0.15),
            0.15,
            0.07,
            CollisionRole::Visual,
            [60, 60, 60],
        )],
        links,
        gravity_scale: 0.0,
    }
}

/// The translational Jacobian of the world point `local` of link `link` (in that link's frame):
/// column `j` is `a_j × (p − o_j)` for the joints `j ≤ link` (zero beyond), with `a_j` the
/// joint's current world axis and `o_j` its world position. Rows x, y, z; one column per joint.
#[allow(clippy::needless_range_loop)] // column j of the Jacobian is joint j
pub fn point_jacobian(world: &SimWorld, arm: usize, link: usize, local: Vector) -> [[f64; DOF]; 3] {
    let p = world.link_point(arm, link, local);
    let a = world.arm(arm);
    let mut jac = [[0.0; DOF]; 3];
    for j in 0..=link.min(a.dof() - 1).min(DOF - 1) {
        let pose = world.link_pose(arm, j);
        let axis = pose.rotation * a.axes[j];
        let col = axis.cross(p - pose.translation);
        for (r, v) in [col.x, col.y, col.z].into_iter().enumerate() {
            jac[r][j] = f64::from(v);
        }
    }
    jac
}

/// `Jᵀ f` for a world force `f` at the point `local` of link `link`: the joint torques that
/// produce that force (the arm is gravity-compensated, so this is a Cartesian push).
pub fn jacobian_transpose(
    world: &SimWorld,
    arm: usize,
    link: usize,
    local: Vector,
    f: [f64; 3],
) -> [f64; DOF] {
    let jac = point_jacobian(world, arm, link, local);
    let mut tau = [0.0; DOF];
    for (j, t) in tau.iter_mut().enumerate() {
        *t = (0..3).map(|r| jac[r][j] * f[r]).sum();
    }
    tau
}

/// Move the fixed base of arm `arm` (a door frame, a second arm) to `pose` and put its links
/// back on it (forward kinematics reading the base's new pose). For setting up conditions.
pub(crate) fn move_arm_base(world: &mut SimWorld, arm: usize, pose: Pose) {
    let (base, multibody) = {
        let a = world.arm(arm);
        (a.base, a.multibody)
    };
    let physics = world.physics_mut();
    physics.bodies[base].set_position(pose, true);
    let bodies = &mut physics.bodies;
    if let Some(mb) = physics.multibody_joints.get_multibody_mut(multibody) {
        mb.forward_kinematics(bodies, true);
        mb.update_rigid_bodies(bodies, true);
    }
}

/// Write `q` (7), `q̇` (7), the world positions of `points` on the hand, then their
/// velocities, into `x[0 .. 14 + 6·points.len()]`.
pub(crate) fn write_arm_state(world: &SimWorld, arm: usize, points: &[Vector], x: &mut [f64]) {
    world.joint_positions(arm, &mut x[0..DOF]);
    world.joint_velocities(arm, &mut x[DOF..2 * DOF]);
    let n = points.len();
    for (k, &p) in points.iter().enumerate() {
        put_xyz(&mut x[2 * DOF + 3 * k..], world.link_point(arm, HAND, p));
        put_xyz(
            &mut x[2 * DOF + 3 * (n + k)..],
            world.link_point_velocity(arm, HAND, p),
        );
    }
}

/// Write x, y, z of `v` into `out[0..3]`.
#[inline]
pub(crate) fn put_xyz(out: &mut [f64], v: Vector) {
    out[0] = f64::from(v.x);
    out[1] = f64::from(v.y);
    out[2] = f64::from(v.z);
}

/// Damped-least-squares inverse kinematics: joint angles near `q0` that put the hand points
/// `points[k]` (hand frame) at `targets[k]` (world), within the joint limits. Works on a copy
/// of the world's arm state and restores it. Used to find start configurations and by the
/// example controllers; returns the angles and the remaining largest point error (m).
#[allow(clippy::needless_range_loop)] // dense 7×7 elimination by row/column index
pub fn inverse_kinematics(
    world: &mut SimWorld,
    arm: usize,
    q0: &[f64; DOF],
    points: &[Vector],
    targets: &[[f64; 3]],
    iterations: usize,
) -> ([f64; DOF], f64) {
    let saved = world.snapshot();
    let mut q = *q0;
    let mut err = f64::INFINITY;
    for _ in 0..iterations {
        if world.set_joint_state(arm, &q, &[0.0; DOF]).is_err() {
            break;
        }
        // Stack the point residuals and Jacobians.
        let m = 3 * points.len();
        let mut e = vec![0.0; m];
        let mut jac = vec![[0.0; DOF]; m];
        err = 0.0;
        for (k, (&p, t)) in points.iter().zip(targets).enumerate() {
            let w = world.link_point(arm, HAND, p);
            let jk = point_jacobian(world, arm, HAND, p);
            for r in 0..3 {
                e[3 * k + r] = t[r] - f64::from([w.x, w.y, w.z][r]);
                jac[3 * k + r] = jk[r];
                err = err.max(e[3 * k + r].abs());
            }
        }
        // (JᵀJ + λI) dq = Jᵀ e, solved by Gaussian elimination (7×7).
        let lambda = 1e-3;
        let mut a = [[0.0; DOF + 1]; DOF];
        for i in 0..DOF {
            for j in 0..DOF {
                a[i][j] = (0..m).map(|r| jac[r][i] * jac[r][j]).sum::<f64>()
                    + if i == j { lambda } else { 0.0 };
            }
            a[i][DOF] = (0..m).map(|r| jac[r][i] * e[r]).sum();
        }
        for c in 0..DOF {
            let piv = (c..DOF)
                .max_by(|&r1, &r2| a[r1][c].abs().total_cmp(&a[r2][c].abs()))
                .unwrap_or(c);
            a.swap(c, piv);
            let d = a[c][c];
            for r in 0..DOF {
                if r != c {
                    let f = a[r][c] / d;
                    for k in c..=DOF {
                        a[r][k] -= f * a[c][k];
                    }
                }
            }
        }
        for (i, qi) in q.iter_mut().enumerate() {
            let step = (a[i][DOF] / a[i][i]).clamp(-0.2, 0.2);
            let [lo, hi] = JOINT_LIMITS[i];
            *qi = (*qi + step).clamp(f64::from(lo) + 0.02, f64::from(hi) - 0.02);
        }
    }
    world.restore(&saved);
    (q, err)
}
