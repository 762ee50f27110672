//! The methods the command can run, by name: trajectory optimisation of local controllers
//! (`pilqr`, `lqr-flm`, `lqr-flm-res`, `pi2`) and MDGPS with a trajectory optimiser as the local
//! method (`mdgps-pilqr`, `mdgps-lqr-flm`, `mdgps-pi2`).
//!
//! `lqr-flm` is the classic LQR-FLM, whose step rule compares the predicted with the actual
//! improvement (`step_rule = "improvement"`); `lqr-flm-res` is LQR-FLM with PILQR's
//! `res_percent` rule, i.e. PILQR without its PI2 stage (docs/design.md §4.5). Both fix their
//! step rule; `pilqr` takes the experiment's `[trajopt] step_rule`.

use std::fmt;
use std::str::FromStr;

#[cfg(not(feature = "mdgps"))]
pub use crate::config::local_method::LocalMethod;
/// The local method of a run (MDGPS's own type in a build with MDGPS).
#[cfg(feature = "mdgps")]
pub use pilqr_mdgps::LocalMethod;
use pilqr_trajopt::StepRule;
use serde::{Deserialize, Serialize};

/// What a method trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// One time-varying linear-Gaussian controller per condition (`algorithm = "trajopt"`).
    Trajopt,
    /// A neural-network policy taught by local controllers (`algorithm = "mdgps"`).
    Mdgps,
}

impl Family {
    /// The name used in experiment files.
    pub fn name(self) -> &'static str {
        match self {
            Family::Trajopt => "trajopt",
            Family::Mdgps => "mdgps",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A method: a trajectory optimiser, or MDGPS with a trajectory optimiser as its local method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// PILQR: LQR-FLM followed by PI2 on the residual cost (the paper's method).
    Pilqr,
    /// LQR-FLM: LQR against fitted linear dynamics under a KL bound (model-based), with the
    /// classic step rule on the predicted and actual improvement.
    LqrFlm,
    /// LQR-FLM with PILQR's `res_percent` step rule (PILQR without its PI2 stage).
    LqrFlmRes,
    /// PI2: path-integral policy improvement (model-free).
    Pi2,
    /// MDGPS with PILQR local controllers.
    MdgpsPilqr,
    /// MDGPS with LQR-FLM local controllers.
    MdgpsLqrFlm,
    /// MDGPS with PI2 local controllers.
    MdgpsPi2,
}

impl Method {
    /// The trajectory-optimisation methods, in the order of the paper's figures (with
    /// `lqr-flm-res` beside `lqr-flm`).
    pub const TRAJOPT: [Method; 4] = [
        Method::Pilqr,
        Method::LqrFlm,
        Method::LqrFlmRes,
        Method::Pi2,
    ];

    /// The MDGPS methods, in the order of the paper's Fig. 4.
    pub const MDGPS: [Method; 3] = [Method::MdgpsPilqr, Method::MdgpsLqrFlm, Method::MdgpsPi2];

    /// Every method.
    pub const ALL: [Method; 7] = [
        Method::Pilqr,
        Method::LqrFlm,
        Method::LqrFlmRes,
        Method::Pi2,
        Method::MdgpsPilqr,
        Method::MdgpsLqrFlm,
        Method::MdgpsPi2,
    ];

