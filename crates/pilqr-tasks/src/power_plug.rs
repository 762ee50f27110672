//! `power-plug`: the 7-DoF arm (see [`crate::seven_dof`]) holds a plug and must insert it into
//! a socket with a small clearance.
//!
//! World (z up, nothing falls): the arm's base at (−0.28, 0, 0.55) facing +x. The plug is
//! rigidly part of the hand: a palm block (0.04 × 0.07 × 0.07 m) and a round pin (capsule of
//! radius 0.012 m) along the hand's x axis, its tip 0.172 m from the wrist. The socket is a
//! fixture facing the robot: a square hole of half-width 0.014 m (2 mm clearance around the
//! pin), 0.05 m deep, in a 0.16 × 0.16 m block (its walls collide with the whole arm), closed
//! by a back plate. Conditions place the socket's entry centre: `nominal` (0.60, 0, 0.50) and
//! `high-left` (0.56, 0.08, 0.56), both for training. Every episode starts at the same arm
//! configuration, the pin along +x about 0.13 m in front of and beside the nominal hole.
//!
//! | state index | meaning |
//! |---|---|
//! | 0..7 | joint angles `q` (rad) |
//! | 7..14 | joint velocities `q̇` (rad/s) |
//! | 14..17 | pin tip x, y, z (m) |
//! | 17..20 | pin base (0.092 m behind the tip) x, y, z (m) |
//! | 20..23 | pin tip velocity (m/s) |
//! | 23..26 | pin base velocity (m/s) |
//!
//! Observation (23 values): `[q, q̇, tip − tip target, base − base target, tip velocity]`.
//!
//! Cost: `10 · ρ(tip − tip target) + 10 · ρ(base − base target)` (tip target: the centre of
//! the hole's bottom; base target 0.092 m straight out of the hole, so the pin is aligned),
//! linear ramp, last step ×4, `l2 = 1, l1 = 1, α = 1e-5`; plus `10⁻³ · ½‖q̇‖²` and
//! `10⁻³ · ½‖u‖²`. Success: at the last step the tip is within 5 mm of the bottom (depth ≥
//! 0.045 m) and inside the hole (metric: final tip distance to its target, m).

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, Cost, Outcome, Penalty, Ramp, Split, StateCost, Task, TaskError,
    TrajectoryRef, WeightedSum, validate_condition,
};

use crate::arm_task::ArmTaskCore;
use crate::error::{SuiteError, final_state};
use crate::render::{Camera, RenderTask, Scene};
use crate::seven_dof::{DOF, seven_dof_arm, write_arm_state};
use crate::world::{
    CollisionRole, Layer, PlacedShape, Pose, ShapeKind, ShapeSpec, SimWorld, Timing, Vector,
};

const NAME: &str = "power-plug";
const HORIZON: usize = 100;
const ARM_BASE: Vector = Vector::new(-0.28, 0.0, 0.55);
/// Pin radius (m).
pub const PIN_RADIUS: f32 = 0.012;
/// Half-width of the square hole (m): the pin's radius plus the clearance.
pub const HOLE_HALF: f32 = 0.014;
/// Depth of the hole (m).
pub const HOLE_DEPTH: f32 = 0.05;
const BLOCK_HALF: f32 = 0.08;
/// Insertion tolerance: the tip must be this close to the bottom (m).
pub const DEPTH_TOLERANCE: f64 = 0.005;
/// Pin tip and pin base in the hand's frame.
const TIP: Vector = Vector::new(0.172, 0.0, 0.0);
const BASE: Vector = Vector::new(0.08, 0.0, 0.0);
/// Start configuration (found by inverse kinematics): the pin along +x, its tip 0.13 m in
/// front of, 0.03 m left of and 0.03 m above the nominal hole, at rest.
const START: [f64; DOF] = [0.033, 0.765, -0.035, -1.699, -0.071, 0.936, 0.067];
const DX: usize = 26;
const DOBS: usize = 23;

/// One socket placement: the entry centre (the socket faces −x).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    name: &'static str,
    entry: [f32; 3],
}

const PLACEMENTS: [Placement; 2] = [
    Placement {
        name: "nominal",
        entry: [0.60, 0.0, 0.50],
    },
    Placement {
        name: "high-left",
        entry: [0.56, 0.08, 0.56],
    },
];

fn entry(c: usize) -> Vector {
    let [x, y, z] = PLACEMENTS[c].entry;
    Vector::new(x, y, z)
}

/// Tip and base targets of condition `c`.
fn targets(c: usize) -> [[f64; 3]; 2] {
    let e = entry(c);
    let tip = e + Vector::X * HOLE_DEPTH;
    let base = tip - Vector::X * (TIP.x - BASE.x);
    [tip, base].map(|v| [f64::from(v.x), f64::from(v.y), f64::from(v.z)])
}

