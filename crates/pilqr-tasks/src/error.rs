//! Errors of the task suite (wrapped in [`pilqr_core::TaskError::Other`] at the `Task` boundary).

use thiserror::Error;

use crate::world::WorldError;

/// What can go wrong in the task suite outside the `Task` trait's own error cases.
#[derive(Debug, Error)]
pub enum SuiteError {
    /// No task of that name.
    #[error("unknown task {name:?}; known tasks: {known}")]
    UnknownTask {
        /// The name asked for.
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// A trajectory or state has the wrong state dimension for the task.
    #[error("{task}: {what} has state dimension {got}, the task's is {expected}")]
    StateDim {
        /// Task name.
        task: &'static str,
        /// Which input.
        what: &'static str,
        /// Expected `dX`.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// An empty trajectory.
    #[error("{task}: the trajectory is empty")]
    EmptyTrajectory {
        /// Task name.
        task: &'static str,
    },
    /// Building or driving the rapier world failed.
    #[error(transparent)]
    World(#[from] WorldError),
    /// A task configuration is invalid.
    #[error("{task}: invalid configuration: {reason}")]
    Config {
        /// Task name.
        task: &'static str,
        /// Why.
        reason: String,
    },
}

impl From<SuiteError> for pilqr_core::TaskError {
    fn from(e: SuiteError) -> Self {
        pilqr_core::TaskError::Other(Box::new(e))
    }
}

/// The last state of `traj`, checking its state dimension against `dx`.
pub(crate) fn final_state<'a>(
    task: &'static str,
    traj: pilqr_core::TrajectoryRef<'a>,
    dx: usize,
) -> Result<&'a [f64], SuiteError> {
    if traj.dx != dx {
        return Err(SuiteError::StateDim {
            task,
            what: "trajectory",
            expected: dx,
            got: traj.dx,
        });
    }
    if traj.horizon == 0 {
        return Err(SuiteError::EmptyTrajectory { task });
    }
    Ok(traj.x(traj.horizon - 1))
}
