//! `gripper-pusher`: the paper's gripper pusher — a planar 3-link arm with a turning fork pushes
//! a light block on two damped slides to a goal — rebuilt in rapier after the published MuJoCo
//! model and experiment file (the task [`crate::GripperPusherTable`] is a different pusher).
//!
//! World (no gravity). The published model works in its x–z plane with hinges about y; here
//! that plane is the x–y plane and the hinges turn about z (its z is our y), so angles count
//! counter-clockwise seen from +z (all limits are symmetric, so nothing else changes).
//!
//! - Palm: a fixed capsule of radius 0.12 across the plane (length 0.2, along z) at the origin;
//!   it touches only the block.
//! - Three links of 0.4 m (capsules of radius 0.06) on hinges about z: the first unlimited, the
//!   other two within ±2.32 rad.
//! - A wrist hinge at the third link's end about the link's own axis (±3.32 rad) carries a fork
//!   of three capsules of radius 0.04: a 0.4 m bar across the link end and two 0.2 m fingers
//!   along it. At wrist angle 0 the fork lies in the plane; turning it tilts it out of the plane.
//! - Joints: damping 0.5 N·m·s/rad, armature 0.04 kg·m², torque motors clamped to ±2 N·m;
//!   density 300 kg/m³ for the arm; friction 0.8 on every surface; the arm does not collide
//!   with itself.
//! - The block: a 0.1 m cube on two slides in the plane (x and y), each with damping
//!   0.07 N·s/m; it does not rotate. The goal is a marker without collision.
//! - Timing: physics step 0.01 s, control step 0.05 s (5 physics steps), `T = 100`. Every
//!   condition starts the arm at `q = 0` (stretched along +x, fork at x = 1.2) at rest.
//!
//! Conditions (block centre → goal centre, in the plane): `hard` (0.65, −0.9) → (1.6, −0.25)
//! (block far from the gripper and from the goal), `second` (1.0, 0.45) → (0.2, 1.0), `third`
//! (0.9, 0.9) → (1.25, 0.4), `fourth` (0.5, 0.9) → (−0.4, 0.75).
//!
//! | state index | meaning |
//! |---|---|
//! | 0..4 | arm joint angles (shoulder, elbow, third hinge, wrist; rad) |
//! | 4, 5 | block slides: displacement from the condition's start along x, y (m) |
//! | 6..10 | arm joint velocities (rad/s) |
//! | 10, 11 | block slide velocities (m/s) |
//! | 12..15, 15..18 | the two fingertips, (0.1, ±0.2, 0) in the wrist frame, x y z (m) |
//! | 18..21 | block centre (m) |
//! | 21..24 | goal centre (m) |
//! | 24..36 | velocities of those four points, same order (m/s; the goal's are 0) |
//!
//! Observation: the state (36 values). Cost (as published, no action term):
//! `4 · ρ(block − goal)` with a quadratic time ramp and `ρ` = (`l2 = 10, l1 = 0.1, α = 1e-5`)
//! `+ 1 · ρ(both fingertips − block)` (same `ρ`, constant in time)
//! `+ 1 · ρ(wrist angle)` (`l2 = 10`, no l1 part). Success: the block centre within 0.1 m of
//! the goal centre at the last step.
//!
//! ## Where rapier differs from the published model, and what it changes
//!
//! Measured by the tests of this module (`cargo test -p pilqr-tasks gripper_pusher`).
//!
//! 1. **The block's inertia.** The published block has a density of 1e-5 (1e-8 kg), but the
//!    model's default joint armature (0.04) applies to its two slide joints too, so along each
//!    slide MuJoCo integrates `(1e-8 + 0.04) v̇ = F − 0.07 v`: a first-order lag towards
//!    `v = F / 0.07` with time constant 0.04 / 0.07 ≈ 0.57 s, and a push leaves the block
//!    gliding about `0.57 s · v` before it stops. Here the block is a free rapier body of
//!    [`BLOCK_INERTIA`] kg with all rotations and the z translation locked and a linear damping
//!    rate of 0.07 / 0.04 per second — the same law, integrated implicitly by rapier.
//! 2. **Integration.** MuJoCo ran RK4 at 0.01 s; rapier integrates semi-implicitly (symplectic
//!    Euler velocities, implicit joint damping, a block damping factor `1 / (1 + h·d)` per
//!    step), also at 0.01 s. A freely spinning wrist then decays by `1 / (1 + h c / I)` per
//!    step instead of `exp(−h c / I)`; the block's damping likewise.
//! 3. **Contacts.** rapier's contacts are soft (a few millimetres of penetration) and solved
//!    iteratively; the published model's contacts have a 2 mm margin. Friction 0.8 is used as
//!    listed (rapier averages the two surfaces' coefficients, all 0.8 here).
//! 4. **Self-collision.** MuJoCo would let non-adjacent links touch; here the arm never
//!    collides with itself (the hinge limits keep the links apart in most poses).