/// The socket block around a hole along +x starting at the origin (the entry centre).
fn socket_shapes() -> Vec<ShapeSpec> {
    let color = [230, 230, 220];
    let (h, d, b) = (HOLE_HALF, HOLE_DEPTH, BLOCK_HALF);
    let mid = (h + b) / 2.0;
    let side = (b - h) / 2.0;
    let wall = |center: Vector, half: Vector| {
        ShapeSpec::cuboid(center, half, CollisionRole::Fixture, color)
    };
    vec![
        wall(
            Vector::new(d / 2.0, 0.0, mid),
            Vector::new(d / 2.0, b, side),
        ),
        wall(
            Vector::new(d / 2.0, 0.0, -mid),
            Vector::new(d / 2.0, b, side),
        ),
        wall(
            Vector::new(d / 2.0, mid, 0.0),
            Vector::new(d / 2.0, side, h),
        ),
        wall(
            Vector::new(d / 2.0, -mid, 0.0),
            Vector::new(d / 2.0, side, h),
        ),
        wall(Vector::new(d + 0.01, 0.0, 0.0), Vector::new(0.01, b, b)),
    ]
}

/// The power-plug task (see the module docs for the state layout).
#[derive(Debug, Clone)]
pub struct PowerPlug {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    current: usize,
}

fn plug() -> Vec<ShapeSpec> {
    vec![
        ShapeSpec::cuboid(
            Vector::new(0.05, 0.0, 0.0),
            Vector::new(0.02, 0.035, 0.035),
            CollisionRole::Arm,
            [40, 40, 40],
        ),
        ShapeSpec::capsule(
            Vector::new(0.07, 0.0, 0.0),
            TIP - Vector::X * PIN_RADIUS,
            PIN_RADIUS,
            CollisionRole::Arm,
            [200, 170, 60],
        ),
    ]
}

impl PowerPlug {
    /// Build the world and the conditions.
    pub fn new() -> Result<Self, SuiteError> {
        let mut world = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
        world.add_floor_marker(ShapeSpec::cuboid(
            Vector::new(0.3, 0.0, -0.01),
            Vector::new(0.6, 0.6, 0.01),
            CollisionRole::Visual,
            [235, 235, 228],
        ));
        let socket = world.add_fixture(Pose::from_translation(entry(0)), &socket_shapes());
        let arm = world.add_arm(&seven_dof_arm(Pose::from_translation(ARM_BASE), plug()))?;
        let core = ArmTaskCore::new(world, arm, HORIZON, PLACEMENTS.len(), |w, c| {
            w.physics_mut().bodies[socket].set_position(Pose::from_translation(entry(c)), true);
            w.set_joint_state(arm, &START, &[0.0; DOF])
        })?;
        let conditions = PLACEMENTS
            .iter()
            .map(|p| Condition {
                name: p.name.into(),
                split: Split::Train,
            })
            .collect();
        Ok(PowerPlug {
            core,
            conditions,
            current: 0,
        })
    }

    /// The simulated world (for rendering, inspection and scripted controllers).
    pub fn world(&self) -> &SimWorld {
        &self.core.world
    }

    /// Index of the arm.
    pub fn arm(&self) -> usize {
        self.core.arm
    }

    /// Pin tip and pin base in the hand's frame.
    pub fn pin_points() -> [Vector; 2] {
        [TIP, BASE]
    }

    /// The hole's entry centre of condition `c` (the hole runs along +x from there).
    pub fn entry(&self, c: usize) -> Option<[f64; 3]> {
        (c < PLACEMENTS.len()).then(|| {
            let e = entry(c);
            [f64::from(e.x), f64::from(e.y), f64::from(e.z)]
        })
    }

    /// Tip and base targets of condition `c`.
    pub fn targets(&self, c: usize) -> Option<[[f64; 3]; 2]> {
        (c < PLACEMENTS.len()).then(|| targets(c))
    }

    fn pose_from_state(&mut self, c: usize, x: &[f64]) -> Result<(), TaskError> {
        self.reset(c)?;
        self.core
            .world
            .set_joint_state(self.core.arm, &x[0..DOF], &x[DOF..2 * DOF])
            .map_err(SuiteError::from)?;
        Ok(())
    }
}

impl Task for PowerPlug {
    crate::arm_task::arm_task_plumbing!(dx: DX, du: DOF, dobs: DOBS, joints: DOF);

    fn state(&self, x: &mut [f64]) {
        write_arm_state(&self.core.world, self.core.arm, &[TIP, BASE], x);
    }

