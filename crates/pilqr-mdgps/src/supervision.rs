//! The S-step's supervision data: for every (condition, sample, step) row, the observation,
//! the new local controller's mean action `K_t x + k_t` and its precision `Σ_t⁻¹` scaled by
//! the row's weight.

use pilqr_core::{LinearGaussianPolicy, SampleBatch};

use crate::error::{MdgpsError, check_finite, check_len};

/// Weights below this (after normalising to mean 1) are ignored when taking the robust median.
const MEDIAN_FLOOR: f64 = 1e-2;

/// One condition's contribution to an S-step: its samples (observations and states) and the
/// new local controller, with optional per-(sample, step) weights.
#[derive(Debug, Clone, Copy)]
pub struct SStepCondition<'a> {
    /// The condition's samples; the observations are the network's inputs, the states feed the
    /// local controller.
    pub samples: &'a SampleBatch,
    /// The new local controller `N(K_t x + k_t, Σ_t)` (after the C-step).
    pub local: &'a LinearGaussianPolicy,
    /// Non-negative weights, `N · T` values sample-major (`None`: all 1).
    pub weights: Option<&'a [f64]>,
}

/// Normalise per-row weights as docs/design.md §4.6 prescribes: scale them to mean 1, clip at twice
/// their robust median (the median of those above 1e-2), and divide by that median, so that a
/// typical row weighs about 1 and no row more than 2.
///
/// ```
/// let mut w = vec![1.0, 1.0, 1.0, 9.0];
/// pilqr_mdgps::normalize_weights(&mut w).unwrap();
/// // Mean 1: [1/3, 1/3, 1/3, 3]; median 1/3; clipped at 2/3; divided by 1/3.
/// assert!(w.iter().zip([1.0, 1.0, 1.0, 2.0]).all(|(a, b)| (a - b).abs() < 1e-12));
/// ```
pub fn normalize_weights(w: &mut [f64]) -> Result<(), MdgpsError> {
    check_finite("S-step weights", w)?;
    if let Some(index) = w.iter().position(|&v| v < 0.0) {
        return Err(MdgpsError::InvalidValue {
            what: "S-step weights".into(),
            index,
            value: w[index],
        });
    }
    let sum: f64 = w.iter().sum();
    if w.is_empty() || sum <= 0.0 {
        return Err(MdgpsError::NoData {
            reason: "all S-step weights are zero".into(),
        });
    }
    let n = w.len() as f64;
    w.iter_mut().for_each(|v| *v *= n / sum);
    let mut kept: Vec<f64> = w.iter().copied().filter(|&v| v > MEDIAN_FLOOR).collect();
    kept.sort_by(f64::total_cmp);
    let m = kept.len();
    // Some weight is ≥ 1 after normalising to mean 1, so `kept` is not empty.
    let median = if m % 2 == 1 {
        kept[m / 2]
    } else {
        0.5 * (kept[m / 2 - 1] + kept[m / 2])
    };
    w.iter_mut().for_each(|v| *v = v.min(2.0 * median) / median);
    Ok(())
}

/// The rows of one S-step, stacked over conditions, samples and steps.
#[derive(Debug, Clone)]
pub(crate) struct Supervision {
    /// Number of rows `R = Σ_conditions N·T`.
    pub rows: usize,
    /// Raw observations, `[R, dO]`.
    pub obs: Vec<f64>,
    /// Target means `K_t x + k_t`, `[R, dU]`.
    pub mean: Vec<f64>,
    /// Weighted precisions `w · Σ_t⁻¹`, `[R, dU, dU]` row-major.
    pub precision: Vec<f64>,
    /// Diagonal of the unweighted precision averaged over the rows, `[dU]`.
    pub mean_precision_diag: Vec<f64>,
}

impl Supervision {
    /// Gather the rows of `conditions` for a network with input `obs_dim` and output
    /// `action_dim`, checking every size against them.
    pub fn assemble(
        conditions: &[SStepCondition<'_>],
        obs_dim: usize,
        action_dim: usize,
    ) -> Result<Self, MdgpsError> {
        if conditions.is_empty() {
            return Err(MdgpsError::NoData {
                reason: "no condition was given".into(),
            });
        }
        let rows: usize = conditions
            .iter()
            .map(|c| c.samples.len() * c.samples.horizon())
            .sum();
        let du = action_dim;
        let mut obs = Vec::with_capacity(rows * obs_dim);
        let mut mean = vec![0.0; rows * du];
        let mut precision = vec![0.0; rows * du * du];
        let mut weights = Vec::with_capacity(rows);
        let mut diag_sum = vec![0.0; du];
        let mut r = 0;
        for (ci, c) in conditions.iter().enumerate() {
            let d = c.samples.dims();
            let (n, horizon) = (c.samples.len(), d.horizon);
            let what = |s: &str| format!("condition {ci}: {s}");
            check_len(&what("observation width"), d.dobs, obs_dim)?;
            check_len(
                &what("local controller action width"),
                c.local.action_dim(),
                du,
            )?;
            check_len(
                &what("local controller state width"),
                c.local.state_dim(),
                d.dx,
            )?;
            check_len(
                &what("local controller horizon"),
                c.local.horizon(),
                horizon,
            )?;
            match c.weights {
                Some(w) => {
                    check_len(&what("weights"), w.len(), n * horizon)?;
                    weights.extend_from_slice(w);
                }
                None => weights.extend(std::iter::repeat_n(1.0, n * horizon)),
            }
            obs.extend_from_slice(c.samples.obs_all());
            for i in 0..n {
                for t in 0..horizon {
                    c.local
                        .mean_action(t, c.samples.x(i, t), &mut mean[r * du..(r + 1) * du])?;
                    let p = c.local.precision().at(t);
                    let dst = &mut precision[r * du * du..(r + 1) * du * du];
                    for a in 0..du {
                        diag_sum[a] += p[(a, a)];
                        for b in 0..du {
                            dst[a * du + b] = p[(a, b)];
                        }
                    }
                    r += 1;
                }
            }
        }
        normalize_weights(&mut weights)?;
        for (dst, w) in precision.chunks_exact_mut(du * du).zip(&weights) {
            dst.iter_mut().for_each(|v| *v *= w);
        }
        let mean_precision_diag = diag_sum.iter().map(|s| s / rows as f64).collect();
        Ok(Supervision {
            rows,
            obs,
            mean,
            precision,
            mean_precision_diag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_clip_at_twice_the_median() {
        let mut w = vec![2.0; 9];
        w.push(100.0);
        normalize_weights(&mut w).unwrap();
        assert!(w[..9].iter().all(|&v| (v - 1.0).abs() < 1e-12));
        assert!((w[9] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn tiny_weights_do_not_set_the_median() {
        // Mean-1 weights [0.001.., 1.9..]: the near-zero ones are left out of the median.
        let mut w = vec![1e-4, 1e-4, 1.0, 1.0, 1.0];
        normalize_weights(&mut w).unwrap();
        assert!((w[2] - 1.0).abs() < 1e-12);
        assert!(w[0] < 1e-3);
    }

    #[test]
    fn zero_or_negative_weights_are_errors() {
        assert!(matches!(
            normalize_weights(&mut [0.0, 0.0]),
            Err(MdgpsError::NoData { .. })
        ));
        assert!(matches!(
            normalize_weights(&mut [1.0, -1.0]),
            Err(MdgpsError::InvalidValue { index: 1, .. })
        ));
    }
}
