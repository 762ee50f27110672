//! Gaussian mixture model fitted by expectation-maximisation (DESIGN.md §4.2).
//!
//! - **E-step**: per component, `L_k⁻¹ (x − μ_k)` by a triangular solve on all points at once;
//!   responsibilities by log-sum-exp, so far-away points never underflow to `0/0`.
//! - **M-step**: weights, means and covariances from the responsibilities; a point whose
//!   responsibility for a component is below `1e-12` is left out of that component's mean and
//!   covariance (its contribution is below round-off), which makes the M-step cost close to one
//!   pass over the data instead of `K`. Every covariance gets `covariance_floor · I`. A
//!   component whose weight falls below `1e-4 / K` is *rebooted* to the moments of all points.
//! - **Initialisation** (cold start, seeded): greedy k-means++ seeding (`2 + ⌊ln K⌋`
//!   D²-sampled candidates per centre, the best kept) with a [`ChaCha8Rng`] seeded by
//!   `seed`, refined by up to 10 Lloyd iterations; every component starts with the global
//!   covariance (plus floor) and the weight of its k-means cell.
//! - **Warm start**: [`Gmm::update`] starts from the current parameters when the component count
//!   and dimension are unchanged (the seed is then unused).
//! - **Stopping**: after each E-step, stop when `|Δℓ| ≤ tolerance · max(1, |ℓ|)`; if `ℓ`
//!   decreased (possible only through the floor or a reboot), the previous parameters are
//!   restored and the fit stops — a worse iterate is never kept. At most `max_iterations`
//!   M-steps.

use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::reborrow::ReborrowMut;
use faer::{Mat, MatRef, Par};
use pilqr_linalg::{Cholesky, Jitter, MatStack, matmul_into};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::conditional::{mirror_lower, scatter_lower};
use crate::config::GmmConfig;
use crate::error::DynamicsError;
use crate::niw_prior::NiwPrior;

/// Responsibilities below this are left out of a component's M-step.
const RESP_CUTOFF: f64 = 1e-12;
/// Columns of data processed together in the E-step (keeps the work matrix in cache).
const E_CHUNK: usize = 256;
/// Lloyd iterations refining the k-means++ seeds.
const LLOYD_ITERATIONS: usize = 10;
/// Pruned E-step from this dimension on.
const PRUNE_MIN_DIM: usize = 24;
/// Components more than this many nats below a point's evaluated best are not evaluated.
const PRUNE_NATS: f64 = 40.0;
/// Smallest weight kept (avoids `ln 0`).
const MIN_WEIGHT: f64 = 1e-300;

/// Why an EM run stopped.
///
/// ```
/// use faer::Mat;
/// use pilqr_dynamics::{EmStop, Gmm, GmmConfig};
///
/// let pts = Mat::from_fn(1, 40, |_, j| (j % 4) as f64);
/// let mut gmm = Gmm::new(GmmConfig { max_iterations: 1, tolerance: 0.0, ..GmmConfig::default() });
/// let r = gmm.fit(pts.as_ref(), 2, 0).unwrap();
/// assert!(r.stop == EmStop::MaxIterations || r.stop == EmStop::LikelihoodDecreased);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmStop {
    /// `|Δℓ| ≤ tolerance · max(1, |ℓ|)`.
    Converged,
    /// The last iterate had a lower log-likelihood; it was discarded.
    LikelihoodDecreased,
    /// `max_iterations` M-steps were made.
    MaxIterations,
}

/// What an EM run did.
///
/// ```
/// use faer::Mat;
/// use pilqr_dynamics::{Gmm, GmmConfig};
///
/// let pts = Mat::from_fn(2, 300, |i, j| if j % 3 == 0 { 5.0 } else { 0.0 } + 0.1 * ((i + 7 * j) % 11) as f64);
/// let mut gmm = Gmm::new(GmmConfig::default());
/// let cold = gmm.fit(pts.as_ref(), 2, 1).unwrap();
/// assert!(cold.initialised && cold.points == 300 && cold.components == 2);
/// assert_eq!(cold.log_likelihoods.len(), cold.iterations + 1);
/// let warm = gmm.update(pts.as_ref(), 2, 1).unwrap();
/// assert!(!warm.initialised);
/// assert!(warm.log_likelihood() >= cold.log_likelihood() - 1e-9 * cold.log_likelihood().abs());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmReport {
    /// Whether the run started from a fresh (seeded) initialisation rather than a warm start.
    pub initialised: bool,
    /// EM iterations (M-steps) whose result was kept.
    pub iterations: usize,
    /// Total log-likelihood of each kept iterate, starting with the initial parameters;
    /// non-decreasing by construction. The last entry is the final fit's.
    pub log_likelihoods: Vec<f64>,
    /// Log-likelihood of a discarded (worse) last iterate, if any.
    pub rejected: Option<f64>,
    /// Why the run stopped.
    pub stop: EmStop,
    /// Number of components.
    pub components: usize,
    /// Number of data points.
    pub points: usize,
}

