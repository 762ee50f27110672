//! Cold-start initialisation: greedy k-means++ seeding refined by Lloyd iterations.
//!
//! `2 + ⌊ln K⌋` D²-sampled candidates per centre (the best kept) with a [`ChaCha8Rng`] seeded
//! by `seed`, refined by up to [`LLOYD_ITERATIONS`] Lloyd iterations; every component starts
//! with the global covariance (plus floor) and the weight of its k-means cell.

use faer::{Mat, MatRef};
use pilqr_linalg::MatStack;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Params, col};
use crate::conditional::scatter_lower;
use pilqr_linalg::mirror_lower;

/// Lloyd iterations refining the k-means++ seeds.
pub(super) const LLOYD_ITERATIONS: usize = 10;

/// Cold start: k-means++ seeds (seeded) refined by Lloyd iterations; global covariance.
pub(super) fn initialise(points: MatRef<'_, f64>, k: usize, seed: u64, floor: f64) -> Params {
    let (d, n) = (points.nrows(), points.ncols());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dist2 = |i: usize, c: &[f64]| -> f64 {
        col(points, i)
            .iter()
            .zip(c)
            .map(|(x, y)| (x - y).powi(2))
            .sum()
    };
    let mut means = Mat::<f64>::zeros(d, k);
    let first = rng.random_range(0..n);
    for m in 0..d {
        means[(m, 0)] = points[(m, first)];
    }
    let mut d2: Vec<f64> = (0..n).map(|i| dist2(i, means.col_as_slice(0))).collect();
    // Greedy k-means++: of `trials` D²-sampled candidates, keep the one that lowers the
    // potential most.
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut cand_d2 = vec![0.0; n];
    let mut best_d2 = vec![0.0; n];
    for c in 1..k {
        let total: f64 = d2.iter().sum();
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..trials {
            let idx = if total > 0.0 {
                let mut u = rng.random::<f64>() * total;
                let mut pick = n - 1;
                for (i, &v) in d2.iter().enumerate() {
                    if u < v {
                        pick = i;
                        break;
                    }
                    u -= v;
                }
                pick
            } else {
                rng.random_range(0..n)
            };
            let cp = col(points, idx);
            let mut pot = 0.0;
            for (i, v) in cand_d2.iter_mut().enumerate() {
                *v = d2[i].min(dist2(i, cp));
                pot += *v;
            }
            if best.is_none_or(|(b, _)| pot < b) {
                best = Some((pot, idx));
                best_d2.copy_from_slice(&cand_d2);
            }
        }
        let idx = best.map_or(0, |(_, i)| i);
        for m in 0..d {
            means[(m, c)] = points[(m, idx)];
        }
        d2.copy_from_slice(&best_d2);
    }
    // Lloyd refinement.
    let mut assign = vec![usize::MAX; n];
    let mut counts = vec![0usize; k];
    for _ in 0..LLOYD_ITERATIONS {
        let mut changed = false;
        for (i, a) in assign.iter_mut().enumerate() {
            let mut best = (f64::INFINITY, 0);
            for c in 0..k {
                let v = dist2(i, means.col_as_slice(c));
                if v < best.0 {
                    best = (v, c);
                }
            }
            if *a != best.1 {
                *a = best.1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        counts.iter_mut().for_each(|v| *v = 0);
        let mut sums = Mat::<f64>::zeros(d, k);
        for (i, &a) in assign.iter().enumerate() {
            counts[a] += 1;
            for m in 0..d {
                sums[(m, a)] += points[(m, i)];
            }
        }
        for c in 0..k {
            if counts[c] > 0 {
                for m in 0..d {
                    means[(m, c)] = sums[(m, c)] / counts[c] as f64;
                }
            }
        }
    }
    counts.iter_mut().for_each(|v| *v = 0);
    for &a in &assign {
        counts[a] += 1;
    }
    let weights: Vec<f64> = counts
        .iter()
        .map(|&c| (c.max(1)) as f64 / (n + k) as f64)
        .collect();
    // Global covariance.
    let mut gmean = vec![0.0; d];
    for i in 0..n {
        for m in 0..d {
            gmean[m] += points[(m, i)];
        }
    }
    gmean.iter_mut().for_each(|v| *v /= n as f64);
    let centred = Mat::from_fn(d, n, |m, i| points[(m, i)] - gmean[m]);
    let mut g = Mat::zeros(d, d);
    scatter_lower(g.as_mut(), centred.as_ref(), false);
    mirror_lower(g.as_mut());
    for j in 0..d {
        for i in 0..d {
            g[(i, j)] /= n as f64;
        }
        g[(j, j)] += floor;
    }
    let covariances = MatStack::repeat(k, g.as_ref());
    Params {
        weights,
        means,
        covariances,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_initialisation_is_reproducible_and_finds_separated_centres() {
        // Three tight groups on a line, 30 points each.
        let pts = Mat::from_fn(1, 90, |_, j| {
            [-10.0, 0.0, 10.0][j % 3] + 0.01 * (j / 3) as f64
        });
        let a = initialise(pts.as_ref(), 3, 7, 1e-6);
        let b = initialise(pts.as_ref(), 3, 7, 1e-6);
        assert_eq!(a.means, b.means);
        assert_eq!(a.weights, b.weights);
        let mut centres: Vec<f64> = (0..3).map(|c| a.means[(0, c)]).collect();
        centres.sort_by(f64::total_cmp);
        for (c, e) in centres.iter().zip([-9.855, 0.145, 10.145]) {
            assert!((c - e).abs() < 1e-9, "{centres:?}");
        }
        // Cell weights (with the +1 smoothing of empty cells) and the global covariance.
        for w in &a.weights {
            assert!((w - 30.0 / 93.0).abs() < 1e-15);
        }
        let var = pts.col_iter().map(|c| c[0] * c[0]).sum::<f64>() / 90.0
            - (pts.col_iter().map(|c| c[0]).sum::<f64>() / 90.0).powi(2);
        assert!((a.covariances.at(2)[(0, 0)] - (var + 1e-6)).abs() < 1e-9);
    }
}
