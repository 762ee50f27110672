//! The local method of a run, for a build without MDGPS (feature `mdgps` off): the same names
//! and TOML spelling as `pilqr_mdgps::LocalMethod`, which the default build uses instead, so an
//! experiment file reads the same in both builds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which trajectory optimiser updates the local controllers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum LocalMethod {
    /// LQR-FLM against the fitted dynamics.
    #[default]
    LqrFlm,
    /// PILQR: LQR-FLM, then PI2 on the residual costs.
    Pilqr,
    /// PI2 alone.
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
}

impl fmt::Display for LocalMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
