//! Statistics over seeds for the results pages: the mean of a per-seed quantity with a 95 %
//! bootstrap confidence interval ([`bootstrap`]), and the difference of two methods' means with
//! its interval, paired by seed when both ran the same seeds ([`paired_difference`]).
//!
//! The intervals are **percentile** bootstrap intervals: the 2.5 % and 97.5 % quantiles of the
//! statistic over [`RESAMPLES`] resamples drawn with replacement. Every interval draws from its own
//! generator seeded with [`BOOTSTRAP_SEED`], so the same values give the same interval on every
//! machine and in every order of computation. With one seed there is no interval (`None`): a
//! single run says nothing about the spread of the next.

pub mod bootstrap;
pub mod paired_difference;

pub use bootstrap::{Estimate, mean_estimate};
pub use paired_difference::{Difference, Pairing, difference};

/// Number of bootstrap resamples per interval.
pub const RESAMPLES: usize = 10_000;

/// Confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// Seed of the bootstrap's generator (ChaCha8), fixed so that intervals are reproducible; each
/// interval starts a fresh generator from it.
pub const BOOTSTRAP_SEED: u64 = 0x5EED_B007_5712_0950;

/// A confidence interval `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

impl Interval {
    /// Whether 0 lies outside the interval (both ends strictly on one side of it).
    pub fn excludes_zero(&self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }

    /// `hi − lo`.
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }

    /// Whether `v` lies in `[lo, hi]`.
    pub fn contains(&self, v: f64) -> bool {
        self.lo <= v && v <= self.hi
    }
}
