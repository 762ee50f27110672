//! Generic conditional regression with an optional normal-inverse-Wishart prior.
//!
//! Given `N` joint points `y_i = [a_i; b_i]` (input dims `a`, output dims `b`), fit the joint
//! Gaussian (sample moments, or their NIW posterior when a prior is given) and condition it on
//! the input: `b ~ N(F a + f, Σ_{b|a})`. Dynamics regression is the special case
//! `a = [x_t; u_t]`, `b = x_{t+1}`; MDGPS's policy linearisation uses `a = x_t`, `b = μθ(x_t)`.

use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::reborrow::ReborrowMut;
use faer::{Mat, MatMut, MatRef, Par};
use pilqr_linalg::{lower_matmul_into, matmul_into, mirror_lower};
use serde::{Deserialize, Serialize};

use crate::error::DynamicsError;
use crate::llt::LltWork;
use crate::niw_prior::NiwPrior;

/// The conditional Gaussian `b ~ N(gain · a + offset, covariance)`.
///
/// ```
/// use faer::Mat;
/// use pilqr_dynamics::fit_conditional_gaussian;
///
/// // b = −a + 3 (+ noise ±0.1): columns are points [a; b].
/// let pts = Mat::from_fn(2, 4, |i, j| {
///     let a = j as f64;
///     if i == 0 { a } else { 3.0 - a + if j % 2 == 0 { 0.1 } else { -0.1 } }
/// });
/// let fit = fit_conditional_gaussian(pts.as_ref(), 1, None, 0.0).unwrap();
/// assert!((fit.gain[(0, 0)] + 1.0).abs() < 0.1);
/// assert!(fit.covariance[(0, 0)] > 0.0 && fit.covariance[(0, 0)] < 0.02);
/// let json = serde_json::to_string(&fit).unwrap();
/// assert_eq!(serde_json::from_str::<pilqr_dynamics::ConditionalGaussianFit>(&json).unwrap().offset.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalGaussianFit {
    /// `F`, `b x a`.
    #[serde(with = "crate::serde_mat")]
    pub gain: Mat<f64>,
    /// `f`, `b` entries.
    pub offset: Vec<f64>,
    /// `Σ_{b|a}`, `b x b`, symmetric.
    #[serde(with = "crate::serde_mat")]
    pub covariance: Mat<f64>,
}

/// A prior given by reference (the dynamics fitter builds `Φ` for all steps in one product).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PriorRef<'a> {
    pub mu0: &'a [f64],
    pub phi: MatRef<'a, f64>,
    pub m: f64,
    pub n0: f64,
}

impl<'a> From<&'a NiwPrior> for PriorRef<'a> {
    fn from(p: &'a NiwPrior) -> Self {
        PriorRef {
            mu0: &p.mu0,
            phi: p.phi.as_ref(),
            m: p.m,
            n0: p.n0,
        }
    }
}

/// Reusable workspace for repeated conditional fits of one shape (no allocation per fit once
/// the sample count is stable).
///
/// ```
/// use faer::Mat;
/// use pilqr_dynamics::ConditionalRegressor;
///
/// // b = 2a + 1 exactly, from 3 points (columns are points [a; b]).
/// let pts = Mat::from_fn(2, 3, |i, j| if i == 0 { j as f64 } else { 2.0 * j as f64 + 1.0 });
/// let mut reg = ConditionalRegressor::new(1, 1);
/// let fit = reg.fit(pts.as_ref(), None, 0.0).unwrap();
/// assert!((fit.gain[(0, 0)] - 2.0).abs() < 1e-12);
/// assert!((fit.offset[0] - 1.0).abs() < 1e-12);
/// assert!(fit.covariance[(0, 0)].abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct ConditionalRegressor {
    a: usize,
    b: usize,
    mean: Vec<f64>,
    centered: Mat<f64>,
    /// Joint covariance; only its lower triangle is used.
    sigma: Mat<f64>,
    llt: LltWork,
    /// Cholesky factor of the input block (lower triangle; upper stays 0).
    l_aa: Mat<f64>,
    /// `a x b`: `L⁻¹ Σ_ab`, then `Σ_aa⁻¹ Σ_ab = gainᵀ`.
    solved: Mat<f64>,
    /// Sample-space workspace (no prior, `N ≤ a`), sized for the last `N`.
    dual: Option<DualWork>,
}