impl EmReport {
    /// Final total log-likelihood.
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihoods
            .last()
            .copied()
            .unwrap_or(f64::NEG_INFINITY)
    }
}

/// A Gaussian mixture model `p(y) = Σ_k π_k N(y; μ_k, Σ_k)` over `D`-dimensional points.
///
/// Points are passed as a `D x n` matrix, one point per column.
///
/// ```
/// use faer::Mat;
/// use pilqr_dynamics::{Gmm, GmmConfig};
///
/// // Two blobs on a line.
/// let pts = Mat::from_fn(1, 200, |_, j| if j % 2 == 0 { -3.0 } else { 3.0 } + 0.01 * (j % 7) as f64);
/// let mut gmm = Gmm::new(GmmConfig::default());
/// let report = gmm.fit(pts.as_ref(), 2, 42).unwrap();
/// assert!(report.log_likelihoods.windows(2).all(|w| w[1] >= w[0]));
/// let mut means: Vec<f64> = (0..2).map(|k| gmm.mean(k)[0]).collect();
/// means.sort_by(f64::total_cmp);
/// assert!((means[0] + 2.97).abs() < 0.05 && (means[1] - 3.03).abs() < 0.05);
/// let r = gmm.responsibilities(pts.as_ref()).unwrap();
/// assert!((r[(0, 0)] + r[(0, 1)] - 1.0).abs() < 1e-12);
/// // The NIW prior of a query set (normalised: m = 1).
/// let prior = gmm.inference(pts.as_ref()).unwrap();
/// assert_eq!(prior.m, 1.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawGmm", into = "RawGmm")]
pub struct Gmm {
    config: GmmConfig,
    dim: usize,
    weights: Vec<f64>,
    /// `D x K`, column `k` = mean of component `k`.
    means: Mat<f64>,
    covariances: MatStack,
    fitted_points: usize,
}

#[derive(Serialize, Deserialize)]
struct RawGmm {
    config: GmmConfig,
    dim: usize,
    weights: Vec<f64>,
    #[serde(with = "crate::serde_mat")]
    means: Mat<f64>,
    covariances: MatStack,
    fitted_points: usize,
}

impl TryFrom<RawGmm> for Gmm {
    type Error = DynamicsError;
    fn try_from(r: RawGmm) -> Result<Self, DynamicsError> {
        r.config.validate()?;
        let mut g = Gmm::new(r.config);
        if r.weights.is_empty() {
            g.dim = r.dim;
            return Ok(g);
        }
        g.set_components(r.weights, r.means, r.covariances, r.fitted_points, false)?;
        Ok(g)
    }
}

impl From<Gmm> for RawGmm {
    fn from(g: Gmm) -> Self {
        RawGmm {
            config: g.config,
            dim: g.dim,
            weights: g.weights,
            means: g.means,
            covariances: g.covariances,
            fitted_points: g.fitted_points,
        }
    }
}

/// The parameters EM iterates on.
#[derive(Clone)]
struct Params {
    weights: Vec<f64>,
    means: Mat<f64>,
    covariances: MatStack,
}

/// Cholesky factors and log normalisers of the components.
struct Factors {
    chol: Vec<Cholesky>,
    /// `ln π_k − ½ (D ln 2π + ln det Σ_k)`.
    log_norm: Vec<f64>,
}

impl Gmm {
    /// An unfitted model with these EM settings.
    pub fn new(config: GmmConfig) -> Self {
        Gmm {
            config,
            dim: 0,
            weights: Vec::new(),
            means: Mat::zeros(0, 0),
            covariances: MatStack::zeros(0, 0, 0),
            fitted_points: 0,
        }
    }

    /// A model with given components: `weights` (`K`, positive, normalised here), `means`
    /// (`D x K`), `covariances` (`K` matrices `D x D`, symmetric positive definite);
    /// `fitted_points` is the `N_g` used for `n0` in [`Gmm::inference`].
    pub fn from_components(
        config: GmmConfig,
        weights: Vec<f64>,
        means: Mat<f64>,
        covariances: MatStack,
        fitted_points: usize,
    ) -> Result<Self, DynamicsError> {
        config.validate()?;
        let mut g = Gmm::new(config);
        g.set_components(weights, means, covariances, fitted_points, true)?;
        Ok(g)
    }

