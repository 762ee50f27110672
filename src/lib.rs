//! # pilqr
//!
//! Trajectory-centric reinforcement learning in Rust: PILQR, LQR-FLM and PI2 for time-varying
//! linear-Gaussian controllers, MDGPS for neural-network policies, and a rapier3d task suite.
//!
//! This facade re-exports the workspace's crates under short names; depend on a single crate
//! instead when you only need one piece (they build without libtorch or rapier where possible):
//!
//! | module | crate | for |
//! |---|---|---|
//! | [`linalg`] | `pilqr-linalg` | Cholesky with jitter, `[x;u]` blocks, time-indexed stacks |
//! | [`core`] | `pilqr-core` | policies, samples, costs, the `Task` trait, the sampler, seeding |
//! | [`dynamics`] | `pilqr-dynamics` | linear dynamics fitting with a GMM prior |
//! | [`trajopt`] | `pilqr-trajopt` | LQR-FLM, PI2, PILQR and the optimisation loop |
//! | [`tasks`] | `pilqr-tasks` | the simulated tasks and the renderer |
//! | [`mdgps`] | `pilqr-mdgps` | neural-network policies (libtorch) |
//!
//! ```
//! use pilqr::core::RunSeed;
//! let seed = RunSeed::new(42);
//! assert_ne!(seed.derive("a", &[0]), seed.derive("b", &[0]));
//! ```
#![warn(missing_docs)]

pub use pilqr_core as core;
pub use pilqr_dynamics as dynamics;
pub use pilqr_linalg as linalg;
pub use pilqr_mdgps as mdgps;
pub use pilqr_tasks as tasks;
pub use pilqr_trajopt as trajopt;

pub mod checkpoint;
pub mod checksum;
pub mod cli;
pub mod config_file;
pub mod error;
pub mod evaluation;
pub mod experiment;
pub mod experiment_check;
pub mod interrupt;
pub mod mdgps_settings;
pub mod mdgps_trainer;
pub mod memory_estimate;
pub mod method;
pub mod metrics_log;
pub mod plot;
pub mod progress;
pub mod provenance;
pub mod reproduce_plan;
pub mod results_findings;
pub mod results_page;
pub mod run_dir;
pub mod run_lock;
pub mod runner;
pub mod statistics;
pub mod summary;
#[cfg(test)]
mod test_dir;
pub mod trajopt_trainer;
