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
//! | `mdgps` | `pilqr-mdgps` | neural-network policies (libtorch; default feature `mdgps`) |
//! | [`experiment`] | `pilqr-experiment` | TOML experiments, runner, checkpoints, reports, the command line |
//!
//! The experiment toolchain is also re-exported at the top level ([`cli`], [`config`], [`run`],
//! [`report`], [`error`]), so `pilqr::cli::main()` is the whole `pilqr` command.
//!
//! ```
//! use pilqr::core::RunSeed;
//! let seed = RunSeed::new(42);
//! assert_ne!(seed.derive("a", &[0]), seed.derive("b", &[0]));
//! ```
#![warn(missing_docs)]

pub use pilqr_core as core;
pub use pilqr_dynamics as dynamics;
pub use pilqr_experiment as experiment;
pub use pilqr_linalg as linalg;
#[cfg(feature = "mdgps")]
pub use pilqr_mdgps as mdgps;
pub use pilqr_tasks as tasks;
pub use pilqr_trajopt as trajopt;

pub use pilqr_experiment::{cli, config, error, report, run};