use std::sync::Arc;

use pilqr_core::{
    Condition, Cost, Outcome, Penalty, Ramp, Split, StateCost, StateLayout, Task, TaskDims,
    TaskError, TrajectoryRef, WeightedSum, validate_condition,
};
use rapier3d::prelude::LockedAxes;

use crate::arm_task::{ArmTaskCore, JointParams, planar_link};
use crate::error::{SuiteError, final_state};
use crate::render::{Camera, RenderTask, Scene};
use crate::world::{
    ArmSpec, CollisionRole, JointSpec, Layer, LinkSpec, ObjectSpec, PlacedShape, Pose, ShapeKind,
    ShapeSpec, SimWorld, Timing, Vector,
};

const NAME: &str = "gripper-pusher";
const HORIZON: usize = 100;
const SUCCESS_RADIUS: f64 = 0.1;
/// Length of each of the three links (m).
pub const LINK: f32 = 0.4;
const LINK_RADIUS: f32 = 0.06;
const FORK_RADIUS: f32 = 0.04;
/// Half the fork bar's length = the fingers' distance from the link axis (m).
const FORK_HALF: f32 = 0.2;
const FINGER: f32 = 0.2;
/// Limits of the second and third hinge, and of the wrist (rad).
pub const HINGE_LIMIT: f32 = 2.32;
/// Limit of the wrist hinge (rad).
pub const WRIST_LIMIT: f32 = 3.32;
/// Joint damping of every arm joint (N·m·s/rad).
pub const JOINT_DAMPING: f32 = 0.5;
/// Armature of every arm joint (kg·m²).
pub const ARMATURE: f32 = 0.04;
/// Torque limit of the four motors (N·m).
pub const TORQUE_LIMIT: f64 = 2.0;
const DENSITY: f32 = 300.0;
const FRICTION: f32 = 0.8;
/// Half the block's side (m).
pub const BLOCK_HALF: f32 = 0.05;
/// Viscous damping of each block slide (N·s/m).
pub const SLIDE_DAMPING: f32 = 0.07;
/// The block's inertia along each slide (kg): the published model's default joint armature,
/// which its slide joints inherit (its own mass, 1e-8 kg, is negligible beside it).
pub const BLOCK_INERTIA: f32 = 0.04;
/// The fingertips in the wrist frame.
pub const FINGERTIPS: [Vector; 2] = [Vector::new(0.1, 0.2, 0.0), Vector::new(0.1, -0.2, 0.0)];
/// Dimensions of the state and action.
const DX: usize = 36;
const DU: usize = 4;
/// Index of the wrist angle in the state.
const WRIST: usize = 3;

/// One condition: block and goal centres in the plane.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    name: &'static str,
    block: [f64; 2],
    goal: [f64; 2],
}

const PLACEMENTS: [Placement; 4] = [
    Placement {
        name: "hard",
        block: [0.65, -0.9],
        goal: [1.6, -0.25],
    },
    Placement {
        name: "second",
        block: [1.0, 0.45],
        goal: [0.2, 1.0],
    },
    Placement {
        name: "third",
        block: [0.9, 0.9],
        goal: [1.25, 0.4],
    },
    Placement {
        name: "fourth",
        block: [0.5, 0.9],
        goal: [-0.4, 0.75],
    },
];

/// The paper's gripper pusher (see the module docs for the model and the state layout).
#[derive(Debug, Clone)]
pub struct GripperPusher {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    block: usize,
    current: usize,
}

fn shape(kind: ShapeKind, role: CollisionRole, color: [u8; 3]) -> ShapeSpec {
    ShapeSpec::new(kind, role, color).with_friction(FRICTION)
}

fn capsule(a: Vector, b: Vector, radius: f32, color: [u8; 3]) -> ShapeSpec {
    shape(
        ShapeKind::Capsule { a, b, radius },
        CollisionRole::Arm,
        color,
    )
}

