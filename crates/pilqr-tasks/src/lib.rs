//! # pilqr-tasks
//!
//! The simulated task suite of pilqr (docs/design.md §5): environments implementing
//! [`pilqr_core::Task`] on the rapier3d physics engine, and a renderer.
//!
//! - [`PointMass`] (`point-mass`) — a damped 2-D point, pure Rust, for tests;
//! - [`Reacher`] (`reacher`) — a 2-link planar arm reaching seeded targets (train/test sets);
//! - [`GripperPusher`] (`gripper-pusher`) — the paper's pusher: a 3-link arm with a turning
//!   fork pushes a light block on two damped slides to a goal, no gravity, four conditions
//!   (the hard one first);
//! - [`GripperPusherTable`] (`gripper-pusher-table`) — a 3-link planar arm with a gripper
//!   pushing a block across a table with gravity and friction, four conditions, one hard;
//! - [`DoorOpening`] (`door-opening`) — a 7-DoF arm hooks a door's handle and pulls it open,
//!   four door placements (one held out);
//! - [`Hockey`] (`hockey`) — the 7-DoF arm with a stick hits a puck into a goal 1.4 m away,
//!   three goal directions (one held out);
//! - [`PowerPlug`] (`power-plug`) — the 7-DoF arm inserts a plug's pin into a socket with 2 mm
//!   clearance, two socket placements;
//! - [`task_by_name`] / [`TASK_NAMES`] — the registry used by configs and the command line;
//! - [`world`] — the reusable rapier layer: multibody arms under exact torque control, free
//!   objects, bit-identical reset by snapshot, state readings (see `WORLD_LAYER.md`);
//! - [`seven_dof`] — the 7-DoF arm of the 3-D tasks, its Jacobians and inverse kinematics;
//! - [`scripted`] — scripted Cartesian controllers that solve the 3-D tasks (physics tests,
//!   the GIFs in `docs/media/`, demonstrations);
//! - [`render`] — PNG strips and animated GIFs of rollouts, pure Rust, no GPU.
//!
//! Every task: torque control clamped per actuator, control step 0.05 s (5 physics steps of
//! 0.01 s), `T = 100`; its state layout is documented on its type. Rollouts of many samples in
//! parallel come from [`pilqr_core::sample_policy`], which forks the task once per worker.
//!
//! ## What is simplified compared with the paper's setups
//!
//! The paper ran `reacher`, the gripper pusher and `door-opening` in simulation (MuJoCo) and `hockey`
//! and `power-plug` on a real PR2. Everywhere here: rapier3d (f32, iterative solver, soft contacts
//! that let bodies sink a few millimetres into each other) instead of MuJoCo or the real world; the
//! state is exact (no sensor noise, latency or vision); torques are applied exactly and instantly
//! (no motor dynamics, friction or torque noise); the arms are gravity-compensated (their links
//! feel no gravity) and do not collide with themselves; the simulation is deterministic. The 3-D
//! tasks share one PR2-like 7-DoF chain (approximate link lengths, capsule links of uniform
//! density, made-up joint damping and armature), not the PR2's exact kinematics and inertias. Per
//! task:
//!
//! - `point-mass`: not from the paper — a test world.
//! - `reacher`: a rapier copy of the gym-style 2-link arm; no contacts at all.
//! - `gripper-pusher`: see [`gripper_pusher`] for each approximation of the published model
//!   (integrator, the block's slides, contacts) and its measured effect.
//! - `gripper-pusher-table`: not the paper's model (a different arm, a table, gravity, a heavy
//!   block); the fingers are rigid (a fork that cradles the block; nothing is
//!   grasped) and the links hover above the table (they never touch it); the block is a 0.1 kg
//!   cube sliding with Coulomb friction 0.5.
//! - `door-opening`: the hand is a rigid L-shaped hook, so the handle is hooked rather than
//!   grasped and there is no latch to turn; the door is a free hinge with viscous damping, a
//!   closed stop and no closing spring.
//! - `hockey`: the stick is part of the hand (no grip compliance) and passes through the floor
//!   (only the puck feels it); the puck is a rigid cylinder with Coulomb friction 0.1 on a
//!   12 × 12 m plane without boards; the goal is a three-walled box.
//! - `power-plug`: the plug is one round pin (no prongs, no insertion friction or compliance
//!   beyond the soft contacts) rigidly in the hand, in a square hole with 2 mm clearance; the
//!   socket's pose is known exactly and no force/torque sensing enters the state.
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
pub mod gripper_pusher_table;
pub mod hockey;
pub mod point_mass;
pub mod power_plug;
pub mod reacher;
mod registry;
pub mod render;
pub mod scripted;
pub mod seven_dof;
pub mod world;

pub use door_opening::DoorOpening;
pub use error::SuiteError;
pub use gripper_pusher::GripperPusher;
pub use gripper_pusher_table::GripperPusherTable;
pub use hockey::Hockey;
pub use point_mass::PointMass;
pub use power_plug::PowerPlug;
pub use reacher::{Reacher, ReacherConfig};
pub use registry::{TASK_NAMES, render_task_by_name, task_by_name};

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
