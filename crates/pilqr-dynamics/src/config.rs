//! Configuration of the dynamics fitter and its GMM prior, with the defaults in one place.

use serde::{Deserialize, Serialize};

use crate::error::DynamicsError;

/// Settings of [`DynamicsFitter`](crate::DynamicsFitter).
///
/// | field | default | meaning |
/// |---|---|---|
/// | `regularization` | `1e-6` | ridge added to the `[x;u]` block of each step's joint covariance |
/// | `prior` | `Some(GmmPriorConfig::default())` | GMM dynamics prior; `None` = plain regression |
///
/// In TOML the prior is a table (`[prior]`, missing fields take their defaults), `prior = true`
/// (the default prior) or `prior = false` (no prior: plain regression). `None` serialises as
/// `prior = false`, so a written configuration reads back to the same value.
/// | `initial_state_var` | `1e-6` | floor on the per-dimension variance of `x_0` |
///
/// ```
/// use pilqr_dynamics::DynamicsConfig;
///
/// let c: DynamicsConfig = toml::from_str("regularization = 1e-8\n[prior]\nmax_samples = 40").unwrap();
/// assert_eq!(c.regularization, 1e-8);
/// let p = c.prior.unwrap();
/// assert_eq!((p.max_samples, p.max_clusters), (40, 20));
/// assert!(toml::from_str::<DynamicsConfig>("regularisation = 1.0").is_err()); // typo: unknown field
///
/// let plain: DynamicsConfig = toml::from_str("prior = false").unwrap();
/// assert_eq!(plain, DynamicsConfig::without_prior());
/// let text = toml::to_string(&plain).unwrap();
/// assert_eq!(toml::from_str::<DynamicsConfig>(&text).unwrap(), plain);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DynamicsConfig {
    /// Ridge added to the diagonal of the `[x;u]` block of each step's joint covariance before
    /// conditioning (default `1e-6`).
    pub regularization: f64,
    /// The GMM dynamics prior; `None` fits each step by plain (ridge) linear regression.
    /// Default: `Some` with the paper's values ([`GmmPriorConfig::default`]).
    #[serde(with = "prior_setting")]
    pub prior: Option<GmmPriorConfig>,
    /// Floor on the per-dimension variance of the initial state (default `1e-6`).
    pub initial_state_var: f64,
}

impl Default for DynamicsConfig {
    fn default() -> Self {
        DynamicsConfig {
            regularization: 1e-6,
            prior: Some(GmmPriorConfig::default()),
            initial_state_var: 1e-6,
        }
    }
}

impl DynamicsConfig {
    /// Plain per-step regression, no prior (other fields default).
    pub fn without_prior() -> Self {
        DynamicsConfig {
            prior: None,
            ..DynamicsConfig::default()
        }
    }

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), DynamicsError> {
        nonneg_finite("regularization", self.regularization)?;
        nonneg_finite("initial_state_var", self.initial_state_var)?;
        if let Some(p) = &self.prior {
            p.validate()?;
        }
        Ok(())
    }
}

/// Serde form of [`DynamicsConfig::prior`]: a table, or a boolean (`true`: the default prior,
/// `false`: none). `Option` alone cannot round-trip through TOML, which has no null: a missing
/// key would read back as the default prior.
mod prior_setting {
    use std::fmt;

    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::GmmPriorConfig;