    fn observation(&self, obs: &mut [f64]) {
        let mut x = [0.0; DX];
        self.state(&mut x);
        let [tip, base] = targets(self.current);
        obs[0..14].copy_from_slice(&x[0..14]);
        for k in 0..3 {
            obs[14 + k] = x[14 + k] - tip[k];
            obs[17 + k] = x[17 + k] - base[k];
        }
        obs[20..23].copy_from_slice(&x[20..23]);
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, PLACEMENTS.len())?;
        let [tip, base] = targets(condition);
        let penalty = Penalty {
            l2: 1.0,
            l1: 1.0,
            alpha: 1e-5,
        };
        let point = |indices: Vec<usize>, target: [f64; 3]| {
            Arc::new(
                StateCost::new(indices, target.to_vec())
                    .with_ramp(Ramp::Linear)
                    .with_final_multiplier(4.0)
                    .with_penalty(penalty),
            )
        };
        let joint_vel = StateCost::new((DOF..2 * DOF).collect(), vec![0.0; DOF]);
        Ok(Arc::new(
            WeightedSum::new()
                .with(10.0, point(vec![14, 15, 16], tip))
                .with(10.0, point(vec![17, 18, 19], base))
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
        let e = entry(condition);
        let depth = x[14] - f64::from(e.x);
        let lateral = (x[15] - f64::from(e.y))
            .abs()
            .max((x[16] - f64::from(e.z)).abs());
        let [tip, _] = targets(condition);
        let metric = (0..3)
            .map(|k| (x[14 + k] - tip[k]).powi(2))
            .sum::<f64>()
            .sqrt();
        Ok(Outcome {
            success: depth >= f64::from(HOLE_DEPTH) - DEPTH_TOLERANCE
                && lateral <= f64::from(HOLE_HALF),
            metric,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

impl RenderTask for PowerPlug {
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
        // Mark the hole's mouth on the socket's face.
        let e = entry(condition);
        shapes.push(PlacedShape {
            kind: ShapeKind::Cuboid {
                half_extents: Vector::new(0.001, HOLE_HALF, HOLE_HALF),
            },
            pose: Pose::from_translation(e - Vector::X * 0.002),
            color: [90, 200, 110],
            layer: Layer::Body,
        });
        Ok(Scene { shapes })
    }

    /// From the front left, close enough to see the pin enter the hole.
    fn camera(&self) -> Camera {
        let mut cam = Camera::oblique(Vector::new(0.3, 0.0, 0.47), 1.0, 320, -0.5, 0.35);
        cam.height = 224;
        cam
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seven_dof::{HAND, jacobian_transpose};

    fn state(task: &PowerPlug) -> [f64; DX] {
        let mut x = [0.0; DX];
        task.state(&mut x);
        x
    }

    /// Cartesian PD on the pin's tip and base toward `tip` (the base 0.092 m behind it along
    /// −x) through `Jᵀ f`, for `steps` control steps; returns the largest tip x reached.
    fn servo(task: &mut PowerPlug, tip: [f64; 3], steps: usize) -> f64 {
        let base = [tip[0] - f64::from(TIP.x - BASE.x), tip[1], tip[2]];
        let mut max_x = f64::NEG_INFINITY;
        for _ in 0..steps {
            let x = state(task);
            let mut u = [0.0; DOF];
            for (k, (target, at)) in [(tip, 14), (base, 17)].into_iter().enumerate() {
                let f: [f64; 3] =
                    std::array::from_fn(|r| 60.0 * (target[r] - x[at + r]) - 5.0 * x[at + 6 + r]);
                let tau = jacobian_transpose(task.world(), task.core.arm, HAND, [TIP, BASE][k], f);
                for (ui, t) in u.iter_mut().zip(tau) {
                    *ui += t;
                }
            }
            for (j, ui) in u.iter_mut().enumerate() {
                *ui -= 0.5 * x[DOF + j];
            }
            task.step(&u).unwrap();
            max_x = max_x.max(state(task)[14]);
        }
        max_x
    }

    fn trajectory_outcome(task: &PowerPlug, c: usize) -> Outcome {
        let x = state(task);
        let xs: Vec<f64> = x.iter().copied().cycle().take(HORIZON * DX).collect();
        let us = vec![0.0; HORIZON * DOF];
        let traj = TrajectoryRef::new(HORIZON, DX, DOF, &xs, &us).unwrap();
        task.success(c, traj).unwrap()
    }

    #[test]
    fn an_aligned_pin_goes_into_the_hole() {
        for c in 0..PLACEMENTS.len() {
            let mut task = PowerPlug::new().unwrap();
            task.reset(c).unwrap();
            let e = task.entry(c).unwrap();
            servo(&mut task, [e[0] - 0.03, e[1], e[2]], 40);
            // Aim 2 cm past the bottom: the pin is pushed onto it.
            let [t, _] = targets(c);
            servo(&mut task, [t[0] + 0.02, t[1], t[2]], 50);
            let out = trajectory_outcome(&task, c);
            assert!(out.success, "condition {c}: {out:?}");
        }
    }

    #[test]
    fn the_pin_cannot_pass_through_the_socket_walls() {
        let mut task = PowerPlug::new().unwrap();
        task.reset(0).unwrap();
        let e = task.entry(0).unwrap();
        // Beside the hole (on the block's face), aiming 5 cm into the block.
        let beside = [e[0] - 0.03, e[1] + 0.045, e[2]];
        servo(&mut task, beside, 40);
        let reached = servo(&mut task, [e[0] + 0.05, beside[1], beside[2]], 60);
        // Contacts are soft (a few mm); the pin stays in front of the face.
        assert!(
            reached < e[0] + 0.005,
            "tip reached x = {reached}, face at {}",
            e[0]
        );
        assert!(!trajectory_outcome(&task, 0).success);
    }
}
