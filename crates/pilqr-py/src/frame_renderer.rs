//! Images of a task's current state, for gymnasium's `render_mode="rgb_array"`.
//!
//! A [`FrameRenderer`] owns its own instance of the task, separate from the one a
//! [`crate::StepEnv`] steps: drawing poses the task's world at the given state (which resets
//! it, see `pilqr_tasks::render::RenderTask::scene`), and that must not disturb the episode
//! under way. Because a scene is built from the condition and the state alone, the image of a
//! state is the same whichever instance draws it.

use pilqr_core::validate_condition;
use pilqr_tasks::render::{Camera, RenderError, RenderTask, draw_scene};

use crate::step_env::EnvError;

/// An RGB image, `height × width × 3` bytes, row-major (row 0 at the top).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `height · width · 3` bytes, red, green, blue per pixel.
    pub rgb: Vec<u8>,
}

/// Draws states of one task through its default camera; see the module documentation.
pub struct FrameRenderer {
    task: Box<dyn RenderTask>,
    camera: Camera,
    dx: usize,
    conditions: usize,
}

impl std::fmt::Debug for FrameRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameRenderer")
            .field("task", &self.task.name())
            .field("width", &self.camera.width)
            .field("height", &self.camera.height)
            .finish()
    }
}

impl FrameRenderer {
    /// A renderer of the built-in task `name` (every task of `pilqr_tasks::TASK_NAMES` can
    /// be drawn).
    pub fn by_name(name: &str) -> Result<Self, EnvError> {
        let task = pilqr_tasks::render_task_by_name(name).map_err(|source| EnvError::Build {
            name: name.to_string(),
            source,
        })?;
        Ok(Self::new(task))
    }

    /// A renderer drawing through `task` (a separate instance from the one being stepped).
    pub fn new(task: Box<dyn RenderTask>) -> Self {
        let camera = task.camera();
        let dims = task.dims();
        let conditions = task.conditions().len();
        FrameRenderer {
            task,
            camera,
            dx: dims.dx,
            conditions,
        }
    }

    /// `(height, width)` of the images, in pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.camera.height as usize, self.camera.width as usize)
    }

    /// The image of state `x` (`dX` values) of `condition`.
    pub fn render(&mut self, condition: usize, x: &[f64]) -> Result<Frame, EnvError> {
        validate_condition(condition, self.conditions).map_err(EnvError::Condition)?;
        let task_name = self.task.name().to_string();
        if x.len() != self.dx {
            return Err(EnvError::Render {
                task: task_name,
                source: RenderError::StateLength {
                    dx: self.dx,
                    got: x.len(),
                },
            });
        }
        let scene = self
            .task
            .scene(condition, x)
            .map_err(|source| EnvError::Render {
                task: task_name,
                source: RenderError::Task { step: 0, source },
            })?;
        let canvas = draw_scene(&scene, &self.camera);
        Ok(Frame {
            height: canvas.height as usize,
            width: canvas.width as usize,
            rgb: canvas.rgb,
        })
    }
}