impl ConditionalRegressor {
    /// A workspace for input dimension `a` and output dimension `b`.
    pub fn new(input_dim: usize, output_dim: usize) -> Self {
        let d = input_dim + output_dim;
        ConditionalRegressor {
            a: input_dim,
            b: output_dim,
            mean: vec![0.0; d],
            centered: Mat::zeros(d, 0),
            sigma: Mat::zeros(d, d),
            llt: LltWork::new(input_dim),
            l_aa: Mat::zeros(input_dim, input_dim),
            solved: Mat::zeros(input_dim, output_dim),
            dual: None,
        }
    }

    /// Input dimension `a`.
    pub fn input_dim(&self) -> usize {
        self.a
    }

    /// Output dimension `b`.
    pub fn output_dim(&self) -> usize {
        self.b
    }

    /// Fit from `points` (`(a+b) x N`, one point per column) and an optional NIW prior over the
    /// joint `[a; b]`; `ridge` is added to the diagonal of the input block before conditioning.
    ///
    /// The input block is conditioned on through one Cholesky factor (no inverse). Without a
    /// prior, with `ridge > 0` and no more points than inputs (`N ≤ a`), the same conditional
    /// is computed in the `N`-dimensional sample space (smaller matrices, same formulas).
    ///
    /// Errors: `N = 0`, wrong shapes, non-finite values, or an input block that stays
    /// indefinite even with jitter (only possible with `ridge = 0`).
    pub fn fit(
        &mut self,
        points: MatRef<'_, f64>,
        prior: Option<&NiwPrior>,
        ridge: f64,
    ) -> Result<ConditionalGaussianFit, DynamicsError> {
        let mut gain = Mat::zeros(self.b, self.a);
        let mut offset = vec![0.0; self.b];
        let mut covariance = Mat::zeros(self.b, self.b);
        if let Some(p) = prior {
            p.validate(self.a + self.b)?;
        }
        self.fit_into(
            points,
            prior.map(PriorRef::from),
            ridge,
            gain.as_mut(),
            &mut offset,
            covariance.as_mut(),
        )?;
        Ok(ConditionalGaussianFit {
            gain,
            offset,
            covariance,
        })
    }

    /// As [`ConditionalRegressor::fit`], writing into caller-owned storage (`gain` `b x a`,
    /// `offset` `b`, `covariance` `b x b`).
    pub fn fit_into_slices(
        &mut self,
        points: MatRef<'_, f64>,
        prior: Option<&NiwPrior>,
        ridge: f64,
        gain: MatMut<'_, f64>,
        offset: &mut [f64],
        covariance: MatMut<'_, f64>,
    ) -> Result<(), DynamicsError> {
        if let Some(p) = prior {
            p.validate(self.a + self.b)?;
        }
        self.fit_into(
            points,
            prior.map(PriorRef::from),
            ridge,
            gain,
            offset,
            covariance,
        )
    }

    pub(crate) fn fit_into(
        &mut self,
        points: MatRef<'_, f64>,
        prior: Option<PriorRef<'_>>,
        ridge: f64,
        mut gain: MatMut<'_, f64>,
        offset: &mut [f64],
        mut covariance: MatMut<'_, f64>,
    ) -> Result<(), DynamicsError> {
        let d = self.a + self.b;
        if points.nrows() != d {
            return Err(DynamicsError::DimensionMismatch {
                field: "point dimension (input + output)",
                expected: d,
                got: points.nrows(),
            });
        }
        let n = points.ncols();
        if n == 0 {
            return Err(DynamicsError::NoData {
                what: "conditional regression points",
            });
        }
        if !(ridge.is_finite() && ridge >= 0.0) {
            return Err(DynamicsError::InvalidConfig {
                field: "regularization",
                reason: format!("must be finite and >= 0, got {ridge}"),
            });
        }
        let owned;
        let points = if points.row_stride() == 1 {
            points
        } else {
            owned = points.to_owned();
            owned.as_ref()
        };
        for j in 0..n {
            if let Some(i) = col(points, j).iter().position(|v| !v.is_finite()) {
                return Err(DynamicsError::NonFinite {
                    field: "conditional regression points",
                    index: j * d + i,
                });
            }
        }
        check_out("gain", gain.nrows(), gain.ncols(), self.b, self.a)?;
        check_out("offset", offset.len(), 1, self.b, 1)?;
        check_out(
            "covariance",
            covariance.nrows(),
            covariance.ncols(),
            self.b,
            self.b,
        )?;

        if prior.is_none() && ridge > 0.0 && n <= self.a {
            self.centre(points);
            if self.condition_dual(ridge, gain.rb_mut(), offset, covariance.rb_mut())? {
                return Ok(());
            }
        }
        self.moments(points);
        let nf = n as f64;
        match prior {
            None => {
                let s = 1.0 / nf;
                for j in 0..d {
                    for v in &mut self.sigma.col_as_slice_mut(j)[j..] {
                        *v *= s;
                    }
                }
            }
            Some(p) => apply_prior(&mut self.sigma, &self.mean, nf, p),
        }
        self.condition(ridge, gain, offset, covariance)
    }

