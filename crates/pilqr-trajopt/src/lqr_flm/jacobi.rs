//! Eigen-decomposition of small symmetric matrices (the `dU x dU` block `Q_zz` of every backward
//! step) by the cyclic Jacobi method, into preallocated storage.
//!
//! Jacobi rotations are accurate to round-off relative to the matrix norm, need no allocation,
//! and at `dU ≤ 8` cost a few hundred flops: nothing next to the `dX³` products of a step.

use faer::MatRef;

/// Sweeps after which the iteration gives up (convergence is quadratic: 6–10 sweeps suffice).
const MAX_SWEEPS: usize = 60;

/// `A = U diag(λ) Uᵀ` of a symmetric `n x n` matrix, with its storage.
#[derive(Debug, Clone)]
pub(crate) struct SymmetricEigen {
    n: usize,
    /// The working copy of the matrix, column-major.
    a: Vec<f64>,
    /// Eigenvalues `λ` (unordered).
    pub(crate) values: Vec<f64>,
    /// Orthonormal eigenvectors, one per column, in the order of `values`; column-major.
    vectors: Vec<f64>,
}

impl SymmetricEigen {
    /// Storage for `n x n` matrices.
    pub(crate) fn new(n: usize) -> Self {
        let mut vectors = vec![0.0; n * n];
        for i in 0..n {
            vectors[i * (n + 1)] = 1.0;
        }
        SymmetricEigen {
            n,
            a: vec![0.0; n * n],
            values: vec![0.0; n],
            vectors,
        }
    }

    /// The eigenvectors, one per column.
    pub(crate) fn vectors(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.vectors, self.n, self.n)
    }

    /// The eigenvectors, column-major.
    pub(crate) fn vectors_slice(&self) -> &[f64] {
        &self.vectors
    }

    /// Decompose the symmetric matrix `m` (its lower triangle is read). Returns `false` (and
    /// leaves unspecified values) when `m` holds non-finite entries.
    pub(crate) fn compute(&mut self, m: MatRef<'_, f64>) -> bool {
        let n = self.n;
        debug_assert!(m.nrows() == n && m.ncols() == n);
        for j in 0..n {
            for i in j..n {
                let v = m[(i, j)];
                if !v.is_finite() {
                    return false;
                }
                self.a[i + j * n] = v;
                self.a[j + i * n] = v;
            }
        }
        self.vectors.fill(0.0);
        for i in 0..n {
            self.vectors[i * (n + 1)] = 1.0;
        }
        for _ in 0..MAX_SWEEPS {
            let (mut off, mut diag) = (0.0, 0.0);
            for j in 0..n {
                let col = &self.a[j * n..(j + 1) * n];
                diag += col[j] * col[j];
                for v in &col[j + 1..] {
                    off += v * v;
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
            self.values[i] = self.a[i * (n + 1)];
        }
        true
    }

    /// One Jacobi rotation annihilating `a[p, q]`.
    fn rotate(&mut self, p: usize, q: usize) {
        let n = self.n;
        let a = &mut self.a[..n * n];
        let apq = a[p + q * n];
        if apq == 0.0 {
            return;
        }
        let (app, aqq) = (a[p * (n + 1)], a[q * (n + 1)]);
        let theta = (aqq - app) / (2.0 * apq);
        // t = tan of the rotation angle, the smaller root of t² + 2θt − 1 = 0.
        let t = if theta.abs() > 1e150 {
            0.5 / theta
        } else {
            theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
        };
        let c = 1.0 / (t * t + 1.0).sqrt();
        let s = t * c;
        let tau = s / (1.0 + c);
        a[p * (n + 1)] = app - t * apq;
        a[q * (n + 1)] = aqq + t * apq;
        a[p + q * n] = 0.0;
        a[q + p * n] = 0.0;
        for r in 0..n {
            if r != p && r != q {
                let (g, h) = (a[r + p * n], a[r + q * n]);
                let gp = g - s * (h + g * tau);
                let hq = h + s * (g - h * tau);
                a[r + p * n] = gp;
                a[p + r * n] = gp;
                a[r + q * n] = hq;
                a[q + r * n] = hq;
            }
        }
        let (vp, vq) = {
            let (lo, hi) = self.vectors[..n * n].split_at_mut(q * n);
            (&mut lo[p * n..(p + 1) * n], &mut hi[..n])
        };
        for (g, h) in vp.iter_mut().zip(vq.iter_mut()) {
            let (x, y) = (*g, *h);
            *g = x - s * (y + x * tau);
            *h = y + s * (x - y * tau);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{normal, rng};
    use faer::Mat;

    #[test]
    fn reconstructs_random_symmetric_matrices_and_matches_faer() {
        let mut r = rng(91);
        for n in 1..=8 {
            for scale in [1e-20, 1.0, 1e30] {
                let b = Mat::from_fn(n, n, |_, _| normal(&mut r));
                let a = (&b + b.transpose()) * scale;
                let mut eig = SymmetricEigen::new(n);
                assert!(eig.compute(a.as_ref()));
                let u = eig.vectors();
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
