//! # pilqr-dynamics
//!
//! Time-varying linear dynamics fitted from samples (DESIGN.md §4.2). Work in progress: this
//! crate will hold per-step linear regression, the Gaussian mixture model, the GMM
//! normal-inverse-Wishart prior and regression with that prior.
#![warn(missing_docs)]

mod linear_dynamics;

pub use linear_dynamics::LinearDynamics;
