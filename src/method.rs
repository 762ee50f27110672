//! The trajectory-optimisation methods the command can run, by name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A method for updating the local controllers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// PILQR: LQR-FLM followed by PI2 on the residual cost (the paper's method).
    Pilqr,
    /// LQR-FLM: LQR against fitted linear dynamics under a KL bound (model-based).
    LqrFlm,
    /// PI2: path-integral policy improvement (model-free).
    Pi2,
}

impl Method {
    /// Every method, in the order of the paper's figures.
    pub const ALL: [Method; 3] = [Method::Pilqr, Method::LqrFlm, Method::Pi2];

    /// The method's name as written in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Pilqr => "pilqr",
            Method::LqrFlm => "lqr-flm",
            Method::Pi2 => "pi2",
        }
    }

    /// One line about the method, for `pilqr list`.
    pub fn description(self) -> &'static str {
        match self {
            Method::Pilqr => {
                "LQR-FLM update, then PI2 on the residual cost (model-based + model-free)"
            }
            Method::LqrFlm => {
                "LQR against locally fitted linear dynamics with a KL bound (model-based)"
            }
            Method::Pi2 => "path-integral policy improvement on sampled costs (model-free)",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown method name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown method {0:?} (known: pilqr, lqr-flm, pi2)")]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| UnknownMethod(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>().unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()));
        }
        assert_eq!(
            "lqr".parse::<Method>().unwrap_err().to_string(),
            "unknown method \"lqr\" (known: pilqr, lqr-flm, pi2)"
        );
    }
}