    /// `mean` = sample mean; `sigma` (lower triangle) = scatter `Σ (y−μ)(y−μ)ᵀ`.
    fn moments(&mut self, points: MatRef<'_, f64>) {
        self.centre(points);
        scatter_lower(self.sigma.as_mut(), self.centered.as_ref(), false);
    }

    /// `mean` = sample mean; `centered` = the points minus the mean.
    fn centre(&mut self, points: MatRef<'_, f64>) {
        let d = points.nrows();
        let n = points.ncols();
        self.mean.iter_mut().for_each(|v| *v = 0.0);
        for j in 0..n {
            for (m, x) in self.mean.iter_mut().zip(col(points, j)) {
                *m += x;
            }
        }
        let inv = 1.0 / n as f64;
        self.mean.iter_mut().for_each(|v| *v *= inv);
        if self.centered.ncols() != n || self.centered.nrows() != d {
            self.centered = Mat::zeros(d, n);
        }
        for j in 0..n {
            let dst = self.centered.col_as_slice_mut(j);
            for ((c, x), m) in dst.iter_mut().zip(col(points, j)).zip(&self.mean) {
                *c = x - m;
            }
        }
    }

    /// Without a prior and with fewer points than inputs (`N ≤ a`, `ridge > 0`), condition in
    /// the `N`-dimensional sample space instead (same formulas, smaller matrices): with the
    /// centred inputs `X` (`a x N`) and outputs `Y` (`b x N`) and `G = XᵀX + N·ridge·I = L Lᵀ`,
    /// `gain = Y G⁻¹ Xᵀ = Qᵀ P` and `covariance = Σ_bb − gain Σ_ab = ridge · Y G⁻¹ Yᵀ =
    /// ridge · Qᵀ Q`, where `P = L⁻¹ Xᵀ` and `Q = L⁻¹ Yᵀ` (push-through identity
    /// `Xᵀ (X Xᵀ + N·ridge·I)⁻¹ = (XᵀX + N·ridge·I)⁻¹ Xᵀ`). The covariance is a product, not a
    /// difference, so it keeps its accuracy when the residuals are tiny.
    ///
    /// Expects `centre` to have run. Returns `Ok(false)` (nothing written) if `G` does not
    /// factor, which leaves the general path to handle the data.
    fn condition_dual(
        &mut self,
        ridge: f64,
        mut gain: MatMut<'_, f64>,
        offset: &mut [f64],
        mut covariance: MatMut<'_, f64>,
    ) -> Result<bool, DynamicsError> {
        let (a, b) = (self.a, self.b);
        let n = self.centered.ncols();
        if self.dual.as_ref().is_none_or(|w| w.gram.nrows() != n) {
            self.dual = Some(DualWork::new(n, a, b));
        }
        // `dual` was just ensured to be `Some`.
        let Some(w) = self.dual.as_mut() else {
            return Ok(false);
        };
        let xt = self.centered.as_ref().subrows(0, a).transpose();
        scatter_lower(w.gram.as_mut(), xt, false);
        let shift = n as f64 * ridge;
        for i in 0..n {
            w.gram[(i, i)] += shift;
        }
        if w.llt.factor(w.gram.as_ref(), w.l.as_mut()) != Some(0.0) {
            return Ok(false);
        }
        // [Pᵀ; Qᵀ] = [X; Y] L⁻ᵀ, solved as L [P Q] = [Xᵀ Yᵀ] on the transposed view of a
        // contiguous copy of the centred points (no explicit transposition).
        w.pq_t.copy_from(&self.centered);
        solve_lower_triangular_in_place(w.l.as_ref(), w.pq_t.as_mut().transpose_mut(), Par::Seq);
        let (pt, qt) = (w.pq_t.as_ref().subrows(0, a), w.pq_t.as_ref().subrows(a, b));
        // gain = Qᵀ P = Qᵀ·(Pᵀ)ᵀ; covariance = ridge · Qᵀ Q (lower triangle, then mirrored).
        matmul_into(gain.rb_mut(), qt, pt.transpose(), 1.0, false);
        lower_matmul_into(covariance.rb_mut(), qt, qt.transpose(), ridge, false);
        mirror_lower(covariance.rb_mut());
        // offset = μ_b − gain μ_a, column by column of the gain.
        let (mu_a, mu_b) = self.mean.split_at(a);
        offset.copy_from_slice(mu_b);
        for (c, ma) in mu_a.iter().enumerate() {
            for (o, g) in offset.iter_mut().zip(gain.as_ref().col(c).iter()) {
                *o -= g * ma;
            }
        }
        check_fit(gain.as_ref(), offset, covariance.as_ref())?;
        Ok(true)
    }

