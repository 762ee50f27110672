//! Time-indexed stacks of matrices and vectors stored contiguously.
//!
//! A [`MatStack`] holds `len` matrices of `rows x cols` (docs/design.md writes its shape
//! `[T, rows, cols]`): gains `K [T,dU,dX]`, dynamics `Fm [T,dX,dX+dU]`, cost models
//! `Cm [T,dX+dU,dX+dU]`… Each step is stored column-major in one `Vec<f64>`, so a step's view is
//! a free `faer::MatRef` and the whole stack serialises as one flat array.

use faer::{MatMut, MatRef};
use serde::{Deserialize, Serialize};

use crate::error::LinalgError;

/// `len` matrices of `rows x cols`, contiguous, each column-major.
///
/// ```
/// use pilqr_linalg::MatStack;
///
/// let mut k = MatStack::zeros(100, 4, 36); // K [T, dU, dX]
/// k.at_mut(3)[(1, 2)] = 0.5;
/// assert_eq!(k.at(3)[(1, 2)], 0.5);
/// assert_eq!(k.at(3).nrows(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawStack", into = "RawStack")]
pub struct MatStack {
    len: usize,
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// Serialised form of a stack, validated on the way in.
#[derive(Serialize, Deserialize)]
struct RawStack {
    len: usize,
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl TryFrom<RawStack> for MatStack {
    type Error = LinalgError;
    fn try_from(r: RawStack) -> Result<Self, LinalgError> {
        MatStack::from_vec(r.len, r.rows, r.cols, r.data)
    }
}

impl From<MatStack> for RawStack {
    fn from(s: MatStack) -> Self {
        RawStack {
            len: s.len,
            rows: s.rows,
            cols: s.cols,
            data: s.data,
        }
    }
}

fn checked_size(len: usize, rows: usize, cols: usize) -> Option<usize> {
    len.checked_mul(rows)?.checked_mul(cols)
}

impl MatStack {
    /// `len` zero matrices of `rows x cols`.
    pub fn zeros(len: usize, rows: usize, cols: usize) -> Self {
        MatStack {
            len,
            rows,
            cols,
            data: vec![0.0; len * rows * cols],
        }
    }

    /// `len` copies of `m`.
    pub fn repeat(len: usize, m: MatRef<'_, f64>) -> Self {
        let mut s = MatStack::zeros(len, m.nrows(), m.ncols());
        for t in 0..len {
            s.at_mut(t).copy_from(m);
        }
        s
    }

    /// Wrap a flat buffer of `len` column-major `rows x cols` matrices.
    pub fn from_vec(
        len: usize,
        rows: usize,
        cols: usize,
        data: Vec<f64>,
    ) -> Result<Self, LinalgError> {
        match checked_size(len, rows, cols) {
            Some(n) if n == data.len() => Ok(MatStack {
                len,
                rows,
                cols,
                data,
            }),
            _ => Err(LinalgError::BufferLength {
                what: "matrix stack",
                expected: checked_size(len, rows, cols).unwrap_or(usize::MAX),
                got: data.len(),
                len,
                rows,
                cols,
            }),
        }
    }

    /// Build from a function of the step, checking each matrix's shape.
    pub fn from_fn(
        len: usize,
        rows: usize,
        cols: usize,
        mut f: impl FnMut(usize, MatMut<'_, f64>),
    ) -> Self {
        let mut s = MatStack::zeros(len, rows, cols);
        for t in 0..len {
            f(t, s.at_mut(t));
        }
        s
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the stack holds no step.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows of each matrix.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns of each matrix.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// View of step `t`.
    ///
    /// # Panics
    /// If `t >= len()`; use [`MatStack::get`] for a checked access.
    #[inline]
    pub fn at(&self, t: usize) -> MatRef<'_, f64> {
        let n = self.rows * self.cols;
        MatRef::from_column_major_slice(&self.data[t * n..(t + 1) * n], self.rows, self.cols)
    }

    /// Mutable view of step `t`.
    ///
    /// # Panics
    /// If `t >= len()`.
    #[inline]
    pub fn at_mut(&mut self, t: usize) -> MatMut<'_, f64> {
        let n = self.rows * self.cols;
        MatMut::from_column_major_slice_mut(
            &mut self.data[t * n..(t + 1) * n],
            self.rows,
            self.cols,
        )
    }

    /// Checked view of step `t`.
    pub fn get(&self, t: usize) -> Result<MatRef<'_, f64>, LinalgError> {
        if t >= self.len {
            return Err(LinalgError::StepOutOfRange {
                step: t,
                len: self.len,
            });
        }
        Ok(self.at(t))
    }

