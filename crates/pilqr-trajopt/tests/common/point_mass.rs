//! A damped 2-D point mass (pure Rust, no physics engine), optionally with a wall whose cost
//! jumps: a discontinuity neither the linear dynamics nor the quadratic cost model can capture.

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, CoreError, Cost, CostDerivatives, Outcome, Split, StateCost,
    StateLayout, Task, TaskDims, TaskError, TrajectoryRef, WeightedSum, validate_action,
    validate_condition,
};

/// A box in the plane; every step spent inside it costs `value` (no derivatives).
#[derive(Debug, Clone)]
pub struct WallCost {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub value: f64,
}

impl Cost for WallCost {
    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), CoreError> {
        for t in 0..traj.horizon {
            let s = traj.x(t);
            if s[0] >= self.x.0 && s[0] <= self.x.1 && s[1] >= self.y.0 && s[1] <= self.y.1 {
                out.l[t] += weight * self.value;
            }
        }
        Ok(())
    }
}

/// State `[px, py, vx, vy]`, action a force `[fx, fy]`:
/// `v' = v + dt (u − damping v)`, `p' = p + dt v'`.
#[derive(Debug, Clone)]
pub struct PointMass {
    pub horizon: usize,
    pub dt: f64,
    pub damping: f64,
    pub starts: Vec<[f64; 2]>,
    pub target: [f64; 2],
    pub wall: Option<WallCost>,
    conditions: Vec<Condition>,
    x: [f64; 4],
    ready: bool,
}

impl PointMass {
    pub fn new(horizon: usize, starts: Vec<[f64; 2]>, wall: Option<WallCost>) -> Self {
        let conditions = (0..starts.len())
            .map(|i| Condition {
                name: format!("start-{i}"),
                split: Split::Train,
            })
            .collect();
        PointMass {
            horizon,
            dt: 0.05,
            damping: 0.5,
            starts,
            target: [2.0, 0.0],
            wall,
            conditions,
            x: [0.0; 4],
            ready: false,
        }
    }
}

impl Task for PointMass {
    fn name(&self) -> &str {
        "test-point-mass"
    }

    fn dims(&self) -> TaskDims {
        TaskDims {
            dx: 4,
            du: 2,
            dobs: 4,
            horizon: self.horizon,
            dt: self.dt,
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
        let s = self.starts[condition];
        self.x = [s[0], s[1], 0.0, 0.0];
        self.ready = true;
        Ok(())
    }

    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        validate_action(u, 2)?;
        if !self.ready {
            return Err(TaskError::NotReady("reset first".into()));
        }
        for (i, ui) in u.iter().enumerate() {
            self.x[2 + i] += self.dt * (ui - self.damping * self.x[2 + i]);
            self.x[i] += self.dt * self.x[2 + i];
        }
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
        let mut sum = WeightedSum::new()
            .with(
                1.0,
                Arc::new(StateCost::new(vec![0, 1], self.target.to_vec())),
            )
            .with(
                1e-2,
                Arc::new(ActionCost {
                    weights: vec![1.0, 1.0],
                }),
            );
        if let Some(w) = &self.wall {
            sum.push(1.0, Arc::new(w.clone()));
        }
        Ok(Arc::new(sum))
    }

    fn success(&self, _condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        let x = traj.x(traj.horizon - 1);
        let d = ((x[0] - self.target[0]).powi(2) + (x[1] - self.target[1]).powi(2)).sqrt();
        Ok(Outcome {
            success: d < 0.05,
            metric: d,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}
