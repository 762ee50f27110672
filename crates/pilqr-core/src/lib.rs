//! # pilqr-core
//!
//! The shared vocabulary of pilqr: what a controller, a sample, a cost and a task are. Every
//! other crate speaks these types; a user who brings their own robot implements [`Task`], one
//! who brings their own policy implements [`Policy`].
//!
//! - [`LinearGaussianPolicy`] — the time-varying linear-Gaussian controller
//!   `u_t = K_t x_t + k_t + chol(Σ_t) ε_t` that LQR-FLM, PI2 and PILQR optimise; one validating
//!   constructor derives the Cholesky factor and precision from `Σ`.
//! - [`Policy`] — anything mapping `(t, x, obs, ε)` to an action (local controllers, neural nets).
//! - [`SampleBatch`] — `N` rollouts of a condition: states, actions, observations, the noise that
//!   generated the actions (PILQR reuses it), per-step costs; validated on construction.
//! - [`Cost`] and the cost library of docs/design.md §4.1 ([`ActionCost`], [`StateCost`] with the
//!   smooth l1/l2 [`Penalty`] and [`Ramp`]s, [`WaypointCost`], [`RegionCost`], [`WeightedSum`]),
//!   with analytic derivatives; [`CostModelBuilder`] turns them into the local quadratic model
//!   [`CostModel`] of docs/design.md §3.
//! - [`Task`] — the environment interface, for simulators and real robots alike;
//!   [`sample_policy`] rolls out a policy in a task, in parallel and deterministically.
//! - [`RunSeed`] — one seed per run, a derived stream per (iteration, condition, sample);
//!   [`TaskSeed`] — the task's own stream for one sample, given to [`Task::reset_seeded`].
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//! use pilqr_core::*;
//! use pilqr_linalg::{MatStack, VecStack};
//!
//! // A zero-mean controller with unit variance for T = 3, dX = 2, dU = 1.
//! let (t, dx, du) = (3, 2, 1);
//! let cov = MatStack::from_fn(t, du, du, |_, mut m| m[(0, 0)] = 1.0);
//! let policy =
//!     LinearGaussianPolicy::new(MatStack::zeros(t, du, dx), VecStack::zeros(t, du), cov).unwrap();
//! let mut u = [0.0];
//! policy.act(0, &[1.0, 2.0], &[], &[0.5], &mut u).unwrap();
//! assert_eq!(u[0], 0.5);
//!
//! // A cost: distance of x to (1, 0) growing over time, plus a small torque penalty.
//! let cost = WeightedSum::new()
//!     .with(1.0, Arc::new(StateCost::new(vec![0, 1], vec![1.0, 0.0]).with_ramp(Ramp::Linear)))
//!     .with(1e-3, Arc::new(ActionCost { weights: vec![1.0] }));
//! let traj = TrajectoryRef::new(1, 2, 1, &[1.0, 0.0], &[0.0]).unwrap();
//! assert_eq!(cost.values(traj).unwrap(), vec![0.0]);
//! ```
#![warn(missing_docs)]

pub mod cost;
mod error;
pub mod policy;
mod sample;
mod sampler;
mod seed;
pub mod task;

pub use cost::{
    ActionCost, Cost, CostDerivatives, CostModel, CostModelBuilder, Penalty, Ramp, RegionCost,
    StateCost, Waypoint, WaypointCost, WeightedSum,
};
pub use error::CoreError;
pub use policy::{LinearGaussianPolicy, Policy};
pub use sample::{SampleBatch, SampleDims, Trajectory, TrajectoryRef};
pub use sampler::{SampleError, SampleRequest, sample_policy};
pub use seed::{RunSeed, TaskSeed};
pub use task::{
    Condition, Outcome, Split, StateLayout, Task, TaskDims, TaskError, validate_action,
    validate_condition,
};

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
