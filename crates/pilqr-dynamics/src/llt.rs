//! Cholesky factorisation for the hot loops: faer's in-place factor on caller-owned storage
//! (no copies of the whole matrix, no allocation, no checks beyond the pivots), with
//! [`pilqr_linalg::Cholesky`]'s jitter retry as the fallback for matrices that are not
//! numerically positive definite, so behaviour on hard inputs is unchanged.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::cholesky::llt::factor::{LltParams, LltRegularization};
use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef, Par};
use pilqr_linalg::{Cholesky, Jitter};

/// Scratch memory of faer's in-place Cholesky for one dimension.
pub(crate) struct LltWork {
    dim: usize,
    buf: MemBuffer,
    /// Fallback factor (with jitter), created on first need.
    fallback: Option<Cholesky>,
}

impl std::fmt::Debug for LltWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LltWork").field("dim", &self.dim).finish()
    }
}

impl Clone for LltWork {
    fn clone(&self) -> Self {
        LltWork::new(self.dim)
    }
}

impl LltWork {
    /// Scratch for `dim x dim` matrices.
    pub(crate) fn new(dim: usize) -> Self {
        LltWork {
            dim,
            buf: MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(
                dim,
                Par::Seq,
                Default::default(),
            )),
            fallback: None,
        }
    }

    /// Factor `a` (only its lower triangle is read) into `l`: `a + jitter·I = L Lᵀ`, with the
    /// strict upper triangle of `l` set to 0.
    ///
    /// First without jitter; if that fails, with [`Jitter::default`]'s retries. Returns the
    /// jitter added, or `None` when even the largest jitter does not give a factor.
    pub(crate) fn factor(&mut self, a: MatRef<'_, f64>, mut l: MatMut<'_, f64>) -> Option<f64> {
        let n = self.dim;
        debug_assert!(a.nrows() == n && l.nrows() == n);
        for j in 0..n {
            l.rb_mut()
                .col_mut(j)
                .subrows_mut(j, n - j)
                .copy_from(a.col(j).subrows(j, n - j));
        }
        let ok = llt::factor::cholesky_in_place(
            l.rb_mut(),
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(&mut self.buf),
            <LltParams as faer::Auto<f64>>::auto().into(),
        )
        .is_ok()
            && (0..n).all(|i| l[(i, i)].is_finite() && l[(i, i)] > 0.0);
        // faer may use the strict upper triangle as scratch.
        for j in 1..n {
            l.rb_mut().col_mut(j).subrows_mut(0, j).fill(0.0);
        }
        if ok {
            return Some(0.0);
        }
        let chol = self.fallback.get_or_insert_with(|| Cholesky::with_dim(n));
        chol.refactor(a, Jitter::default()).ok()?;
        for j in 0..n {
            l.rb_mut()
                .col_mut(j)
                .subrows_mut(j, n - j)
                .copy_from(chol.l().col(j).subrows(j, n - j));
        }
        Some(chol.jitter())
    }
}

/// `log det A = 2 Σ ln L_ii` from a factor `L`.
pub(crate) fn log_det(l: MatRef<'_, f64>) -> f64 {
    2.0 * (0..l.nrows()).map(|i| l[(i, i)].ln()).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::{Mat, mat};

    #[test]
    fn factors_spd_and_falls_back_to_jitter_for_singular() {
        let a = mat![[4.0, 2.0], [2.0, 3.0]];
        let mut w = LltWork::new(2);
        let mut l = Mat::zeros(2, 2);
        assert_eq!(w.factor(a.as_ref(), l.as_mut()), Some(0.0));
        assert!((l[(0, 0)] - 2.0).abs() < 1e-15 && (l[(1, 0)] - 1.0).abs() < 1e-15);
        assert_eq!(l[(0, 1)], 0.0, "upper triangle cleared");
        assert!((log_det(l.as_ref()) - 8.0f64.ln()).abs() < 1e-14);
        // Rank one: only the jitter retry factors it.
        let s = mat![[1.0, 1.0], [1.0, 1.0]];
        let j = w.factor(s.as_ref(), l.as_mut()).unwrap();
        assert!(j > 0.0 && j <= 1e-3);
        assert_eq!(l[(0, 1)], 0.0);
        // Indefinite beyond any jitter.
        let bad = mat![[1.0, 0.0], [0.0, -1e9]];
        assert_eq!(w.factor(bad.as_ref(), l.as_mut()), None);
    }
}
