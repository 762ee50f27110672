//! `point-mass`: a damped 2-D point pushed by a force, pure Rust (no physics engine). Small and
//! fast, for tests.
//!
//! Dynamics, per physics substep of `h = 0.01 s` (5 per control step, semi-implicit Euler):
//! `v ← v + h (u − c v) / m`, `p ← p + h v`, with `m = 1 kg`, `c = 1 N·s/m`, and `u` clamped
//! to `[−1, 1]` N per axis. The target is the origin.
//!
//! | state index | meaning |
//! |---|---|
//! | 0, 1 | position `p` (m) |
//! | 2, 3 | velocity `v` (m/s) |
//!
//! Observation = state. Action: the force `(u_x, u_y)`.
//! Cost: `ρ(p)` (smooth l1/l2: `l2 = 1, l1 = 0.1, α = 1e-4`) at every step plus `10⁻² · ½‖u‖²`.
//! Success: the final position is within 0.05 of the target.

use std::sync::Arc;

use crate::error::final_state;
use pilqr_core::{
    ActionCost, Condition, Cost, Outcome, Penalty, Split, StateCost, StateLayout, Task, TaskDims,
    TaskError, TrajectoryRef, WeightedSum, validate_action, validate_condition,
};

/// The point-mass task (see the module docs for the state layout).
#[derive(Debug, Clone)]
pub struct PointMass {
    conditions: Vec<Condition>,
    starts: Vec<[f64; 2]>,
    x: [f64; 4],
    steps: Option<usize>,
}

/// Mass (kg).
const MASS: f64 = 1.0;
/// Viscous damping (N·s/m).
const DAMPING: f64 = 1.0;
/// Force limit per axis (N).
const FORCE_LIMIT: f64 = 1.0;
/// Physics substep (s) and substeps per control step.
const SUBSTEP: f64 = 0.01;
const SUBSTEPS: usize = 5;
/// Horizon.
const HORIZON: usize = 100;
/// Success radius (m).
const SUCCESS_RADIUS: f64 = 0.05;

impl Default for PointMass {
    fn default() -> Self {
        Self::new()
    }
}

impl PointMass {
    /// Four training starts on the diagonals at 0.5 m and two held-out starts on the axes.
    pub fn new() -> Self {
        let starts = vec![
            [0.5, 0.5],
            [-0.5, 0.5],
            [-0.5, -0.5],
            [0.5, -0.5],
            [0.7, 0.0],
            [0.0, -0.7],
        ];
        let conditions = starts
            .iter()
            .enumerate()
            .map(|(i, _)| Condition {
                name: format!("start-{i}"),
                split: if i < 4 { Split::Train } else { Split::Test },
            })
            .collect();
        PointMass {
            conditions,
            starts,
            x: [0.0; 4],
            steps: None,
        }
    }

    /// The start position of condition `c`.
    pub fn start(&self, c: usize) -> Option<[f64; 2]> {
        self.starts.get(c).copied()
    }
}

impl Task for PointMass {
    fn name(&self) -> &str {
        "point-mass"
    }

    fn dims(&self) -> TaskDims {
        TaskDims {
            dx: 4,
            du: 2,
            dobs: 4,
            horizon: HORIZON,
            dt: SUBSTEP * SUBSTEPS as f64,
        }
    }

    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn layout(&self) -> StateLayout {
        StateLayout {
            joint_pos: 0..2,
            joint_vel: 2..4,
        }
    }

    fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
        validate_condition(condition, self.starts.len())?;
        let [px, py] = self.starts[condition];
        self.x = [px, py, 0.0, 0.0];
        self.steps = Some(0);
        Ok(())
    }

    fn action_limits(&self) -> Option<Vec<f64>> {
        Some(vec![FORCE_LIMIT; 2])
    }

    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        let steps = self
            .steps
            .ok_or_else(|| TaskError::NotReady("step called before reset".into()))?;
        if steps >= HORIZON {
            return Err(TaskError::NotReady(format!(
                "step called after the horizon of {HORIZON} steps; reset first"
            )));
        }
        validate_action(u, 2)?;
        let f = [
            u[0].clamp(-FORCE_LIMIT, FORCE_LIMIT),
            u[1].clamp(-FORCE_LIMIT, FORCE_LIMIT),
        ];
        for _ in 0..SUBSTEPS {
            for (k, fk) in f.iter().enumerate() {
                self.x[2 + k] += SUBSTEP * (fk - DAMPING * self.x[2 + k]) / MASS;
                self.x[k] += SUBSTEP * self.x[2 + k];
            }
        }
        self.steps = Some(steps + 1);
        Ok(())
    }

    fn state(&self, x: &mut [f64]) {
        x.copy_from_slice(&self.x);
    }

    fn observation(&self, obs: &mut [f64]) {
        obs.copy_from_slice(&self.x);
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, self.starts.len())?;
        let distance = StateCost::new(vec![0, 1], vec![0.0, 0.0]).with_penalty(Penalty {
            l2: 1.0,
            l1: 0.1,
            alpha: 1e-4,
        });
        Ok(Arc::new(
            WeightedSum::new().with(1.0, Arc::new(distance)).with(
                1e-2,
                Arc::new(ActionCost {
                    weights: vec![1.0; 2],
                }),
            ),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, self.starts.len())?;
        let x = final_state("point-mass", traj, 4)?;
        let metric = x[0].hypot(x[1]);
        Ok(Outcome {
            success: metric < SUCCESS_RADIUS,
            metric,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }

    fn has_physics(&self) -> bool {
        false
    }
}
