//! Symmetric matrices: symmetrisation, products that fill one triangle, mirroring, and the
//! smallest eigenvalue.

use faer::linalg::matmul::triangular::{BlockStructure, matmul as triangular_matmul};
use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef, Par, Side};

use crate::cholesky::accum;

/// Replace `m` by `(m + mᵀ)/2`. Round-off makes products like `Fᵀ V F` slightly asymmetric;
/// Cholesky reads one triangle only, so keep both equal.
///
/// # Panics
/// If `m` is not square.
pub fn symmetrize(mut m: MatMut<'_, f64>) {
    let n = m.nrows();
    assert_eq!(n, m.ncols(), "symmetrize: matrix must be square");
    for j in 0..n {
        for i in 0..j {
            let v = 0.5 * (m[(i, j)] + m[(j, i)]);
            m[(i, j)] = v;
            m[(j, i)] = v;
        }
    }
}

/// `dst_lower = alpha · lhs · rhs` (or `dst_lower += …` with `accumulate`) on the lower triangle,
/// diagonal included, of the square `dst`; its strict upper triangle is neither read nor
/// written. For symmetric results such as `Fᵀ V F`, about half the work of
/// [`matmul_into`](crate::matmul_into); follow with [`mirror_lower`]. Single-threaded.
pub fn lower_matmul_into(
    dst: MatMut<'_, f64>,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
    accumulate: bool,
) {
    triangular_matmul(
        dst,
        BlockStructure::TriangularLower,
        accum(accumulate),
        lhs,
        BlockStructure::Rectangular,
        rhs,
        BlockStructure::Rectangular,
        alpha,
        Par::Seq,
    );
}

/// Copy the strict lower triangle of the square `m` onto its strict upper triangle.
pub fn mirror_lower(mut m: MatMut<'_, f64>) {
    let n = m.nrows();
    for j in 1..n {
        // Column j above the diagonal ← row j left of the diagonal.
        let (mut top, bottom) = m.rb_mut().split_at_row_mut(j);
        top.rb_mut()
            .col_mut(j)
            .copy_from(bottom.as_ref().row(0).subcols(0, j).transpose());
    }
}

/// The smallest eigenvalue of the symmetric matrix `m` (its lower triangle is read).
///
/// Returns NaN when the eigen-solver fails or `m` holds non-finite values; used for diagnostics
/// (for example in the error reported when a KL-constrained update cannot be made positive
/// definite), not in hot loops.
pub fn min_eigenvalue(m: MatRef<'_, f64>) -> f64 {
    if m.nrows() == 0 || m.nrows() != m.ncols() {
        return f64::NAN;
    }
    if (0..m.ncols()).any(|j| (0..m.nrows()).any(|i| !m[(i, j)].is_finite())) {
        return f64::NAN;
    }
    match m.self_adjoint_eigenvalues(Side::Lower) {
        Ok(ev) => ev.iter().copied().fold(f64::INFINITY, f64::min),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::mat;

    #[test]
    fn lower_matmul_fills_the_lower_triangle_and_mirror_copies_it_up() {
        let (n, k) = (7, 5);
        let a = faer::Mat::from_fn(n, k, |i, j| ((3 * i + 5 * j) % 11) as f64 - 5.0);
        let b = faer::Mat::from_fn(k, n, |i, j| ((7 * i + 2 * j) % 13) as f64 - 6.0);
        let c0 = faer::Mat::from_fn(n, n, |i, j| (i * n + j) as f64);
        let mut c = c0.clone();
        lower_matmul_into(c.as_mut(), a.as_ref(), b.as_ref(), -2.0, true);
        let full = &c0 - (&a * &b) * 2.0;
        for j in 0..n {
            for i in 0..n {
                let want = if i >= j { full[(i, j)] } else { c0[(i, j)] };
                assert!((c[(i, j)] - want).abs() < 1e-12, "({i}, {j})");
            }
        }
        mirror_lower(c.as_mut());
        for j in 0..n {
            for i in 0..n {
                assert_eq!(c[(i, j)], c[(i.max(j), i.min(j))]);
            }
        }
    }

    #[test]
    fn symmetrize_averages() {
        let mut m = mat![[1.0, 2.0], [4.0, 3.0]];
        symmetrize(m.as_mut());
        assert_eq!(m[(0, 1)], 3.0);
        assert_eq!(m[(1, 0)], 3.0);
    }

    #[test]
    fn min_eigenvalue_of_known_matrix() {
        // Eigenvalues of [[2,1],[1,2]] are 1 and 3.
        let m = mat![[2.0, 1.0], [1.0, 2.0]];
        assert!((min_eigenvalue(m.as_ref()) - 1.0).abs() < 1e-12);
    }
}
