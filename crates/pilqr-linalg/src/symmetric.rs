//! Symmetric matrices: symmetrisation and the smallest eigenvalue.

use faer::{MatMut, MatRef, Side};

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
