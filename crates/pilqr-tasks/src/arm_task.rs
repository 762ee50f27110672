//! The plumbing every simulated arm task shares: a [`SimWorld`], one snapshot per condition,
//! action validation and the step counter.

use pilqr_core::{TaskError, validate_action, validate_condition};

use crate::world::{
    CollisionRole, JointSpec, LinkSpec, Rgb, ShapeSpec, SimWorld, Snapshot, Vector, WorldError,
};

/// A world with its per-condition snapshots and the episode's progress.
///
/// `reset(c)` restores snapshot `c` bit-identically; `step(u)` validates `u` (length `dU`,
/// finite) *before* touching the world, commands the clamped torques to arm 0 and advances one
/// control period.
#[derive(Debug, Clone)]
pub struct ArmTaskCore {
    /// The simulated world.
    pub world: SimWorld,
    /// One snapshot per condition.
    pub snapshots: Vec<Snapshot>,
    /// The arm that the actions drive.
    pub arm: usize,
    horizon: usize,
    /// Control steps since the last reset (`None`: never reset).
    steps: Option<usize>,
}

impl ArmTaskCore {
    /// Wrap `world`, taking one snapshot per condition with `setup(world, c)` applied to a
    /// fresh restore of the world as built.
    pub fn new(
        mut world: SimWorld,
        arm: usize,
        horizon: usize,
        conditions: usize,
        mut setup: impl FnMut(&mut SimWorld, usize) -> Result<(), WorldError>,
    ) -> Result<Self, WorldError> {
        let built = world.snapshot();
        let mut snapshots = Vec::with_capacity(conditions);
        for c in 0..conditions {
            world.restore(&built);
            setup(&mut world, c)?;
            snapshots.push(world.snapshot());
        }
        world.restore(&built);
        Ok(ArmTaskCore {
            world,
            snapshots,
            arm,
            horizon,
            steps: None,
        })
    }

    /// Restore condition `c`.
    pub fn reset(&mut self, c: usize) -> Result<(), TaskError> {
        validate_condition(c, self.snapshots.len())?;
        self.world.restore(&self.snapshots[c]);
        self.steps = Some(0);
        Ok(())
    }

    /// The torque limits of the driven arm's joints (N·m), which `step` clamps to.
    pub fn torque_limits(&self) -> &[f64] {
        self.world.arm(self.arm).torque_limits()
    }

    /// Apply torques `u` for one control period. Errors leave the world untouched.
    pub fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        let steps = self
            .steps
            .ok_or_else(|| TaskError::NotReady("step called before reset".into()))?;
        if steps >= self.horizon {
            return Err(TaskError::NotReady(format!(
                "step called after the horizon of {} steps; reset first",
                self.horizon
            )));
        }
        validate_action(u, self.world.arm(self.arm).dof())?;
        self.world
            .set_torques(self.arm, u)
            .map_err(|e| TaskError::Other(Box::new(e)))?;
        self.world.step_control();
        self.steps = Some(steps + 1);
        Ok(())
    }

    /// Control steps taken since the last reset.
    pub fn steps(&self) -> Option<usize> {
        self.steps
    }
}

/// The [`pilqr_core::Task`] methods every arm task implements the same way, inside its
/// `impl Task for …` block: `name` (the module's `NAME`), `dims` (the given dimensions, the
/// module's `HORIZON`, the world's control period), `conditions`, `layout` (joint positions
/// `0..joints`, velocities `joints..2·joints`), `reset` (restores the snapshot through `core`
/// and records `current`), `step` and `action_limits` (the driven arm's torque limits). The task struct needs the fields `core: ArmTaskCore`,
/// `conditions: Vec<Condition>` and `current: usize`.
macro_rules! arm_task_plumbing {
    (dx: $dx:expr, du: $du:expr, dobs: $dobs:expr, joints: $joints:expr $(,)?) => {
        fn name(&self) -> &str {
            NAME
        }

        fn dims(&self) -> pilqr_core::TaskDims {
            pilqr_core::TaskDims {
                dx: $dx,
                du: $du,
                dobs: $dobs,
                horizon: HORIZON,
                dt: self.core.world.timing().control_dt(),
            }
        }

        fn conditions(&self) -> &[pilqr_core::Condition] {
            &self.conditions
        }

        fn layout(&self) -> pilqr_core::StateLayout {
            pilqr_core::StateLayout {
                joint_pos: 0..$joints,
                joint_vel: $joints..2 * $joints,
            }
        }

        fn reset(&mut self, condition: usize) -> Result<(), pilqr_core::TaskError> {
            self.core.reset(condition)?;
            self.current = condition;
            Ok(())
        }

        fn step(&mut self, u: &[f64]) -> Result<(), pilqr_core::TaskError> {
            self.core.step(u)
        }

        fn action_limits(&self) -> Option<Vec<f64>> {
            Some(self.core.torque_limits().to_vec())
        }
    };
}
pub(crate) use arm_task_plumbing;

/// A link of a planar arm turning about z: a capsule from the joint along the link's x axis.
pub fn planar_link(
    name: &str,
    anchor: f32,
    length: f32,
    radius: f32,
    joint: JointParams,
    color: Rgb,
) -> LinkSpec {
    LinkSpec {
        name: name.into(),
        joint: JointSpec {
            anchor: Vector::X * anchor,
            axis: Vector::Z,
            limits: None,
            torque_limit: joint.torque_limit,
            damping: joint.damping,
            armature: joint.armature,
        },
        shapes: vec![ShapeSpec::capsule(
            Vector::ZERO,
            Vector::X * length,
            radius,
            CollisionRole::Arm,
            color,
        )],
        density: joint.density,
    }
}

/// Actuator and mass parameters of one planar link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointParams {
    /// Torque limit (N·m).
    pub torque_limit: f64,
    /// Joint damping (N·m·s/rad).
    pub damping: f32,
    /// Armature (kg·m²).
    pub armature: f32,
    /// Link density (kg/m³).
    pub density: f32,
}

/// Write the x, y of `v` into `out[0..2]`.
#[inline]
pub(crate) fn put_xy(out: &mut [f64], v: Vector) {
    out[0] = f64::from(v.x);
    out[1] = f64::from(v.y);
}
