//! Cholesky factorisation of symmetric positive-definite matrices, with an optional jitter retry.
//!
//! `A = L Lᵀ` with `L` lower triangular. Everything that needs `A⁻¹`, `A⁻¹ B` or `log det A`
//! goes through the factor. The factor object owns its workspace, so refactoring matrices of
//! the same size in a hot loop does not allocate.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt;
use faer::linalg::cholesky::llt::factor::{LltParams, LltRegularization};
use faer::{Accum, Mat, MatMut, MatRef, Par};

use crate::error::{LinalgError, check_shape};

/// How to retry a failed factorisation by adding `jitter · I` to the matrix.
///
/// The first retry adds `initial · scale`, where `scale = max(1, mean |diag A|)`, and each later
/// retry multiplies the jitter by `growth`, up to `max_retries` retries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter {
    /// First jitter, relative to the diagonal scale.
    pub initial: f64,
    /// Factor between successive jitters.
    pub growth: f64,
    /// Number of retries after the first failure (0 = no retry).
    pub max_retries: usize,
}

impl Jitter {
    /// No retry: the matrix must be positive definite as given.
    pub const NONE: Jitter = Jitter {
        initial: 0.0,
        growth: 1.0,
        max_retries: 0,
    };
}

impl Default for Jitter {
    /// `1e-10` relative, ×10 per retry, up to 8 retries (largest jitter `1e-3` relative).
    fn default() -> Self {
        Jitter {
            initial: 1e-10,
            growth: 10.0,
            max_retries: 8,
        }
    }
}

/// The Cholesky factor `L` of an SPD matrix `A = L Lᵀ`, with the jitter that was needed.
///
/// ```
/// use faer::mat;
/// use pilqr_linalg::{Cholesky, Jitter};
///
/// let a = mat![[4.0, 2.0], [2.0, 3.0]];
/// let chol = Cholesky::factor(a.as_ref(), Jitter::NONE).unwrap();
/// let x = chol.solve(mat![[1.0], [2.0]].as_ref());
/// assert!(((4.0 * x[(0, 0)] + 2.0 * x[(1, 0)]) - 1.0).abs() < 1e-12);
/// assert!((chol.log_det() - 8.0f64.ln()).abs() < 1e-12);
/// assert_eq!(chol.jitter(), 0.0);
/// ```
#[derive(Debug, Clone)]
pub struct Cholesky {
    l: Mat<f64>,
    jitter: f64,
    work: Workspace,
}

/// Scratch memory for faer's in-place routines, sized for one matrix dimension.
struct Workspace {
    dim: usize,
    buf: MemBuffer,
}

impl Workspace {
    fn new(dim: usize) -> Self {
        let req = StackReq::any_of(&[
            llt::factor::cholesky_in_place_scratch::<f64>(dim, Par::Seq, Default::default()),
            llt::inverse::inverse_scratch::<f64>(dim, Par::Seq),
        ]);
        Workspace {
            dim,
            buf: MemBuffer::new(req),
        }
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace").field("dim", &self.dim).finish()
    }
}

impl Clone for Workspace {
    fn clone(&self) -> Self {
        Workspace::new(self.dim)
    }
}

impl Cholesky {
    /// An empty factor for `dim x dim` matrices, to be filled by [`Cholesky::refactor`].
    pub fn with_dim(dim: usize) -> Self {
        Cholesky {
            l: Mat::zeros(dim, dim),
            jitter: 0.0,
            work: Workspace::new(dim),
        }
    }

    /// Factor the SPD matrix `a` (only its lower triangle is read), retrying with `jitter`.
    pub fn factor(a: MatRef<'_, f64>, jitter: Jitter) -> Result<Self, LinalgError> {
        let mut c = Cholesky::with_dim(a.nrows());
        c.refactor(a, jitter)?;
        Ok(c)
    }

