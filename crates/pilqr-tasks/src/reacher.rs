//! `reacher`: a 2-link planar arm (no gravity) that must put its tip on a target, gym-like.
//!
//! The arm turns about z at the origin: link 1 is 0.10 m, link 2 0.11 m (capsules of radius
//! 0.01 m, density 1000 kg/m³), joint damping 0.01 N·m·s/rad, armature 0.002 kg·m², torques
//! clamped to ±0.05 N·m. Every episode starts at `q = (0, 1)` rad at rest. Conditions are
//! targets drawn from a seeded distribution (radius uniform in [0.06, 0.19] m, angle uniform):
//! a training set and a separate test set.
//!
//! | state index | meaning |
//! |---|---|
//! | 0, 1 | joint angles `q` (rad) |
//! | 2, 3 | joint velocities `q̇` (rad/s) |
//! | 4, 5 | tip position (x, y) (m) |
//! | 6, 7 | tip velocity (m/s) |
//!
//! Observation (what a global policy sees; it must know the target):
//! `[q, q̇, tip − target, tip velocity]` (8 values).
//!
//! Cost: `ρ(10·(tip − target))` with `l2 = 1, l1 = 0.5, α = 1e-4`, final step ×5, plus
//! `½ · 4 ‖u‖²`. Success: final tip distance < 0.03 m.

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, Cost, Outcome, Penalty, RunSeed, Split, StateCost, Task, TaskError,
    TrajectoryRef, WeightedSum, validate_condition,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::arm_task::{ArmTaskCore, JointParams, planar_link, put_xy};
use crate::error::{SuiteError, final_state};
use crate::world::{ArmSpec, Pose, SimWorld, Timing, Vector};

/// Target sets of the reacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReacherConfig {
    /// Seed of the target distribution.
    pub seed: u64,
    /// Number of training targets.
    pub train_targets: usize,
    /// Number of held-out test targets.
    pub test_targets: usize,
}

impl Default for ReacherConfig {
    /// Seed 0, 4 training and 4 test targets.
    fn default() -> Self {
        ReacherConfig {
            seed: 0,
            train_targets: 4,
            test_targets: 4,
        }
    }
}

const LINK1: f32 = 0.10;
const LINK2: f32 = 0.11;
const HORIZON: usize = 100;
const SUCCESS_RADIUS: f64 = 0.03;
const START: [f64; 2] = [0.0, 1.0];
const NAME: &str = "reacher";

/// The reacher task (see the module docs for the state layout).
#[derive(Debug, Clone)]
pub struct Reacher {
    core: ArmTaskCore,
    conditions: Vec<Condition>,
    targets: Vec<[f64; 2]>,
    current: usize,
}

impl Reacher {
    /// The default target sets.
    pub fn new() -> Result<Self, SuiteError> {
        Self::with_config(ReacherConfig::default())
    }

    /// Draw the target sets of `config`.
    pub fn with_config(config: ReacherConfig) -> Result<Self, SuiteError> {
        if config.train_targets + config.test_targets == 0 {
            return Err(SuiteError::Config {
                task: NAME,
                reason: "at least one target is needed".into(),
            });
        }
        let seed = RunSeed::new(config.seed);
        let mut targets = Vec::new();
        let mut conditions = Vec::new();
        for (split, count, label) in [
            (Split::Train, config.train_targets, "reacher-train-targets"),
            (Split::Test, config.test_targets, "reacher-test-targets"),
        ] {
            let mut rng = seed.rng(label, &[]);
            for i in 0..count {
                let r: f64 = rng.random_range(0.06..0.19);
                let a: f64 = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI);
                targets.push([r * a.cos(), r * a.sin()]);
                let tag = if split == Split::Train {
                    "train"
                } else {
                    "test"
                };
                conditions.push(Condition {
                    name: format!("{tag}-{i}"),
                    split,
                });
            }
        }
        let params = JointParams {
            torque_limit: 0.05,
            damping: 0.01,
            armature: 0.002,
            density: 1000.0,
        };
        let spec = ArmSpec {
            base: Pose::IDENTITY,
            base_shapes: vec![],
            links: vec![
                planar_link("upper", 0.0, LINK1, 0.01, params, [70, 110, 200]),
                planar_link("lower", LINK1, LINK2, 0.01, params, [90, 150, 230]),
            ],
            gravity_scale: 0.0,
        };
        let mut world = SimWorld::new(Timing::default(), Vector::ZERO);
        let arm = world.add_arm(&spec)?;
        let core = ArmTaskCore::new(world, arm, HORIZON, targets.len(), |w, _| {
            w.set_joint_state(arm, &START, &[0.0; 2])
        })?;
        Ok(Reacher {
            core,
            conditions,
            targets,
            current: 0,
        })
    }

    /// The target of condition `c`.
    pub fn target(&self, c: usize) -> Option<[f64; 2]> {
        self.targets.get(c).copied()
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

    /// Tip position in the world.
    fn tip(&self) -> Vector {
        self.core
            .world
            .link_point(self.core.arm, 1, Vector::X * LINK2)
    }
}