    fn set_components(
        &mut self,
        mut weights: Vec<f64>,
        means: Mat<f64>,
        covariances: MatStack,
        fitted_points: usize,
        normalise: bool,
    ) -> Result<(), DynamicsError> {
        let k = weights.len();
        let d = means.nrows();
        if k == 0 {
            return Err(DynamicsError::NoData {
                what: "mixture components",
            });
        }
        if d == 0 {
            return Err(DynamicsError::DimensionMismatch {
                field: "mixture dimension (must be > 0)",
                expected: 1,
                got: 0,
            });
        }
        if means.ncols() != k {
            return Err(DynamicsError::DimensionMismatch {
                field: "mixture means (columns)",
                expected: k,
                got: means.ncols(),
            });
        }
        if covariances.len() != k || covariances.rows() != d || covariances.cols() != d {
            return Err(DynamicsError::DimensionMismatch {
                field: "mixture covariances (K·D·D)",
                expected: k * d * d,
                got: covariances.len() * covariances.rows() * covariances.cols(),
            });
        }
        crate::error::check_finite("mixture weights", &weights)?;
        for j in 0..k {
            crate::error::check_finite("mixture means", means.col_as_slice(j))?;
        }
        crate::error::check_finite("mixture covariances", covariances.as_slice())?;
        if weights.iter().any(|&w| w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
            return Err(DynamicsError::InvalidConfig {
                field: "mixture weights",
                reason: "must be >= 0 with a positive sum".into(),
            });
        }
        if normalise {
            let s: f64 = weights.iter().sum();
            weights
                .iter_mut()
                .for_each(|w| *w = (*w / s).max(MIN_WEIGHT));
        }
        for c in 0..k {
            Cholesky::factor(covariances.at(c), Jitter::NONE).map_err(|_| {
                DynamicsError::NotPositiveDefinite {
                    what: "mixture component covariance",
                }
            })?;
        }
        self.dim = d;
        self.weights = weights;
        self.means = means;
        self.covariances = covariances;
        self.fitted_points = fitted_points;
        Ok(())
    }

    /// EM settings.
    pub fn config(&self) -> &GmmConfig {
        &self.config
    }

    /// Whether the model has components.
    pub fn is_fitted(&self) -> bool {
        !self.weights.is_empty()
    }

    /// Number of components `K` (0 before the first fit).
    pub fn num_components(&self) -> usize {
        self.weights.len()
    }

    /// Dimension `D` of the points (0 before the first fit).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Mixture weights `π_k`.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Mean `μ_k`.
    ///
    /// # Panics
    /// If `k >= num_components()`.
    pub fn mean(&self, k: usize) -> &[f64] {
        self.means.col_as_slice(k)
    }

