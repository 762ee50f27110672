//! # pilqr-mdgps
//!
//! Mirror-descent guided policy search (docs/design.md §4.6): the layer that turns the local
//! time-varying linear-Gaussian controllers of several conditions into one neural-network
//! policy, trained with libtorch through [`tch`] on the CPU.
//!
//! - [`NnPolicy`] — the global policy `π_θ(u | o) = N(μ_θ(o), Σ_π)`: an MLP ([`MlpConfig`],
//!   default 2 hidden layers of 100 ReLU units) on normalised observations
//!   ([`ObsNormalization`], fitted on the first S-step and stored) with a state-independent
//!   diagonal `Σ_π`. It implements [`pilqr_core::Policy`], so the sampler runs it on-policy;
//!   its forward pass is plain Rust over weights copied out of libtorch ([`MlpWeights`]), so it
//!   is `Send + Sync`, needs no libtorch call per action, and serialises with serde into
//!   pilqr's checkpoints.
//! - [`s_step`] — precision-weighted regression of `μ_θ` onto the new local controllers'
//!   means (Adam, minibatches, fixed iteration count, weight decay), then the `Σ_π` update.
//!   Training runs on a [`TorchMlp`], a libtorch `VarStore` rebuilt from the weights for the
//!   duration of the S-step.
//! - [`PolicyPriorGmm`] — the policy linearisation: a GMM prior over `[x; μ_θ(o)]` from the
//!   policy's samples (buffer mode [`PolicySampleMode`] `add`/`replace`) and, per step, the
//!   regression of `μ_θ` on `x` with that prior, giving the linear-Gaussian policy
//!   `(pol_K, pol_k, pol_S)` the C-step's KL term is taken against.
//! - [`step_adjustment`] — MDGPS's step-size rule (`laplace` or `mc`): predicted against
//!   actual improvement, averaged across conditions.
//! - [`c_step`] — one condition's C-step with the local method [`LocalMethod`]: LQR-FLM,
//!   PILQR or PI2, the KL bound taken against the linearisation instead of the previous local
//!   controller (PI2 importance-weights its samples towards the linearisation:
//!   [`pi2_against_reference`]).
//! - [`Mdgps`] — the loop: sample (local controllers, or the network with
//!   `sample_on_policy`) → fit dynamics → linearise the network → step rule → C-step → S-step;
//!   the first iteration first catches the network up with the initial controllers. It
//!   serialises entirely, so a checkpoint resumes bit-identically.
//! - [`GlobalPolicy`] — the view of a global policy that the linearisation and the C-step use.
//!
//! ## Determinism
//!
//! Every random draw is ours, from the run seed's named streams ([`pilqr_core::RunSeed`]): the
//! initial weights (`"mdgps-policy-init"`, libtorch's default `±1/√fan_in` uniform law) and
//! the S-step's minibatch order (`"mdgps-s-step"`, per S-step). libtorch's own generator
//! (`tch::manual_seed`) is process-wide and would be shared by every thread and test, so it is
//! not used; nothing the S-step calls in libtorch draws random numbers. The S-step runs
//! libtorch on one intra-op thread in double precision, so the same inputs
//! give bit-identical weights; [`pin_cpu_numerics`] (called by every entry point that uses
//! libtorch) fixes libtorch's CPU-dependent kernel and BLAS choices, so they are the same bits
//! on every x86-64 CPU.
//!
//! This is the only library crate of pilqr (with the facade) that links libtorch; set it up with
//! `scripts/with-libtorch`, which installs PyTorch 2.13.0 once and exports `LIBTORCH` and the
//! library path.
//!
//! ## Example
//!
//! Teach a network the linear controller `u = −x` from 4 samples of it.
//!
//! ```
//! use pilqr_core::{LinearGaussianPolicy, RunSeed, SampleBatch, SampleDims, Trajectory};
//! use pilqr_linalg::{MatStack, VecStack};
//! use pilqr_mdgps::{GlobalPolicy, MlpConfig, NnPolicy, SStepCondition, SStepConfig, s_step};
//!
//! assert!(pilqr_mdgps::torch_available());
//! let (t, dx, du) = (20, 1, 1);
//! let local = LinearGaussianPolicy::new(
//!     MatStack::from_fn(t, du, dx, |_, mut k| k[(0, 0)] = -1.0),
//!     VecStack::zeros(t, du),
//!     MatStack::from_fn(t, du, du, |_, mut s| s[(0, 0)] = 0.01),
//! )
//! .unwrap();
//! let dims = SampleDims { horizon: t, dx, du, dobs: dx };
//! let traj = |i: usize| {
//!     let x: Vec<f64> = (0..t).map(|s| ((i * t + s) as f64 * 0.7).sin()).collect();
//!     let u = x.iter().map(|v| -v).collect();
//!     Trajectory { obs: x.clone(), x, u, noise: vec![0.0; t], cost: vec![0.0; t] }
//! };
//! let batch = SampleBatch::from_trajectories(dims, (0..4).map(traj).collect()).unwrap();
//!
//! let seed = RunSeed::new(1);
//! let mut policy = NnPolicy::new(&MlpConfig::default(), dx, du, 1.0, seed).unwrap();
//! let config = SStepConfig { iterations: 300, ..SStepConfig::default() };
//! let data = [SStepCondition { samples: &batch, local: &local, weights: None }];
//! let report = s_step(&mut policy, &data, &config, seed, 0).unwrap();
//! assert!(report.final_loss < report.initial_loss);
//! assert!((policy.variance()[0] - 0.01).abs() < 1e-12); // Σ_π = 1 / mean precision
//! let mut u = [0.0];
//! policy.mean_action(&[0.5], &mut u).unwrap();
//! assert!((u[0] + 0.5).abs() < 0.1);
//! ```
#![warn(missing_docs)]

