//! `hockey`: the 7-DoF arm (see [`crate::seven_dof`]) holds a stick and must hit a puck into a
//! goal 1.4 m away.
//!
//! World (z up, gravity −9.81 m/s²): a floor (friction 0.1) at z = 0 reaching [`FLOOR_HALF`]
//! = 6 m from the origin each way (a puck struck at the arm's top speed stops within ≈ 5 m, so
//! it never slides off the edge); the arm's base at (−0.35, 0, 0.75). The stick is rigidly part of the hand: a shaft (capsule, radius 0.015 m)
//! along the hand's x axis to 0.55 m, then a blade (0.04 × 0.16 × 0.02 m) whose face normal is
//! the hand's z axis. The arm never touches the floor (the blade may sweep through it; only the
//! puck feels the floor). The puck is a cylinder (radius 0.04 m, height 0.025 m, 0.17 kg,
//! friction 0.1) at (0.45, 0, 0.0125). The goal is a box open toward the puck (mouth 0.36 m,
//! depth 0.20 m, walls 0.06 m high) whose centre lies 1.4 m from the puck in the direction `φ`
//! (the condition): `left` φ = +0.25 rad and `right` φ = −0.25 rad for training, `centre`
//! φ = 0 held out. Every episode starts at the same arm configuration, stick raised behind
//! the puck.
//!
//! | state index | meaning |
//! |---|---|
//! | 0..7 | joint angles `q` (rad) |
//! | 7..14 | joint velocities `q̇` (rad/s) |
//! | 14..17 | blade centre x, y, z (m) |
//! | 17..20 | wrist (top of the stick) x, y, z (m) |
//! | 20..23 | blade centre velocity (m/s) |
//! | 23..26 | wrist velocity (m/s) |
//! | 26, 27 | puck centre x, y (m) |
//! | 28, 29 | puck velocity x, y (m/s) |
//!
//! Observation (24 values): `[q, q̇, blade centre, blade velocity, puck − goal, puck velocity]`.
//!
//! Cost: *pre-hit pose* — `10 · ρ(blade − b*, wrist − w*)` for steps 0..30 ([`WaypointCost`]),
//! `b*` 0.12 m behind the puck on the line to the goal, `w*` above it so that the stick leans
//! 18° and the blade faces the goal; *puck to goal* — `5 · ρ(puck − goal centre)` with a
//! quadratic ramp and the last step ×4; penalties `l2 = 1, l1 = 0.1, α = 1e-4`; plus
//! `10⁻³ · ½‖q̇‖²` and `10⁻³ · ½‖u‖²`. Success: the puck's centre inside the goal box at the
//! last step (metric: final distance to the goal centre, m).

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, Cost, Outcome, Penalty, Ramp, Split, StateCost, Task, TaskError,
    TrajectoryRef, Waypoint, WaypointCost, WeightedSum, validate_condition,
};

use crate::arm_task::ArmTaskCore;
use crate::error::{SuiteError, final_state};
use crate::render::{Camera, RenderTask, Scene};
use crate::seven_dof::{DOF, seven_dof_arm, write_arm_state};
use crate::world::{
    CollisionRole, Layer, ObjectSpec, PlacedShape, Pose, Rotation, ShapeKind, ShapeSpec, SimWorld,
    Timing, Vector,
};

const NAME: &str = "hockey";
const HORIZON: usize = 100;
const ARM_BASE: Vector = Vector::new(-0.35, 0.0, 0.75);
/// Puck start (x, y) and its geometry.
const PUCK: [f64; 2] = [0.45, 0.0];
/// Half the floor's side (m): it spans `±FLOOR_HALF` in x and y.
pub const FLOOR_HALF: f32 = 6.0;
/// Puck radius (m).
pub const PUCK_RADIUS: f32 = 0.04;
/// Puck half height (m): its centre's height when it lies on the floor.
pub const PUCK_HALF_HEIGHT: f32 = 0.0125;
/// Half the blade's thickness along its face normal (m).
pub const BLADE_HALF_THICKNESS: f32 = 0.01;
/// Distance from the puck's start to the goal centre (m).
pub const GOAL_DISTANCE: f64 = 1.4;
const GOAL_HALF_MOUTH: f32 = 0.18;
const GOAL_HALF_DEPTH: f32 = 0.10;
/// Blade centre and wrist in the hand's frame.
const BLADE: Vector = Vector::new(0.58, 0.0, 0.0);
const WRIST: Vector = Vector::ZERO;
const STICK_LENGTH: f64 = 0.58;
/// Lean of the stick at the pre-hit pose (rad from vertical, blade ahead of the wrist).
pub const PRE_HIT_LEAN: f64 = 0.31;
const PRE_HIT_BACK: f64 = 0.12;
const PRE_HIT_HEIGHT: f64 = 0.03;
/// Start configuration (found by inverse kinematics): the blade 0.05 m behind, 0.15 m left of
/// and 0.10 m above the `centre` pre-hit point, stick leaning 18° with the blade facing +x.
const START: [f64; DOF] = [0.389, -0.659, -0.116, 2.038, 0.077, -0.099, 0.254];
const DX: usize = 30;
const DOBS: usize = 24;

