//! # pilqr-tasks
//!
//! The simulated task suite of pilqr (DESIGN.md §5): environments implementing
//! [`pilqr_core::Task`] on the rapier3d physics engine, and a renderer.
//!
//! - [`PointMass`] (`point-mass`) — a damped 2-D point, pure Rust, for tests;
//! - [`Reacher`] (`reacher`) — a 2-link planar arm reaching seeded targets (train/test sets);
//! - [`GripperPusher`] (`gripper-pusher`) — a 3-link planar arm with a gripper pushing a block
//!   to a goal, four conditions, one hard;
//! - [`task_by_name`] / [`TASK_NAMES`] — the registry used by configs and the command line;
//! - [`world`] — the reusable rapier layer: multibody arms under exact torque control, free
//!   objects, bit-identical reset by snapshot, state readings (see `WORLD_LAYER.md`);
//! - [`render`] — PNG strips and animated GIFs of rollouts, pure Rust, no GPU.
//!
//! Every task: torque control clamped per actuator, control step 0.05 s (5 physics steps of
//! 0.01 s), `T = 100`; its state layout is documented on its type. Rollouts of many samples in
//! parallel come from [`pilqr_core::sample_policy`], which forks the task once per worker.
//!
//! ## Example
//!
//! ```
//! use pilqr_core::{LinearGaussianPolicy, RunSeed, SampleRequest, Task, sample_policy};
//! use pilqr_linalg::{MatStack, VecStack};
//!
//! let mut task = pilqr_tasks::task_by_name("reacher").unwrap();
//! let d = task.dims();
//! // Zero-mean exploration with a small torque variance.
//! let cov = MatStack::from_fn(d.horizon, d.du, d.du, |_, mut m| {
//!     for i in 0..d.du { m[(i, i)] = 1e-3; }
//! });
//! let policy = LinearGaussianPolicy::new(
//!     MatStack::zeros(d.horizon, d.du, d.dx), VecStack::zeros(d.horizon, d.du), cov).unwrap();
//! let req = SampleRequest { seed: RunSeed::new(1), iteration: 0, condition: 0, count: 2 };
//! let batch = sample_policy(task.as_mut(), &policy, None, req).unwrap();
//! let outcome = task.success(0, batch.trajectory(0)).unwrap();
//! println!("final tip distance {:.3} m, cost {:.2}", outcome.metric, batch.mean_total_cost());
//! ```
#![warn(missing_docs)]

pub mod arm_task;
pub mod door_opening;
mod error;
pub mod gripper_pusher;
pub mod hockey;
pub mod point_mass;
pub mod power_plug;
pub mod reacher;
mod registry;
pub mod render;
pub mod seven_dof;
pub mod world;

pub use door_opening::DoorOpening;
pub use error::SuiteError;
pub use gripper_pusher::GripperPusher;
pub use hockey::Hockey;
pub use point_mass::PointMass;
pub use power_plug::PowerPlug;
pub use reacher::{Reacher, ReacherConfig};
pub use registry::{TASK_NAMES, render_task_by_name, task_by_name};