    /// Covariance `Σ_k`.
    ///
    /// # Panics
    /// If `k >= num_components()`.
    pub fn covariance(&self, k: usize) -> MatRef<'_, f64> {
        self.covariances.at(k)
    }

    /// Number of points of the last fit (`N_g`).
    pub fn fitted_points(&self) -> usize {
        self.fitted_points
    }

    /// Fit `k` components to `points` (`D x n`) from a fresh initialisation seeded by `seed`.
    pub fn fit(
        &mut self,
        points: MatRef<'_, f64>,
        k: usize,
        seed: u64,
    ) -> Result<EmReport, DynamicsError> {
        self.run(points, k, seed, false).map(|(r, _)| r)
    }

    /// Refit to `points`, warm-starting from the current parameters when the model is fitted
    /// with the same `k` and dimension; otherwise as [`Gmm::fit`] with `seed`.
    pub fn update(
        &mut self,
        points: MatRef<'_, f64>,
        k: usize,
        seed: u64,
    ) -> Result<EmReport, DynamicsError> {
        self.run(points, k, seed, true).map(|(r, _)| r)
    }

    /// EM; returns the report and the final responsibilities (`n·K`, point-major).
    pub(crate) fn run(
        &mut self,
        points: MatRef<'_, f64>,
        k: usize,
        seed: u64,
        allow_warm: bool,
    ) -> Result<(EmReport, Vec<f64>), DynamicsError> {
        self.config.validate()?;
        let owned;
        let points = if points.row_stride() == 1 {
            points
        } else {
            owned = points.to_owned();
            owned.as_ref()
        };
        let (d, n) = check_points(points, None)?;
        if k == 0 {
            return Err(DynamicsError::InvalidConfig {
                field: "number of components",
                reason: "must be at least 1".into(),
            });
        }
        let mut warm =
            allow_warm && self.is_fitted() && self.num_components() == k && self.dim == d;
        let mut cur = if warm {
            Params {
                weights: self.weights.clone(),
                means: self.means.clone(),
                covariances: self.covariances.clone(),
            }
        } else {
            initialise(points, k, seed, self.config.covariance_floor)
        };
        let mut work = Mat::zeros(d, E_CHUNK.min(n));
        let mut resp = vec![0.0; n * k];
        let mut prev_resp = vec![0.0; n * k];
        let mut prune = true;
        let mut ll = match estep(&cur, points, &mut work, &mut resp, &mut prune) {
            Ok(ll) => ll,
            // The previous fit cannot even evaluate the new data (e.g. it lies so far away
            // that the log-likelihood overflows): start afresh instead of failing.
            Err(_) if warm => {
                warm = false;
                cur = initialise(points, k, seed, self.config.covariance_floor);
                estep(&cur, points, &mut work, &mut resp, &mut prune)?
            }
            Err(e) => return Err(e),
        };
        let mut report = EmReport {
            initialised: !warm,
            iterations: 0,
            log_likelihoods: vec![ll],
            rejected: None,
            stop: EmStop::MaxIterations,
            components: k,
            points: n,
        };
        let mut prev = cur.clone();
        let mut mwork = Mat::zeros(d, n);
        for _ in 0..self.config.max_iterations {
            prev.weights.clone_from(&cur.weights);
            prev.means.copy_from(&cur.means);
            prev.covariances
                .as_mut_slice()
                .copy_from_slice(cur.covariances.as_slice());
            std::mem::swap(&mut resp, &mut prev_resp);
            mstep(
                &mut cur,
                points,
                &prev_resp,
                &mut mwork,
                self.config.covariance_floor,
            );
            let new_ll = estep(&cur, points, &mut work, &mut resp, &mut prune)?;
            if new_ll.is_nan() || new_ll < ll {
                // Worse (or non-finite): keep the previous iterate and its responsibilities.
                // A decrease within the tolerance is round-off at convergence.
                std::mem::swap(&mut cur, &mut prev);
                std::mem::swap(&mut resp, &mut prev_resp);
                report.rejected = Some(new_ll);
                report.stop = if (new_ll - ll).abs() <= self.config.tolerance * ll.abs().max(1.0) {
                    EmStop::Converged
                } else {
                    EmStop::LikelihoodDecreased
                };
                break;
            }
            report.iterations += 1;
            report.log_likelihoods.push(new_ll);
            let converged = (new_ll - ll).abs() <= self.config.tolerance * new_ll.abs().max(1.0);
            ll = new_ll;
            if converged {
                report.stop = EmStop::Converged;
                break;
            }
        }
        self.dim = d;
        self.weights = cur.weights;
        self.means = cur.means;
        self.covariances = cur.covariances;
        self.fitted_points = n;
        Ok((report, resp))
    }

    fn params_view(&self) -> Result<Params, DynamicsError> {
        if !self.is_fitted() {
            return Err(DynamicsError::NotFitted);
        }
        Ok(Params {
            weights: self.weights.clone(),
            means: self.means.clone(),
            covariances: self.covariances.clone(),
        })
    }

    /// Responsibilities `r_ik` (point-major `n·K`) and the total log-likelihood.
    pub(crate) fn responsibilities_flat(
        &self,
        points: MatRef<'_, f64>,
    ) -> Result<(Vec<f64>, f64), DynamicsError> {
        let p = self.params_view()?;
        let owned;
        let points = if points.row_stride() == 1 {
            points
        } else {
            owned = points.to_owned();
            owned.as_ref()
        };
        let (d, n) = check_points(points, Some(self.dim))?;
        let mut work = Mat::zeros(d, E_CHUNK.min(n));
        let mut resp = vec![0.0; n * self.num_components()];
        let ll = estep(&p, points, &mut work, &mut resp, &mut true)?;
        Ok((resp, ll))
    }

    /// Posterior component probabilities of each point: an `n x K` matrix whose rows sum to 1.
    pub fn responsibilities(&self, points: MatRef<'_, f64>) -> Result<Mat<f64>, DynamicsError> {
        let (r, _) = self.responsibilities_flat(points)?;
        let k = self.num_components();
        Ok(Mat::from_fn(points.ncols(), k, |i, j| r[i * k + j]))
    }

    /// Total log-likelihood `Σ_i ln p(y_i)` of `points`.
    pub fn log_likelihood(&self, points: MatRef<'_, f64>) -> Result<f64, DynamicsError> {
        self.responsibilities_flat(points).map(|(_, ll)| ll)
    }

    /// The normalised NIW prior for a query set of points (DESIGN.md §4.2): with
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
        let wm = Mat::from_fn(k, 1, |i, _| w[i] / s);
        let (mu0, phi) = self.mixture_moments(wm.as_ref());
        let d = self.dim;
        Ok(NiwPrior {
            mu0: mu0.col_as_slice(0).to_vec(),
            phi: Mat::from_fn(d, d, |i, j| {
                let (i, j) = if i >= j { (i, j) } else { (j, i) };
                phi[(j * d + i, 0)]
            }),
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

    /// For weight columns `w` (`K x S`, each summing to 1): the means `μ0_s` (`D x S`) and the
    /// mixture covariances `Σ_mix,s` as columns of a `D² x S` matrix (column-major `D x D`).
    ///
    /// Uses second moments about the overall mean `c`, so one matrix product serves all `S`
    /// columns: `Σ_mix = Σ_k w_k (Σ_k + (μ_k−c)(μ_k−c)ᵀ) − (μ0−c)(μ0−c)ᵀ`.
    pub(crate) fn mixture_moments(&self, w: MatRef<'_, f64>) -> (Mat<f64>, Mat<f64>) {
        self.mixture_moments_scaled(w, 1.0)
    }

    /// As [`Gmm::mixture_moments`] with `Σ_mix` multiplied by `scale`; only the lower
    /// triangle of each `Σ_mix` column is filled (the upper one is left unspecified).
    pub(crate) fn mixture_moments_scaled(
        &self,
        w: MatRef<'_, f64>,
        scale: f64,
    ) -> (Mat<f64>, Mat<f64>) {
        let d = self.dim;
        let k = self.num_components();
        let s = w.ncols();
        let mut c = vec![0.0; d];
        for kk in 0..k {
            let pk = self.weights[kk];
            for (ci, mi) in c.iter_mut().zip(self.means.col_as_slice(kk)) {
                *ci += pk * mi;
            }
        }
        let centred = Mat::from_fn(d, k, |i, kk| self.means[(i, kk)] - c[i]);
        let mut second = Mat::<f64>::zeros(d * d, k);
        for kk in 0..k {
            let col = second.col_as_slice_mut(kk);
            let cov = self.covariances.step_slice(kk);
            let mu = centred.col_as_slice(kk);
            for j in 0..d {
                for i in j..d {
                    col[j * d + i] = scale * (cov[j * d + i] + mu[i] * mu[j]);
                }
            }
        }
        let mut mu0c = Mat::zeros(d, s);
        matmul_into(mu0c.as_mut(), centred.as_ref(), w, 1.0, false);
        let mut phi = Mat::zeros(d * d, s);
        matmul_into(phi.as_mut(), second.as_ref(), w, 1.0, false);
        for col in 0..s {
            let m = mu0c.col_as_slice(col);
            let pc = phi.col_as_slice_mut(col);
            for j in 0..d {
                let mj = scale * m[j];
                for i in j..d {
                    pc[j * d + i] -= m[i] * mj;
                }
            }
        }
        let mut mu0 = mu0c;
        for col in 0..s {
            for (v, ci) in mu0.col_as_slice_mut(col).iter_mut().zip(&c) {
                *v += ci;
            }
        }
        (mu0, phi)
    }
}

/// Column `i` of a matrix whose columns are contiguous (checked by [`check_points`]).
#[inline]
fn col<'a>(points: MatRef<'a, f64>, i: usize) -> &'a [f64] {
    points
        .col(i)
        .try_as_col_major()
        .expect("points have contiguous columns")
        .as_slice()
}

