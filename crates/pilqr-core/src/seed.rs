//! Seeding: one run seed, an independent random stream per (purpose, iteration, condition, sample).
//!
//! Two families of streams name a sample: the policy's action noise
//! ([`RunSeed::sample_rng`]) and the task's own randomness ([`RunSeed::task_seed`], handed to
//! [`crate::Task::reset_seeded`]). They are derived under different labels, so a task that draws
//! from its stream never shifts the action noise, and vice versa.
//!
//! Results must not depend on thread count or scheduling (docs/design.md §3): instead of sharing one
//! generator, every consumer derives its own stream from the run seed and the indices that name
//! it. Streams are [`ChaCha8Rng`] generators (portable, serialisable) seeded from a SplitMix64
//! mix of the run seed, a purpose label and the indices.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The seed of a run, from which every random stream is derived.
///
/// ```
/// use pilqr_core::RunSeed;
/// use rand::Rng;
///
/// let seed = RunSeed::new(7);
/// let a: u64 = seed.sample_rng(3, 1, 0).random();
/// let b: u64 = seed.sample_rng(3, 1, 0).random();
/// let c: u64 = seed.sample_rng(3, 1, 1).random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunSeed(pub u64);

/// The seed of one episode of a task: its own random stream for process noise, randomised
/// initial states or anything else the task draws, derived from the run seed and the
/// (iteration, condition, sample) that name the episode.
///
/// A task may need several independent streams (say, one for the initial state and one for
/// the process noise, so that adding noise does not change the initial states); [`TaskSeed::rng`]
/// names each by a label.
///
/// ```
/// use pilqr_core::RunSeed;
/// use rand::Rng;
///
/// let seed = RunSeed::new(7).task_seed(3, 1, 0);
/// let a: f64 = seed.rng("initial-state").random();
/// let b: f64 = seed.rng("initial-state").random();
/// let c: f64 = seed.rng("process-noise").random();
/// let d: f64 = RunSeed::new(7).task_seed(3, 1, 1).rng("initial-state").random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// assert_ne!(a, d);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskSeed(u64);

impl TaskSeed {
    /// A task seed from a raw 64-bit value (for driving a task by hand, e.g. in its tests;
    /// rollouts get theirs from [`RunSeed::task_seed`]).
    pub fn new(value: u64) -> Self {
        TaskSeed(value)
    }

    /// The raw 64-bit value.
    pub fn value(&self) -> u64 {
        self.0
    }

    /// The episode's random stream named by `label` (streams with different labels are
    /// independent).
    pub fn rng(&self, label: &str) -> ChaCha8Rng {
        RunSeed(self.0).rng(label, &[])
    }
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a label, so that purposes are named by text, not magic numbers.
fn label_hash(label: &str) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

impl RunSeed {
    /// Wrap a run seed.
    pub fn new(seed: u64) -> Self {
        RunSeed(seed)
    }

    /// A 64-bit value derived from the seed, a purpose label and indices.
    pub fn derive(&self, label: &str, indices: &[u64]) -> u64 {
        let mut h = mix(self.0 ^ mix(label_hash(label)));
        for &i in indices {
            h = mix(h ^ mix(i.wrapping_add(0x51_7CC1_B727_220A)));
        }
        h
    }

    /// The random stream named by `label` and `indices`.
    pub fn rng(&self, label: &str, indices: &[u64]) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        let mut h = self.derive(label, indices);
        for chunk in key.chunks_mut(8) {
            h = mix(h);
            chunk.copy_from_slice(&h.to_le_bytes());
        }
        ChaCha8Rng::from_seed(key)
    }

    /// The stream that draws the action noise of one sample.
    pub fn sample_rng(&self, iteration: usize, condition: usize, sample: usize) -> ChaCha8Rng {
        self.rng(
            "sample-noise",
            &[iteration as u64, condition as u64, sample as u64],
        )
    }

    /// The seed of the task's own randomness in one sample (the episode that
    /// [`RunSeed::sample_rng`]`(iteration, condition, sample)` draws the action noise of).
    pub fn task_seed(&self, iteration: usize, condition: usize, sample: usize) -> TaskSeed {
        TaskSeed(self.derive(
            "task-episode",
            &[iteration as u64, condition as u64, sample as u64],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_every_index_and_label() {
        let s = RunSeed::new(1);
        let base: u64 = s.rng("a", &[1, 2, 3]).random();
        assert_ne!(base, s.rng("b", &[1, 2, 3]).random::<u64>());
        assert_ne!(base, s.rng("a", &[0, 2, 3]).random::<u64>());
        assert_ne!(base, s.rng("a", &[1, 0, 3]).random::<u64>());
        assert_ne!(base, s.rng("a", &[1, 2, 0]).random::<u64>());
        assert_ne!(base, RunSeed::new(2).rng("a", &[1, 2, 3]).random::<u64>());
        assert_eq!(base, s.rng("a", &[1, 2, 3]).random::<u64>());
    }

    #[test]
    fn task_seeds_differ_by_every_index_and_from_the_action_noise() {
        let s = RunSeed::new(4);
        let base = s.task_seed(1, 2, 3);
        assert_eq!(base, s.task_seed(1, 2, 3));
        for other in [
            s.task_seed(0, 2, 3),
            s.task_seed(1, 0, 3),
            s.task_seed(1, 2, 0),
            RunSeed::new(5).task_seed(1, 2, 3),
        ] {
            assert_ne!(base, other);
        }
        let task: u64 = base.rng("process-noise").random();
        let noise: u64 = s.sample_rng(1, 2, 3).random();
        assert_ne!(task, noise);
        assert_ne!(task, base.rng("initial-state").random::<u64>());
        assert_eq!(
            task,
            TaskSeed::new(base.value())
                .rng("process-noise")
                .random::<u64>()
        );
    }
}
