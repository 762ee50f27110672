//! Which trajectory optimiser updates the local controllers in MDGPS's C-step.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The local method of the C-step (`local` in MDGPS configs).
///
/// ```
/// use pilqr_mdgps::LocalMethod;
///
/// let m: LocalMethod = serde_json::from_str("\"lqr-flm\"").unwrap();
/// assert_eq!(m, LocalMethod::LqrFlm);
/// assert_eq!(LocalMethod::default(), LocalMethod::LqrFlm);
/// assert_eq!(LocalMethod::Pilqr.to_string(), "pilqr");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum LocalMethod {
    /// LQR-FLM against the fitted dynamics, KL-bounded to the linearised global policy.
    #[default]
    LqrFlm,
    /// PILQR: the LQR-FLM stage above, then PI2 on the residual costs over the LQR actions.
    Pilqr,
    /// PI2 with the KL bound taken against the linearised global policy (importance-weighted
    /// samples; see [`crate::pi2_against_reference`]).
    Pi2,
}

impl LocalMethod {
    /// Every local method.
    pub const ALL: [LocalMethod; 3] = [LocalMethod::Pilqr, LocalMethod::LqrFlm, LocalMethod::Pi2];

    /// The name used in configs: `lqr-flm`, `pilqr` or `pi2`.
    pub fn name(self) -> &'static str {
        match self {
            LocalMethod::LqrFlm => "lqr-flm",
            LocalMethod::Pilqr => "pilqr",
            LocalMethod::Pi2 => "pi2",
        }
    }

    /// Whether the method has an LQR stage (and so carries a dual variable η per step).
    pub fn uses_lqr(self) -> bool {
        matches!(self, LocalMethod::LqrFlm | LocalMethod::Pilqr)
    }
}

impl fmt::Display for LocalMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
