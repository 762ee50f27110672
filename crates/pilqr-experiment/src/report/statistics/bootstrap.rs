//! The percentile bootstrap of a mean (see the module above for the method and its seed).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{BOOTSTRAP_SEED, CONFIDENCE, Interval, RESAMPLES};

/// The mean of a sample with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Sample size (seeds).
    pub n: usize,
    /// Sample mean (NaN when `n = 0`).
    pub mean: f64,
    /// The 95 % percentile-bootstrap interval of the mean; `None` when `n < 2` or a value is
    /// not finite.
    pub interval: Option<Interval>,
}

/// The generator every interval starts from.
pub(crate) fn bootstrap_rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(BOOTSTRAP_SEED)
}

/// Arithmetic mean, summed in order (NaN for an empty slice).
pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// The mean of one resample of `values` drawn with replacement.
pub(crate) fn resample_mean(values: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    let n = values.len();
    let sum: f64 = (0..n).map(|_| values[rng.random_range(0..n)]).sum();
    sum / n as f64
}

/// The central [`CONFIDENCE`] interval of `draws`: its empirical `α/2` and `1 − α/2` quantiles
/// (the `⌈q·B⌉`-th smallest of `B` draws). `None` for no draws.
pub(crate) fn percentile_interval(mut draws: Vec<f64>) -> Option<Interval> {
    if draws.is_empty() {
        return None;
    }
    draws.sort_by(f64::total_cmp);
    let b = draws.len() as f64;
    let alpha = 1.0 - CONFIDENCE;
    let at = |q: f64| {
        // q·B is an integer for the usual B (0.025 · 10 000 = 250) but comes out a hair above
        // it in floating point (0.025 · 1000 = 25.000000000000004); do not round that up.
        let rank = (q * b - 1e-6).ceil().max(1.0) as usize;
        draws[rank.min(draws.len()) - 1]
    };
    Some(Interval {
        lo: at(alpha / 2.0),
        hi: at(1.0 - alpha / 2.0),
    })
}

/// The mean of `values` with its 95 % percentile-bootstrap interval ([`RESAMPLES`] resamples).
pub fn mean_estimate(values: &[f64]) -> Estimate {
    mean_estimate_with(values, RESAMPLES)
}

/// [`mean_estimate`] with `resamples` resamples.
pub fn mean_estimate_with(values: &[f64], resamples: usize) -> Estimate {
    let n = values.len();
    let interval = if n < 2 || values.iter().any(|v| !v.is_finite()) {
        None
    } else {
        let mut rng = bootstrap_rng();
        percentile_interval(
            (0..resamples)
                .map(|_| resample_mean(values, &mut rng))
                .collect(),
        )
    };
    Estimate {
        n,
        mean: mean(values),
        interval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn coverage_on_normal_data_is_close_to_95_percent() {
        // 1000 simulated experiments of 20 seeds each from N(3, 2²); count how often the
        // interval holds the true mean. For the mean of normal data the percentile interval is
        // close to x̄ ± 1.96·s/√n with s the 1/n standard deviation, whose exact coverage at
        // n = 20 is P(|t₁₉| < 1.96·√(20/19)) ≈ 0.941. Over 1000 experiments the estimate's
        // standard error is √(0.95·0.05/1000) ≈ 0.007; accept 0.941 ± 4 standard errors.
        let experiments = 1000;
        let n = 20;
        let mut data_rng = ChaCha8Rng::seed_from_u64(7);
        let mut covered = 0;
        for _ in 0..experiments {
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut data_rng);
                    3.0 + 2.0 * z
                })
                .collect();
            let e = mean_estimate_with(&values, 2000);
            if e.interval.unwrap().contains(3.0) {
                covered += 1;
            }
        }
        let coverage = covered as f64 / experiments as f64;
        assert!((coverage - 0.941).abs() < 0.028, "coverage {coverage}");
    }

    #[test]
    fn identical_values_give_a_zero_width_interval() {
        let e = mean_estimate(&[0.1; 20]);
        let i = e.interval.unwrap();
        assert_eq!(i.width(), 0.0);
        assert_eq!(i.lo, e.mean);
    }

    #[test]
    fn one_seed_has_no_interval() {
        let e = mean_estimate(&[4.5]);
        assert_eq!((e.n, e.mean, e.interval), (1, 4.5, None));
        let empty = mean_estimate(&[]);
        assert!(empty.mean.is_nan() && empty.interval.is_none());
        let inf = mean_estimate(&[1.0, f64::INFINITY]);
        assert!(inf.interval.is_none());
    }

    #[test]
    fn two_values_span_both() {
        // Resample means of {15, 35} are 15, 25 or 35 with probabilities ¼, ½, ¼, so the 2.5 %
        // and 97.5 % quantiles are the two values themselves.
        let i = mean_estimate(&[15.0, 35.0]).interval.unwrap();
        assert_eq!((i.lo, i.hi), (15.0, 35.0));
    }

    #[test]
    fn the_same_values_give_the_same_interval() {
        let v = [1.0, 5.0, 2.0, 8.0, 3.0];
        assert_eq!(mean_estimate(&v), mean_estimate(&v));
        let i = mean_estimate(&v).interval.unwrap();
        assert!(
            i.lo < 3.8 && 3.8 < i.hi && i.lo >= 1.0 && i.hi <= 8.0,
            "{i:?}"
        );
    }

    #[test]
    fn percentile_picks_the_order_statistics() {
        let draws: Vec<f64> = (1..=1000).rev().map(f64::from).collect();
        let i = percentile_interval(draws).unwrap();
        assert_eq!((i.lo, i.hi), (25.0, 975.0));
    }
}
