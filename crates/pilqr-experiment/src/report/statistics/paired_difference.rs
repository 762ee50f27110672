//! The difference of two methods' means over seeds, with its percentile-bootstrap interval.
//!
//! When both methods ran the same seeds the difference is **paired**: seed `s` of both methods
//! starts from the same initial samples, so the per-seed differences `a_s − b_s` are resampled
//! (one resample of seeds serves both methods). Otherwise the two samples are resampled
//! independently (**unpaired**) and the statistic is the difference of their means.

use std::collections::BTreeMap;

use super::Interval;
use super::RESAMPLES;
use super::bootstrap::{bootstrap_rng, mean, percentile_interval, resample_mean};

/// How the two samples were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Same seeds: per-seed differences resampled.
    BySeed,
    /// Different seeds: each sample resampled on its own.
    Unpaired,
}

/// `mean(a) − mean(b)` with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// Seeds of `a`.
    pub n_a: usize,
    /// Seeds of `b`.
    pub n_b: usize,
    /// How the seeds were matched.
    pub pairing: Pairing,
    /// `mean(a) − mean(b)`.
    pub mean: f64,
    /// The 95 % interval of the difference; `None` when a sample has fewer than 2 seeds (or
    /// fewer than 2 pairs) or a value is not finite.
    pub interval: Option<Interval>,
}

impl Difference {
    /// Whether the interval exists and excludes 0.
    pub fn excludes_zero(&self) -> bool {
        self.interval.is_some_and(|i| i.excludes_zero())
    }
}

/// `mean(a) − mean(b)` of per-seed values `(seed, value)`, paired by seed when both list the
/// same seeds, with [`RESAMPLES`] resamples.
pub fn difference(a: &[(u64, f64)], b: &[(u64, f64)]) -> Difference {
    difference_with(a, b, RESAMPLES)
}

/// [`difference`] with `resamples` resamples.
pub fn difference_with(a: &[(u64, f64)], b: &[(u64, f64)], resamples: usize) -> Difference {
    let by_seed = |v: &[(u64, f64)]| v.iter().copied().collect::<BTreeMap<u64, f64>>();
    let (ma, mb) = (by_seed(a), by_seed(b));
    let same_seeds = ma.len() == a.len() && mb.len() == b.len() && ma.keys().eq(mb.keys());
    let va: Vec<f64> = ma.values().copied().collect();
    let vb: Vec<f64> = mb.values().copied().collect();
    let finite = va.iter().chain(&vb).all(|v| v.is_finite());
    let mut rng = bootstrap_rng();
    if same_seeds {
        let d: Vec<f64> = va.iter().zip(&vb).map(|(x, y)| x - y).collect();
        let interval = if d.len() < 2 || !finite {
            None
        } else {
            percentile_interval(
                (0..resamples)
                    .map(|_| resample_mean(&d, &mut rng))
                    .collect(),
            )
        };
        Difference {
            n_a: va.len(),
            n_b: vb.len(),
            pairing: Pairing::BySeed,
            mean: mean(&va) - mean(&vb),
            interval,
        }
    } else {
        let interval = if va.len() < 2 || vb.len() < 2 || !finite {
            None
        } else {
            percentile_interval(
                (0..resamples)
                    .map(|_| resample_mean(&va, &mut rng) - resample_mean(&vb, &mut rng))
                    .collect(),
            )
        };
        Difference {
            n_a: a.len(),
            n_b: b.len(),
            pairing: Pairing::Unpaired,
            mean: mean(&va) - mean(&vb),
            interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    fn seeded(values: &[f64], first_seed: u64) -> Vec<(u64, f64)> {
        (first_seed..).zip(values.iter().copied()).collect()
    }

    #[test]
    fn a_known_difference_is_detected_paired_and_unpaired() {
        // Method a is method b plus 1.5, with a per-seed effect shared by both (same initial
        // samples) that is large against the gap: pairing removes it.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let seed_effect = Normal::new(0.0, 5.0).unwrap();
        let noise = Normal::new(0.0, 0.5).unwrap();
        let shared: Vec<f64> = (0..20).map(|_| seed_effect.sample(&mut rng)).collect();
        let b: Vec<f64> = shared
            .iter()
            .map(|s| 10.0 + s + noise.sample(&mut rng))
            .collect();
        let a: Vec<f64> = shared
            .iter()
            .map(|s| 11.5 + s + noise.sample(&mut rng))
            .collect();
        let d = difference(&seeded(&a, 0), &seeded(&b, 0));
        assert_eq!(d.pairing, Pairing::BySeed);
        let i = d.interval.unwrap();
        assert!(d.excludes_zero() && i.contains(1.5), "{d:?}");
        // The same values under different seeds are unpaired: the seed effect stays in, and
        // the interval is far wider than the paired one.
        let u = difference(&seeded(&a, 0), &seeded(&b, 100));
        assert_eq!(u.pairing, Pairing::Unpaired);
        assert_eq!(u.mean, d.mean);
        assert!(u.interval.unwrap().width() > 3.0 * i.width(), "{u:?} {d:?}");
        // A large gap is detected unpaired too.
        let far: Vec<f64> = b.iter().map(|v| v + 30.0).collect();
        assert!(difference(&seeded(&far, 0), &seeded(&b, 100)).excludes_zero());
    }

    #[test]
    fn identical_samples_give_a_zero_width_interval_at_zero() {
        let v = seeded(&[3.0, 1.0, 4.0, 1.0, 5.0], 0);
        for other in [v.clone(), seeded(&[3.0, 1.0, 4.0, 1.0, 5.0], 10)] {
            let d = difference(&v, &other);
            if d.pairing == Pairing::BySeed {
                assert_eq!(d.interval, Some(Interval { lo: 0.0, hi: 0.0 }));
            } else {
                // Unpaired resamples of the same values still differ from each other.
                let i = d.interval.unwrap();
                assert!(i.lo < 0.0 && 0.0 < i.hi, "{i:?}");
            }
            assert_eq!(d.mean, 0.0);
            assert!(!d.excludes_zero());
        }
        let constant = difference(&seeded(&[2.0; 8], 0), &seeded(&[2.0; 5], 50));
        assert_eq!(constant.interval, Some(Interval { lo: 0.0, hi: 0.0 }));
    }

    #[test]
    fn one_seed_gives_no_interval() {
        let d = difference(&[(0, 1.0)], &[(0, 3.0)]);
        assert_eq!(
            (d.mean, d.interval, d.pairing),
            (-2.0, None, Pairing::BySeed)
        );
        assert!(!d.excludes_zero());
        let u = difference(&[(0, 1.0)], &[(1, 3.0), (2, 4.0)]);
        assert_eq!((u.interval, u.pairing), (None, Pairing::Unpaired));
    }

    #[test]
    fn pairs_follow_the_seeds_not_the_order() {
        let a = [(2, 5.0), (0, 1.0), (1, 3.0)];
        let b = [(0, 0.0), (1, 2.0), (2, 4.0)];
        let d = difference(&a, &b);
        assert_eq!(d.pairing, Pairing::BySeed);
        assert_eq!(d.interval, Some(Interval { lo: 1.0, hi: 1.0 }));
    }
}