    /// Write `None` as `false` (binary formats: as a plain `Option`).
    pub fn serialize<S: Serializer>(
        prior: &Option<GmmPriorConfig>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            // Binary formats (bincode checkpoints) keep the plain `Option` encoding.
            return prior.serialize(serializer);
        }
        match prior {
            Some(p) => p.serialize(serializer),
            None => serializer.serialize_bool(false),
        }
    }

    /// Read a table, `true` or `false` (binary formats: a plain `Option`).
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<GmmPriorConfig>, D::Error> {
        struct PriorVisitor;
        impl<'de> Visitor<'de> for PriorVisitor {
            type Value = Option<GmmPriorConfig>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of GMM prior settings, or true/false")
            }

            fn visit_bool<E: de::Error>(self, on: bool) -> Result<Self::Value, E> {
                Ok(on.then(GmmPriorConfig::default))
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(PriorVisitor)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                // Delegating keeps GmmPriorConfig's own messages (unknown field, wrong type).
                GmmPriorConfig::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
            }
        }
        if !deserializer.is_human_readable() {
            return Option::<GmmPriorConfig>::deserialize(deserializer);
        }
        deserializer.deserialize_any(PriorVisitor)
    }
}

/// Settings of the GMM dynamics prior (docs/design.md §4.2) and of its EM fit.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `max_clusters` | 20 | upper bound on the number of mixture components |
/// | `min_samples_per_cluster` | 40 | points per component: `K = max(2, min(max_clusters, ⌊points / this⌋))` |
/// | `max_samples` | 20 | trajectories kept in the buffer (exactly the last `max_samples`) |
/// | `strength` | 1.0 | prior strength: `m = strength`, `n0 = strength·(N_g−2−D)/N_g` |
/// | `em_tolerance` | `1e-4` | EM stops when `|Δℓ| ≤ tol·max(1, |ℓ|)` |
/// | `em_max_iterations` | 100 | at most this many M-steps per fit |
/// | `covariance_floor` | `1e-6` | added to the diagonal of every component covariance |
///
/// ```
/// use pilqr_dynamics::GmmPriorConfig;
///
/// let c = GmmPriorConfig::default();
/// assert_eq!((c.max_clusters, c.min_samples_per_cluster, c.max_samples, c.strength), (20, 40, 20, 1.0));
/// // 20 trajectories of 100 steps: 1980 transition points -> 20 components.
/// assert_eq!(c.cluster_count(20 * 99), 20);
/// assert_eq!(c.cluster_count(100), 2);
/// assert!(GmmPriorConfig { strength: 0.0, ..c }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GmmPriorConfig {
    /// Upper bound on the number of mixture components (default 20).
    pub max_clusters: usize,
    /// Points per component used to choose the component count (default 40).
    pub min_samples_per_cluster: usize,
    /// Number of trajectories kept in the buffer across iterations (default 20).
    pub max_samples: usize,
    /// Strength of the prior, in pseudo-observations (default 1.0).
    pub strength: f64,
    /// Relative EM convergence tolerance on the log-likelihood (default `1e-4`).
    pub em_tolerance: f64,
    /// Maximum number of EM iterations (M-steps) per fit (default 100).
    pub em_max_iterations: usize,
    /// Diagonal added to every component covariance (default `1e-6`).
    pub covariance_floor: f64,
}

impl Default for GmmPriorConfig {
    fn default() -> Self {
        GmmPriorConfig {
            max_clusters: 20,
            min_samples_per_cluster: 40,
            max_samples: 20,
            strength: 1.0,
            em_tolerance: GmmConfig::default().tolerance,
            em_max_iterations: GmmConfig::default().max_iterations,
            covariance_floor: GmmConfig::default().covariance_floor,
        }
    }
}

impl GmmPriorConfig {
    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), DynamicsError> {
        if self.max_clusters < 2 {
            return Err(invalid("prior.max_clusters", "must be at least 2"));
        }
        if self.min_samples_per_cluster == 0 {
            return Err(invalid(
                "prior.min_samples_per_cluster",
                "must be at least 1",
            ));
        }
        if self.max_samples == 0 {
            return Err(invalid("prior.max_samples", "must be at least 1"));
        }
        if !(self.strength.is_finite() && self.strength > 0.0) {
            return Err(invalid("prior.strength", "must be finite and > 0"));
        }
        self.gmm_config().validate()
    }

    /// The EM settings as a [`GmmConfig`].
    pub fn gmm_config(&self) -> GmmConfig {
        GmmConfig {
            tolerance: self.em_tolerance,
            max_iterations: self.em_max_iterations,
            covariance_floor: self.covariance_floor,
        }
    }

    /// The component count for `points` data points:
    /// `max(2, min(max_clusters, ⌊points / min_samples_per_cluster⌋))`.
    pub fn cluster_count(&self, points: usize) -> usize {
        (points / self.min_samples_per_cluster.max(1))
            .min(self.max_clusters)
            .max(2)
    }
}

