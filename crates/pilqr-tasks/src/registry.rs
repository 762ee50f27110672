//! Tasks by name, for configs and the command line.

use pilqr_core::Task;

use crate::error::SuiteError;
use crate::gripper_pusher_table::GripperPusherTable;
use crate::point_mass::PointMass;
use crate::reacher::Reacher;
use crate::render::RenderTask;

/// The names of the tasks this crate provides.
pub const TASK_NAMES: &[&str] = &[
    "point-mass",
    "reacher",
    "gripper-pusher",
    "gripper-pusher-table",
    "door-opening",
    "hockey",
    "power-plug",
];

/// The task called `name` with its default configuration.
///
/// ```
/// let task = pilqr_tasks::task_by_name("point-mass").unwrap();
/// assert_eq!(task.dims().dx, 4);
/// assert!(pilqr_tasks::task_by_name("juggler").is_err());
/// ```
pub fn task_by_name(name: &str) -> Result<Box<dyn Task>, SuiteError> {
    Ok(render_task_by_name(name)?)
}

/// The task called `name`, with its rendering interface (for `render_gif` and friends).
pub fn render_task_by_name(name: &str) -> Result<Box<dyn RenderTask>, SuiteError> {
    Ok(match name {
        "point-mass" => Box::new(PointMass::new()),
        "reacher" => Box::new(Reacher::new()?),
        "gripper-pusher" => Box::new(crate::GripperPusher::new()?),
        "gripper-pusher-table" => Box::new(GripperPusherTable::new()?),
        "door-opening" => Box::new(crate::DoorOpening::new()?),
        "hockey" => Box::new(crate::Hockey::new()?),
        "power-plug" => Box::new(crate::PowerPlug::new()?),
        _ => {
            return Err(SuiteError::UnknownTask {
                name: name.into(),
                known: TASK_NAMES.join(", "),
            });
        }
    })
}
