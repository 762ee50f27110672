//! # pilqr-trajopt
//!
//! Trajectory optimisation of time-varying linear-Gaussian controllers
//! `u_t = K_t x_t + k_t + chol(Σ_t)ᵀ ε_t` (docs/design.md §4.3–§4.5, §4.7):
//!
//! - [`lqr_flm`] — **LQR-FLM**: LQR against fitted linear dynamics with a KL bound to a
//!   reference controller (the previous one, or MDGPS's linearised global policy), entropy
//!   weight ω. The allocation-free backward pass works in coordinates relative to the reference,
//!   where the KL term is `η·I` on the action block alone, so a large η stays well-conditioned
//!   and `Q_uu + ηP̄` is positive definite exactly above a threshold known at every step. The η
//!   search: one global η by bracketed geometric bisection, or one `η_t` per step, each solved
//!   in closed form under the current state marginals, iterated to a fixed point.
//!   [`estimate_cost`] gives the expected cost under the model.
//! - [`kl`] — the closed-form KL between linear-Gaussian controllers under a state distribution.
//! - [`pi2`] — **PI2**: per-step temperature from the convex dual, weighted maximum-likelihood
//!   feed-forward terms and covariances (plain or damped), fixed-η mode, singular-covariance
//!   recovery.
//! - [`pilqr`] — **PILQR** (the paper's Algorithm 1): approximated costs by re-simulating each
//!   sample's noise through the model, residuals, the LQR stage, then PI2 on the residual
//!   costs-to-go over the reparameterised LQR actions; the step rules `res_percent`,
//!   `improvement` (classic LQR-FLM: predicted vs actual improvement) and `const`.
//! - [`covariance_floor`] — the floor on the exploration covariance, relative to the initial
//!   controller's (scale-free: it does not depend on the cost's units).
//! - [`init`] — the initial controllers `init_pd` and `init_lqr`.
//! - [`step_size`] — KL steps and step-multiplier bounds as scalars, per-step arrays, ramps or
//!   per-iteration schedules.
//! - [`driver`] — the per-condition loop (samples → cost model → dynamics → step rule →
//!   update) with metrics, serialisable state and conditions in parallel.
//!
//! Failures are typed ([`TrajOptError`]) and never leave a half-updated controller: an update
//! returns a new controller or an error.
//!
//! ## Depending on this crate alone
//!
//! The crates its public signatures use are re-exported — [`pilqr_core`], [`pilqr_dynamics`],
//! [`pilqr_linalg`] and [`faer`] — together with the types most callers need at the top level
//! ([`CostModel`], [`LinearGaussianPolicy`], [`LinearDynamics`], [`MatStack`], [`VecStack`],
//! [`Mat`]), so their versions always match this crate's.
//!
//! ## Example
//!
//! LQR-FLM on a double integrator with its true model: the KL step bounds how far the new
//! controller moves from the previous one, and the expected cost drops.
//!
//! ```
//! // Only `pilqr_trajopt` paths: no other pilqr crate or `faer` needs to be a dependency.
//! use pilqr_trajopt::{
//!     CostModel, LinearDynamics, LinearGaussianPolicy, LqrFlm, LqrFlmConfig, Mat, MatStack,
//!     VecStack, estimate_cost,
//! };
//!
//! let (t, dx, du, dt) = (50, 2, 1, 0.05);
//! // x = [position, velocity]: p' = p + dt v, v' = v + dt u; start at p = 1.
//! let mut dynamics = LinearDynamics::zeros(t, dx, du);
//! for s in 0..t - 1 {
//!     let mut f = dynamics.fm.at_mut(s);
//!     f[(0, 0)] = 1.0;
//!     f[(0, 1)] = dt;
//!     f[(1, 1)] = 1.0;
//!     f[(1, 2)] = dt;
//! }
//! dynamics.x0mu = vec![1.0, 0.0];
//! // Cost ½ p² + ½·0.01 u² at every step.
//! let mut cost = CostModel::zeros(t, dx, du);
//! for s in 0..t {
//!     cost.cm.at_mut(s)[(0, 0)] = 1.0;
//!     cost.cm.at_mut(s)[(2, 2)] = 0.01;
//! }
//! // Previous controller: zero mean, unit variance.
//! let previous = LinearGaussianPolicy::new(
//!     MatStack::zeros(t, du, dx),
//!     VecStack::zeros(t, du),
//!     MatStack::repeat(t, Mat::<f64>::identity(du, du).as_ref()),
//! )?;
//! let mut solver = LqrFlm::new(t, dx, du);
//! let targets = vec![0.5; t]; // ε_t, per step (PILQR's default `per_step`)
//! let res = solver.update(&dynamics, &cost, &previous, &targets, &[1.0], &LqrFlmConfig::default())?;
//! assert!(res.converged);
//! let (before, _) = estimate_cost(&previous, &dynamics, &cost)?;
//! let (after, _) = estimate_cost(&res.policy, &dynamics, &cost)?;
//! assert!(after < before);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod covariance_floor;
pub mod driver;
mod error;
pub mod init;
pub mod kl;
pub mod lqr_flm;
pub mod pi2;
pub mod pilqr;
pub mod step_size;

pub use faer;
pub use faer::Mat;
pub use pilqr_core;
pub use pilqr_core::{CostModel, LinearGaussianPolicy};
pub use pilqr_dynamics;
pub use pilqr_dynamics::LinearDynamics;
pub use pilqr_linalg;
pub use pilqr_linalg::{MatStack, VecStack};

pub use error::TrajOptError;
pub use kl::policy_kl;
pub use lqr_flm::{
    GaussianTrajectory, LqrFlm, LqrFlmConfig, LqrFlmResult, ValueFunction, estimate_cost,
};
pub use pi2::{Pi2Config, Pi2Result, PilqrTemperature, pi2_update};
pub use pilqr::{PilqrInputs, PilqrResult, StepRule, approximate_costs, pilqr_update};

#[cfg(test)]
mod test_fixtures;
