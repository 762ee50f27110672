//! # pilqr-mdgps
//!
//! Mirror-descent guided policy search (DESIGN.md §4.6): the layer that turns the local
//! time-varying linear-Gaussian controllers of several conditions into one neural-network
//! policy, trained with libtorch through [`tch`] on the CPU.
//!
//! Work in progress: today the crate provides the libtorch link and the [`torch_available`]
//! check; the MLP policy, the S-step, the policy linearisation and the C-step come with the MDGPS
//! issue.
//!
//! This is the only library crate of pilqr (with the facade) that links libtorch; set it up with
//! `scripts/with-libtorch`, which installs PyTorch 2.13.0 once and exports `LIBTORCH` and the
//! library path.
//!
//! ```
//! // Runs wherever the crate builds: libtorch is linked, so a CPU tensor can be made.
//! assert!(pilqr_mdgps::torch_available());
//! ```
#![warn(missing_docs)]

pub use tch;

/// Whether libtorch can create and compute with a CPU tensor in this process.
pub fn torch_available() -> bool {
    std::panic::catch_unwind(|| {
        let t = tch::Tensor::from_slice(&[1.0f64, 2.0, 3.0]);
        t.sum(tch::Kind::Double).double_value(&[]) == 6.0
    })
    .unwrap_or(false)
}
