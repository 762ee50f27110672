//! Per-dimension observation normalisation `o ↦ o·scale + bias`, fitted once.

use serde::{Deserialize, Serialize};

use crate::error::{MdgpsError, check_finite, check_len};

/// Smallest standard deviation used for a scale: constant observation entries get scale 1e3
/// instead of an infinite one (docs/design.md §4.6).
pub const MIN_STD: f64 = 1e-3;

/// `ô = o·scale + bias` per observation entry, with `scale = 1/max(std, 1e-3)` and
/// `bias = −mean·scale` over the data it was fitted on (population standard deviation).
///
/// MDGPS fits it on the first S-step's observations and keeps it for the whole run, so the
/// network's input space does not move under it.
///
/// ```
/// use pilqr_mdgps::ObsNormalization;
///
/// // Two rows of dO = 2: the second entry is constant.
/// let n = ObsNormalization::fit(&[1.0, 5.0, 3.0, 5.0], 2).unwrap();
/// assert_eq!(n.scale(), &[1.0, 1e3]);
/// let mut out = [0.0; 2];
/// n.apply(&[3.0, 5.0], &mut out);
/// assert_eq!(out, [1.0, 0.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawNormalization", into = "RawNormalization")]
pub struct ObsNormalization {
    scale: Vec<f64>,
    bias: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct RawNormalization {
    scale: Vec<f64>,
    bias: Vec<f64>,
}

impl TryFrom<RawNormalization> for ObsNormalization {
    type Error = MdgpsError;
    fn try_from(r: RawNormalization) -> Result<Self, MdgpsError> {
        ObsNormalization::new(r.scale, r.bias)
    }
}

impl From<ObsNormalization> for RawNormalization {
    fn from(n: ObsNormalization) -> Self {
        RawNormalization {
            scale: n.scale,
            bias: n.bias,
        }
    }
}

impl ObsNormalization {
    /// From explicit scales (finite, positive) and biases (finite), of equal length.
    pub fn new(scale: Vec<f64>, bias: Vec<f64>) -> Result<Self, MdgpsError> {
        check_len("normalisation bias", bias.len(), scale.len())?;
        check_finite("normalisation scale", &scale)?;
        check_finite("normalisation bias", &bias)?;
        if let Some(index) = scale.iter().position(|&s| s <= 0.0) {
            return Err(MdgpsError::InvalidValue {
                what: "normalisation scale".into(),
                index,
                value: scale[index],
            });
        }
        Ok(ObsNormalization { scale, bias })
    }

    /// The identity map on `dim` entries.
    pub fn identity(dim: usize) -> Self {
        ObsNormalization {
            scale: vec![1.0; dim],
            bias: vec![0.0; dim],
        }
    }

    /// Fit on `rows` observations stored row after row (`obs.len() = rows · dim`).
    pub fn fit(obs: &[f64], dim: usize) -> Result<Self, MdgpsError> {
        if dim == 0 || obs.is_empty() || !obs.len().is_multiple_of(dim) {
            return Err(MdgpsError::NoData {
                reason: format!(
                    "{} observation values cannot be split into rows of {dim}",
                    obs.len()
                ),
            });
        }
        check_finite("observations", obs)?;
        let rows = (obs.len() / dim) as f64;
        let mut mean = vec![0.0; dim];
        for row in obs.chunks_exact(dim) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= rows);
        let mut var = vec![0.0; dim];
        for row in obs.chunks_exact(dim) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let scale: Vec<f64> = var
            .iter()
            .map(|s| 1.0 / (s / rows).sqrt().max(MIN_STD))
            .collect();
        let bias = mean.iter().zip(&scale).map(|(m, s)| -m * s).collect();
        ObsNormalization::new(scale, bias)
    }

    /// Observation width.
    pub fn dim(&self) -> usize {
        self.scale.len()
    }

    /// Per-entry scales.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Per-entry biases.
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// `out = obs·scale + bias` (lengths must equal [`ObsNormalization::dim`]).
    #[inline]
    pub fn apply(&self, obs: &[f64], out: &mut [f64]) {
        for (((o, x), s), b) in out.iter_mut().zip(obs).zip(&self.scale).zip(&self.bias) {
            *o = x * s + b;
        }
    }

    /// Normalise every row of `obs` in place.
    pub fn apply_rows(&self, obs: &mut [f64]) {
        for row in obs.chunks_exact_mut(self.dim()) {
            for ((x, s), b) in row.iter_mut().zip(&self.scale).zip(&self.bias) {
                *x = *x * s + b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_data_has_zero_mean_unit_std() {
        let obs: Vec<f64> = (0..50)
            .flat_map(|i| [i as f64 * 0.3 - 2.0, (i as f64).sin() * 7.0])
            .collect();
        let n = ObsNormalization::fit(&obs, 2).unwrap();
        let mut z = obs.clone();
        n.apply_rows(&mut z);
        for d in 0..2 {
            let col: Vec<f64> = z.iter().skip(d).step_by(2).copied().collect();
            let mean = col.iter().sum::<f64>() / 50.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 50.0;
            assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            ObsNormalization::fit(&[1.0, 2.0, 3.0], 2),
            Err(MdgpsError::NoData { .. })
        ));
        assert!(matches!(
            ObsNormalization::new(vec![1.0, 0.0], vec![0.0, 0.0]),
            Err(MdgpsError::InvalidValue { index: 1, .. })
        ));
        let bad: Result<ObsNormalization, _> = serde_json::from_str(r#"{"scale":[1.0],"bias":[]}"#);
        assert!(bad.is_err());
    }
}