mod architecture;
mod c_step;
mod config;
mod cpu_numerics;
mod error;
mod global_policy;
mod local_method;
mod mdgps;
mod metrics;
mod minibatch_order;
mod mlp_training;
mod mlp_weights;
mod nn_policy;
mod normalization;
mod pi2_reference;
mod policy_prior;
mod s_step;
mod sampling;
mod step_adjust;
mod supervision;
mod torch_check;
mod torch_mlp;

pub use architecture::{Activation, MlpConfig};
pub use c_step::{CStepInputs, CStepOutcome, CStepSettings, c_step};
pub use config::MdgpsConfig;
#[cfg(target_arch = "x86_64")]
pub use cpu_numerics::mkl_branch;
pub use cpu_numerics::{
    ATEN_CPU_CAPABILITY, MKL_CBWR_COMPATIBLE, PinError, PinnedNumerics, pin_cpu_numerics,
};
pub use error::MdgpsError;
pub use global_policy::{GlobalPolicy, MeanAction};
pub use local_method::LocalMethod;
pub use mdgps::{Mdgps, MdgpsCondition};
pub use metrics::{ConditionMetrics, ConditionTimes, MdgpsMetrics};
pub use mlp_training::matmul::KernelPath;
pub use mlp_weights::{DenseLayer, MlpWeights};
pub use nn_policy::{NnPolicy, NnPolicyParts};
pub use normalization::{MIN_STD, ObsNormalization};
pub use pi2_reference::{MAX_LOG_RATIO, ReferencePi2, pi2_against_reference, weighted_temperature};
pub use policy_prior::{FIRST_STEP_RIDGE, PolicyPriorConfig, PolicyPriorGmm, PolicySampleMode};
pub use s_step::{SStepBackend, SStepConfig, SStepReport, s_step};
pub use sampling::{SamplingPolicy, linear_gaussian_log_density};
pub use step_adjust::{
    CurrentCosts, MAX_FACTOR, MIN_FACTOR, MIN_IMPROVEMENT_GAP, MdgpsStepRule, PreviousCosts,
    StepAdjustment, step_adjustment,
};
pub use supervision::{SStepCondition, normalize_weights};
pub use torch_check::{TorchUnavailable, check_torch};
pub use torch_mlp::TorchMlp;

pub use tch;

/// Whether libtorch can create and compute with a CPU tensor in this process
/// ([`check_torch`] says why not).
pub fn torch_available() -> bool {
    check_torch().is_ok()
}
