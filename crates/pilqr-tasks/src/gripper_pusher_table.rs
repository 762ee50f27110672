//! `gripper-pusher-table`: a 3-link planar arm with a two-finger gripper pushes a light block
//! across a table into a goal area. (This crate's first pusher, kept under this name; the
//! paper's own model is [`crate::gripper_pusher`].)
//!
//! World (z up, gravity −9.81 m/s²): a table top (friction 0.5) at z = 0; the arm's base at
//! (0, 0, 0.04), joints about z, links 0.40 / 0.35 / 0.15 m (capsules of radius 0.02 m,
//! density 400 kg/m³, gravity-compensated, never touching the table); the last link carries a
//! palm and two rigid fingers forming a fork whose opening (0.12 m) takes the block. The block
//! is a 0.08 m cube of 0.1 kg sliding on the table with friction. Torque limits
//! (2.0, 1.5, 1.0) N·m, joint damping (0.5, 0.4, 0.3) N·m·s/rad, armature 0.01 kg·m². Every
//! condition starts the arm at `q = (−1.2, 1.6, 1.2)` rad (gripper at about (0.46, −0.04),
//! pointing +y); conditions differ in block and goal placement.
//!
//! | state index | meaning |
//! |---|---|
//! | 0..3 | joint angles `q` (rad) |
//! | 3..6 | joint velocities `q̇` (rad/s) |
//! | 6, 7 | gripper centre (between the fingers) x, y (m) |
//! | 8, 9 | fingertip centre x, y (m) |
//! | 10, 11 | gripper centre velocity (m/s) |
//! | 12, 13 | fingertip centre velocity (m/s) |
//! | 14, 15 | block centre x, y (m) |
//! | 16 | block yaw (rad, in (−π, π]) |
//! | 17, 18 | block velocity x, y (m/s) |
//! | 19 | block yaw rate (rad/s) |
//!
//! Observation (14 values): `[q, q̇, gripper centre, gripper centre velocity,
//! block − goal, block velocity]`.
//!
//! Cost: `4 · ρ(block − goal)` with a quadratic time ramp (`l2 = 1, l1 = 0.1, α = 1e-4`)
//! `+ 1 · ½‖gripper centre − block‖²` `+ 1 · ½‖0.1 q̇‖²` (the joint term: damps the arm)
//! `+ 10⁻³ · ½‖u‖²`. Success: block centre within 0.1 m of the goal at the last step.

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, Cost, Outcome, Penalty, Ramp, Split, StateCost, Task, TaskError,
    TrajectoryRef, WeightedSum, validate_condition,
};

use crate::arm_task::{ArmTaskCore, JointParams, planar_link, put_xy};
use crate::error::{SuiteError, final_state};
use crate::world::{
    ArmSpec, CollisionRole, ObjectSpec, Pose, Rotation, ShapeSpec, SimWorld, Timing, Vector,
};

const NAME: &str = "gripper-pusher-table";
const HORIZON: usize = 100;
const SUCCESS_RADIUS: f64 = 0.1;
/// Height of the arm's plane = the block's half size, so links hit the block mid-height.
const PLANE_Z: f32 = 0.04;
const BLOCK_HALF: f32 = 0.04;
const LINKS: [f32; 3] = [0.40, 0.35, 0.15];
const START: [f64; 3] = [-1.2, 1.6, 1.2];
/// Gripper centre and fingertip centre in the last link's frame.
const GRIPPER_CENTRE: Vector = Vector::new(0.20, 0.0, 0.0);
const FINGERTIPS: Vector = Vector::new(0.25, 0.0, 0.0);
/// Dimensions of the state, action and observation.
const DX: usize = 20;
const DU: usize = 3;
const DOBS: usize = 14;

/// One placement: block and goal centres on the table.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    name: &'static str,
    block: [f64; 2],
    goal: [f64; 2],
}

const PLACEMENTS: [Placement; 4] = [
    Placement {
        name: "straight",
        block: [0.46, 0.25],
        goal: [0.46, 0.60],
    },
    Placement {
        name: "left",
        block: [0.25, 0.30],
        goal: [0.0, 0.60],
    },
    Placement {
        name: "right",
        block: [0.70, 0.20],
        goal: [0.80, 0.50],
    },
    // Hard: the block is far from the gripper (≈ 0.82 m) and from the goal (0.8 m), on the
    // other side of the base: the arm must swing around it and push it back across. (Pushing
    // along +x from behind it keeps the wrist within the arm's 0.75 m reach.)
    Placement {
        name: "hard",
        block: [-0.20, 0.45],
        goal: [0.60, 0.45],
    },
];

/// The gripper-pusher-table task (see the module docs for the state layout).
#[derive(Debug, Clone)]
pub struct GripperPusherTable {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    block: usize,
    current: usize,
}