    /// Condition the joint Gaussian (`self.mean`, lower triangle of `self.sigma`) on the input
    /// block, by one Cholesky factor `Σ_aa + ridge·I = L Lᵀ` (no inverse):
    /// `Z = L⁻¹ Σ_ab`, `covariance = Σ_bb − Zᵀ Z`, `gainᵀ = L⁻ᵀ Z`, `offset = μ_b − gain μ_a`.
    fn condition(
        &mut self,
        ridge: f64,
        mut gain: MatMut<'_, f64>,
        offset: &mut [f64],
        mut covariance: MatMut<'_, f64>,
    ) -> Result<(), DynamicsError> {
        let (a, b) = (self.a, self.b);
        for i in 0..a {
            self.sigma[(i, i)] += ridge;
        }
        self.llt
            .factor(
                self.sigma.as_ref().submatrix(0, 0, a, a),
                self.l_aa.as_mut(),
            )
            .ok_or(DynamicsError::NotPositiveDefinite {
                what: "input block of the joint covariance",
            })?;
        // Σ_ab = Σ_baᵀ, with Σ_ba the (full) block below the input block.
        self.solved
            .copy_from(self.sigma.as_ref().submatrix(a, 0, b, a).transpose());
        solve_lower_triangular_in_place(self.l_aa.as_ref(), self.solved.as_mut(), Par::Seq);
        // covariance = Σ_bb − Zᵀ Z (lower triangle, then mirrored: exactly symmetric).
        for j in 0..b {
            covariance
                .rb_mut()
                .col_mut(j)
                .subrows_mut(j, b - j)
                .copy_from(self.sigma.col(a + j).subrows(a + j, b - j));
        }
        lower_matmul_into(
            covariance.rb_mut(),
            self.solved.transpose(),
            self.solved.as_ref(),
            -1.0,
            true,
        );
        mirror_lower(covariance.rb_mut());
        solve_upper_triangular_in_place(self.l_aa.transpose(), self.solved.as_mut(), Par::Seq);
        // gain = (Σ_aa⁻¹ Σ_ab)ᵀ
        gain.copy_from(self.solved.transpose());
        // offset = μ_b − F μ_a
        let (mu_a, mu_b) = self.mean.split_at(a);
        for (r, o) in offset.iter_mut().enumerate() {
            let fr = self.solved.col_as_slice(r);
            let mut s = mu_b[r];
            for (g, ma) in fr.iter().zip(mu_a) {
                s -= g * ma;
            }
            *o = s;
        }
        check_fit(gain.as_ref(), offset, covariance.as_ref())
    }
}

/// Whether every value is finite. A value is infinite or NaN exactly when all its exponent
/// bits are set; the OR-reduction over those flags has no branch, so it vectorises.
fn all_finite(values: &[f64]) -> bool {
    const EXPONENT: u64 = 0x7ff0_0000_0000_0000;
    values.iter().fold(0u64, |bad, v| {
        bad | u64::from(v.to_bits() & EXPONENT == EXPONENT)
    }) == 0
}

