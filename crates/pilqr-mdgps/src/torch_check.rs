//! Checking, before a run starts, that libtorch works in this process.
//!
//! A binary linked against libtorch does not start at all when the dynamic loader cannot find
//! `libtorch_cpu.so` (the loader reports the missing library before any of our code runs). When
//! the libraries load but do not work — a wrong version, a missing dependency of theirs, a
//! broken install — the first tensor operation fails; [`check_torch`] performs one and turns
//! the failure into [`TorchUnavailable`], which tells the user what to do.

use thiserror::Error;

/// libtorch cannot compute in this process.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "libtorch is not usable ({reason}); MDGPS trains its network with libtorch (PyTorch 2.13.0): run the command through `scripts/with-libtorch`, which installs it once and sets LIBTORCH and the library path"
)]
pub struct TorchUnavailable {
    /// What failed.
    pub reason: String,
}

/// Create a small CPU tensor and sum it; an error says why libtorch is not usable.
///
/// ```
/// pilqr_mdgps::check_torch().unwrap();
/// ```
///
/// It first pins libtorch's CPU numerics ([`crate::pin_cpu_numerics`]); a failure to pin is
/// reported as unavailability too.
pub fn check_torch() -> Result<(), TorchUnavailable> {
    crate::pin_cpu_numerics().map_err(|e| TorchUnavailable {
        reason: e.to_string(),
    })?;
    let probe = std::panic::catch_unwind(|| {
        let t = tch::Tensor::f_from_slice(&[1.0f64, 2.0, 3.0])?;
        t.f_sum(tch::Kind::Double)?.f_double_value(&[])
    });
    match probe {
        Ok(Ok(6.0)) => Ok(()),
        Ok(Ok(v)) => Err(TorchUnavailable {
            reason: format!("a test sum of [1, 2, 3] gave {v}"),
        }),
        Ok(Err(e)) => Err(TorchUnavailable {
            reason: format!("a test tensor operation failed: {e}"),
        }),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(TorchUnavailable {
                reason: format!("a test tensor operation panicked: {what}"),
            })
        }
    }
}