    /// The flat column-major storage of step `t`.
    #[inline]
    pub fn step_slice(&self, t: usize) -> &[f64] {
        let n = self.rows * self.cols;
        &self.data[t * n..(t + 1) * n]
    }

    /// All values, step after step.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// All values, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Set every entry to zero, keeping the allocation.
    pub fn fill_zero(&mut self) {
        self.data.fill(0.0);
    }

    /// Whether every entry is finite; `Err((t, row, col))` names the first that is not.
    pub fn check_finite(&self) -> Result<(), (usize, usize, usize)> {
        let n = self.rows * self.cols;
        match self.data.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(p) => Err((
                p / n.max(1),
                p % n.max(1) % self.rows.max(1),
                p % n.max(1) / self.rows.max(1),
            )),
        }
    }
}

/// `len` vectors of `dim` entries, contiguous (`[T, dim]`): feed-forward terms `k`, `fv`, `cv`…
///
/// ```
/// use pilqr_linalg::VecStack;
///
/// let mut k = VecStack::zeros(100, 4);
/// k.at_mut(99)[3] = 1.0;
/// assert_eq!(k.at(99), &[0.0, 0.0, 0.0, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawVecStack", into = "RawVecStack")]
pub struct VecStack {
    len: usize,
    dim: usize,
    data: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct RawVecStack {
    len: usize,
    dim: usize,
    data: Vec<f64>,
}

impl TryFrom<RawVecStack> for VecStack {
    type Error = LinalgError;
    fn try_from(r: RawVecStack) -> Result<Self, LinalgError> {
        VecStack::from_vec(r.len, r.dim, r.data)
    }
}

impl From<VecStack> for RawVecStack {
    fn from(s: VecStack) -> Self {
        RawVecStack {
            len: s.len,
            dim: s.dim,
            data: s.data,
        }
    }
}

impl VecStack {
    /// `len` zero vectors of `dim` entries.
    pub fn zeros(len: usize, dim: usize) -> Self {
        VecStack {
            len,
            dim,
            data: vec![0.0; len * dim],
        }
    }

    /// Wrap a flat buffer of `len` vectors of `dim` entries.
    pub fn from_vec(len: usize, dim: usize, data: Vec<f64>) -> Result<Self, LinalgError> {
        match len.checked_mul(dim) {
            Some(n) if n == data.len() => Ok(VecStack { len, dim, data }),
            _ => Err(LinalgError::BufferLength {
                what: "vector stack",
                expected: len.saturating_mul(dim),
                got: data.len(),
                len,
                rows: dim,
                cols: 1,
            }),
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the stack holds no step.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries per vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Vector of step `t`.
    ///
    /// # Panics
    /// If `t >= len()`.
    #[inline]
    pub fn at(&self, t: usize) -> &[f64] {
        &self.data[t * self.dim..(t + 1) * self.dim]
    }

    /// Mutable vector of step `t`.
    ///
    /// # Panics
    /// If `t >= len()`.
    #[inline]
    pub fn at_mut(&mut self, t: usize) -> &mut [f64] {
        &mut self.data[t * self.dim..(t + 1) * self.dim]
    }

    /// Vector of step `t` as a `dim x 1` matrix view.
    #[inline]
    pub fn col(&self, t: usize) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(self.at(t), self.dim, 1)
    }

    /// Mutable `dim x 1` matrix view of step `t`.
    #[inline]
    pub fn col_mut(&mut self, t: usize) -> MatMut<'_, f64> {
        let dim = self.dim;
        MatMut::from_column_major_slice_mut(self.at_mut(t), dim, 1)
    }

    /// All values, step after step.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// All values, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Set every entry to zero, keeping the allocation.
    pub fn fill_zero(&mut self) {
        self.data.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vec_checks_length() {
        assert!(MatStack::from_vec(2, 2, 2, vec![0.0; 7]).is_err());
        assert!(MatStack::from_vec(2, 2, 2, vec![0.0; 8]).is_ok());
        assert!(VecStack::from_vec(3, 2, vec![0.0; 5]).is_err());
    }

    #[test]
    fn steps_do_not_alias() {
        let mut s = MatStack::zeros(3, 2, 2);
        s.at_mut(1)[(1, 0)] = 2.0;
        assert_eq!(s.at(0)[(1, 0)], 0.0);
        assert_eq!(s.at(2)[(1, 0)], 0.0);
        assert_eq!(s.step_slice(1), &[0.0, 2.0, 0.0, 0.0]);
        assert!(s.get(3).is_err());
    }

    #[test]
    fn check_finite_names_the_entry() {
        let mut s = MatStack::zeros(3, 2, 3);
        s.at_mut(2)[(1, 2)] = f64::NAN;
        assert_eq!(s.check_finite(), Err((2, 1, 2)));
    }
}
