//! `reacher`: gym's Reacher as the paper used it — a 2-link arm in a horizontal plane that must
//! put its fingertip on a target.
//!
//! ## The model (the published MuJoCo Reacher, rebuilt in rapier)
//!
//! - Two hinges about z at the origin: link 1 is a capsule from the base to 0.1 m, link 2 a
//!   capsule from the elbow (0.1 m along link 1) to 0.1 m beyond it, both of radius 0.01 m;
//!   the fingertip is a ball of radius 0.01 m centred 0.11 m beyond the elbow. Every shape has
//!   density 1000 kg/m³ (link masses ≈ 36 g, the fingertip ≈ 4 g). No gravity acts in the plane
//!   and nothing collides.
//! - Both joints: damping 1 N·m·s/rad and armature 1 kg·m²; the shoulder is unlimited, the
//!   elbow limited to ±3 rad. The armature dominates the inertia (the links add ≈ 0.1 % at the
//!   shoulder), so each joint is close to the first-order law `q̈ ≈ τ − q̇` (time constant ≈ 1 s).
//! - Actuation: the action is the motor control `u`, clipped to ±1, and each joint receives the
//!   torque [`GEAR`]` · clip(u)` = ±200 N·m at most.
//! - Control period 0.02 s = 2 physics steps of 0.01 s (the model's own step and gym's frame
//!   skip); `T` = 50 steps = 1 s, gym's episode. Two steps suffice because the fastest time scale
//!   of the dynamics is the 1 s damping constant: with steps ten times shorter the fingertip of a
//!   fast swing through the workspace moves by 4.8 mm at most over an episode, a sixth of the
//!   success radius (the test `substeps_are_converged`). Rapier integrates with
//!   semi-implicit Euler (damping implicit) where MuJoCo's model asks for RK4; at this step size
//!   the two agree to the same order.
//!
//! ## Conditions
//!
//! A condition is one gym reset: joint angles uniform in ±0.1 rad, joint velocities uniform in
//! ±0.005 rad/s, the target uniform in the disc of radius [`TARGET_RADIUS`] = 0.2 m (rejection
//! from the square, as gym does). Training (`train-i`) and held-out (`test-i`) conditions are
//! independent draws from this one distribution, from fixed streams of the seed
//! [`ReacherConfig::seed`] (default 0), so every run sees the same conditions.
//!
//! **How many.** A network trained by MDGPS sees only the training targets, and must interpolate
//! between them to reach a held-out one. With `N` targets uniform in the disc of area
//! `A = π·0.2²`, the distance from a random point to its nearest training target is about
//! `½·√(A/N)`; the default `N` = [`DEFAULT_TRAIN_TARGETS`] = 16 makes that ≈ 4.4 cm, about the
//! size of the success radius (3 cm) and a fifth of the disc's radius, so every held-out target
//! has training targets close by on several sides. Four targets (the old default) leave 9 cm
//! gaps, twice the distance an interpolating network would need to bridge; more than 16 costs
//! one more local controller per target each iteration. The [`DEFAULT_TEST_TARGETS`] = 16
//! held-out targets only cost one noiseless rollout each per evaluation.
//!
//! ## State, observation, cost, success
//!
//! | state index | meaning |
//! |---|---|
//! | 0, 1 | joint angles `q` (rad, not wrapped) |
//! | 2, 3 | joint velocities `q̇` (rad/s) |
//! | 4, 5 | fingertip position (x, y) (m) |
//! | 6, 7 | fingertip velocity (m/s) |
//!
//! Observation (gym's, 10 values): `[cos q₀, cos q₁, sin q₀, sin q₁, target x, target y, q̇₀,
//! q̇₁, tip x − target x, tip y − target y]`.
//!
//! Cost per step (the paper's Huber-style replacement of gym's `‖tip − target‖`):
//! `ρ(tip − target)` with `ρ(d) = ½ l2 ‖d‖² + l1 √(α + ‖d‖²)`, `l1 = 1, l2 = 10, α = 1e-4 m²`,
//! plus gym's control term `‖u‖²` (an action cost with weight 2 in `½ Σ w u²`).
//! Success (the paper's metric): the final fingertip-to-target distance, below 0.03 m.

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, Cost, Outcome, Penalty, RunSeed, Split, StateCost, Task, TaskError,
    TrajectoryRef, WeightedSum, validate_action, validate_condition,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::arm_task::{ArmTaskCore, JointParams, planar_link, put_xy};