    /// The method's name as written in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Pilqr => "pilqr",
            Method::LqrFlm => "lqr-flm",
            Method::LqrFlmRes => "lqr-flm-res",
            Method::Pi2 => "pi2",
            Method::MdgpsPilqr => "mdgps-pilqr",
            Method::MdgpsLqrFlm => "mdgps-lqr-flm",
            Method::MdgpsPi2 => "mdgps-pi2",
        }
    }

    /// Whether the method trains local controllers or a global policy.
    pub fn family(self) -> Family {
        match self {
            Method::Pilqr | Method::LqrFlm | Method::LqrFlmRes | Method::Pi2 => Family::Trajopt,
            Method::MdgpsPilqr | Method::MdgpsLqrFlm | Method::MdgpsPi2 => Family::Mdgps,
        }
    }

    /// The trajectory optimiser the method runs (on its own, or as MDGPS's local method).
    pub fn local(self) -> LocalMethod {
        match self {
            Method::Pilqr | Method::MdgpsPilqr => LocalMethod::Pilqr,
            Method::LqrFlm | Method::LqrFlmRes | Method::MdgpsLqrFlm => LocalMethod::LqrFlm,
            Method::Pi2 | Method::MdgpsPi2 => LocalMethod::Pi2,
        }
    }

    /// The MDGPS method with `local` as its local method.
    pub fn mdgps(local: LocalMethod) -> Method {
        match local {
            LocalMethod::Pilqr => Method::MdgpsPilqr,
            LocalMethod::LqrFlm => Method::MdgpsLqrFlm,
            LocalMethod::Pi2 => Method::MdgpsPi2,
        }
    }

    /// The step rule a trajectory-optimisation method fixes (`None`: the experiment's
    /// `[trajopt] step_rule` applies, or the method has no step rule).
    pub fn step_rule(self) -> Option<StepRule> {
        match self {
            Method::LqrFlm => Some(StepRule::Improvement),
            Method::LqrFlmRes => Some(StepRule::ResPercent),
            _ => None,
        }
    }

    /// The default methods of a family (`compare` runs them all).
    pub fn defaults(family: Family) -> Vec<Method> {
        match family {
            Family::Trajopt => Method::TRAJOPT.to_vec(),
            Family::Mdgps => Method::MDGPS.to_vec(),
        }
    }

    /// One line about the method, for `pilqr list`.
    pub fn description(self) -> &'static str {
        match self {
            Method::Pilqr => {
                "LQR-FLM update, then PI2 on the residual cost (model-based + model-free)"
            }
            Method::LqrFlm => {
                "LQR against locally fitted linear dynamics with a KL bound (model-based); classic step rule on predicted vs actual improvement"
            }
            Method::LqrFlmRes => {
                "LQR-FLM with PILQR's res_percent step rule (PILQR without its PI2 stage)"
            }
            Method::Pi2 => "path-integral policy improvement on sampled costs (model-free)",
            Method::MdgpsPilqr => "MDGPS neural-network policy, PILQR local controllers",
            Method::MdgpsLqrFlm => "MDGPS neural-network policy, LQR-FLM local controllers",
            Method::MdgpsPi2 => "MDGPS neural-network policy, PI2 local controllers",
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
#[error(
    "unknown method {0:?} (known: pilqr, lqr-flm, lqr-flm-res, pi2, mdgps-pilqr, mdgps-lqr-flm, mdgps-pi2)"
)]
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
            "unknown method \"lqr\" (known: pilqr, lqr-flm, lqr-flm-res, pi2, mdgps-pilqr, mdgps-lqr-flm, mdgps-pi2)"
        );
    }

    #[test]
    fn lqr_flm_methods_fix_their_step_rule_and_pilqr_leaves_it_to_the_file() {
        assert_eq!(Method::LqrFlm.step_rule(), Some(StepRule::Improvement));
        assert_eq!(Method::LqrFlmRes.step_rule(), Some(StepRule::ResPercent));
        assert_eq!(Method::LqrFlmRes.local(), LocalMethod::LqrFlm);
        for m in [Method::Pilqr, Method::Pi2, Method::MdgpsLqrFlm] {
            assert_eq!(m.step_rule(), None, "{m}");
        }
        assert_eq!(
            Method::defaults(Family::Trajopt),
            [
                Method::Pilqr,
                Method::LqrFlm,
                Method::LqrFlmRes,
                Method::Pi2
            ]
        );
    }

    #[test]
    fn mdgps_methods_name_their_local_method() {
        for local in LocalMethod::ALL {
            let m = Method::mdgps(local);
            assert_eq!((m.family(), m.local()), (Family::Mdgps, local));
            assert_eq!(m.name(), format!("mdgps-{local}"));
        }
        assert!(
            Method::TRAJOPT
                .iter()
                .all(|m| m.family() == Family::Trajopt)
        );
    }
}
