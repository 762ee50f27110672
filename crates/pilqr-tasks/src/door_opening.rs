//! `door-opening`: the 7-DoF arm (see [`crate::seven_dof`]) hooks a door's handle and pulls
//! the door open on its hinge.
//!
//! World (z up, no ground contact needed): the arm's base at (0, 0, 0.55) facing +x. The door
//! hangs on a vertical hinge at `(0.80, 0.20, 0.55) + offset` (the condition): a panel
//! 0.03 × 0.50 × 0.60 m (density 300 kg/m³, 2.7 kg) reaching from the hinge toward −y, joint
//! damping 1.0 N·m·s/rad; a stop at 0 rad (closed) so pushing cannot open it, open up to
//! −1.8 rad (toward the robot: a negative angle about +z). A vertical handle bar (radius
//! 0.012 m, 0.16 m long) stands 0.075 m off the panel's robot-side face, 0.44 m from the
//! hinge, on two stand-offs, leaving room for a finger behind it. The hand carries an L-shaped
//! hook: a shaft along the hand's x axis to 0.12 m and a nub along the hand's +y; the
//! *grasp point* is the inner corner of the L where the bar sits when hooked.
//!
//! | state index | meaning |
//! |---|---|
//! | 0..7 | joint angles `q` (rad) |
//! | 7..14 | joint velocities `q̇` (rad/s) |
//! | 14..17 | grasp point (hook's inner corner) x, y, z (m) |
//! | 17..20 | wrist point x, y, z (m) |
//! | 20..23 | grasp point velocity (m/s) |
//! | 23..26 | wrist point velocity (m/s) |
//! | 26 | door hinge angle (rad, 0 = closed, negative = open) |
//! | 27 | door hinge angular velocity (rad/s) |
//! | 28..31 | handle bar centre x, y, z (m) |
//!
//! Observation (22 values): `[q, q̇, grasp point − handle, grasp point velocity, hinge angle,
//! hinge angular velocity]` — relative to the handle, so a global policy sees the door offset.
//!
//! Conditions (door offsets from the nominal hinge): `left` (0, +0.10), `right` (0, −0.10),
//! `far` (+0.06, 0) for training; `centre` (0, 0) held out (inside the training hull).
//!
//! Cost ([`WaypointCost`] windows): `10 · ρ(grasp point − handle)` for steps 0..60 (hand to
//! handle early), `4 · ρ(hinge angle − (−1))` for steps 40..100 (door angle later), with
//! `l2 = 1, l1 = 0.1, α = 1e-4`; plus `10⁻² · ½‖q̇‖²` and `10⁻³ · ½‖u‖²`.
//! Success: final hinge angle at or past the target −1 rad (metric: final angle − target,
//! rad; ≤ 0 is success).

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, Cost, Outcome, Penalty, Split, StateCost, Task, TaskError,
    TrajectoryRef, Waypoint, WaypointCost, WeightedSum, validate_condition,
};

use crate::arm_task::ArmTaskCore;
use crate::error::{SuiteError, final_state};
use crate::render::{Camera, RenderTask, Scene};
use crate::seven_dof::{DOF, move_arm_base, put_xyz, seven_dof_arm, write_arm_state};
use crate::world::{
    ArmSpec, CollisionRole, JointSpec, Layer, LinkSpec, PlacedShape, Pose, ShapeKind, ShapeSpec,
    SimWorld, Timing, Vector,
};

const NAME: &str = "door-opening";
const HORIZON: usize = 100;
/// Target hinge angle (rad).
pub const TARGET_ANGLE: f64 = -1.0;
/// The hinge's limits `[open, closed]` (rad): it opens toward the robot, to −1.8 rad.
pub const HINGE_LIMITS: [f32; 2] = [-1.8, 0.0];
const ARM_BASE: Vector = Vector::new(-0.10, 0.0, 0.55);
const HINGE: Vector = Vector::new(0.80, 0.20, 0.55);
/// Handle bar centre in the door's frame (origin on the hinge).
const HANDLE: Vector = Vector::new(-0.075, -0.44, 0.0);
/// Grasp point (hook's inner corner) and wrist point in the hand's frame.
const GRASP: Vector = Vector::new(0.095, 0.035, 0.0);
const WRIST: Vector = Vector::ZERO;
/// Start configuration (found by inverse kinematics): the hook 0.20 m in front of the centre
/// condition's handle, hand along +x, nub along +y, at rest.
const START: [f64; DOF] = [-0.473, 0.698, 0.011, -1.631, 0.573, 1.018, -0.337];
const DX: usize = 31;
const DOBS: usize = 22;