/// Every output value is finite (an overflow in the data would show here).
fn check_fit(
    gain: MatRef<'_, f64>,
    offset: &[f64],
    covariance: MatRef<'_, f64>,
) -> Result<(), DynamicsError> {
    let finite = |m: MatRef<'_, f64>| {
        (0..m.ncols()).all(|c| match m.col(c).try_as_col_major() {
            // Contiguous columns (the usual case) as slices: a vectorised reduction.
            Some(col) => all_finite(col.as_slice()),
            None => m.col(c).iter().all(|v| v.is_finite()),
        })
    };
    if finite(gain) && finite(covariance) && all_finite(offset) {
        Ok(())
    } else {
        Err(DynamicsError::NonFinite {
            field: "conditional fit (overflow)",
            index: 0,
        })
    }
}

/// Workspace of the sample-space path (`N` points, `a` inputs, `b` outputs).
#[derive(Debug, Clone)]
struct DualWork {
    /// `N x N`: `XᵀX + N·ridge·I` (lower triangle).
    gram: Mat<f64>,
    llt: LltWork,
    /// `N x N`: its Cholesky factor.
    l: Mat<f64>,
    /// `(a+b) x N`: `[Pᵀ; Qᵀ]` with `P = L⁻¹ Xᵀ`, `Q = L⁻¹ Yᵀ`.
    pq_t: Mat<f64>,
}

impl DualWork {
    fn new(n: usize, a: usize, b: usize) -> Self {
        DualWork {
            gram: Mat::zeros(n, n),
            llt: LltWork::new(n),
            l: Mat::zeros(n, n),
            pq_t: Mat::zeros(a + b, n),
        }
    }
}

fn check_out(
    field: &'static str,
    rows: usize,
    cols: usize,
    er: usize,
    ec: usize,
) -> Result<(), DynamicsError> {
    if rows != er || cols != ec {
        return Err(DynamicsError::DimensionMismatch {
            field,
            expected: er * ec,
            got: rows * cols,
        });
    }
    Ok(())
}

/// `sigma ← (scatter + Φ + (N m/(N+m)) (μ̂−μ0)(μ̂−μ0)ᵀ) / (N + n0)` on the lower triangle
/// (only the lower triangles of `sigma` and `Φ` are read).
pub(crate) fn apply_prior(sigma: &mut Mat<f64>, mean: &[f64], n: f64, p: PriorRef<'_>) {
    let d = mean.len();
    let c = if n + p.m > 0.0 {
        n * p.m / (n + p.m)
    } else {
        0.0
    };
    let denom = 1.0 / (n + p.n0);
    for j in 0..d {
        let dj = mean[j] - p.mu0[j];
        let col = sigma.col_as_slice_mut(j);
        for i in j..d {
            let di = mean[i] - p.mu0[i];
            col[i] = (col[i] + p.phi[(i, j)] + c * di * dj) * denom;
        }
    }
}

/// `dst (lower triangle) = Y Yᵀ` (or `+= Y Yᵀ` with `accumulate`), single-threaded.
pub(crate) fn scatter_lower(dst: MatMut<'_, f64>, y: MatRef<'_, f64>, accumulate: bool) {
    lower_matmul_into(dst, y, y.transpose(), 1.0, accumulate);
}

/// Column `j` of a matrix with contiguous columns.
#[inline]
fn col<'a>(m: MatRef<'a, f64>, j: usize) -> &'a [f64] {
    m.col(j)
        .try_as_col_major()
        // Callers pass matrices with unit row stride (`fit_into` copies any other layout).
        .expect("contiguous columns")
        .as_slice()
}