use crate::error::{SuiteError, final_state};
use crate::world::{ArmSpec, CollisionRole, Pose, ShapeSpec, SimWorld, Timing, Vector};

/// Number of training targets by default (see the module docs for why 16).
pub const DEFAULT_TRAIN_TARGETS: usize = 16;
/// Number of held-out targets by default.
pub const DEFAULT_TEST_TARGETS: usize = 16;
/// Torque per unit of control (N·m): the motors' gear.
pub const GEAR: f64 = 200.0;
/// Radius of the disc the targets are drawn from (m).
pub const TARGET_RADIUS: f64 = 0.2;
/// Length of link 1, shoulder to elbow (m).
pub const LINK1: f32 = 0.1;
/// Distance from the elbow to the fingertip's centre (m).
pub const TIP: f32 = 0.11;
/// Joint damping of both hinges (N·m·s/rad).
pub const DAMPING: f32 = 1.0;
/// Armature of both hinges (kg·m²).
pub const ARMATURE: f32 = 1.0;
/// Elbow range (rad): ±this.
pub const ELBOW_LIMIT: f32 = 3.0;
/// Success: final fingertip-to-target distance below this (m).
pub const SUCCESS_RADIUS: f64 = 0.03;

/// Length of link 2's capsule (m); the fingertip sits 1 cm beyond its end.
const LINK2: f32 = 0.1;
const RADIUS: f32 = 0.01;
const DENSITY: f32 = 1000.0;
const HORIZON: usize = 50;
const NAME: &str = "reacher";
/// Range of gym's initial joint angles (rad) and velocities (rad/s): uniform in ±these.
const START_ANGLE: f64 = 0.1;
const START_SPEED: f64 = 0.005;

/// The physics timing: 2 steps of 0.01 s per 0.02 s control period.
pub const TIMING: Timing = Timing {
    dt: 0.01,
    substeps: 2,
};

/// Condition sets of the reacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReacherConfig {
    /// Seed of the condition streams.
    pub seed: u64,
    /// Number of training conditions.
    pub train_targets: usize,
    /// Number of held-out test conditions.
    pub test_targets: usize,
}

impl Default for ReacherConfig {
    /// Seed 0, [`DEFAULT_TRAIN_TARGETS`] training and [`DEFAULT_TEST_TARGETS`] test conditions.
    fn default() -> Self {
        ReacherConfig {
            seed: 0,
            train_targets: DEFAULT_TRAIN_TARGETS,
            test_targets: DEFAULT_TEST_TARGETS,
        }
    }
}

/// One condition: gym's reset draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReacherStart {
    /// Joint angles (rad).
    pub q: [f64; 2],
    /// Joint velocities (rad/s).
    pub qd: [f64; 2],
    /// Target (x, y) in the plane (m).
    pub target: [f64; 2],
}

impl ReacherStart {
    /// Draw one gym reset from `rng`: angles, velocities, then the target by rejection.
    fn draw(rng: &mut impl Rng) -> Self {
        let mut q = [0.0; 2];
        for v in &mut q {
            *v = rng.random_range(-START_ANGLE..START_ANGLE);
        }
        let target = loop {
            let x: f64 = rng.random_range(-TARGET_RADIUS..TARGET_RADIUS);
            let y: f64 = rng.random_range(-TARGET_RADIUS..TARGET_RADIUS);
            if x.hypot(y) < TARGET_RADIUS {
                break [x, y];
            }
        };
        let mut qd = [0.0; 2];
        for v in &mut qd {
            *v = rng.random_range(-START_SPEED..START_SPEED);
        }
        ReacherStart { q, qd, target }
    }
}