impl GripperPusher {
    /// Build the world and the four conditions.
    pub fn new() -> Result<Self, SuiteError> {
        let mut world = SimWorld::new(Timing::default(), Vector::ZERO);
        let params = JointParams {
            torque_limit: TORQUE_LIMIT,
            damping: JOINT_DAMPING,
            armature: ARMATURE,
            density: DENSITY,
        };
        let colors = [[70, 110, 200], [90, 140, 220], [110, 160, 235]];
        let mut links: Vec<LinkSpec> = (0..3)
            .map(|i| {
                let anchor = if i == 0 { 0.0 } else { LINK };
                let mut l = planar_link(
                    &format!("link{}", i + 1),
                    anchor,
                    LINK,
                    LINK_RADIUS,
                    params,
                    colors[i],
                );
                l.shapes[0].friction = FRICTION;
                if i > 0 {
                    l.joint.limits = Some([-HINGE_LIMIT, HINGE_LIMIT]);
                }
                l
            })
            .collect();
        let dark = [60, 60, 75];
        links.push(LinkSpec {
            name: "fork".into(),
            joint: JointSpec {
                anchor: Vector::X * LINK,
                axis: Vector::X,
                limits: Some([-WRIST_LIMIT, WRIST_LIMIT]),
                torque_limit: TORQUE_LIMIT,
                damping: JOINT_DAMPING,
                armature: ARMATURE,
            },
            shapes: vec![
                capsule(
                    Vector::new(0.0, -FORK_HALF, 0.0),
                    Vector::new(0.0, FORK_HALF, 0.0),
                    FORK_RADIUS,
                    dark,
                ),
                capsule(
                    Vector::new(0.0, FORK_HALF, 0.0),
                    Vector::new(FINGER, FORK_HALF, 0.0),
                    FORK_RADIUS,
                    dark,
                ),
                capsule(
                    Vector::new(0.0, -FORK_HALF, 0.0),
                    Vector::new(FINGER, -FORK_HALF, 0.0),
                    FORK_RADIUS,
                    dark,
                ),
            ],
            density: DENSITY,
        });
        let spec = ArmSpec {
            base: Pose::IDENTITY,
            // The palm touches the block only: the "ground" role collides with objects alone.
            base_shapes: vec![shape(
                ShapeKind::Capsule {
                    a: Vector::new(0.0, 0.0, -0.1),
                    b: Vector::new(0.0, 0.0, 0.1),
                    radius: 0.12,
                },
                CollisionRole::Ground,
                [50, 50, 50],
            )],
            links,
            gravity_scale: 0.0,
        };
        let arm = world.add_arm(&spec)?;
        let block = world.add_object(&ObjectSpec {
            name: "block".into(),
            pose: Pose::IDENTITY,
            shapes: vec![shape(
                ShapeKind::Cuboid {
                    half_extents: Vector::splat(BLOCK_HALF),
                },
                CollisionRole::Object,
                [220, 120, 40],
            )],
            mass: BLOCK_INERTIA,
            linear_damping: SLIDE_DAMPING / BLOCK_INERTIA,
            angular_damping: 0.0,
            gravity_scale: 0.0,
        })?;
        // Two slides in the plane: no rotation, no motion out of the plane.
        let body = world.objects()[block].body();
        world.physics_mut().bodies[body].set_locked_axes(
            LockedAxes::ROTATION_LOCKED | LockedAxes::TRANSLATION_LOCKED_Z,
            true,
        );
        let core = ArmTaskCore::new(world, arm, HORIZON, PLACEMENTS.len(), |w, c| {
            w.set_joint_state(arm, &[0.0; DU], &[0.0; DU])?;
            w.set_object_pose(block, Pose::from_translation(at(PLACEMENTS[c].block)));
            Ok(())
        })?;
        let conditions = PLACEMENTS
            .iter()
            .map(|p| Condition {
                name: p.name.into(),
                split: Split::Train,
            })
            .collect();
        Ok(GripperPusher {
            core,
            conditions,
            block,
            current: 0,
        })
    }

    /// The goal centre of condition `c`.
    pub fn goal(&self, c: usize) -> Option<[f64; 2]> {
        PLACEMENTS.get(c).map(|p| p.goal)
    }

    /// The initial block centre of condition `c`.
    pub fn block_start(&self, c: usize) -> Option<[f64; 2]> {
        PLACEMENTS.get(c).map(|p| p.block)
    }

    /// The simulated world (for rendering and inspection).
    pub fn world(&self) -> &SimWorld {
        &self.core.world
    }

    /// The simulated world, mutably (physics tests push the block or spin the wrist).
    pub fn world_mut(&mut self) -> &mut SimWorld {
        &mut self.core.world
    }

    /// Index of the block among the world's objects.
    pub fn block(&self) -> usize {
        self.block
    }

    /// Move the world to the configuration of state `x` (joint angles and velocities, block
    /// position) on top of condition `c`: used by the renderer.
    fn pose_from_state(&mut self, c: usize, x: &[f64]) -> Result<(), TaskError> {
        self.reset(c)?;
        let arm = self.core.arm;
        self.core
            .world
            .set_joint_state(arm, &x[0..4], &x[6..10])
            .map_err(SuiteError::from)?;
        let centre = Vector::new(x[18] as f32, x[19] as f32, 0.0);
        self.core
            .world
            .set_object_pose(self.block, Pose::from_translation(centre));
        Ok(())
    }
}