/// One door placement.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    name: &'static str,
    offset: [f32; 2],
    split: Split,
}

const PLACEMENTS: [Placement; 4] = [
    Placement {
        name: "left",
        offset: [0.0, 0.10],
        split: Split::Train,
    },
    Placement {
        name: "right",
        offset: [0.0, -0.10],
        split: Split::Train,
    },
    Placement {
        name: "far",
        offset: [0.06, 0.0],
        split: Split::Train,
    },
    Placement {
        name: "centre",
        offset: [0.0, 0.0],
        split: Split::Test,
    },
];

fn hinge(c: usize) -> Vector {
    let [dx, dy] = PLACEMENTS[c].offset;
    HINGE + Vector::new(dx, dy, 0.0)
}

/// The door-opening task (see the module docs for the state layout).
#[derive(Debug, Clone)]
pub struct DoorOpening {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    /// Index of the door's one-link "arm" (its hinge is a multibody revolute joint).
    door: usize,
    current: usize,
}

fn hook() -> Vec<ShapeSpec> {
    let dark = [60, 60, 75];
    vec![
        ShapeSpec::capsule(
            Vector::ZERO,
            Vector::X * 0.12,
            0.02,
            CollisionRole::Arm,
            dark,
        ),
        ShapeSpec::capsule(
            Vector::new(0.12, 0.0, 0.0),
            Vector::new(0.12, 0.055, 0.0),
            0.01,
            CollisionRole::Arm,
            dark,
        ),
    ]
}

fn door_spec() -> ArmSpec {
    let wood = [190, 150, 100];
    let metal = [90, 90, 90];
    let h = HANDLE;
    let mut shapes = vec![
        ShapeSpec::cuboid(
            Vector::new(0.0, -0.26, 0.0),
            Vector::new(0.015, 0.25, 0.30),
            CollisionRole::Object,
            wood,
        ),
        ShapeSpec::capsule(
            h - Vector::Z * 0.08,
            h + Vector::Z * 0.08,
            0.012,
            CollisionRole::Object,
            metal,
        ),
    ];
    for s in [-1.0f32, 1.0] {
        shapes.push(ShapeSpec::cuboid(
            Vector::new(-0.045, h.y, 0.08 * s),
            Vector::new(0.03, 0.012, 0.012),
            CollisionRole::Object,
            metal,
        ));
    }
    ArmSpec {
        base: Pose::from_translation(HINGE),
        base_shapes: vec![ShapeSpec::cylinder(
            Vector::ZERO,
            0.32,
            0.02,
            CollisionRole::Visual,
            [120, 90, 60],
        )],
        links: vec![LinkSpec {
            name: "door".into(),
            joint: JointSpec {
                anchor: Vector::ZERO,
                axis: Vector::Z,
                limits: Some(HINGE_LIMITS),
                torque_limit: 0.0,
                damping: 1.0,
                armature: 0.0,
            },
            shapes,
            density: 300.0,
        }],
        gravity_scale: 0.0,
    }
}