    /// Factor `a` into this object's storage, reusing its memory when the size is unchanged.
    ///
    /// On failure the object's previous factor is lost (its contents are unspecified) but it
    /// can be refactored again.
    pub fn refactor(&mut self, a: MatRef<'_, f64>, jitter: Jitter) -> Result<(), LinalgError> {
        let n = a.nrows();
        check_shape("matrix to factor", a, n, n)?;
        if self.l.nrows() != n {
            *self = Cholesky::with_dim(n);
        }
        let scale = {
            let mut s = 0.0;
            for i in 0..n {
                s += a[(i, i)].abs();
            }
            if n > 0 { (s / n as f64).max(1.0) } else { 1.0 }
        };
        let mut added = 0.0;
        let mut next = jitter.initial * scale;
        for attempt in 0..=jitter.max_retries {
            if attempt > 0 {
                added = next;
                next *= jitter.growth;
            }
            if self.try_factor(a, added) {
                self.jitter = added;
                return Ok(());
            }
        }
        Err(LinalgError::NotPositiveDefinite {
            dim: n,
            jitter_tried: added,
        })
    }

    fn try_factor(&mut self, a: MatRef<'_, f64>, jitter: f64) -> bool {
        let n = a.nrows();
        for j in 0..n {
            for i in 0..n {
                self.l[(i, j)] = if i >= j { a[(i, j)] } else { 0.0 };
            }
            self.l[(j, j)] += jitter;
        }
        // A non-finite input can never give a valid factor.
        if (0..n).any(|j| (j..n).any(|i| !self.l[(i, j)].is_finite())) {
            return false;
        }
        let stack = MemStack::new(&mut self.work.buf);
        let ok = llt::factor::cholesky_in_place(
            self.l.as_mut(),
            LltRegularization::default(),
            Par::Seq,
            stack,
            <LltParams as faer::Auto<f64>>::auto().into(),
        )
        .is_ok();
        if ok {
            // faer leaves the strict upper triangle untouched: clear it so `l()` is triangular.
            for j in 0..n {
                for i in 0..j {
                    self.l[(i, j)] = 0.0;
                }
            }
        }
        ok && (0..n).all(|i| self.l[(i, i)].is_finite() && self.l[(i, i)] > 0.0)
    }

    /// Size of the factored matrix.
    pub fn dim(&self) -> usize {
        self.l.nrows()
    }

    /// The lower-triangular factor `L` (`A + jitter·I = L Lᵀ`).
    pub fn l(&self) -> MatRef<'_, f64> {
        self.l.as_ref()
    }

    /// The jitter that was added to the diagonal (0 when none was needed).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Solve `A X = B` in place (`rhs` holds `B` on entry and `X` on return).
    ///
    /// # Panics
    /// If `rhs` does not have `dim()` rows (a programming error, not a user input).
    pub fn solve_in_place(&self, rhs: MatMut<'_, f64>) {
        let mut empty = [];
        llt::solve::solve_in_place(self.l.as_ref(), rhs, Par::Seq, MemStack::new(&mut empty));
    }

    /// `A⁻¹ B` as a new matrix.
    pub fn solve(&self, rhs: MatRef<'_, f64>) -> Mat<f64> {
        let mut x = rhs.to_owned();
        self.solve_in_place(x.as_mut());
        x
    }

    /// Write `A⁻¹` (symmetric, both triangles filled) into `out`.
    ///
    /// # Panics
    /// If `out` is not `dim() x dim()`.
    pub fn inverse_into(&mut self, mut out: MatMut<'_, f64>) {
        let stack = MemStack::new(&mut self.work.buf);
        llt::inverse::inverse(out.as_mut(), self.l.as_ref(), Par::Seq, stack);
        // faer fills the lower triangle; mirror it.
        let n = out.nrows();
        for j in 0..n {
            for i in 0..j {
                out[(i, j)] = out[(j, i)];
            }
        }
    }

    /// `A⁻¹` as a new symmetric matrix.
    pub fn inverse(&mut self) -> Mat<f64> {
        let mut out = Mat::zeros(self.dim(), self.dim());
        self.inverse_into(out.as_mut());
        out
    }

    /// `log det A = 2 Σ log L_ii`.
    pub fn log_det(&self) -> f64 {
        (0..self.dim()).map(|i| self.l[(i, i)].ln()).sum::<f64>() * 2.0
    }

    /// `y = L x` (used to turn standard-normal noise into a draw with covariance `A`).
    ///
    /// # Panics
    /// If the lengths differ from `dim()`.
    pub fn l_times(&self, x: &[f64], y: &mut [f64]) {
        let n = self.dim();
        assert!(x.len() == n && y.len() == n, "l_times: length mismatch");
        for (i, yi) in y.iter_mut().enumerate() {
            let mut s = 0.0;
            for (j, xj) in x.iter().enumerate().take(i + 1) {
                s += self.l[(i, j)] * xj;
            }
            *yi = s;
        }
    }
}

