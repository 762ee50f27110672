//! Pinning libtorch's CPU-dependent numerics, so that the network trains to the same bits on
//! every x86-64 CPU.
//!
//! Two parts of libtorch 2.13 choose their floating-point code by the CPU they run on:
//!
//! - **ATen's kernels** (element-wise operations, reductions such as the loss sum) are compiled
//!   several times — for the baseline x86-64 instruction set, AVX2 and AVX-512 — and the
//!   first dispatched operation picks one from the CPU, or from the environment variable
//!   `ATEN_CPU_CAPABILITY` (`default`, `avx2`, `avx512`). The variable is read once, lazily,
//!   at the first dispatch, not when the library is loaded: setting it from inside the process
//!   before the first tensor operation takes effect (the `cpu_paths` integration test checks
//!   this by comparing with the same variable set by the parent process). Vector widths change
//!   the order of the additions inside reductions, hence the bits; we pin `default`, the code
//!   every x86-64 CPU runs.
//! - **MKL** (linked into `libtorch_cpu`, doing the matrix products) dispatches per CPU too;
//!   its conditional numerical reproducibility mode fixes the code branch. `libtorch_cpu`
//!   exports MKL's service functions `mkl_serv_cbwr_set` / `mkl_serv_cbwr_get` (the functions
//!   behind the public `mkl_cbwr_set` / `mkl_cbwr_get`, which it does not export), and we set
//!   the `COMPATIBLE` branch, the one MKL guarantees to give the same results on every Intel
//!   and compatible processor. MKL refuses a change of branch once it has computed anything
//!   (`MKL_CBWR_ERR_MODE_CHANGE_FAILURE`), so this must happen before the first matrix
//!   product; the environment variables `MKL_CBWR` and `MKL_ENABLE_INSTRUCTIONS` are then
//!   irrelevant.
//!
//! [`pin_cpu_numerics`] does both, once per process. Every entry point of this crate that
//! calls libtorch calls it first ([`crate::check_torch`], [`crate::TorchMlp::from_weights`],
//! [`crate::s_step`]); the `pilqr` command calls it at the start of `main`. Code that calls
//! `tch` directly before any of these bypasses the pinning; [`pin_cpu_numerics`] then reports
//! the MKL part as failed, but cannot detect the ATen part.
//!
//! Intra-op threads are a separate matter: more than one changes the bits too (libtorch then
//! splits products and reductions between threads), so the S-step runs libtorch on one thread
//! ([`crate::SStepConfig::torch_threads`] accepts only 1).

use std::sync::OnceLock;

use thiserror::Error;

/// The value of `ATEN_CPU_CAPABILITY` we pin: ATen's kernels for the baseline instruction set.
pub const ATEN_CPU_CAPABILITY: &str = "default";

/// MKL's code for its `COMPATIBLE` branch (`MKL_CBWR_COMPATIBLE` in `mkl_service.h`).
pub const MKL_CBWR_COMPATIBLE: i32 = 3;

/// MKL's option code asking `mkl_cbwr_get` for the current branch (`MKL_CBWR_BRANCH`).
const MKL_CBWR_BRANCH: i32 = 1;

/// MKL's return code for a branch change after MKL has already computed.
const MKL_CBWR_ERR_MODE_CHANGE_FAILURE: i32 = -8;

/// The CPU numerics could not be pinned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("could not pin libtorch's CPU numerics ({reason}); results would depend on the CPU model")]
pub struct PinError {
    /// What failed.
    pub reason: String,
}

/// What [`pin_cpu_numerics`] set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedNumerics {
    /// The ATen CPU capability in force (always [`ATEN_CPU_CAPABILITY`]).
    pub aten_capability: &'static str,
    /// MKL's current code branch as `mkl_cbwr_get(MKL_CBWR_BRANCH)` reports it (always
    /// [`MKL_CBWR_COMPATIBLE`] after success).
    pub mkl_branch: i32,
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    /// MKL's `mkl_cbwr_set`, exported by `libtorch_cpu` under its service name.
    fn mkl_serv_cbwr_set(settings: i32) -> i32;
    /// MKL's `mkl_cbwr_get`, exported by `libtorch_cpu` under its service name.
    fn mkl_serv_cbwr_get(option: i32) -> i32;
}

/// MKL's current branch (`mkl_cbwr_get(MKL_CBWR_BRANCH)`).
#[cfg(target_arch = "x86_64")]
pub fn mkl_branch() -> i32 {
    // SAFETY: a plain C function of MKL taking and returning an int; it only reads MKL's
    // global mode (under MKL's own lock).
    unsafe { mkl_serv_cbwr_get(MKL_CBWR_BRANCH) }
}

fn pin_once() -> Result<PinnedNumerics, PinError> {
    // SAFETY: `set_var` is unsound only when another thread reads the environment through
    // C's `getenv` concurrently. This runs inside a `OnceLock` initialiser that every libtorch
    // entry point of this crate passes first, and the `pilqr` command runs it at the start of
    // `main` before any thread exists; Rust's own environment reads take the same lock.
    unsafe { std::env::set_var("ATEN_CPU_CAPABILITY", ATEN_CPU_CAPABILITY) };
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: as for `mkl_branch`; setting the mode is MKL's documented start-up call.
        let code = unsafe { mkl_serv_cbwr_set(MKL_CBWR_COMPATIBLE) };
        let branch = mkl_branch();
        if branch != MKL_CBWR_COMPATIBLE {
            let why = if code == MKL_CBWR_ERR_MODE_CHANGE_FAILURE {
                "MKL had already computed before the pinning, so its code branch can no longer \
                 change: call pilqr_mdgps::pin_cpu_numerics before any direct use of tch"
                    .to_string()
            } else {
                format!("mkl_cbwr_set(COMPATIBLE) returned {code}")
            };
            return Err(PinError {
                reason: format!("MKL's code branch is {branch}, not COMPATIBLE: {why}"),
            });
        }
        Ok(PinnedNumerics {
            aten_capability: ATEN_CPU_CAPABILITY,
            mkl_branch: branch,
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    Ok(PinnedNumerics {
        aten_capability: ATEN_CPU_CAPABILITY,
        mkl_branch: MKL_CBWR_COMPATIBLE,
    })
}

/// Pin libtorch's CPU-dependent numerics (ATen's kernel choice and MKL's code branch) for
/// this process, so that the same inputs give the same bits on every x86-64 CPU; see the
/// module documentation. Idempotent and thread-safe: the first call does the work, later
/// calls return its outcome.
///
/// ```
/// let pinned = pilqr_mdgps::pin_cpu_numerics().unwrap();
/// assert_eq!(pinned.aten_capability, "default");
/// assert_eq!(pinned.mkl_branch, pilqr_mdgps::MKL_CBWR_COMPATIBLE);
/// ```
pub fn pin_cpu_numerics() -> Result<PinnedNumerics, PinError> {
    static PINNED: OnceLock<Result<PinnedNumerics, PinError>> = OnceLock::new();
    PINNED.get_or_init(pin_once).clone()
}