impl DoorOpening {
    /// Build the world and the four conditions.
    pub fn new() -> Result<Self, SuiteError> {
        let mut world = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
        // The floor is only drawn: nothing in this scene falls.
        world.add_floor_marker(ShapeSpec::cuboid(
            Vector::new(0.5, 0.0, -0.01),
            Vector::new(0.8, 0.8, 0.01),
            CollisionRole::Visual,
            [235, 235, 228],
        ));
        let arm = world.add_arm(&seven_dof_arm(Pose::from_translation(ARM_BASE), hook()))?;
        let door = world.add_arm(&door_spec())?;
        let core = ArmTaskCore::new(world, arm, HORIZON, PLACEMENTS.len(), |w, c| {
            move_arm_base(w, door, Pose::from_translation(hinge(c)));
            w.set_joint_state(door, &[0.0], &[0.0])?;
            w.set_joint_state(arm, &START, &[0.0; DOF])
        })?;
        let conditions = PLACEMENTS
            .iter()
            .map(|p| Condition {
                name: p.name.into(),
                split: p.split,
            })
            .collect();
        Ok(DoorOpening {
            core,
            conditions,
            door,
            current: 0,
        })
    }

    /// The simulated world (for rendering, inspection and scripted controllers).
    pub fn world(&self) -> &SimWorld {
        &self.core.world
    }

    /// The world, mutably (tests and scripted controllers apply forces through it). Changes
    /// last until the next reset.
    pub fn world_mut(&mut self) -> &mut SimWorld {
        &mut self.core.world
    }

    /// Index of the arm the actions drive, and of the door's hinge "arm".
    pub fn arm_and_door(&self) -> (usize, usize) {
        (self.core.arm, self.door)
    }

    /// The grasp point in the hand's frame.
    pub fn grasp_point() -> Vector {
        GRASP
    }

    /// World position of the handle bar's centre in condition `c` with the door closed.
    pub fn handle_closed(&self, c: usize) -> Option<Vector> {
        (c < PLACEMENTS.len()).then(|| hinge(c) + HANDLE)
    }

    /// World position of the handle bar's centre in condition `c` with the door at `angle`
    /// (rad), and the horizontal direction from the handle into the door (where the hand points
    /// when hooked).
    pub fn handle_at(&self, c: usize, angle: f64) -> Option<(Vector, Vector)> {
        (c < PLACEMENTS.len()).then(|| {
            let (s, co) = (angle as f32).sin_cos();
            let rotate = |v: Vector| Vector::new(co * v.x - s * v.y, s * v.x + co * v.y, v.z);
            (hinge(c) + rotate(HANDLE), rotate(Vector::X))
        })
    }

    fn pose_from_state(&mut self, c: usize, x: &[f64]) -> Result<(), TaskError> {
        self.reset(c)?;
        let w = &mut self.core.world;
        w.set_joint_state(self.core.arm, &x[0..DOF], &x[DOF..2 * DOF])
            .map_err(SuiteError::from)?;
        w.set_joint_state(self.door, &x[26..27], &x[27..28])
            .map_err(SuiteError::from)?;
        Ok(())
    }
}

impl Task for DoorOpening {
    crate::arm_task::arm_task_plumbing!(dx: DX, du: DOF, dobs: DOBS, joints: DOF);

    fn state(&self, x: &mut [f64]) {
        let w = &self.core.world;
        write_arm_state(w, self.core.arm, &[GRASP, WRIST], x);
        w.joint_positions(self.door, &mut x[26..27]);
        w.joint_velocities(self.door, &mut x[27..28]);
        put_xyz(&mut x[28..31], w.link_point(self.door, 0, HANDLE));
    }

