//! A worked example of adding a task: a one-joint "dial" arm carrying a weight must turn to a
//! target angle on a damped hinge. It implements
//! `pilqr_core::Task` on top of the rapier world layer of `pilqr_tasks::world`, so every
//! pilqr algorithm (and `sample_policy`) can drive it.
//!
//! ```text
//! cargo run -p pilqr-tasks --example custom_task
//! ```
//! See docs/adding-a-task.md for the walkthrough.

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, Cost, LinearGaussianPolicy, Outcome, RunSeed, SampleRequest, Split,
    StateCost, StateLayout, Task, TaskDims, TaskError, TrajectoryRef, WeightedSum, sample_policy,
    validate_condition,
};
use pilqr_linalg::{MatStack, VecStack};
use pilqr_tasks::arm_task::ArmTaskCore;
use pilqr_tasks::world::{
    ArmSpec, CollisionRole, JointSpec, LinkSpec, Pose, ShapeSpec, SimWorld, Timing, Vector,
};

/// State layout: `[q, q̇, tip x, tip y]` (4 values); observation = state.
#[derive(Debug, Clone)]
struct Dial {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    /// Target angle per condition (rad).
    targets: Vec<f64>,
}

impl Dial {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        // 1. The world: one link turning about z, carrying a weight at 0.3 m.
        let link = LinkSpec {
            name: "pointer".into(),
            joint: JointSpec {
                torque_limit: 0.5,
                damping: 0.05,
                armature: 0.005,
                ..JointSpec::revolute(Vector::ZERO, Vector::Z)
            },
            shapes: vec![
                ShapeSpec::capsule(
                    Vector::ZERO,
                    Vector::X * 0.3,
                    0.015,
                    CollisionRole::Arm,
                    [70, 110, 200],
                ),
                ShapeSpec::ball(Vector::X * 0.3, 0.04, CollisionRole::Arm, [200, 80, 40]),
            ],
            density: 800.0,
        };
        let spec = ArmSpec {
            base: Pose::IDENTITY,
            base_shapes: vec![],
            links: vec![link],
            gravity_scale: 0.0,
        };
        let mut world = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
        let arm = world.add_arm(&spec)?;
        // 2. Conditions: every episode starts at rest at q = 0; targets differ.
        let targets = vec![1.0, -1.5, 2.5];
        let core = ArmTaskCore::new(world, arm, 100, targets.len(), |w, _| {
            w.set_joint_state(arm, &[0.0], &[0.0])
        })?;
        let conditions = targets
            .iter()
            .enumerate()
            .map(|(i, _)| Condition {
                name: format!("target-{i}"),
                split: if i < 2 { Split::Train } else { Split::Test },
            })
            .collect();
        Ok(Dial {
            core,
            conditions,
            targets,
        })
    }
}

impl Task for Dial {
    fn name(&self) -> &str {
        "dial"
    }

    fn dims(&self) -> TaskDims {
        TaskDims {
            dx: 4,
            du: 1,
            dobs: 4,
            horizon: 100,
            dt: self.core.world.timing().control_dt(),
        }
    }

    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn layout(&self) -> StateLayout {
        StateLayout {
            joint_pos: 0..1,
            joint_vel: 1..2,
        }
    }

    // 3. Reset = restore the condition's snapshot (bit-identical).
    fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
        self.core.reset(condition)
    }

    // 4. Step = validate, clamp, apply the torque for 5 × 0.01 s.
    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        self.core.step(u)
    }

    // 5. Read the state from the world (f32 inside rapier, f64 outside).
    fn state(&self, x: &mut [f64]) {
        let w = &self.core.world;
        w.joint_positions(self.core.arm, &mut x[0..1]);
        w.joint_velocities(self.core.arm, &mut x[1..2]);
        let tip = w.link_point(self.core.arm, 0, Vector::X * 0.3);
        x[2] = f64::from(tip.x);
        x[3] = f64::from(tip.y);
    }

    fn observation(&self, obs: &mut [f64]) {
        self.state(obs);
    }

    // 6. The default cost, from the pilqr-core cost library.
    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, self.targets.len())?;
        let angle = StateCost::new(vec![0], vec![self.targets[condition]]);
        Ok(Arc::new(
            WeightedSum::new()
                .with(1.0, Arc::new(angle))
                .with(1e-2, Arc::new(ActionCost { weights: vec![1.0] })),
        ))
    }

    // 7. Success: within 0.05 rad at the end.
    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, self.targets.len())?;
        let last = traj.x(traj.horizon - 1);
        let metric = (last[0] - self.targets[condition]).abs();
        Ok(Outcome {
            success: metric < 0.05,
            metric,
        })
    }

    // 8. Fork: an independent copy, so the sampler can run samples in parallel.
    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut task = Dial::new()?;
    let d = task.dims();
    // A PD controller toward the target as a linear-Gaussian policy: u = −Kp (q − q*) − Kd q̇.
    let condition = 0;
    let (kp, kd) = (0.4, 0.1);
    let gain = MatStack::from_fn(d.horizon, d.du, d.dx, |_, mut m| {
        m[(0, 0)] = -kp;
        m[(0, 1)] = -kd;
    });
    let offset = VecStack::from_vec(
        d.horizon,
        d.du,
        vec![kp * task.targets[condition]; d.horizon],
    )?;
    let cov = MatStack::from_fn(d.horizon, d.du, d.du, |_, mut m| m[(0, 0)] = 1e-4);
    let policy = LinearGaussianPolicy::new(gain, offset, cov)?;
    let req = SampleRequest {
        seed: RunSeed::new(0),
        iteration: 0,
        condition,
        count: 4,
    };
    let batch = sample_policy(&mut task, &policy, None, req)?;
    for i in 0..batch.len() {
        let out = task.success(condition, batch.trajectory(i))?;
        println!(
            "sample {i}: final error {:.4} rad, success {}, total cost {:.3}",
            out.metric,
            out.success,
            batch.total_cost(i)
        );
    }
    Ok(())
}
