//! # pilqr-dynamics
//!
//! Time-varying linear-Gaussian dynamics fitted from samples (docs/design.md §4.2):
//! `x_{t+1} ~ N(Fm_t [x_t; u_t] + fv_t, dyn_covar_t)`, `x_0 ~ N(x0mu, x0sigma)`.
//!
//! - [`DynamicsFitter`] — what an algorithm calls once per iteration and condition: keeps the
//!   GMM prior's trajectory buffer and mixture, returns [`LinearDynamics`]
//!   ([`DynamicsFitter::update_into`] writes into a reused one: a warm call allocates nothing,
//!   every buffer it needs being kept and reused by the fitter). EM can also start
//!   from given labels ([`DynamicsFitter::update_from_labels`]) or a saved or external mixture
//!   ([`DynamicsFitter::set_prior_mixture`]).
//! - [`fit_linear_dynamics`] / [`fit_linear_dynamics_into`] — plain per-step ridge regression
//!   (no prior), the latter reusing its output's storage.
//! - [`Gmm`] — Gaussian mixture by EM (log-sum-exp responsibilities, covariance floor, seeded
//!   k-means++ initialisation, warm start, never keeps a worse iterate; explicit starts from
//!   labels by [`Gmm::fit_from_labels`] or from components by [`Gmm::from_components`] then
//!   [`Gmm::update`]), with
//!   [`Gmm::inference`] giving the normal-inverse-Wishart parameters [`NiwPrior`].
//! - [`DynamicsPrior`] — the buffer of the last `max_samples` trajectories, the mixture over
//!   their `[x_t; u_t; x_{t+1}]` points, and the initial-state prior.
//! - [`ConditionalRegressor`] / [`fit_conditional_gaussian`] — the generic "joint Gaussian with
//!   an NIW prior, conditioned on the input" regression that the dynamics fit and MDGPS's policy
//!   linearisation share.
//! - [`fit_initial_state`] — `x0mu, x0sigma` with the corrected prior term.
//!
//! Small-matrix work is single-threaded (`faer::Par::Seq`); parallelise across conditions.
//!
//! ## Cost
//!
//! With `N_g` buffered transition points of dimension `D = 2dX + dU` and `K` components, one
//! prior update costs `(EM iterations + 1)` E-steps, `EM iterations` M-steps and one per-step
//! regression:
//! - an **E-step** factors each component once (`Σ_k = L_k L_kᵀ`, `W_k = L_k⁻¹`) and evaluates
//!   `‖W_k (x − μ_k)‖²` for blocks of points as matrix products, row stage by row stage:
//!   a pair (point, component) stops as soon as the rows computed so far prove its
//!   responsibility is below `e^−40` (exactly 0 in f64 terms). On trajectory data, where
//!   components are stretches of time, a point ends up fully evaluated under one or two
//!   components instead of `K`; the previous iteration's responsibilities say which component
//!   to finish first. The worst case (nothing prunable) is one triangular evaluation of every
//!   pair, about `K·N_g·D²/2` multiply-adds;
//! - an **M-step** is one weighted scatter product per component over the points that belong
//!   to it (about `N_g·D²/2` multiply-adds in all for nearly hard assignments);
//! - the **regression with the prior** builds each step's prior from the few components the
//!   batch's points at that step belong to and conditions the joint Gaussian by one Cholesky
//!   factor of the `(dX+dU)` input block (no inverse). Without a prior and with `N ≤ dX+dU`
//!   samples, the conditioning runs in the `N`-dimensional sample space instead.
//!
//! The responsibilities of the batch's own points are taken from the final E-step, not
//! recomputed. Warm starts usually converge in 3–5 EM iterations at the default tolerance.
//! `cargo bench -p pilqr-dynamics` measures all of this at the paper's sizes;
//! `cargo run --release -p pilqr-dynamics --example dynamics_timing` prints the EM iteration
//! counts too.
//!
//! ## Depending on this crate alone
//!
//! The types its public signatures use are re-exported: the crates [`pilqr_core`],
//! [`pilqr_linalg`] and [`faer`] themselves (so their versions always match this crate's), and
//! the sample and matrix types most callers need at the top level ([`SampleBatch`],
//! [`SampleDims`], [`Trajectory`], [`MatStack`], [`VecStack`], [`Mat`], [`MatRef`]).
//!
//! ## Example
//!
//! Only `pilqr_dynamics` paths are used: no other pilqr crate or `faer` needs to be a dependency.
//!
//! ```
//! use pilqr_dynamics::{DynamicsConfig, DynamicsFitter, SampleBatch, SampleDims, Trajectory};
//!
//! // A damped point mass, 10 samples of 20 steps, fitted with the default GMM prior.
//! let (t, dx, du) = (20, 2, 1);
//! let dims = SampleDims { horizon: t, dx, du, dobs: 0 };
//! let traj = |i: usize| {
//!     let u: Vec<f64> = (0..t).map(|s| (((i * 13 + s * 7) % 11) as f64 - 5.0) * 0.1).collect();
//!     let mut x = vec![0.0, 0.0];
//!     for s in 0..t - 1 {
//!         let (p, v) = (x[2 * s], x[2 * s + 1]);
//!         x.extend([p + 0.05 * v, 0.9 * v + 0.05 * u[s]]);
//!     }
//!     Trajectory { x, u, obs: vec![], noise: vec![0.0; t], cost: vec![0.0; t] }
//! };
//! let batch = SampleBatch::from_trajectories(dims, (0..10).map(traj).collect()).unwrap();
//! let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
//! let dynamics = fitter.update(&batch, 42).unwrap();
//! assert!((dynamics.fm.at(3)[(1, 1)] - 0.9).abs() < 0.05);
//! // The result's stacks are this crate's re-exported types.
//! let fm: &pilqr_dynamics::MatStack = &dynamics.fm;
//! let step: pilqr_dynamics::MatRef<'_, f64> = fm.at(3);
//! assert_eq!((step.nrows(), step.ncols()), (dx, dx + du));
//! let fv: &pilqr_dynamics::VecStack = &dynamics.fv;
//! assert_eq!(fv.len(), t);
//! ```
#![warn(missing_docs)]

mod conditional;
mod config;
mod dynamics_prior;
mod error;
mod fitter;
mod gmm;
mod initial_state;
mod linear_dynamics;
mod llt;
mod niw_prior;
mod regression;
mod serde_mat;

pub use faer;
pub use faer::{Mat, MatRef};
pub use pilqr_core;
pub use pilqr_core::{CoreError, SampleBatch, SampleDims, Trajectory};
pub use pilqr_linalg;
pub use pilqr_linalg::{LinalgError, MatStack, VecStack};

pub use conditional::{ConditionalGaussianFit, ConditionalRegressor, fit_conditional_gaussian};
pub use config::{DynamicsConfig, GmmConfig, GmmPriorConfig};
pub use dynamics_prior::{BufferedTrajectory, DynamicsPrior};
pub use error::DynamicsError;
pub use fitter::DynamicsFitter;
pub use gmm::{EmReport, EmStop, Gmm};
pub use initial_state::fit_initial_state;
pub use linear_dynamics::LinearDynamics;
pub use niw_prior::NiwPrior;
pub use regression::{fit_linear_dynamics, fit_linear_dynamics_into};

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
