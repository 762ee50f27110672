//! Eigen-decomposition of small symmetric matrices (the `dU x dU` block `Q_zz` of every backward
//! step) by the cyclic Jacobi method, into preallocated storage.
//!
//! Jacobi rotations are accurate to round-off relative to the matrix norm, need no allocation,
//! and at `dU ≤ 8` cost a few hundred flops: nothing next to the `dX³` products of a step.

use faer::{Mat, MatRef};

/// Sweeps after which the iteration gives up (convergence is quadratic: 6–10 sweeps suffice).
const MAX_SWEEPS: usize = 60;

/// `A = U diag(λ) Uᵀ` of a symmetric `n x n` matrix, with its storage.
#[derive(Debug, Clone)]
pub(crate) struct SymmetricEigen {
    a: Mat<f64>,
    /// Eigenvalues `λ` (unordered).
    pub(crate) values: Vec<f64>,
    /// Orthonormal eigenvectors, one per column, in the order of `values`.
    pub(crate) vectors: Mat<f64>,
}

impl SymmetricEigen {
    /// Storage for `n x n` matrices.
    pub(crate) fn new(n: usize) -> Self {
        SymmetricEigen {
            a: Mat::zeros(n, n),
            values: vec![0.0; n],
            vectors: Mat::identity(n, n),
        }
    }

    /// Decompose the symmetric matrix `m` (its lower triangle is read). Returns `false` (and
    /// leaves unspecified values) when `m` holds non-finite entries.
    pub(crate) fn compute(&mut self, m: MatRef<'_, f64>) -> bool {
        let n = self.values.len();
        debug_assert!(m.nrows() == n && m.ncols() == n);
        for j in 0..n {
            for i in j..n {
                let v = m[(i, j)];
                if !v.is_finite() {
                    return false;
                }
                self.a[(i, j)] = v;
                self.a[(j, i)] = v;
            }
        }
        self.vectors.fill(0.0);
        for i in 0..n {
            self.vectors[(i, i)] = 1.0;
        }
        for _ in 0..MAX_SWEEPS {
            let (mut off, mut diag) = (0.0, 0.0);
            for j in 0..n {
                diag += self.a[(j, j)] * self.a[(j, j)];
                for i in j + 1..n {
                    off += self.a[(i, j)] * self.a[(i, j)];
                }
            }
            if off <= (f64::EPSILON * f64::EPSILON) * 1e-4 * diag || off == 0.0 {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    self.rotate(p, q);
                }
            }
        }
        for i in 0..n {
            self.values[i] = self.a[(i, i)];
        }
        true
    }

    /// One Jacobi rotation annihilating `a[p, q]`.
    fn rotate(&mut self, p: usize, q: usize) {
        let apq = self.a[(p, q)];
        if apq == 0.0 {
            return;
        }
        let n = self.values.len();
        let theta = (self.a[(q, q)] - self.a[(p, p)]) / (2.0 * apq);
        // t = tan of the rotation angle, the smaller root of t² + 2θt − 1 = 0.
        let t = if theta.abs() > 1e150 {
            0.5 / theta
        } else {
            theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
        };
        let c = 1.0 / (t * t + 1.0).sqrt();
        let s = t * c;
        let tau = s / (1.0 + c);
        self.a[(p, p)] -= t * apq;
        self.a[(q, q)] += t * apq;
        self.a[(p, q)] = 0.0;
        self.a[(q, p)] = 0.0;
        for r in 0..n {
            if r != p && r != q {
                let (g, h) = (self.a[(r, p)], self.a[(r, q)]);
                let gp = g - s * (h + g * tau);
                let hq = h + s * (g - h * tau);
                self.a[(r, p)] = gp;
                self.a[(p, r)] = gp;
                self.a[(r, q)] = hq;
                self.a[(q, r)] = hq;
            }
            let (g, h) = (self.vectors[(r, p)], self.vectors[(r, q)]);
            self.vectors[(r, p)] = g - s * (h + g * tau);
            self.vectors[(r, q)] = h + s * (g - h * tau);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{normal, rng};

    #[test]
    fn reconstructs_random_symmetric_matrices_and_matches_faer() {
        let mut r = rng(91);
        for n in 1..=8 {
            for scale in [1e-20, 1.0, 1e30] {
                let b = Mat::from_fn(n, n, |_, _| normal(&mut r));
                let a = (&b + b.transpose()) * scale;
                let mut eig = SymmetricEigen::new(n);
                assert!(eig.compute(a.as_ref()));
                let u = &eig.vectors;
                let d = Mat::from_fn(n, n, |i, j| if i == j { eig.values[i] } else { 0.0 });
                let rec = u * &d * u.transpose();
                assert!((&rec - &a).norm_max() < 1e-13 * a.norm_max());
                let orth = u.transpose() * u - Mat::<f64>::identity(n, n);
                assert!(orth.norm_max() < 1e-13);
                let mut ours = eig.values.clone();
                ours.sort_by(f64::total_cmp);
                let mut reference = a.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
                reference.sort_by(f64::total_cmp);
                for (x, y) in ours.iter().zip(&reference) {
                    assert!((x - y).abs() < 1e-13 * a.norm_max(), "{x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn rejects_non_finite_input() {
        let mut a = Mat::<f64>::identity(3, 3);
        a[(2, 1)] = f64::NAN;
        assert!(!SymmetricEigen::new(3).compute(a.as_ref()));
    }
}