/// One goal placement.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    name: &'static str,
    /// Direction of the goal from the puck (rad about z).
    angle: f64,
    split: Split,
}

const PLACEMENTS: [Placement; 3] = [
    Placement {
        name: "left",
        angle: 0.25,
        split: Split::Train,
    },
    Placement {
        name: "right",
        angle: -0.25,
        split: Split::Train,
    },
    Placement {
        name: "centre",
        angle: 0.0,
        split: Split::Test,
    },
];

fn goal(c: usize) -> [f64; 2] {
    let (s, co) = PLACEMENTS[c].angle.sin_cos();
    [PUCK[0] + GOAL_DISTANCE * co, PUCK[1] + GOAL_DISTANCE * s]
}

/// Blade and wrist targets of the pre-hit pose of condition `c`.
fn pre_hit(c: usize) -> [[f64; 3]; 2] {
    let (s, co) = PLACEMENTS[c].angle.sin_cos();
    let blade = [
        PUCK[0] - PRE_HIT_BACK * co,
        PUCK[1] - PRE_HIT_BACK * s,
        PRE_HIT_HEIGHT,
    ];
    let (ls, lc) = PRE_HIT_LEAN.sin_cos();
    let wrist = [
        blade[0] - STICK_LENGTH * ls * co,
        blade[1] - STICK_LENGTH * ls * s,
        blade[2] + STICK_LENGTH * lc,
    ];
    [blade, wrist]
}

/// The hockey task (see the module docs for the state layout).
#[derive(Debug, Clone)]
pub struct Hockey {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    puck: usize,
    current: usize,
}

fn stick() -> Vec<ShapeSpec> {
    let wood = [150, 100, 50];
    vec![
        ShapeSpec::capsule(
            Vector::ZERO,
            Vector::X * 0.55,
            0.015,
            CollisionRole::Arm,
            wood,
        ),
        ShapeSpec::cuboid(
            BLADE,
            Vector::new(0.02, 0.08, BLADE_HALF_THICKNESS),
            CollisionRole::Arm,
            [40, 40, 40],
        ),
    ]
}

fn goal_shapes() -> Vec<ShapeSpec> {
    let net = [200, 60, 60];
    let (h, d, t) = (GOAL_HALF_MOUTH, GOAL_HALF_DEPTH, 0.02);
    vec![
        ShapeSpec::cuboid(
            Vector::new(d + t, 0.0, 0.03),
            Vector::new(t, h + 2.0 * t, 0.03),
            CollisionRole::Fixture,
            net,
        ),
        ShapeSpec::cuboid(
            Vector::new(0.0, h + t, 0.03),
            Vector::new(d, t, 0.03),
            CollisionRole::Fixture,
            net,
        ),
        ShapeSpec::cuboid(
            Vector::new(0.0, -(h + t), 0.03),
            Vector::new(d, t, 0.03),
            CollisionRole::Fixture,
            net,
        ),
    ]
}

fn goal_pose(c: usize) -> Pose {
    let g = goal(c);
    Pose::from_parts(
        Vector::new(g[0] as f32, g[1] as f32, 0.0),
        Rotation::from_rotation_z(PLACEMENTS[c].angle as f32),
    )
}

