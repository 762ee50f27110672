//! Step sizes that may vary along the horizon and across iterations (docs/design.md §4.3 step 5).
//!
//! A [`PerStep`] value is a scalar, a length-`T` array, or a linear ramp `{ start, end }` from
//! `t = 0` to `t = T−1` (the released pusher configuration used `ε_t` falling from 0.6 to 0.2).
//! A [`KlStep`] is one of those, or a per-iteration `{ schedule = [...] }` whose last entry
//! holds for all later iterations.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::TrajOptError;

/// A linear ramp over the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// Value at `t = 0`.
    pub start: f64,
    /// Value at `t = T−1`.
    pub end: f64,
}

/// A value per time step.
///
/// ```
/// use pilqr_trajopt::step_size::PerStep;
///
/// let v: PerStep = serde_json::from_str(r#"{"start": 0.6, "end": 0.2}"#).unwrap();
/// let r = v.resolve("kl_step", 3).unwrap();
/// assert!((r[1] - 0.4).abs() < 1e-12);
/// assert_eq!(PerStep::Scalar(2.0).resolve("x", 2).unwrap(), vec![2.0, 2.0]);
/// assert!(PerStep::Array(vec![1.0]).resolve("x", 2).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum PerStep {
    /// The same value at every step.
    Scalar(f64),
    /// One value per step (length `T`).
    Array(Vec<f64>),
    /// A linear ramp.
    Linear(Ramp),
}

impl PerStep {
    /// The `T` values; errors name `field`. Values must be finite and > 0.
    pub fn resolve(&self, field: &'static str, horizon: usize) -> Result<Vec<f64>, TrajOptError> {
        let values = match self {
            PerStep::Scalar(v) => vec![*v; horizon],
            PerStep::Array(v) => {
                if v.len() != horizon {
                    return Err(TrajOptError::Config {
                        field,
                        reason: format!("has {} values, the horizon is {horizon}", v.len()),
                    });
                }
                v.clone()
            }
            PerStep::Linear(r) => (0..horizon)
                .map(|t| {
                    let f = if horizon > 1 {
                        t as f64 / (horizon - 1) as f64
                    } else {
                        0.0
                    };
                    r.start + (r.end - r.start) * f
                })
                .collect(),
        };
        if let Some(t) = values.iter().position(|v| !(*v > 0.0 && v.is_finite())) {
            return Err(TrajOptError::Config {
                field,
                reason: format!("value at time step {t} must be finite and > 0"),
            });
        }
        Ok(values)
    }
}

/// A per-iteration schedule of per-step values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Value of iteration `i` (the last one repeats).
    pub schedule: Vec<PerStep>,
}

/// The base KL step: fixed, or changing across iterations.
///
/// ```
/// use pilqr_trajopt::step_size::KlStep;
///
/// let k: KlStep = serde_json::from_str(r#"{"schedule": [1.0, [0.5, 0.4]]}"#).unwrap();
/// assert_eq!(k.at(0, 2).unwrap(), vec![1.0, 1.0]);
/// assert_eq!(k.at(7, 2).unwrap(), vec![0.5, 0.4]);
/// let k: KlStep = serde_json::from_str("0.3").unwrap();
/// assert_eq!(k.at(3, 1).unwrap(), vec![0.3]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum KlStep {
    /// The same at every iteration.
    Fixed(PerStep),
    /// Per iteration.
    Scheduled(Schedule),
}

impl KlStep {
    /// The per-step values at `iteration`.
    pub fn at(&self, iteration: usize, horizon: usize) -> Result<Vec<f64>, TrajOptError> {
        match self {
            KlStep::Fixed(v) => v.resolve("kl_step", horizon),
            KlStep::Scheduled(s) => {
                match s.schedule.get(iteration.min(s.schedule.len().max(1) - 1)) {
                    Some(v) => v.resolve("kl_step", horizon),
                    None => Err(TrajOptError::Config {
                        field: "kl_step",
                        reason: "the schedule is empty".into(),
                    }),
                }
            }
        }
    }
}

// Human-readable formats (TOML, JSON) read these enums untagged (`0.3`, `[..]`,
// `{ start, end }`, `{ schedule = [..] }`); binary formats such as bincode, which cannot guess a
// variant, use an explicit tag. `dual_repr!` derives both from one pair of mirror enums.
macro_rules! dual_repr {
    ($ty:ident, $untagged:ident, $tagged:ident, { $($var:ident($inner:ty)),* $(,)? }) => {
        #[derive(Serialize, Deserialize)]
        #[serde(untagged)]
        enum $untagged { $($var($inner)),* }
        #[derive(Serialize, Deserialize)]
        enum $tagged { $($var($inner)),* }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    match self.clone() { $($ty::$var(v) => $untagged::$var(v).serialize(s)),* }
                } else {
                    match self.clone() { $($ty::$var(v) => $tagged::$var(v).serialize(s)),* }
                }
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    Ok(match $untagged::deserialize(d)? { $($untagged::$var(v) => $ty::$var(v)),* })
                } else {
                    Ok(match $tagged::deserialize(d)? { $($tagged::$var(v) => $ty::$var(v)),* })
                }
            }
        }
    };
}

dual_repr!(PerStep, PerStepUntagged, PerStepTagged, {
    Scalar(f64),
    Array(Vec<f64>),
    Linear(Ramp),
});
dual_repr!(KlStep, KlStepUntagged, KlStepTagged, {
    Fixed(PerStep),
    Scheduled(Schedule),
});