/// Check a `D x n` point matrix: `n ≥ 1`, `D ≥ 1` (and `= dim` when given), finite.
fn check_points(
    points: MatRef<'_, f64>,
    dim: Option<usize>,
) -> Result<(usize, usize), DynamicsError> {
    let (d, n) = (points.nrows(), points.ncols());
    if n == 0 {
        return Err(DynamicsError::NoData {
            what: "mixture points",
        });
    }
    if let Some(e) = dim
        && d != e
    {
        return Err(DynamicsError::DimensionMismatch {
            field: "point dimension",
            expected: e,
            got: d,
        });
    }
    if d == 0 {
        return Err(DynamicsError::DimensionMismatch {
            field: "point dimension (must be > 0)",
            expected: 1,
            got: 0,
        });
    }
    for j in 0..n {
        for i in 0..d {
            if !points[(i, j)].is_finite() {
                return Err(DynamicsError::NonFinite {
                    field: "mixture points",
                    index: j * d + i,
                });
            }
        }
    }
    Ok((d, n))
}

fn factor(p: &Params) -> Result<Factors, DynamicsError> {
    let k = p.weights.len();
    let d = p.means.nrows();
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let mut chol = Vec::with_capacity(k);
    let mut log_norm = Vec::with_capacity(k);
    for c in 0..k {
        let f = Cholesky::factor(p.covariances.at(c), Jitter::default()).map_err(|_| {
            DynamicsError::NotPositiveDefinite {
                what: "mixture component covariance",
            }
        })?;
        log_norm.push(p.weights[c].max(MIN_WEIGHT).ln() - 0.5 * (d as f64 * ln2pi + f.log_det()));
        chol.push(f);
    }
    Ok(Factors { chol, log_norm })
}

