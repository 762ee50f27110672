//! A task of your own with the whole `pilqr` command line: TOML experiments, `train`,
//! `compare`, `resume`, `eval`, `render`, run directories, metrics, plots.
//!
//! The task is a damped 1-D double integrator (a cart on a rail pushed by a force) that has to
//! stop at the origin, from two starts. It is defined here, registered next to the built-in
//! tasks, and `main` is the shared command line:
//!
//! ```text
//! cargo run --example custom_task -- compare --config examples/custom_task.toml --out runs/cart
//! cargo run --example custom_task -- eval runs/cart
//! cargo run --example custom_task -- render runs/cart
//! ```
//!
//! docs/adding-a-task.md walks through it.

use std::sync::Arc;

use pilqr::core::{
    ActionCost, Condition, Cost, Outcome, Penalty, Split, StateCost, StateLayout, Task, TaskDims,
    TaskError, TrajectoryRef, WeightedSum, validate_action, validate_condition,
};
use pilqr::experiment::TaskRegistry;
use pilqr::tasks::render::{Camera, RenderTask, Scene};
use pilqr::tasks::world::{Layer, PlacedShape, Pose, ShapeKind, Vector};

/// Control steps per episode.
const HORIZON: usize = 40;
/// Control period (s).
const DT: f64 = 0.05;
/// Viscous damping per unit mass (1/s).
const DAMPING: f64 = 0.5;
/// Force limit (N, unit mass).
const FORCE_LIMIT: f64 = 2.0;
/// Success: the cart ends within this distance of the origin (m).
const SUCCESS_RADIUS: f64 = 0.05;

/// The cart: state `[p, v]`, action `[u]`, `v ← v + dt (u − c v)`, `p ← p + dt v`.
#[derive(Debug, Clone)]
struct Cart {
    conditions: Vec<Condition>,
    starts: Vec<f64>,
    x: [f64; 2],
    steps: Option<usize>,
}

impl Cart {
    fn new() -> Self {
        let starts = vec![-0.8, 0.6];
        let conditions = ["left", "right"]
            .iter()
            .map(|name| Condition {
                name: (*name).to_string(),
                split: Split::Train,
            })
            .collect();
        Cart {
            conditions,
            starts,
            x: [0.0; 2],
            steps: None,
        }
    }
}

impl Task for Cart {
    fn name(&self) -> &str {
        "cart"
    }

    fn dims(&self) -> TaskDims {
        TaskDims {
            dx: 2,
            du: 1,
            dobs: 2,
            horizon: HORIZON,
            dt: DT,
        }
    }

    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    // The initial controller acts on the cart's position and velocity.
    fn layout(&self) -> StateLayout {
        StateLayout {
            joint_pos: 0..1,
            joint_vel: 1..2,
        }
    }

    fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
        validate_condition(condition, self.starts.len())?;
        self.x = [self.starts[condition], 0.0];
        self.steps = Some(0);
        Ok(())
    }

    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        let steps = self
            .steps
            .ok_or_else(|| TaskError::NotReady("step called before reset".into()))?;
        if steps >= HORIZON {
            return Err(TaskError::NotReady("step called after the horizon".into()));
        }
        validate_action(u, 1)?;
        let force = u[0].clamp(-FORCE_LIMIT, FORCE_LIMIT);
        self.x[1] += DT * (force - DAMPING * self.x[1]);
        self.x[0] += DT * self.x[1];
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
        let distance = StateCost::new(vec![0], vec![0.0]).with_penalty(Penalty {
            l2: 1.0,
            l1: 0.1,
            alpha: 1e-4,
        });
        let effort = ActionCost { weights: vec![1.0] };
        Ok(Arc::new(
            WeightedSum::new()
                .with(1.0, Arc::new(distance))
                .with(1e-2, Arc::new(effort)),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, self.starts.len())?;
        if traj.dx != 2 || traj.horizon == 0 {
            return Err(TaskError::Other(
                format!(
                    "cart: a trajectory of dX = {} and T = {}",
                    traj.dx, traj.horizon
                )
                .into(),
            ));
        }
        let metric = traj.x(traj.horizon - 1)[0].abs();
        Ok(Outcome {
            success: metric < SUCCESS_RADIUS,
            metric,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }

    // Closed-form dynamics: no physics time to compare the learner's time with.
    fn has_physics(&self) -> bool {
        false
    }
}

/// Drawn from above: the rail, the goal and the cart.
impl RenderTask for Cart {
    fn scene(&mut self, condition: usize, x: &[f64]) -> Result<Scene, TaskError> {
        validate_condition(condition, self.starts.len())?;
        let p = *x
            .first()
            .ok_or_else(|| TaskError::Other("cart: an empty state to draw".into()))?;
        let shape = |kind, at: Vector, color, layer| PlacedShape {
            kind,
            pose: Pose::from_translation(at),
            color,
            layer,
        };
        Ok(Scene {
            shapes: vec![
                shape(
                    ShapeKind::Cuboid {
                        half_extents: Vector::new(1.0, 0.01, 0.001),
                    },
                    Vector::ZERO,
                    [150, 150, 150],
                    Layer::Floor,
                ),
                shape(
                    ShapeKind::Ball { radius: 0.04 },
                    Vector::ZERO,
                    [90, 200, 110],
                    Layer::Floor,
                ),
                shape(
                    ShapeKind::Cuboid {
                        half_extents: Vector::new(0.05, 0.04, 0.03),
                    },
                    Vector::new(p as f32, 0.0, 0.03),
                    [70, 110, 200],
                    Layer::Body,
                ),
            ],
        })
    }

    fn camera(&self) -> Camera {
        Camera::top_down(Vector::ZERO, 2.2, 200)
    }
}

fn main() {
    let mut registry = TaskRegistry::builtin();
    registry
        .register_renderable(
            "cart",
            "damped 1-D cart stopped at the origin (example)",
            || Ok(Box::new(Cart::new())),
        )
        // Cannot fail: the built-in suite has no task called "cart".
        .expect("a name the suite does not use");
    pilqr::cli::main_with(registry);
}