impl Task for Reacher {
    crate::arm_task::arm_task_plumbing!(dx: 8, du: 2, dobs: 8, joints: 2);

    fn state(&self, x: &mut [f64]) {
        let w = &self.core.world;
        let arm = self.core.arm;
        w.joint_positions(arm, &mut x[0..2]);
        w.joint_velocities(arm, &mut x[2..4]);
        put_xy(&mut x[4..6], self.tip());
        put_xy(
            &mut x[6..8],
            w.link_point_velocity(arm, 1, Vector::X * LINK2),
        );
    }

    fn observation(&self, obs: &mut [f64]) {
        self.state(obs);
        let t = self.targets[self.current];
        obs[4] -= t[0];
        obs[5] -= t[1];
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, self.targets.len())?;
        let t = self.targets[condition];
        let distance = StateCost::new(vec![4, 5], t.to_vec())
            .with_weights(vec![10.0; 2])
            .with_penalty(Penalty {
                l2: 1.0,
                l1: 0.5,
                alpha: 1e-4,
            })
            .with_final_multiplier(5.0);
        Ok(Arc::new(
            WeightedSum::new().with(1.0, Arc::new(distance)).with(
                1.0,
                Arc::new(ActionCost {
                    weights: vec![4.0; 2],
                }),
            ),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, self.targets.len())?;
        let x = final_state(NAME, traj, 8)?;
        let t = self.targets[condition];
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
mod tests {
    use super::*;

    #[test]
    fn targets_are_seeded_reachable_and_split() {
        let cfg = ReacherConfig {
            seed: 3,
            train_targets: 5,
            test_targets: 3,
        };
        let a = Reacher::with_config(cfg).unwrap();
        let b = Reacher::with_config(cfg).unwrap();
        let other = Reacher::with_config(ReacherConfig { seed: 4, ..cfg }).unwrap();
        assert_eq!(a.targets, b.targets);
        assert_ne!(a.targets, other.targets);
        assert_eq!(a.conditions.len(), 8);
        let train = a
            .conditions
            .iter()
            .filter(|c| c.split == Split::Train)
            .count();
        assert_eq!(train, 5);
        for t in &a.targets {
            let r = t[0].hypot(t[1]);
            assert!((0.06..0.19).contains(&r), "target radius {r}");
        }
        // The training targets do not depend on how many test targets are drawn.
        let fewer = Reacher::with_config(ReacherConfig {
            test_targets: 1,
            ..cfg
        })
        .unwrap();
        assert_eq!(fewer.targets[..5], a.targets[..5]);
        assert!(
            Reacher::with_config(ReacherConfig {
                seed: 0,
                train_targets: 0,
                test_targets: 0
            })
            .is_err()
        );
    }

    #[test]
    fn observation_holds_the_tip_relative_to_the_target() {
        let mut r = Reacher::new().unwrap();
        r.reset(2).unwrap();
        let (mut x, mut o) = ([0.0; 8], [0.0; 8]);
        r.state(&mut x);
        r.observation(&mut o);
        let t = r.target(2).unwrap();
        assert_eq!(o[4], x[4] - t[0]);
        assert_eq!(o[5], x[5] - t[1]);
        // The tip of the arm at q = (0, 1): (L1 + L2 cos 1, L2 sin 1).
        let tip = [0.10 + 0.11 * 1f64.cos(), 0.11 * 1f64.sin()];
        assert!((x[4] - tip[0]).abs() < 1e-6 && (x[5] - tip[1]).abs() < 1e-6);
    }
}