/// E-step: fills `resp` (point-major `n·K`) and returns the total log-likelihood.
///
/// For `D ≥ 24` and `K ≥ 3` the E-step prunes, exactly up to round-off: the first `r` rows of
/// `L_k⁻¹ (x − μ_k)` involve only the first `r` coordinates (`L_k` is lower triangular), so
/// their squared norm is a lower bound on the Mahalanobis distance and
/// `ub_ik = ln π_k − ½ ln|2πΣ_k| − ½ ‖rows 0..r‖²` an upper bound on `ln π_k N(x_i; μ_k, Σ_k)`.
/// Each point is first evaluated fully under its most promising component (largest bound),
/// giving `v_i`; a component whose bound is below `v_i − 40` has responsibility below `e^−40`
/// (under f64 round-off relative to the point's total) and is set to exactly 0 without
/// evaluating it. Everything else is evaluated exactly.
///
/// `prune` says whether to try the bounds; it is cleared when they ruled out less than half of
/// the pairs (data whose components overlap in the leading coordinates), so that the rest of
/// an EM run does not pay for useless bounds.
fn estep(
    p: &Params,
    points: MatRef<'_, f64>,
    work: &mut Mat<f64>,
    resp: &mut [f64],
    prune: &mut bool,
) -> Result<f64, DynamicsError> {
    let f = factor(p)?;
    let k = p.weights.len();
    let (d, n) = (points.nrows(), points.ncols());
    if d < PRUNE_MIN_DIM || k < 3 || !*prune {
        let all: Vec<usize> = (0..n).collect();
        for c in 0..k {
            eval_full(p, &f, c, points, &all, work, resp);
        }
    } else {
        let r = (d / 4).clamp(8, 24);
        // Pass A: upper bounds from the leading r x r block.
        let mut ub = vec![0.0; n * k];
        for c in 0..k {
            let l = f.chol[c].l().submatrix(0, 0, r, r);
            let mu = &p.means.col_as_slice(c)[..r];
            let mut start = 0;
            while start < n {
                let cols = E_CHUNK.min(n - start);
                let mut y = work.as_mut().submatrix_mut(0, 0, r, cols);
                for j in 0..cols {
                    let dst = y
                        .rb_mut()
                        .col_mut(j)
                        .try_as_col_major_mut()
                        .expect("contiguous column")
                        .as_slice_mut();
                    for ((v, x), m) in dst.iter_mut().zip(&col(points, start + j)[..r]).zip(mu) {
                        *v = x - m;
                    }
                }
                solve_lower_triangular_in_place(l, y.rb_mut(), Par::Seq);
                for j in 0..cols {
                    ub[(start + j) * k + c] =
                        f.log_norm[c] - 0.5 * sq_norm(&work.col_as_slice(j)[..r]);
                }
                start += cols;
            }
        }
        // Pass B: each point under its most promising component.
        let mut anchor = vec![0usize; n];
        for (i, a) in anchor.iter_mut().enumerate() {
            let row = &ub[i * k..(i + 1) * k];
            let mut best = 0;
            for c in 1..k {
                if row[c] > row[best] {
                    best = c;
                }
            }
            *a = best;
        }
        resp.iter_mut().for_each(|v| *v = f64::NEG_INFINITY);
        let mut list = Vec::with_capacity(n);
        let mut evaluated = 0usize;
        for c in 0..k {
            list.clear();
            list.extend((0..n).filter(|&i| anchor[i] == c));
            eval_full(p, &f, c, points, &list, work, resp);
        }
        // Pass C: the components whose bound does not rule them out.
        for c in 0..k {
            list.clear();
            list.extend((0..n).filter(|&i| {
                anchor[i] != c && ub[i * k + c] >= resp[i * k + anchor[i]] - PRUNE_NATS
            }));
            eval_full(p, &f, c, points, &list, work, resp);
            evaluated += list.len();
        }
        // Bounds that rule out less than half the pairs do not pay for themselves.
        *prune = (evaluated as f64) < 0.5 * (n * (k - 1)) as f64;
    }
    let mut ll = 0.0;
    for i in 0..n {
        let row = &mut resp[i * k..(i + 1) * k];
        let mx = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut s = 0.0;
        for v in row.iter() {
            s += (v - mx).exp();
        }
        let lse = mx + s.ln();
        for v in row.iter_mut() {
            *v = (*v - lse).exp();
        }
        ll += lse;
    }
    if !ll.is_finite() {
        return Err(DynamicsError::NonFinite {
            field: "mixture log-likelihood",
            index: 0,
        });
    }
    Ok(ll)
}