    fn observation(&self, obs: &mut [f64]) {
        let mut x = [0.0; DX];
        self.state(&mut x);
        obs[0..14].copy_from_slice(&x[0..14]);
        for k in 0..3 {
            obs[14 + k] = x[14 + k] - x[28 + k];
        }
        obs[17..20].copy_from_slice(&x[20..23]);
        obs[20..22].copy_from_slice(&x[26..28]);
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let penalty = Penalty {
            l2: 1.0,
            l1: 0.1,
            alpha: 1e-4,
        };
        let mut hand = vec![0.0; 3 * DX];
        for r in 0..3 {
            hand[r * DX + 14 + r] = 1.0;
            hand[r * DX + 28 + r] = -1.0;
        }
        let mut angle = vec![0.0; DX];
        angle[26] = 1.0;
        let waypoints = WaypointCost {
            waypoints: vec![
                Waypoint {
                    rows: 3,
                    a: hand,
                    b: vec![0.0; 3],
                    start: 0,
                    end: 60,
                    weight: 10.0,
                    penalty,
                },
                Waypoint {
                    rows: 1,
                    a: angle,
                    b: vec![TARGET_ANGLE],
                    start: 40,
                    end: HORIZON,
                    weight: 4.0,
                    penalty,
                },
            ],
        };
        let joint_vel = StateCost::new((DOF..2 * DOF).collect(), vec![0.0; DOF]);
        Ok(Arc::new(
            WeightedSum::new()
                .with(1.0, Arc::new(waypoints))
                .with(1e-2, Arc::new(joint_vel))
                .with(
                    1e-3,
                    Arc::new(ActionCost {
                        weights: vec![1.0; DOF],
                    }),
                ),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let x = final_state(NAME, traj, DX)?;
        let metric = x[26] - TARGET_ANGLE;
        Ok(Outcome {
            success: metric <= 0.0,
            metric,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

impl RenderTask for DoorOpening {
    fn scene(&mut self, condition: usize, x: &[f64]) -> Result<Scene, TaskError> {
        if x.len() != DX {
            return Err(SuiteError::StateDim {
                task: NAME,
                what: "state to render",
                expected: DX,
                got: x.len(),
            }
            .into());
        }
        self.pose_from_state(condition, x)?;
        let mut shapes = self.core.world.placed_shapes();
        // The handle's position with the door at its target angle.
        let h = hinge(condition);
        let (s, c) = (TARGET_ANGLE as f32).sin_cos();
        let target = h + Vector::new(
            c * HANDLE.x - s * HANDLE.y,
            s * HANDLE.x + c * HANDLE.y,
            0.0,
        );
        shapes.push(PlacedShape {
            kind: ShapeKind::Ball { radius: 0.02 },
            pose: Pose::from_translation(target),
            color: [90, 200, 110],
            layer: Layer::Body,
        });
        Ok(Scene { shapes })
    }

    fn camera(&self) -> Camera {
        Camera::oblique(Vector::new(0.45, 0.0, 0.45), 1.6, 256, -0.6, 0.6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(task: &DoorOpening) -> [f64; DX] {
        let mut x = [0.0; DX];
        task.state(&mut x);
        x
    }

    #[test]
    fn conditions_move_the_door_and_start_closed() {
        let mut task = DoorOpening::new().unwrap();
        for c in 0..PLACEMENTS.len() {
            task.reset(c).unwrap();
            let x = state(&task);
            let want = task.handle_closed(c).unwrap();
            for (k, w) in [want.x, want.y, want.z].into_iter().enumerate() {
                assert!(
                    (x[28 + k] - f64::from(w)).abs() < 1e-5,
                    "condition {c}: {x:?}"
                );
            }
            assert!(x[26].abs() < 1e-6);
        }
    }

    /// Apply a world force at the handle for `steps` control steps; returns the hinge angle.
    fn push_handle(task: &mut DoorOpening, f: Vector, steps: usize) -> f64 {
        let door_body = task.core.world.arm(task.door).link_bodies()[0];
        for _ in 0..steps {
            for _ in 0..5 {
                let at = task.core.world.link_point(task.door, 0, HANDLE);
                let b = &mut task.core.world.physics_mut().bodies[door_body];
                b.reset_forces(false);
                b.reset_torques(false);
                b.add_force_at_point(f, at, true);
                task.core.world.step_physics();
            }
        }
        state(task)[26]
    }

    #[test]
    fn pulling_the_handle_opens_the_door_and_pushing_does_not() {
        let mut task = DoorOpening::new().unwrap();
        task.reset(3).unwrap();
        let pulled = push_handle(&mut task, Vector::new(-15.0, 0.0, 0.0), 20);
        assert!(pulled < -0.3, "pulled to {pulled}");
        task.reset(3).unwrap();
        let pushed = push_handle(&mut task, Vector::new(15.0, 0.0, 0.0), 20);
        assert!(pushed.abs() < 0.01, "pushed to {pushed}");
    }
}
