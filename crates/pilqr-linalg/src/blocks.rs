//! Views of the `[x; u]` blocks of matrices and vectors over a state-action pair.
//!
//! Many quantities in docs/design.md live on `y = [x; u]` (`dX + dU` entries): the cost model
//! `Cm_t, cv_t`, the joint Gaussian `μ_t, S_t` of the forward pass, `Q` in the backward pass.
//! These helpers name their blocks so that index arithmetic is written once.

use faer::{Mat, MatMut, MatRef};

use crate::error::{LinalgError, check_shape};

/// The four blocks of a `(dX+dU)`-square matrix `[[xx, xu], [ux, uu]]`, as views.
#[derive(Debug, Clone, Copy)]
pub struct XuBlocks<'a> {
    /// Top-left `dX x dX`.
    pub xx: MatRef<'a, f64>,
    /// Top-right `dX x dU`.
    pub xu: MatRef<'a, f64>,
    /// Bottom-left `dU x dX`.
    pub ux: MatRef<'a, f64>,
    /// Bottom-right `dU x dU`.
    pub uu: MatRef<'a, f64>,
}

/// Mutable views of the four blocks of a `(dX+dU)`-square matrix.
#[derive(Debug)]
pub struct XuBlocksMut<'a> {
    /// Top-left `dX x dX`.
    pub xx: MatMut<'a, f64>,
    /// Top-right `dX x dU`.
    pub xu: MatMut<'a, f64>,
    /// Bottom-left `dU x dX`.
    pub ux: MatMut<'a, f64>,
    /// Bottom-right `dU x dU`.
    pub uu: MatMut<'a, f64>,
}

/// Split a square matrix into its `[x; u]` blocks, `dx` being the size of the `x` part.
///
/// # Panics
/// If `m` is not square or `dx > m.nrows()`.
pub fn split_xu(m: MatRef<'_, f64>, dx: usize) -> XuBlocks<'_> {
    assert!(
        m.nrows() == m.ncols() && dx <= m.nrows(),
        "split_xu: bad shape"
    );
    let (xx, xu, ux, uu) = m.split_at(dx, dx);
    XuBlocks { xx, xu, ux, uu }
}

/// Mutable version of [`split_xu`].
///
/// # Panics
/// If `m` is not square or `dx > m.nrows()`.
pub fn split_xu_mut(m: MatMut<'_, f64>, dx: usize) -> XuBlocksMut<'_> {
    assert!(
        m.nrows() == m.ncols() && dx <= m.nrows(),
        "split_xu_mut: bad shape"
    );
    let (xx, xu, ux, uu) = m.split_at_mut(dx, dx);
    XuBlocksMut { xx, xu, ux, uu }
}

/// Split a `(dX+dU)` vector into its `x` and `u` parts.
///
/// # Panics
/// If `dx > v.len()`.
pub fn split_xu_vec(v: &[f64], dx: usize) -> (&[f64], &[f64]) {
    v.split_at(dx)
}

/// Mutable version of [`split_xu_vec`].
///
/// # Panics
/// If `dx > v.len()`.
pub fn split_xu_vec_mut(v: &mut [f64], dx: usize) -> (&mut [f64], &mut [f64]) {
    v.split_at_mut(dx)
}

/// Assemble `[[xx, xu], [ux, uu]]` from its blocks, checking their shapes.
pub fn assemble_xu(
    xx: MatRef<'_, f64>,
    xu: MatRef<'_, f64>,
    ux: MatRef<'_, f64>,
    uu: MatRef<'_, f64>,
) -> Result<Mat<f64>, LinalgError> {
    let dx = xx.nrows();
    let du = uu.nrows();
    check_shape("xx block", xx, dx, dx)?;
    check_shape("xu block", xu, dx, du)?;
    check_shape("ux block", ux, du, dx)?;
    check_shape("uu block", uu, du, du)?;
    let mut m = Mat::zeros(dx + du, dx + du);
    let b = split_xu_mut(m.as_mut(), dx);
    let XuBlocksMut {
        xx: mut bxx,
        xu: mut bxu,
        ux: mut bux,
        uu: mut buu,
    } = b;
    bxx.copy_from(xx);
    bxu.copy_from(xu);
    bux.copy_from(ux);
    buu.copy_from(uu);
    Ok(m)
}

/// Concatenate `x` and `u` into `out = [x; u]`.
///
/// # Panics
/// If `out.len() != x.len() + u.len()`.
pub fn concat_xu(x: &[f64], u: &[f64], out: &mut [f64]) {
    assert_eq!(out.len(), x.len() + u.len(), "concat_xu: length mismatch");
    out[..x.len()].copy_from_slice(x);
    out[x.len()..].copy_from_slice(u);
}