/// Exact `ln π_c N(x_i; μ_c, Σ_c)` for the points `idx`, written to `resp[i·K + c]`.
fn eval_full(
    p: &Params,
    f: &Factors,
    c: usize,
    points: MatRef<'_, f64>,
    idx: &[usize],
    work: &mut Mat<f64>,
    resp: &mut [f64],
) {
    let k = p.weights.len();
    let d = points.nrows();
    let mu = p.means.col_as_slice(c);
    for chunk in idx.chunks(work.ncols().max(1)) {
        let cols = chunk.len();
        let mut y = work.as_mut().subcols_mut(0, cols);
        for (j, &i) in chunk.iter().enumerate() {
            let dst = y
                .rb_mut()
                .col_mut(j)
                .try_as_col_major_mut()
                .expect("contiguous column")
                .as_slice_mut();
            for ((v, x), m) in dst.iter_mut().zip(col(points, i)).zip(mu) {
                *v = x - m;
            }
        }
        solve_lower_triangular_in_place(f.chol[c].l(), y.rb_mut(), Par::Seq);
        for (j, &i) in chunk.iter().enumerate() {
            resp[i * k + c] = f.log_norm[c] - 0.5 * sq_norm(&work.col_as_slice(j)[..d]);
        }
    }
}

/// `‖a‖²` with four accumulators (vectorisable).
#[inline]
fn sq_norm(a: &[f64]) -> f64 {
    let n = a.len();
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for q in 0..chunks {
        for l in 0..4 {
            let v = a[4 * q + l];
            acc[l] += v * v;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in &a[4 * chunks..] {
        s += v * v;
    }
    s
}

/// M-step from responsibilities `resp` (point-major `n·K`); `work` is `D x n` scratch.
fn mstep(p: &mut Params, points: MatRef<'_, f64>, resp: &[f64], work: &mut Mat<f64>, floor: f64) {
    let k = p.weights.len();
    let (d, n) = (points.nrows(), points.ncols());
    let mut mass = vec![0.0; k];
    for i in 0..n {
        for (m, r) in mass.iter_mut().zip(&resp[i * k..(i + 1) * k]) {
            *m += r;
        }
    }
    let total: f64 = mass.iter().sum();
    for (w, m) in p.weights.iter_mut().zip(&mass) {
        *w = (m / total).max(MIN_WEIGHT);
    }
    let reboot = 1e-4 / k as f64;
    let mut active: Vec<(usize, f64)> = Vec::with_capacity(n);
    for c in 0..k {
        active.clear();
        if p.weights[c] < reboot {
            active.extend((0..n).map(|i| (i, 1.0)));
        } else {
            active.extend((0..n).filter_map(|i| {
                let r = resp[i * k + c];
                (r >= RESP_CUTOFF).then_some((i, r))
            }));
        }
        let s: f64 = active.iter().map(|&(_, r)| r).sum();
        let mu = p.means.col_as_slice_mut(c);
        mu.iter_mut().for_each(|v| *v = 0.0);
        for &(i, r) in &active {
            let w = r / s;
            for (m, x) in mu.iter_mut().zip(col(points, i)) {
                *m += w * x;
            }
        }
        let mu = p.means.col_as_slice(c).to_vec();
        let na = active.len();
        for (j, &(i, r)) in active.iter().enumerate() {
            let sw = (r / s).sqrt();
            let x = col(points, i);
            for ((w, xm), mm) in work.col_as_slice_mut(j).iter_mut().zip(x).zip(&mu) {
                *w = sw * (xm - mm);
            }
        }
        let cov = p.covariances.at_mut(c);
        scatter_lower(cov, work.as_ref().subcols(0, na));
        let mut cov = p.covariances.at_mut(c);
        mirror_lower(cov.rb_mut());
        for m in 0..d {
            cov[(m, m)] += floor;
        }
    }
}

/// Cold start: k-means++ seeds (seeded) refined by Lloyd iterations; global covariance.
fn initialise(points: MatRef<'_, f64>, k: usize, seed: u64, floor: f64) -> Params {
    let (d, n) = (points.nrows(), points.ncols());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dist2 = |i: usize, c: &[f64]| -> f64 {
        col(points, i)
            .iter()
            .zip(c)
            .map(|(x, y)| (x - y).powi(2))
            .sum()
    };
    let mut means = Mat::<f64>::zeros(d, k);
    let first = rng.random_range(0..n);
    for m in 0..d {
        means[(m, 0)] = points[(m, first)];
    }
    let mut d2: Vec<f64> = (0..n).map(|i| dist2(i, means.col_as_slice(0))).collect();
    // Greedy k-means++: of `trials` D²-sampled candidates, keep the one that lowers the
    // potential most.
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut cand_d2 = vec![0.0; n];
    let mut best_d2 = vec![0.0; n];
    for c in 1..k {
        let total: f64 = d2.iter().sum();
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..trials {
            let idx = if total > 0.0 {
                let mut u = rng.random::<f64>() * total;
                let mut pick = n - 1;
                for (i, &v) in d2.iter().enumerate() {
                    if u < v {
                        pick = i;
                        break;
                    }
                    u -= v;
                }
                pick
            } else {
                rng.random_range(0..n)
            };
            let cp = col(points, idx);
            let mut pot = 0.0;
            for (i, v) in cand_d2.iter_mut().enumerate() {
                *v = d2[i].min(dist2(i, cp));
                pot += *v;
            }
            if best.is_none_or(|(b, _)| pot < b) {
                best = Some((pot, idx));
                best_d2.copy_from_slice(&cand_d2);
            }
        }
        let idx = best.map_or(0, |(_, i)| i);
        for m in 0..d {
            means[(m, c)] = points[(m, idx)];
        }
        d2.copy_from_slice(&best_d2);
    }
    // Lloyd refinement.
    let mut assign = vec![usize::MAX; n];
    let mut counts = vec![0usize; k];
    for _ in 0..LLOYD_ITERATIONS {
        let mut changed = false;
        for (i, a) in assign.iter_mut().enumerate() {
            let mut best = (f64::INFINITY, 0);
            for c in 0..k {
                let v = dist2(i, means.col_as_slice(c));
                if v < best.0 {
                    best = (v, c);
                }
            }
            if *a != best.1 {
                *a = best.1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        counts.iter_mut().for_each(|v| *v = 0);
        let mut sums = Mat::<f64>::zeros(d, k);
        for (i, &a) in assign.iter().enumerate() {
            counts[a] += 1;
            for m in 0..d {
                sums[(m, a)] += points[(m, i)];
            }
        }
        for c in 0..k {
            if counts[c] > 0 {
                for m in 0..d {
                    means[(m, c)] = sums[(m, c)] / counts[c] as f64;
                }
            }
        }
    }
    counts.iter_mut().for_each(|v| *v = 0);
    for &a in &assign {
        counts[a] += 1;
    }
    let weights: Vec<f64> = counts
        .iter()
        .map(|&c| (c.max(1)) as f64 / (n + k) as f64)
        .collect();
    // Global covariance.
    let mut gmean = vec![0.0; d];
    for i in 0..n {
        for m in 0..d {
            gmean[m] += points[(m, i)];
        }
    }
    gmean.iter_mut().for_each(|v| *v /= n as f64);
    let centred = Mat::from_fn(d, n, |m, i| points[(m, i)] - gmean[m]);
    let mut g = Mat::zeros(d, d);
    scatter_lower(g.as_mut(), centred.as_ref());
    mirror_lower(g.as_mut());
    for j in 0..d {
        for i in 0..d {
            g[(i, j)] /= n as f64;
        }
        g[(j, j)] += floor;
    }
    let covariances = MatStack::repeat(k, g.as_ref());
    Params {
        weights,
        means,
        covariances,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Normal};

    /// Clustered, anisotropic points in `d` dimensions.
    fn clustered(d: usize, n: usize, clusters: usize, seed: u64) -> Mat<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let nrm = Normal::new(0.0, 1.0).unwrap();
        let centres: Vec<Vec<f64>> = (0..clusters)
            .map(|_| (0..d).map(|_| 0.5 * nrm.sample(&mut rng)).collect())
            .collect();
        let mut m = Mat::zeros(d, n);
        for j in 0..n {
            let c = &centres[j % clusters];
            let common = nrm.sample(&mut rng);
            for i in 0..d {
                m[(i, j)] =
                    c[i] + 0.05 * nrm.sample(&mut rng) + 0.1 * common * (i as f64 / d as f64);
            }
        }
        m
    }

    #[test]
    fn pruned_e_step_matches_full_evaluation() {
        for (d, seed) in [(30usize, 1u64), (76, 2), (94, 3)] {
            let pts = clustered(d, 700, 9, seed);
            let mut gmm = Gmm::new(GmmConfig::default());
            gmm.fit(pts.as_ref(), 12, seed).unwrap();
            let p = gmm.params_view().unwrap();
            let n = pts.ncols();
            let k = 12;
            let mut work = Mat::zeros(d, E_CHUNK);
            let mut pruned = vec![0.0; n * k];
            let mut prune = true;
            let ll = estep(&p, pts.as_ref(), &mut work, &mut pruned, &mut prune).unwrap();
            assert!(
                prune || d < PRUNE_MIN_DIM,
                "bounds should prune clustered data"
            );
            // Full evaluation of every pair.
            let f = factor(&p).unwrap();
            let mut full = vec![0.0; n * k];
            let all: Vec<usize> = (0..n).collect();
            for c in 0..k {
                eval_full(&p, &f, c, pts.as_ref(), &all, &mut work, &mut full);
            }
            let mut ll_full = 0.0;
            for i in 0..n {
                let row = &full[i * k..(i + 1) * k];
                let mx = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = mx + row.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
                ll_full += lse;
                for c in 0..k {
                    let r = (row[c] - lse).exp();
                    assert!(
                        (pruned[i * k + c] - r).abs() < 1e-15,
                        "d {d}: {r} vs {}",
                        pruned[i * k + c]
                    );
                }
            }
            assert!(
                (ll - ll_full).abs() <= 1e-12 * ll_full.abs(),
                "{ll} vs {ll_full}"
            );
        }
    }
}
