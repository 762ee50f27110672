//! The order in which the S-step visits its rows: a fresh uniformly random permutation every
//! epoch, cut into consecutive minibatches. Both S-step backends draw it from here, so they
//! train on the same minibatches.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A uniformly random permutation of `0..n` (Fisher–Yates from the top), written into `idx`.
fn shuffle_into(idx: &mut Vec<usize>, n: usize, rng: &mut ChaCha8Rng) {
    idx.clear();
    idx.extend(0..n);
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        idx.swap(i, j);
    }
}

/// Minibatch `it` of an S-step: rows `perm[j·B .. (j+1)·B]` of the current epoch's permutation,
/// `j = it mod (R / B)`, with a new permutation drawn at every epoch start after the first.
#[derive(Debug)]
pub(crate) struct MinibatchOrder {
    rng: ChaCha8Rng,
    perm: Vec<usize>,
    batch: usize,
    per_epoch: usize,
}

impl MinibatchOrder {
    /// The order for `rows` rows in minibatches of `batch` (`1 ≤ batch ≤ rows`); draws the
    /// first epoch's permutation from `rng`.
    pub fn new(rows: usize, batch: usize, mut rng: ChaCha8Rng) -> Self {
        let mut perm = Vec::with_capacity(rows);
        shuffle_into(&mut perm, rows, &mut rng);
        MinibatchOrder {
            rng,
            perm,
            batch,
            per_epoch: rows / batch,
        }
    }

    /// The rows of minibatch `it` (iterations must be asked for in order 0, 1, 2, …), and
    /// whether it is the last minibatch of its epoch.
    pub fn minibatch(&mut self, it: usize) -> (&[usize], bool) {
        let j = it % self.per_epoch;
        if j == 0 && it > 0 {
            let rows = self.perm.len();
            shuffle_into(&mut self.perm, rows, &mut self.rng);
        }
        (
            &self.perm[j * self.batch..(j + 1) * self.batch],
            j + 1 == self.per_epoch,
        )
    }

    /// The current epoch's whole permutation.
    pub fn permutation(&self) -> &[usize] {
        &self.perm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_epoch_visits_every_full_batch_row_once() {
        let mut order = MinibatchOrder::new(10, 3, ChaCha8Rng::seed_from_u64(4));
        let mut epochs = Vec::new();
        for epoch in 0..3 {
            let mut seen = Vec::new();
            for j in 0..3 {
                let (rows, last) = order.minibatch(epoch * 3 + j);
                assert_eq!(last, j == 2);
                seen.extend_from_slice(rows);
            }
            assert_eq!(&seen[..], &order.permutation()[..9]);
            let mut all = order.permutation().to_vec();
            all.sort_unstable();
            assert_eq!(all, (0..10).collect::<Vec<_>>());
            epochs.push(order.permutation().to_vec());
        }
        assert_ne!(epochs[0], epochs[1], "a new permutation every epoch");
    }
}