impl GripperPusherTable {
    /// Build the world and the four conditions.
    pub fn new() -> Result<Self, SuiteError> {
        let mut world = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
        world.add_fixture(
            Pose::IDENTITY,
            &[ShapeSpec::cuboid(
                Vector::new(0.0, 0.0, -0.05),
                Vector::new(2.0, 2.0, 0.05),
                CollisionRole::Ground,
                [235, 235, 228],
            )
            .with_friction(0.5)],
        );
        let params = |torque_limit, damping| JointParams {
            torque_limit,
            damping,
            armature: 0.01,
            density: 400.0,
        };
        let mut last = planar_link(
            "hand",
            LINKS[1],
            LINKS[2],
            0.02,
            params(1.0, 0.3),
            [90, 90, 110],
        );
        let dark = [60, 60, 75];
        last.shapes.extend([
            // Palm across the link's end, fingers forward along x.
            ShapeSpec::cuboid(
                Vector::new(0.15, 0.0, 0.0),
                Vector::new(0.01, 0.08, 0.02),
                CollisionRole::Arm,
                dark,
            ),
            ShapeSpec::cuboid(
                Vector::new(0.205, 0.07, 0.0),
                Vector::new(0.045, 0.01, 0.02),
                CollisionRole::Arm,
                dark,
            ),
            ShapeSpec::cuboid(
                Vector::new(0.205, -0.07, 0.0),
                Vector::new(0.045, 0.01, 0.02),
                CollisionRole::Arm,
                dark,
            ),
        ]);
        let spec = ArmSpec {
            base: Pose::from_translation(Vector::new(0.0, 0.0, PLANE_Z)),
            base_shapes: vec![ShapeSpec::cylinder(
                Vector::ZERO,
                0.04,
                0.05,
                CollisionRole::Visual,
                [50, 50, 50],
            )],
            links: vec![
                planar_link(
                    "upper",
                    0.0,
                    LINKS[0],
                    0.02,
                    params(2.0, 0.5),
                    [70, 110, 200],
                ),
                planar_link(
                    "fore",
                    LINKS[0],
                    LINKS[1],
                    0.02,
                    params(1.5, 0.4),
                    [90, 140, 220],
                ),
                last,
            ],
            gravity_scale: 0.0,
        };
        let arm = world.add_arm(&spec)?;
        let block = world.add_object(&ObjectSpec {
            name: "block".into(),
            pose: Pose::from_translation(Vector::new(0.0, 0.5, BLOCK_HALF)),
            shapes: vec![
                ShapeSpec::cuboid(
                    Vector::ZERO,
                    Vector::splat(BLOCK_HALF),
                    CollisionRole::Object,
                    [220, 120, 40],
                )
                .with_friction(0.5),
            ],
            mass: 0.1,
            linear_damping: 0.0,
            angular_damping: 0.0,
            gravity_scale: 1.0,
        })?;
        let core = ArmTaskCore::new(world, arm, HORIZON, PLACEMENTS.len(), |w, c| {
            w.set_joint_state(arm, &START, &[0.0; 3])?;
            let [bx, by] = PLACEMENTS[c].block;
            w.set_object_pose(
                block,
                Pose::from_translation(Vector::new(bx as f32, by as f32, BLOCK_HALF)),
            );
            Ok(())
        })?;
        let conditions = PLACEMENTS
            .iter()
            .map(|p| Condition {
                name: p.name.into(),
                split: Split::Train,
            })
            .collect();
        Ok(GripperPusherTable {
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

    /// Move the world to the configuration of state `x` (joint angles and velocities, block
    /// pose) on top of condition `c`: used by the renderer.
    pub(crate) fn pose_from_state(&mut self, c: usize, x: &[f64]) -> Result<(), TaskError> {
        self.reset(c)?;
        let arm = self.core.arm;
        self.core
            .world
            .set_joint_state(arm, &x[0..3], &x[3..6])
            .map_err(SuiteError::from)?;
        let pose = Pose::from_parts(
            Vector::new(x[14] as f32, x[15] as f32, BLOCK_HALF),
            Rotation::from_rotation_z(x[16] as f32),
        );
        self.core.world.set_object_pose(self.block, pose);
        Ok(())
    }
}

impl Task for GripperPusherTable {
    crate::arm_task::arm_task_plumbing!(dx: DX, du: DU, dobs: DOBS, joints: 3);

    fn state(&self, x: &mut [f64]) {
        let w = &self.core.world;
        let arm = self.core.arm;
        w.joint_positions(arm, &mut x[0..3]);
        w.joint_velocities(arm, &mut x[3..6]);
        put_xy(&mut x[6..8], w.link_point(arm, 2, GRIPPER_CENTRE));
        put_xy(&mut x[8..10], w.link_point(arm, 2, FINGERTIPS));
        put_xy(
            &mut x[10..12],
            w.link_point_velocity(arm, 2, GRIPPER_CENTRE),
        );
        put_xy(&mut x[12..14], w.link_point_velocity(arm, 2, FINGERTIPS));
        let pose = w.object_pose(self.block);
        put_xy(&mut x[14..16], pose.translation);
        // Yaw of the block's x axis projected on the table.
        let ax = pose.rotation * Vector::X;
        x[16] = f64::from(ax.y).atan2(f64::from(ax.x));
        let (v, om) = w.object_velocity(self.block);
        put_xy(&mut x[17..19], v);
        x[19] = f64::from(om.z);
    }

    fn observation(&self, obs: &mut [f64]) {
        let mut x = [0.0; DX];
        self.state(&mut x);
        let goal = PLACEMENTS[self.current].goal;
        obs[0..8].copy_from_slice(&x[0..8]);
        obs[8..10].copy_from_slice(&x[10..12]);
        obs[10] = x[14] - goal[0];
        obs[11] = x[15] - goal[1];
        obs[12..14].copy_from_slice(&x[17..19]);
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let goal = PLACEMENTS[condition].goal;
        let block_to_goal = StateCost::new(vec![14, 15], goal.to_vec())
            .with_ramp(Ramp::Quadratic)
            .with_penalty(Penalty {
                l2: 1.0,
                l1: 0.1,
                alpha: 1e-4,
            });
        let gripper_to_block =
            StateCost::new(vec![6, 7], vec![0.0; 2]).with_relative_to(vec![14, 15]);
        let joint = StateCost::new(vec![3, 4, 5], vec![0.0; 3]).with_weights(vec![0.1; 3]);
        Ok(Arc::new(
            WeightedSum::new()
                .with(4.0, Arc::new(block_to_goal))
                .with(1.0, Arc::new(gripper_to_block))
                .with(1.0, Arc::new(joint))
                .with(
                    1e-3,
                    Arc::new(ActionCost {
                        weights: vec![1.0; DU],
                    }),
                ),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let x = final_state(NAME, traj, DX)?;
        let g = PLACEMENTS[condition].goal;
        let metric = (x[14] - g[0]).hypot(x[15] - g[1]);
        Ok(Outcome {
            success: metric < SUCCESS_RADIUS,
            metric,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(task: &GripperPusherTable) -> [f64; DX] {
        let mut x = [0.0; DX];
        task.state(&mut x);
        x
    }

    #[test]
    fn a_sliding_block_stops_by_friction_after_the_coulomb_distance() {
        let mut task = GripperPusherTable::new().unwrap();
        task.reset(0).unwrap();
        // Let the block settle on the table, then launch it along +y at v0 (away from the arm).
        for _ in 0..4 {
            task.step(&[0.0; DU]).unwrap();
        }
        let start = state(&task);
        let v0 = 0.6f32;
        task.core
            .world
            .set_object_velocity(task.block, Vector::new(0.0, v0, 0.0), Vector::ZERO);
        for _ in 0..20 {
            task.step(&[0.0; DU]).unwrap();
        }
        let end = state(&task);
        let travelled = end[15] - start[15];
        // Coulomb friction μ = 0.5 (both surfaces): d = v0² / (2 μ g).
        let expected = f64::from(v0 * v0) / (2.0 * 0.5 * 9.81);
        assert!(
            (travelled - expected).abs() < 0.25 * expected,
            "travelled {travelled}, expected {expected}"
        );
        assert!(
            end[17].hypot(end[18]) < 1e-3,
            "still moving: {:?}",
            &end[17..19]
        );
        assert!((end[14] - start[14]).abs() < 1e-3);
    }

    #[test]
    fn sweeping_the_arm_pushes_the_block() {
        let mut task = GripperPusherTable::new().unwrap();
        task.reset(0).unwrap();
        let start = state(&task);
        // Turning the shoulder counter-clockwise moves the gripper (at ≈ (0.46, −0.04),
        // pointing +y) into the block in front of it.
        for _ in 0..20 {
            task.step(&[1.5, 0.0, 0.0]).unwrap();
        }
        let end = state(&task);
        let moved = (end[14] - start[14]).hypot(end[15] - start[15]);
        assert!(moved > 0.05, "block moved {moved}");
        // The block stays on the table.
        let z = task.core.world.object_pose(task.block).translation.z;
        assert!((z - BLOCK_HALF).abs() < 0.01, "block height {z}");
    }

    #[test]
    fn the_hard_condition_is_far_from_gripper_and_goal() {
        let mut task = GripperPusherTable::new().unwrap();
        task.reset(3).unwrap();
        let x = state(&task);
        let g = PLACEMENTS[3].goal;
        let to_gripper = (x[14] - x[6]).hypot(x[15] - x[7]);
        let to_goal = (x[14] - g[0]).hypot(x[15] - g[1]);
        for (c, p) in PLACEMENTS.iter().enumerate().take(3) {
            task.reset(c).unwrap();
            let y = state(&task);
            assert!(to_gripper > 2.0 * (y[14] - y[6]).hypot(y[15] - y[7]));
            assert!(to_goal > (p.block[0] - p.goal[0]).hypot(p.block[1] - p.goal[1]));
        }
    }
}