impl Hockey {
    /// Build the world and the three conditions.
    pub fn new() -> Result<Self, SuiteError> {
        let mut world = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
        world.add_fixture(
            Pose::IDENTITY,
            &[ShapeSpec::cuboid(
                Vector::new(0.0, 0.0, -0.05),
                Vector::new(FLOOR_HALF, FLOOR_HALF, 0.05),
                CollisionRole::Ground,
                [225, 235, 240],
            )
            .with_friction(0.1)],
        );
        let goal_body = world.add_fixture(goal_pose(0), &goal_shapes());
        let arm = world.add_arm(&seven_dof_arm(Pose::from_translation(ARM_BASE), stick()))?;
        let puck_pose = Pose::from_translation(Vector::new(
            PUCK[0] as f32,
            PUCK[1] as f32,
            PUCK_HALF_HEIGHT,
        ));
        let puck = world.add_object(&ObjectSpec {
            name: "puck".into(),
            pose: puck_pose,
            shapes: vec![
                ShapeSpec::cylinder(
                    Vector::ZERO,
                    PUCK_HALF_HEIGHT,
                    PUCK_RADIUS,
                    CollisionRole::Object,
                    [20, 20, 20],
                )
                .with_friction(0.1),
            ],
            mass: 0.17,
            linear_damping: 0.0,
            angular_damping: 0.5,
            gravity_scale: 1.0,
        })?;
        let core = ArmTaskCore::new(world, arm, HORIZON, PLACEMENTS.len(), |w, c| {
            w.physics_mut().bodies[goal_body].set_position(goal_pose(c), true);
            w.set_object_pose(puck, puck_pose);
            w.set_joint_state(arm, &START, &[0.0; DOF])
        })?;
        let conditions = PLACEMENTS
            .iter()
            .map(|p| Condition {
                name: p.name.into(),
                split: p.split,
            })
            .collect();
        Ok(Hockey {
            core,
            conditions,
            puck,
            current: 0,
        })
    }

    /// The simulated world (for rendering, inspection and scripted controllers).
    pub fn world(&self) -> &SimWorld {
        &self.core.world
    }

    /// The world, mutably (tests and scripted controllers); changes last until the next reset.
    pub fn world_mut(&mut self) -> &mut SimWorld {
        &mut self.core.world
    }

    /// Index of the arm and of the puck object.
    pub fn arm_and_puck(&self) -> (usize, usize) {
        (self.core.arm, self.puck)
    }

    /// Goal centre (x, y) of condition `c`.
    pub fn goal(&self, c: usize) -> Option<[f64; 2]> {
        (c < PLACEMENTS.len()).then(|| goal(c))
    }

    /// Blade and wrist targets of the pre-hit pose of condition `c`.
    pub fn pre_hit(&self, c: usize) -> Option<[[f64; 3]; 2]> {
        (c < PLACEMENTS.len()).then(|| pre_hit(c))
    }

    /// The puck's start (x, y), the same in every condition.
    pub fn puck_start() -> [f64; 2] {
        PUCK
    }

    /// Blade centre and wrist in the hand's frame.
    pub fn stick_points() -> [Vector; 2] {
        [BLADE, WRIST]
    }

    /// Whether the puck centre (x, y) is inside the goal box of condition `c`.
    fn in_goal(c: usize, p: [f64; 2]) -> bool {
        let g = goal(c);
        let (s, co) = PLACEMENTS[c].angle.sin_cos();
        let (dx, dy) = (p[0] - g[0], p[1] - g[1]);
        let along = co * dx + s * dy;
        let lateral = -s * dx + co * dy;
        along.abs() <= f64::from(GOAL_HALF_DEPTH) && lateral.abs() <= f64::from(GOAL_HALF_MOUTH)
    }

    fn pose_from_state(&mut self, c: usize, x: &[f64]) -> Result<(), TaskError> {
        self.reset(c)?;
        let w = &mut self.core.world;
        w.set_joint_state(self.core.arm, &x[0..DOF], &x[DOF..2 * DOF])
            .map_err(SuiteError::from)?;
        w.set_object_pose(
            self.puck,
            Pose::from_translation(Vector::new(x[26] as f32, x[27] as f32, PUCK_HALF_HEIGHT)),
        );
        Ok(())
    }
}

impl Task for Hockey {
    crate::arm_task::arm_task_plumbing!(dx: DX, du: DOF, dobs: DOBS, joints: DOF);

    fn state(&self, x: &mut [f64]) {
        let w = &self.core.world;
        write_arm_state(w, self.core.arm, &[BLADE, WRIST], x);
        let p = w.object_pose(self.puck).translation;
        let (v, _) = w.object_velocity(self.puck);
        x[26] = f64::from(p.x);
        x[27] = f64::from(p.y);
        x[28] = f64::from(v.x);
        x[29] = f64::from(v.y);
    }