/// The reacher task (see the module docs for the model and the state layout).
#[derive(Debug, Clone)]
pub struct Reacher {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    starts: Vec<ReacherStart>,
    current: usize,
}

impl Reacher {
    /// The default condition sets.
    pub fn new() -> Result<Self, SuiteError> {
        Self::with_config(ReacherConfig::default())
    }

    /// Draw the condition sets of `config`.
    pub fn with_config(config: ReacherConfig) -> Result<Self, SuiteError> {
        Self::build(config, TIMING)
    }

    /// The task with another physics timing (for the convergence check of the substeps).
    fn build(config: ReacherConfig, timing: Timing) -> Result<Self, SuiteError> {
        if config.train_targets + config.test_targets == 0 {
            return Err(SuiteError::Config {
                task: NAME,
                reason: "at least one target is needed".into(),
            });
        }
        let seed = RunSeed::new(config.seed);
        let mut starts = Vec::new();
        let mut conditions = Vec::new();
        for (split, count, label, tag) in [
            (
                Split::Train,
                config.train_targets,
                "reacher-train-conditions",
                "train",
            ),
            (
                Split::Test,
                config.test_targets,
                "reacher-test-conditions",
                "test",
            ),
        ] {
            let mut rng = seed.rng(label, &[]);
            for i in 0..count {
                starts.push(ReacherStart::draw(&mut rng));
                conditions.push(Condition {
                    name: format!("{tag}-{i}"),
                    split,
                });
            }
        }
        let mut world = SimWorld::new(timing, Vector::ZERO);
        let arm = world.add_arm(&arm_spec())?;
        // The arena's border (drawn only; gym's walls do not collide either).
        for (a, b) in [
            ([-0.3, -0.3], [0.3, -0.3]),
            ([0.3, -0.3], [0.3, 0.3]),
            ([0.3, 0.3], [-0.3, 0.3]),
            ([-0.3, 0.3], [-0.3, -0.3]),
        ] {
            world.add_marker(ShapeSpec::capsule(
                Vector::new(a[0], a[1], 0.0),
                Vector::new(b[0], b[1], 0.0),
                0.02,
                CollisionRole::Visual,
                [230, 100, 150],
            ));
        }
        let core = ArmTaskCore::new(world, arm, HORIZON, starts.len(), |w, c| {
            w.set_joint_state(arm, &starts[c].q, &starts[c].qd)
        })?;
        Ok(Reacher {
            core,
            conditions,
            starts,
            current: 0,
        })
    }

    /// The target of condition `c`.
    pub fn target(&self, c: usize) -> Option<[f64; 2]> {
        self.starts.get(c).map(|s| s.target)
    }

    /// The initial joint state and target of condition `c`.
    pub fn start(&self, c: usize) -> Option<ReacherStart> {
        self.starts.get(c).copied()
    }

    /// The simulated world (for rendering and inspection).
    pub fn world(&self) -> &SimWorld {
        &self.core.world
    }

    /// Move the arm to the joint angles and velocities of state `x` (after a reset).
    pub(crate) fn pose_from_state(&mut self, x: &[f64]) -> Result<(), TaskError> {
        let arm = self.core.arm;
        self.core
            .world
            .set_joint_state(arm, &x[0..2], &x[2..4])
            .map_err(SuiteError::from)?;
        Ok(())
    }

    /// Fingertip position in the world.
    fn tip(&self) -> Vector {
        self.core
            .world
            .link_point(self.core.arm, 1, Vector::X * TIP)
    }
}

