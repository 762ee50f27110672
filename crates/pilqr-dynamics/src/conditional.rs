//! Generic conditional regression with an optional normal-inverse-Wishart prior.
//!
//! Given `N` joint points `y_i = [a_i; b_i]` (input dims `a`, output dims `b`), fit the joint
//! Gaussian (sample moments, or their NIW posterior when a prior is given) and condition it on
//! the input: `b ~ N(F a + f, Σ_{b|a})`. Dynamics regression is the special case
//! `a = [x_t; u_t]`, `b = x_{t+1}`; MDGPS's policy linearisation uses `a = x_t`, `b = μθ(x_t)`.

use faer::linalg::matmul::triangular::{BlockStructure, matmul as tri_matmul};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use pilqr_linalg::{Cholesky, Jitter, matmul_into, symmetrize};
use serde::{Deserialize, Serialize};

use crate::error::DynamicsError;
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
    sigma: Mat<f64>,
    chol: Cholesky,
    solved: Mat<f64>,
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
            chol: Cholesky::with_dim(input_dim),
            solved: Mat::zeros(input_dim, output_dim),
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
        gain: MatMut<'_, f64>,
        offset: &mut [f64],
        covariance: MatMut<'_, f64>,
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

        self.moments(points);
        let nf = n as f64;
        match prior {
            None => {
                let s = 1.0 / nf;
                for j in 0..d {
                    for v in self.sigma.col_as_slice_mut(j) {
                        *v *= s;
                    }
                }
            }
            Some(p) => apply_prior(&mut self.sigma, &self.mean, nf, p),
        }
        self.condition(ridge, gain, offset, covariance)
    }

    /// `mean` = sample mean; `sigma` = scatter `Σ (y−μ)(y−μ)ᵀ` (both triangles).
    fn moments(&mut self, points: MatRef<'_, f64>) {
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
        scatter_lower(self.sigma.as_mut(), self.centered.as_ref());
        mirror_lower(self.sigma.as_mut());
    }

    /// Condition the joint Gaussian (`self.mean`, `self.sigma`) on the input block.
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
        let (s_aa, s_ab, s_ba, s_bb) = self.sigma.as_ref().split_at(a, a);
        self.chol.refactor(s_aa, Jitter::default()).map_err(|_| {
            DynamicsError::NotPositiveDefinite {
                what: "input block of the joint covariance",
            }
        })?;
        self.solved.copy_from(s_ab);
        self.chol.solve_in_place(self.solved.as_mut());
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
        // covariance = Σ_bb − Σ_ba Σ_aa⁻¹ Σ_ab  (= Σ_bb − F Σ_aa Fᵀ), symmetrised.
        covariance.copy_from(s_bb);
        matmul_into(covariance.as_mut(), s_ba, self.solved.as_ref(), -1.0, true);
        symmetrize(covariance.as_mut());
        // gain = solvedᵀ: check `solved`, whose columns are contiguous.
        let finite = (0..b).all(|c| self.solved.col_as_slice(c).iter().all(|v| v.is_finite()))
            && offset.iter().all(|v| v.is_finite())
            && (0..b).all(|c| (0..b).all(|r| covariance[(r, c)].is_finite()));
        if !finite {
            return Err(DynamicsError::NonFinite {
                field: "conditional fit (overflow)",
                index: 0,
            });
        }
        Ok(())
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

/// `sigma ← (scatter + Φ + (N m/(N+m)) (μ̂−μ0)(μ̂−μ0)ᵀ) / (N + n0)`, symmetric on return.
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
    mirror_lower(sigma.as_mut());
}

/// `dst (lower triangle) = Y Yᵀ`, single-threaded.
pub(crate) fn scatter_lower(dst: MatMut<'_, f64>, y: MatRef<'_, f64>) {
    tri_matmul(
        dst,
        BlockStructure::TriangularLower,
        Accum::Replace,
        y,
        BlockStructure::Rectangular,
        y.transpose(),
        BlockStructure::Rectangular,
        1.0,
        Par::Seq,
    );
}

/// Column `j` of a matrix with contiguous columns.
#[inline]
fn col<'a>(m: MatRef<'a, f64>, j: usize) -> &'a [f64] {
    m.col(j)
        .try_as_col_major()
        .expect("contiguous columns")
        .as_slice()
}

/// Copy the lower triangle onto the upper one.
pub(crate) fn mirror_lower(mut m: MatMut<'_, f64>) {
    let n = m.nrows();
    for j in 0..n {
        for i in 0..j {
            m[(i, j)] = m[(j, i)];
        }
    }
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