/// A point of the plane as a world vector.
fn at(p: [f64; 2]) -> Vector {
    Vector::new(p[0] as f32, p[1] as f32, 0.0)
}

/// Write `v` into `out[0..3]`.
fn put3(out: &mut [f64], v: Vector) {
    out[0] = f64::from(v.x);
    out[1] = f64::from(v.y);
    out[2] = f64::from(v.z);
}

fn rho(l1: f64) -> Penalty {
    Penalty {
        l2: 10.0,
        l1,
        alpha: 1e-5,
    }
}

impl Task for GripperPusher {
    fn name(&self) -> &str {
        NAME
    }

    fn dims(&self) -> TaskDims {
        TaskDims {
            dx: DX,
            du: DU,
            dobs: DX,
            horizon: HORIZON,
            dt: self.core.world.timing().control_dt(),
        }
    }

    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The arm's joints: angles `0..4`, velocities `6..10` (the block's slides follow each).
    fn layout(&self) -> StateLayout {
        StateLayout {
            joint_pos: 0..4,
            joint_vel: 6..10,
        }
    }

    fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
        self.core.reset(condition)?;
        self.current = condition;
        Ok(())
    }

    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        self.core.step(u)
    }

    fn action_limits(&self) -> Option<Vec<f64>> {
        Some(self.core.torque_limits().to_vec())
    }

    fn state(&self, x: &mut [f64]) {
        let w = &self.core.world;
        let arm = self.core.arm;
        w.joint_positions(arm, &mut x[0..4]);
        w.joint_velocities(arm, &mut x[6..10]);
        let p = PLACEMENTS[self.current];
        let centre = w.object_pose(self.block).translation;
        let (v, _) = w.object_velocity(self.block);
        // Relative to the start as the world stores it (f32), so that it is 0 at a reset.
        let start = at(p.block);
        x[4] = f64::from(centre.x - start.x);
        x[5] = f64::from(centre.y - start.y);
        x[10] = f64::from(v.x);
        x[11] = f64::from(v.y);
        for (k, tip) in FINGERTIPS.iter().enumerate() {
            put3(&mut x[12 + 3 * k..], w.link_point(arm, 3, *tip));
            put3(&mut x[24 + 3 * k..], w.link_point_velocity(arm, 3, *tip));
        }
        put3(&mut x[18..21], centre);
        put3(&mut x[21..24], at(p.goal));
        put3(&mut x[30..33], v);
        x[33..36].fill(0.0);
    }

    fn observation(&self, obs: &mut [f64]) {
        self.state(obs);
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let block_to_goal = StateCost::new(vec![18, 19, 20], vec![0.0; 3])
            .with_relative_to(vec![21, 22, 23])
            .with_ramp(Ramp::Quadratic)
            .with_penalty(rho(0.1));
        let tips_to_block = StateCost::new((12..18).collect(), vec![0.0; 6])
            .with_relative_to(vec![18, 19, 20, 18, 19, 20])
            .with_penalty(rho(0.1));
        let wrist = StateCost::new(vec![WRIST], vec![0.0]).with_penalty(rho(0.0));
        Ok(Arc::new(
            WeightedSum::new()
                .with(4.0, Arc::new(block_to_goal))
                .with(1.0, Arc::new(tips_to_block))
                .with(1.0, Arc::new(wrist)),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let x = final_state(NAME, traj, DX)?;
        let g = PLACEMENTS[condition].goal;
        let metric = (x[18] - g[0]).hypot(x[19] - g[1]);
        Ok(Outcome {
            success: metric < SUCCESS_RADIUS,
            metric,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

impl RenderTask for GripperPusher {
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
        let mut shapes = self.world().placed_shapes();
        // pose_from_state validated the condition. The goal (a 0.2 m square, as published)
        // lies under everything else.
        let g = PLACEMENTS[condition].goal;
        shapes.push(PlacedShape {
            kind: ShapeKind::Cuboid {
                half_extents: Vector::new(0.1, 0.1, 0.001),
            },
            pose: Pose::from_translation(at(g) - Vector::Z * 0.2),
            color: [90, 200, 110],
            layer: Layer::Floor,
        });
        Ok(Scene { shapes })
    }

    fn camera(&self) -> Camera {
        Camera::top_down(Vector::new(0.1, 0.0, 0.0), 3.4, 340)
    }
}

#[cfg(test)]
#[path = "gripper_pusher_tests.rs"]
mod tests;