/// The arm: two capsule links and the fingertip ball, joints as the module docs say.
fn arm_spec() -> ArmSpec {
    let params = JointParams {
        torque_limit: GEAR,
        damping: DAMPING,
        armature: ARMATURE,
        density: DENSITY,
    };
    let upper = planar_link("link0", 0.0, LINK1, RADIUS, params, [0, 100, 150]);
    let mut lower = planar_link("link1", LINK1, LINK2, RADIUS, params, [0, 100, 150]);
    lower.joint.limits = Some([-ELBOW_LIMIT, ELBOW_LIMIT]);
    lower.shapes.push(ShapeSpec::ball(
        Vector::X * TIP,
        RADIUS,
        CollisionRole::Arm,
        [0, 200, 150],
    ));
    ArmSpec {
        base: Pose::IDENTITY,
        base_shapes: vec![ShapeSpec::cylinder(
            Vector::ZERO,
            0.01,
            0.011,
            CollisionRole::Visual,
            [230, 100, 150],
        )],
        links: vec![upper, lower],
        gravity_scale: 0.0,
    }
}

impl Task for Reacher {
    fn name(&self) -> &str {
        NAME
    }

    fn dims(&self) -> pilqr_core::TaskDims {
        pilqr_core::TaskDims {
            dx: 8,
            du: 2,
            dobs: 10,
            horizon: HORIZON,
            dt: self.core.world.timing().control_dt(),
        }
    }

    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn layout(&self) -> pilqr_core::StateLayout {
        pilqr_core::StateLayout {
            joint_pos: 0..2,
            joint_vel: 2..4,
        }
    }

    fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
        self.core.reset(condition)?;
        self.current = condition;
        Ok(())
    }

    /// Clip the controls to ±1 and drive each joint with `GEAR ·` its control.
    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        // Validate before scaling so that errors name the caller's input.
        validate_action(u, 2)?;
        let torque = [GEAR * u[0].clamp(-1.0, 1.0), GEAR * u[1].clamp(-1.0, 1.0)];
        self.core.step(&torque)
    }

    /// The controls, not the torques: each is clipped to ±1 (and scaled by `GEAR`).
    fn action_limits(&self) -> Option<Vec<f64>> {
        Some(vec![1.0; 2])
    }

    fn state(&self, x: &mut [f64]) {
        let w = &self.core.world;
        let arm = self.core.arm;
        w.joint_positions(arm, &mut x[0..2]);
        w.joint_velocities(arm, &mut x[2..4]);
        put_xy(&mut x[4..6], self.tip());
        put_xy(&mut x[6..8], w.link_point_velocity(arm, 1, Vector::X * TIP));
    }

    fn observation(&self, obs: &mut [f64]) {
        let mut x = [0.0; 8];
        self.state(&mut x);
        let t = self.starts[self.current].target;
        obs[0] = x[0].cos();
        obs[1] = x[1].cos();
        obs[2] = x[0].sin();
        obs[3] = x[1].sin();
        obs[4] = t[0];
        obs[5] = t[1];
        obs[6] = x[2];
        obs[7] = x[3];
        obs[8] = x[4] - t[0];
        obs[9] = x[5] - t[1];
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, self.starts.len())?;
        let t = self.starts[condition].target;
        let distance = StateCost::new(vec![4, 5], t.to_vec())
            .with_weights(vec![1.0; 2])
            .with_penalty(Penalty {
                l2: 10.0,
                l1: 1.0,
                alpha: 1e-4,
            });
        Ok(Arc::new(
            WeightedSum::new().with(1.0, Arc::new(distance)).with(
                1.0,
                Arc::new(ActionCost {
                    weights: vec![2.0; 2],
                }),
            ),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, self.starts.len())?;
        let x = final_state(NAME, traj, 8)?;
        let t = self.starts[condition].target;
        let metric = (x[4] - t[0]).hypot(x[5] - t[1]);
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
mod tests;
