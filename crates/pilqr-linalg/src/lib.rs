//! # pilqr-linalg
//!
//! Small dense linear algebra for trajectory optimisation, on [`faer`], single-threaded.
//!
//! The matrices of trajectory-centric RL are small (`dX + dU` is at most a few dozen) but there
//! are many of them: one per time step for gains, dynamics, cost models and value functions.
//! This crate provides the few operations every other pilqr crate needs, with the conventions of
//! `docs/design.md`:
//!
//! - [`Cholesky`] — SPD factorisation `A = L Lᵀ` with an optional jitter retry that *reports* the
//!   jitter it added, and `solve`, `inverse`, `log_det` through the factor. It owns its
//!   workspace, so refactoring in a hot loop does not allocate.
//! - [`symmetrize`], [`min_eigenvalue`] — for symmetric matrices built by products.
//! - [`split_xu`], [`assemble_xu`], [`split_xu_vec`] — the `[[xx, xu], [ux, uu]]` blocks of
//!   matrices over `y = [x; u]`.
//! - [`MatStack`], [`VecStack`] — contiguous time-indexed stacks (`[T, rows, cols]`) with free
//!   per-step `faer` views; they serialise with serde.
//!
//! All faer calls use `Par::Seq`: at these sizes threading costs more than it saves, and
//! parallelism belongs across conditions and samples (docs/design.md §7, §4.8).
//!
//! ## Example
//!
//! ```
//! use faer::Mat;
//! use pilqr_linalg::{Cholesky, Jitter, MatStack, split_xu};
//!
//! // A stack of T = 10 SPD matrices over [x; u] with dX = 3, dU = 2.
//! let (dx, du) = (3, 2);
//! let q = MatStack::from_fn(10, dx + du, dx + du, |t, mut m| {
//!     for i in 0..dx + du {
//!         m[(i, i)] = 1.0 + t as f64;
//!     }
//! });
//! // Factor the control block of step 4 and solve with it.
//! let blocks = split_xu(q.at(4), dx);
//! let mut chol = Cholesky::factor(blocks.uu, Jitter::NONE).unwrap();
//! let gain = chol.solve(blocks.ux); // Q_uu⁻¹ Q_ux
//! assert_eq!((gain.nrows(), gain.ncols()), (du, dx));
//! let inv: Mat<f64> = chol.inverse();
//! assert!((inv[(0, 0)] - 1.0 / 5.0).abs() < 1e-14);
//! ```
#![warn(missing_docs)]

mod blocks;
mod cholesky;
mod error;
mod stack;
mod symmetric;

pub use blocks::{
    XuBlocks, XuBlocksMut, assemble_xu, concat_xu, split_xu, split_xu_mut, split_xu_vec,
    split_xu_vec_mut,
};
pub use cholesky::{Cholesky, Jitter, matmul_into};
pub use error::{LinalgError, check_finite, check_shape};
pub use stack::{MatStack, VecStack};
pub use symmetric::{lower_matmul_into, min_eigenvalue, mirror_lower, symmetrize};

pub use faer;

#[cfg(test)]
mod properties;

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