    fn observation(&self, obs: &mut [f64]) {
        let mut x = [0.0; DX];
        self.state(&mut x);
        let g = goal(self.current);
        obs[0..17].copy_from_slice(&x[0..17]);
        obs[17..20].copy_from_slice(&x[20..23]);
        obs[20] = x[26] - g[0];
        obs[21] = x[27] - g[1];
        obs[22..24].copy_from_slice(&x[28..30]);
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let penalty = Penalty {
            l2: 1.0,
            l1: 0.1,
            alpha: 1e-4,
        };
        let [blade, wrist] = pre_hit(condition);
        let mut a = vec![0.0; 6 * DX];
        for r in 0..6 {
            a[r * DX + 14 + r] = 1.0;
        }
        let pre = WaypointCost {
            waypoints: vec![Waypoint {
                rows: 6,
                a,
                b: [blade, wrist].concat(),
                start: 0,
                end: 30,
                weight: 10.0,
                penalty,
            }],
        };
        let puck = StateCost::new(vec![26, 27], goal(condition).to_vec())
            .with_ramp(Ramp::Quadratic)
            .with_final_multiplier(4.0)
            .with_penalty(penalty);
        let joint_vel = StateCost::new((DOF..2 * DOF).collect(), vec![0.0; DOF]);
        Ok(Arc::new(
            WeightedSum::new()
                .with(1.0, Arc::new(pre))
                .with(5.0, Arc::new(puck))
                .with(1e-3, Arc::new(joint_vel))
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
        let g = goal(condition);
        Ok(Outcome {
            success: Self::in_goal(condition, [x[26], x[27]]),
            metric: (x[26] - g[0]).hypot(x[27] - g[1]),
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

impl RenderTask for Hockey {
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
        let g = goal(condition);
        shapes.push(PlacedShape {
            kind: ShapeKind::Cylinder {
                half_height: 0.0005,
                radius: 0.08,
            },
            pose: Pose::from_translation(Vector::new(g[0] as f32, g[1] as f32, 0.001)),
            color: [90, 200, 110],
            layer: Layer::Floor,
        });
        Ok(Scene { shapes })
    }

    /// A wide view from the front left: the arm, the puck and the goal 1.4 m beyond it.
    fn camera(&self) -> Camera {
        let mut cam = Camera::oblique(Vector::new(0.76, 0.0, 0.38), 2.5, 384, -0.3, 0.55);
        cam.height = 216;
        cam
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(task: &Hockey) -> [f64; DX] {
        let mut x = [0.0; DX];
        task.state(&mut x);
        x
    }

    #[test]
    fn a_hit_puck_slides_and_stops_by_friction() {
        let mut task = Hockey::new().unwrap();
        task.reset(2).unwrap();
        for _ in 0..2 {
            task.step(&[0.0; DOF]).unwrap();
        }
        let start = state(&task);
        // Launch it sideways (away from the arm and the goal) at v0.
        let v0 = 1.0f32;
        task.core
            .world
            .set_object_velocity(task.puck, Vector::new(0.0, -v0, 0.0), Vector::ZERO);
        for _ in 0..30 {
            task.step(&[0.0; DOF]).unwrap();
        }
        let end = state(&task);
        let travelled = start[27] - end[27];
        // Coulomb friction μ = 0.1: d = v0² / (2 μ g).
        let expected = f64::from(v0 * v0) / (2.0 * 0.1 * 9.81);
        assert!(
            (travelled - expected).abs() < 0.25 * expected,
            "travelled {travelled}, expected {expected}"
        );
        assert!(
            end[28].hypot(end[29]) < 1e-3,
            "still moving: {:?}",
            &end[28..30]
        );
        let z = task.core.world.object_pose(task.puck).translation.z;
        assert!((z - PUCK_HALF_HEIGHT).abs() < 0.005, "puck height {z}");
    }

    #[test]
    fn a_puck_shot_at_the_goal_stays_in_it() {
        for (c, placement) in PLACEMENTS.iter().enumerate() {
            let mut task = Hockey::new().unwrap();
            task.reset(c).unwrap();
            // Fast enough to reach the back wall: v0² > 2 μ g (1.4 + depth).
            let (s, co) = placement.angle.sin_cos();
            let v0 = 2.6f32;
            let v = Vector::new(co as f32, s as f32, 0.0) * v0;
            task.core
                .world
                .set_object_velocity(task.puck, v, Vector::ZERO);
            let mut xs = Vec::new();
            let mut us = Vec::new();
            for t in 0..HORIZON {
                xs.extend(state(&task));
                us.extend([0.0; DOF]);
                if t + 1 < HORIZON {
                    task.step(&[0.0; DOF]).unwrap();
                }
            }
            let traj = TrajectoryRef::new(HORIZON, DX, DOF, &xs, &us).unwrap();
            let out = task.success(c, traj).unwrap();
            assert!(out.success, "condition {c}: {out:?}");
        }
    }
}
