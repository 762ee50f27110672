//! Property tests of the linear-algebra helpers.

use faer::Mat;
use proptest::prelude::*;

use crate::{Cholesky, Jitter, assemble_xu, split_xu};

/// A random SPD matrix `B Bᵀ + n·I·δ` of size `n` from the entries of `B`.
fn spd(n: usize, entries: &[f64], delta: f64) -> Mat<f64> {
    let b = Mat::from_fn(n, n, |i, j| entries[i * n + j]);
    let mut a = &b * b.transpose();
    for i in 0..n {
        a[(i, i)] += delta;
    }
    a
}

fn spd_strategy() -> impl Strategy<Value = Mat<f64>> {
    (1usize..12).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(-2.0f64..2.0, n * n),
            0.05f64..2.0,
        )
            .prop_map(|(n, e, d)| spd(n, &e, d))
    })
}

/// Log-determinant by Gaussian elimination with partial pivoting, independent of Cholesky.
fn logdet_by_elimination(a: &Mat<f64>) -> f64 {
    let n = a.nrows();
    let mut m = a.clone();
    let mut logdet = 0.0;
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| m[(i, k)].abs().total_cmp(&m[(j, k)].abs()))
            .expect("non-empty range");
        if p != k {
            for j in 0..n {
                let tmp = m[(k, j)];
                m[(k, j)] = m[(p, j)];
                m[(p, j)] = tmp;
            }
        }
        let piv = m[(k, k)];
        logdet += piv.abs().ln();
        for i in k + 1..n {
            let f = m[(i, k)] / piv;
            for j in k..n {
                m[(i, j)] -= f * m[(k, j)];
            }
        }
    }
    logdet
}

proptest! {
    #[test]
    fn inverse_times_matrix_is_identity(a in spd_strategy()) {
        let n = a.nrows();
        let mut c = Cholesky::factor(a.as_ref(), Jitter::NONE).unwrap();
        let inv = c.inverse();
        let prod = &a * &inv;
        let cond_scale = a.norm_max() * inv.norm_max();
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                prop_assert!((prod[(i, j)] - want).abs() < 1e-11 * cond_scale.max(1.0) * n as f64);
            }
        }
    }

    #[test]
    fn solve_matches_inverse(a in spd_strategy()) {
        let n = a.nrows();
        let mut c = Cholesky::factor(a.as_ref(), Jitter::NONE).unwrap();
        let b = Mat::from_fn(n, 2, |i, j| (i as f64) - 0.5 * j as f64);
        let x = c.solve(b.as_ref());
        let r = &a * &x - &b;
        prop_assert!(r.norm_max() < 1e-10 * (1.0 + a.norm_max() * x.norm_max()));
        let x2 = c.inverse() * &b;
        prop_assert!((&x - &x2).norm_max() < 1e-9 * (1.0 + x.norm_max()));
    }

    #[test]
    fn log_det_matches_elimination(a in spd_strategy()) {
        let c = Cholesky::factor(a.as_ref(), Jitter::NONE).unwrap();
        let direct = logdet_by_elimination(&a);
        prop_assert!((c.log_det() - direct).abs() < 1e-9 * (1.0 + direct.abs()));
    }

    #[test]
    fn blocks_round_trip(dx in 0usize..6, du in 0usize..5, seed in any::<u64>()) {
        let n = dx + du;
        let m = Mat::from_fn(n, n, |i, j| ((i * 31 + j * 7) as u64 ^ seed) as f64 * 1e-3);
        let b = split_xu(m.as_ref(), dx);
        prop_assert_eq!((b.xx.nrows(), b.xu.ncols(), b.ux.nrows(), b.uu.ncols()), (dx, du, du, du));
        let back = assemble_xu(b.xx, b.xu, b.ux, b.uu).unwrap();
        prop_assert_eq!(back, m);
    }
}