/// EM settings of a [`Gmm`](crate::Gmm).
///
/// | field | default | meaning |
/// |---|---|---|
/// | `tolerance` | `1e-4` | stop when `|Δℓ| ≤ tolerance·max(1, |ℓ|)` |
/// | `max_iterations` | 100 | at most this many M-steps |
/// | `covariance_floor` | `1e-6` | added to the diagonal of every component covariance |
///
/// ```
/// use pilqr_dynamics::{GmmConfig, GmmPriorConfig};
///
/// let g = GmmPriorConfig { em_tolerance: 1e-3, ..GmmPriorConfig::default() }.gmm_config();
/// assert_eq!(g, GmmConfig { tolerance: 1e-3, ..GmmConfig::default() });
/// assert_eq!(g.max_iterations, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GmmConfig {
    /// Relative convergence tolerance on the total log-likelihood `ℓ` (default `1e-4`).
    pub tolerance: f64,
    /// Maximum number of EM iterations (M-steps) (default 100).
    pub max_iterations: usize,
    /// Diagonal added to every component covariance, keeping it positive definite (default `1e-6`).
    pub covariance_floor: f64,
}

impl Default for GmmConfig {
    fn default() -> Self {
        GmmConfig {
            tolerance: 1e-4,
            max_iterations: 100,
            covariance_floor: 1e-6,
        }
    }
}

impl GmmConfig {
    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), DynamicsError> {
        nonneg_finite("em_tolerance", self.tolerance)?;
        if !(self.covariance_floor.is_finite() && self.covariance_floor > 0.0) {
            return Err(invalid("covariance_floor", "must be finite and > 0"));
        }
        Ok(())
    }
}

fn invalid(field: &'static str, reason: &str) -> DynamicsError {
    DynamicsError::InvalidConfig {
        field,
        reason: reason.to_string(),
    }
}

fn nonneg_finite(field: &'static str, v: f64) -> Result<(), DynamicsError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(field, &format!("must be finite and >= 0, got {v}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prior_settings_round_trip_through_toml() {
        let custom = DynamicsConfig {
            prior: Some(GmmPriorConfig {
                max_clusters: 7,
                ..GmmPriorConfig::default()
            }),
            ..DynamicsConfig::default()
        };
        for c in [DynamicsConfig::without_prior(), custom] {
            let text = toml::to_string(&c).unwrap();
            assert_eq!(
                toml::from_str::<DynamicsConfig>(&text).unwrap(),
                c,
                "{text}"
            );
        }
        let on: DynamicsConfig = toml::from_str("prior = true").unwrap();
        assert_eq!(on, DynamicsConfig::default());
        let missing: DynamicsConfig = toml::from_str("").unwrap();
        assert_eq!(missing, DynamicsConfig::default());
    }

    #[test]
    fn a_bad_prior_field_is_named_and_a_wrong_type_rejected() {
        let err = toml::from_str::<DynamicsConfig>("[prior]\nmax_clustres = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_clustres"), "{err}");
        assert!(toml::from_str::<DynamicsConfig>("prior = 3").is_err());
    }

    #[test]
    fn prior_settings_round_trip_through_bincode() {
        let cfg = bincode::config::standard();
        for c in [DynamicsConfig::without_prior(), DynamicsConfig::default()] {
            let bytes = bincode::serde::encode_to_vec(&c, cfg).unwrap();
            let (back, _): (DynamicsConfig, usize) =
                bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
            assert_eq!(back, c);
        }
    }
}
