//! How each task of the suite draws itself.

use pilqr_core::{Task, TaskError, validate_condition};

use crate::error::SuiteError;
use crate::gripper_pusher_table::GripperPusherTable;
use crate::point_mass::PointMass;
use crate::reacher::Reacher;
use crate::render::{Camera, RenderTask, Scene};
use crate::world::{CollisionRole, Layer, PlacedShape, Pose, ShapeKind, ShapeSpec, Vector};

const GOAL: [u8; 3] = [90, 200, 110];
const TARGET: [u8; 3] = [220, 50, 50];

fn check_state(task: &'static str, x: &[f64], dx: usize) -> Result<(), TaskError> {
    if x.len() != dx {
        return Err(SuiteError::StateDim {
            task,
            what: "state to render",
            expected: dx,
            got: x.len(),
        }
        .into());
    }
    Ok(())
}

fn marker(kind: ShapeKind, at: Vector, color: [u8; 3]) -> PlacedShape {
    let s = ShapeSpec::new(kind, CollisionRole::Visual, color);
    PlacedShape {
        kind: s.kind,
        pose: Pose::from_translation(at),
        color,
        layer: Layer::Body,
    }
}

impl RenderTask for PointMass {
    fn scene(&mut self, condition: usize, x: &[f64]) -> Result<Scene, TaskError> {
        validate_condition(condition, self.conditions().len())?;
        check_state("point-mass", x, 4)?;
        let p = Vector::new(x[0] as f32, x[1] as f32, 0.0);
        Ok(Scene {
            shapes: vec![
                marker(
                    ShapeKind::Cylinder {
                        half_height: 0.001,
                        radius: 0.05,
                    },
                    Vector::new(0.0, 0.0, -0.01),
                    GOAL,
                ),
                marker(ShapeKind::Ball { radius: 0.03 }, p, [70, 110, 200]),
            ],
        })
    }

    fn camera(&self) -> Camera {
        Camera::top_down(Vector::ZERO, 1.8, 240)
    }
}

impl RenderTask for Reacher {
    fn scene(&mut self, condition: usize, x: &[f64]) -> Result<Scene, TaskError> {
        check_state("reacher", x, 8)?;
        self.reset(condition)?;
        self.pose_from_state(x)?;
        let mut shapes = self.world().placed_shapes();
        // Reset validated the condition.
        let t = self.target(condition).unwrap_or([0.0; 2]);
        shapes.push(marker(
            ShapeKind::Ball { radius: 0.008 },
            Vector::new(t[0] as f32, t[1] as f32, 0.05),
            TARGET,
        ));
        Ok(Scene { shapes })
    }

    fn camera(&self) -> Camera {
        Camera::top_down(Vector::ZERO, 0.5, 240)
    }
}

impl RenderTask for GripperPusherTable {
    fn scene(&mut self, condition: usize, x: &[f64]) -> Result<Scene, TaskError> {
        check_state("gripper-pusher-table", x, 20)?;
        self.pose_from_state(condition, x)?;
        let mut shapes = self.world().placed_shapes();
        // pose_from_state validated the condition.
        let g = self.goal(condition).unwrap_or([0.0; 2]);
        shapes.push(marker(
            ShapeKind::Cylinder {
                half_height: 0.0005,
                radius: 0.1,
            },
            Vector::new(g[0] as f32, g[1] as f32, 0.001),
            GOAL,
        ));
        Ok(Scene { shapes })
    }

    fn camera(&self) -> Camera {
        Camera::top_down(Vector::new(0.25, 0.25, 0.0), 1.7, 256)
    }
}
