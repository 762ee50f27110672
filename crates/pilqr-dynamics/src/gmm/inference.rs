//! The normal-inverse-Wishart prior a fitted mixture gives for a set of query points
//! (docs/design.md §4.2): mixture weights from the points' mean responsibilities, then the
//! moments of the weighted mixture.

use faer::reborrow::ReborrowMut;
use faer::{Mat, MatMut, MatRef};

use super::Gmm;
use crate::error::DynamicsError;
use crate::niw_prior::NiwPrior;
use pilqr_linalg::mirror_lower;

impl Gmm {
    /// The normalised NIW prior for a query set of points (docs/design.md §4.2): with
    /// `w_k = mean_i r_ik`, `μ0 = Σ_k w_k μ_k`, `Φ = Σ_k w_k (Σ_k + (μ_k−μ0)(μ_k−μ0)ᵀ)`,
    /// `m = 1`, `n0 = max(0, (N_g − 2 − D) / N_g)`. Scale with [`NiwPrior::with_strength`].
    pub fn inference(&self, points: MatRef<'_, f64>) -> Result<NiwPrior, DynamicsError> {
        let (r, _) = self.responsibilities_flat(points)?;
        let k = self.num_components();
        let n = points.ncols();
        let mut w = vec![0.0; k];
        for i in 0..n {
            for (wk, rk) in w.iter_mut().zip(&r[i * k..(i + 1) * k]) {
                *wk += rk;
            }
        }
        w.iter_mut().for_each(|v| *v /= n as f64);
        self.inference_from_weights(&w)
    }

    /// The normalised NIW prior for given component weights `w` (`K` entries, normalised here).
    pub fn inference_from_weights(&self, w: &[f64]) -> Result<NiwPrior, DynamicsError> {
        if !self.is_fitted() {
            return Err(DynamicsError::NotFitted);
        }
        let k = self.num_components();
        if w.len() != k {
            return Err(DynamicsError::DimensionMismatch {
                field: "component weights",
                expected: k,
                got: w.len(),
            });
        }
        crate::error::check_finite("component weights", w)?;
        let s: f64 = w.iter().sum();
        if s.is_nan() || s <= 0.0 || w.iter().any(|&v| v < 0.0) {
            return Err(DynamicsError::InvalidConfig {
                field: "component weights",
                reason: "must be >= 0 with a positive sum".into(),
            });
        }
        let wn: Vec<f64> = w.iter().map(|v| v / s).collect();
        let d = self.dim;
        let mut mu0 = vec![0.0; d];
        let mut phi = Mat::zeros(d, d);
        self.mixture_prior_into(&wn, 1.0, &mut mu0, phi.as_mut(), &mut vec![0.0; d]);
        mirror_lower(phi.as_mut());
        Ok(NiwPrior {
            mu0,
            phi,
            m: 1.0,
            n0: self.normalised_n0(),
        })
    }

    /// `n0` of the normalised prior: `max(0, (N_g − 2 − D) / N_g)`.
    pub(crate) fn normalised_n0(&self) -> f64 {
        let ng = self.fitted_points as f64;
        if ng <= 0.0 {
            return 0.0;
        }
        ((ng - 2.0 - self.dim as f64) / ng).max(0.0)
    }

    /// For normalised component weights `w` (`K` entries summing to 1): `μ0 = Σ_k w_k μ_k` into
    /// `mu0`, and `scale · Σ_k w_k (Σ_k + (μ_k−μ0)(μ_k−μ0)ᵀ)` into the **lower triangle** of
    /// `phi` (`D x D`; the strict upper triangle is left unspecified). `diff` is `D` scratch.
    ///
    /// Components with a weight of exactly 0 are skipped (their terms are exactly 0), so a
    /// query set that sits in a few components costs a few `D²/2` updates.
    pub(crate) fn mixture_prior_into(
        &self,
        w: &[f64],
        scale: f64,
        mu0: &mut [f64],
        mut phi: MatMut<'_, f64>,
        diff: &mut [f64],
    ) {
        let d = self.dim;
        mu0.iter_mut().for_each(|v| *v = 0.0);
        for (c, &wc) in w.iter().enumerate() {
            if wc != 0.0 {
                for (m, x) in mu0.iter_mut().zip(self.means.col_as_slice(c)) {
                    *m += wc * x;
                }
            }
        }
        for j in 0..d {
            for i in j..d {
                phi[(i, j)] = 0.0;
            }
        }
        for (c, &wc) in w.iter().enumerate() {
            if wc == 0.0 {
                continue;
            }
            let ws = scale * wc;
            for ((df, m), m0) in diff.iter_mut().zip(self.means.col_as_slice(c)).zip(&*mu0) {
                *df = m - m0;
            }
            let cov = self.covariances.step_slice(c);
            for j in 0..d {
                let dj = ws * diff[j];
                let dst = phi.rb_mut().col_mut(j).subrows_mut(j, d - j);
                let src = &cov[j * d + j..(j + 1) * d];
                for ((p, s), di) in dst.iter_mut().zip(src).zip(&diff[j..]) {
                    *p += ws * s + dj * di;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GmmConfig;
    use pilqr_linalg::MatStack;

    #[test]
    fn zero_weights_are_skipped_and_moments_match_the_formula() {
        let means = Mat::from_fn(2, 3, |i, j| [[0.0, 1.0], [4.0, -2.0], [9.0, 9.0]][j][i]);
        let covs = MatStack::from_fn(3, 2, 2, |c, mut m| {
            m[(0, 0)] = 1.0 + c as f64;
            m[(1, 1)] = 2.0;
            m[(0, 1)] = 0.5;
            m[(1, 0)] = 0.5;
        });
        let g = Gmm::from_components(GmmConfig::default(), vec![1.0; 3], means, covs, 100).unwrap();
        let w = [0.25, 0.75, 0.0];
        let mut mu0 = vec![0.0; 2];
        let mut phi = Mat::zeros(2, 2);
        g.mixture_prior_into(&w, 2.0, &mut mu0, phi.as_mut(), &mut [0.0; 2]);
        assert_eq!(mu0, vec![3.0, -1.25]);
        // Σ_mix = Σ w (Σ_k + d dᵀ), d_0 = (−3, 2.25), d_1 = (1, −0.75).
        let s00 = 0.25 * (1.0 + 9.0) + 0.75 * (2.0 + 1.0);
        let s10 = 0.25 * (0.5 - 6.75) + 0.75 * (0.5 - 0.75);
        let s11 = 0.25 * (2.0 + 2.25 * 2.25) + 0.75 * (2.0 + 0.5625);
        assert!((phi[(0, 0)] - 2.0 * s00).abs() < 1e-13);
        assert!((phi[(1, 0)] - 2.0 * s10).abs() < 1e-13);
        assert!((phi[(1, 1)] - 2.0 * s11).abs() < 1e-13);
        let p = g.inference_from_weights(&[1.0, 3.0, 0.0]).unwrap();
        assert!((p.phi[(0, 1)] - s10).abs() < 1e-13 && p.phi[(0, 1)] == p.phi[(1, 0)]);
    }
}