/// `dst = alpha · lhs · rhs` (or `dst += …` with `accumulate`), single-threaded.
///
/// Our matrices are small (a few dozen rows): faer's sequential kernels are the right call.
pub fn matmul_into(
    dst: MatMut<'_, f64>,
    lhs: MatRef<'_, f64>,
    rhs: MatRef<'_, f64>,
    alpha: f64,
    accumulate: bool,
) {
    faer::linalg::matmul::matmul(dst, accum(accumulate), lhs, rhs, alpha, Par::Seq);
}

/// faer's accumulation mode for the `accumulate` flag of the `*_matmul_into` functions.
pub(crate) fn accum(accumulate: bool) -> Accum {
    if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::mat;

    #[test]
    fn rejects_indefinite_without_jitter() {
        let a = mat![[1.0, 2.0], [2.0, 1.0]];
        let err = Cholesky::factor(a.as_ref(), Jitter::NONE).unwrap_err();
        assert!(matches!(
            err,
            LinalgError::NotPositiveDefinite { dim: 2, .. }
        ));
    }

    #[test]
    fn jitter_repairs_semidefinite_and_is_reported() {
        // Rank one: PSD but singular.
        let a = mat![[1.0, 1.0], [1.0, 1.0]];
        let c = Cholesky::factor(a.as_ref(), Jitter::default()).unwrap();
        assert!(c.jitter() > 0.0 && c.jitter() <= 1e-3);
        let l = c.l();
        let rec = l * l.transpose();
        assert!((rec[(0, 1)] - 1.0).abs() < 1e-12);
        assert!((rec[(0, 0)] - (1.0 + c.jitter())).abs() < 1e-12);
    }

    #[test]
    fn nan_is_not_positive_definite() {
        let a = mat![[f64::NAN, 0.0], [0.0, 1.0]];
        assert!(Cholesky::factor(a.as_ref(), Jitter::default()).is_err());
    }

    #[test]
    fn wrong_shape_is_an_error() {
        let a = Mat::<f64>::zeros(2, 3);
        assert!(matches!(
            Cholesky::factor(a.as_ref(), Jitter::NONE),
            Err(LinalgError::Shape { .. })
        ));
    }

    #[test]
    fn l_times_matches_product() {
        let a = mat![[4.0, 2.0, 0.4], [2.0, 3.0, 0.1], [0.4, 0.1, 2.0]];
        let c = Cholesky::factor(a.as_ref(), Jitter::NONE).unwrap();
        let x = [0.3, -1.0, 2.0];
        let mut y = [0.0; 3];
        c.l_times(&x, &mut y);
        let xm = mat![[0.3], [-1.0], [2.0]];
        let ym = c.l() * xm;
        for i in 0..3 {
            assert!((y[i] - ym[(i, 0)]).abs() < 1e-14);
        }
    }
}