/// Fit `b | a` once (convenience wrapper over [`ConditionalRegressor`]).
///
/// `points` is `(a+b) x N` with one joint point `[a_i; b_i]` per column; `prior` an optional
/// NIW prior over the joint (already scaled by its strength); `ridge` is added to the input
/// block's diagonal.
///
/// ```
/// use faer::Mat;
/// use pilqr_dynamics::{NiwPrior, fit_conditional_gaussian};
///
/// // Two points only: the prior (b ≈ a, unit variances) keeps the fit well-posed.
/// let pts = Mat::from_fn(2, 2, |i, j| [[0.0, 1.0], [0.1, 0.9]][j][i]);
/// let prior = NiwPrior::new(vec![0.5, 0.5], Mat::from_fn(2, 2, |i, j| if i == j { 1.0 } else { 0.9 }), 1.0, 1.0).unwrap();
/// let fit = fit_conditional_gaussian(pts.as_ref(), 1, Some(&prior), 1e-6).unwrap();
/// assert!(fit.covariance[(0, 0)] > 0.0);
/// assert!(fit.gain[(0, 0)] > 0.5 && fit.gain[(0, 0)] < 1.0);
/// ```
pub fn fit_conditional_gaussian(
    points: MatRef<'_, f64>,
    input_dim: usize,
    prior: Option<&NiwPrior>,
    ridge: f64,
) -> Result<ConditionalGaussianFit, DynamicsError> {
    if input_dim > points.nrows() {
        return Err(DynamicsError::DimensionMismatch {
            field: "input dimension (at most the point dimension)",
            expected: points.nrows(),
            got: input_dim,
        });
    }
    ConditionalRegressor::new(input_dim, points.nrows() - input_dim).fit(points, prior, ridge)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general (input-space) path, whatever the sample count.
    fn primal(
        reg: &mut ConditionalRegressor,
        pts: MatRef<'_, f64>,
        ridge: f64,
    ) -> ConditionalGaussianFit {
        let (a, b) = (reg.a, reg.b);
        let mut gain = Mat::zeros(b, a);
        let mut offset = vec![0.0; b];
        let mut covariance = Mat::zeros(b, b);
        reg.moments(pts);
        let s = 1.0 / pts.ncols() as f64;
        for j in 0..a + b {
            for v in &mut reg.sigma.col_as_slice_mut(j)[j..] {
                *v *= s;
            }
        }
        reg.condition(ridge, gain.as_mut(), &mut offset, covariance.as_mut())
            .unwrap();
        ConditionalGaussianFit {
            gain,
            offset,
            covariance,
        }
    }

    #[test]
    fn finiteness_check_catches_inf_and_nan() {
        assert!(all_finite(&[0.0, -0.0, 1e308, -1e-310, f64::MIN_POSITIVE]));
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert!(!all_finite(&[1.0, 2.0, bad, 3.0]));
        }
        assert!(all_finite(&[]));
    }

    #[test]
    fn sample_space_path_matches_the_input_space_path() {
        // 7 points, 10 inputs, 4 outputs (N ≤ a): the sample-space path is taken.
        let (a, b, n) = (10, 4, 7);
        let pts = Mat::from_fn(a + b, n, |i, j| {
            let x = ((i * 7 + j * 13) % 11) as f64 * 0.3 - 1.0 + 0.01 * (i * j) as f64;
            if i < a {
                x
            } else {
                0.5 * x + 0.1 * ((i + 3 * j) % 5) as f64
            }
        });
        for ridge in [1e-6, 1e-2, 1.0] {
            let mut reg = ConditionalRegressor::new(a, b);
            let dual = reg.fit(pts.as_ref(), None, ridge).unwrap();
            assert!(reg.dual.is_some(), "sample-space path used");
            let reference = primal(&mut ConditionalRegressor::new(a, b), pts.as_ref(), ridge);
            let scale = 1.0 + reference.gain.norm_max();
            assert!(
                (&dual.gain - &reference.gain).norm_max() < 1e-8 * scale,
                "ridge {ridge}"
            );
            for (x, y) in dual.offset.iter().zip(&reference.offset) {
                assert!((x - y).abs() < 1e-8 * scale);
            }
            let cscale = reference.covariance.norm_max();
            assert!((&dual.covariance - &reference.covariance).norm_max() < 1e-6 * cscale);
            for j in 0..b {
                for i in 0..b {
                    assert_eq!(dual.covariance[(i, j)], dual.covariance[(j, i)]);
                }
            }
        }
        // With more points than inputs, or no ridge, the general path is used.
        let mut reg = ConditionalRegressor::new(a, b);
        reg.fit(pts.as_ref(), None, 0.0).unwrap();
        assert!(reg.dual.is_none());
    }
}
