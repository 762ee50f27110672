//! Gaussian mixture model fitted by expectation-maximisation (docs/design.md §4.2).
//!
//! One file per concept:
//! - this file: the [`Gmm`] type, its serialised form, accessors and the public fitting and
//!   evaluation API;
//! - `em.rs`: the EM loop (warm start, stopping, never keeping a worse iterate);
//! - `e_step.rs`: log-densities by one Cholesky factor per component and matrix products over
//!   blocks of points, evaluated in row stages with exact pruning of negligible pairs;
//!   responsibilities by log-sum-exp, so far-away points never underflow to `0/0`;
//! - `m_step.rs`: weights, means and covariances (one matrix product per component);
//! - `init.rs`: seeded greedy k-means++ and Lloyd refinement for a cold start;
//! - `inference.rs`: the normal-inverse-Wishart prior for a set of query points.
//!
//! Summary of the algorithm:
//! - **E-step**: per component, `L_k⁻¹ (x − μ_k)` for all points as matrix products;
//!   components ruled out by a bound (responsibility below `e^−40`) are set to exactly 0.
//! - **M-step**: weights, means and covariances from the responsibilities; a point whose
//!   responsibility for a component is below `1e-12` is left out of that component's mean and
//!   covariance (its contribution is below round-off), which makes the M-step cost close to one
//!   pass over the data instead of `K`. Every covariance gets `covariance_floor · I`. A
//!   component whose weight falls below `1e-4 / K` is *rebooted* to the moments of all points.
//! - **Initialisation** (cold start, seeded): greedy k-means++ seeding (`2 + ⌊ln K⌋`
//!   D²-sampled candidates per centre, the best kept) with a `ChaCha8Rng` seeded by
//!   `seed`, refined by up to 10 Lloyd iterations; every component starts with the global
//!   covariance (plus floor) and the weight of its k-means cell.
//! - **Warm start**: [`Gmm::update`] starts from the current parameters when the component count
//!   and dimension are unchanged (the seed is then unused).
//! - **Stopping**: after each E-step, stop when `|Δℓ| ≤ tolerance · max(1, |ℓ|)`; if `ℓ`
//!   decreased (possible only through the floor or a reboot), the previous parameters are
//!   restored and the fit stops — a worse iterate is never kept. At most `max_iterations`
//!   M-steps.
//!
//! Everything is single-threaded and deterministic: same inputs and seed ⇒ bit-identical fit.

mod e_step;
mod em;
mod inference;
mod init;
mod m_step;

use faer::{Mat, MatRef};
use pilqr_linalg::{Cholesky, Jitter, MatStack};
use serde::{Deserialize, Serialize};

use crate::config::GmmConfig;
use crate::error::DynamicsError;
use e_step::EStep;
pub(crate) use em::EmStart;
use em::EmWork;

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
    /// Whether the run started from a fresh initialisation (seeded, or from given labels) rather
    /// than a warm start from the model's current components.
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

impl Default for EmReport {
    /// The report of a run that has not happened: no iteration, no log-likelihood.
    fn default() -> Self {
        EmReport {
            initialised: false,
            iterations: 0,
            log_likelihoods: Vec::new(),
            rejected: None,
            stop: EmStop::MaxIterations,
            components: 0,
            points: 0,
        }
    }
}

impl EmReport {
    /// Overwrite `self` with `other`, reusing the storage of `self.log_likelihoods`.
    pub(crate) fn copy_from(&mut self, other: &EmReport) {
        self.initialised = other.initialised;
        self.iterations = other.iterations;
        self.log_likelihoods.clear();
        self.log_likelihoods
            .extend_from_slice(&other.log_likelihoods);
        self.rejected = other.rejected;
        self.stop = other.stop;
        self.components = other.components;
        self.points = other.points;
    }

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
///
/// Equality and serialisation concern the model (settings and components) only, not the
/// storage EM reuses from one fit to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawGmm", into = "RawGmm")]
pub struct Gmm {
    config: GmmConfig,
    dim: usize,
    weights: Vec<f64>,
    /// `D x K`, column `k` = mean of component `k`.
    means: Mat<f64>,
    covariances: MatStack,
    fitted_points: usize,
    /// EM's reusable storage (and the backup of the last replaced parameters).
    work: EmWork,
}

impl PartialEq for Gmm {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.dim == other.dim
            && self.weights == other.weights
            && self.means == other.means
            && self.covariances == other.covariances
            && self.fitted_points == other.fitted_points
    }
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

/// Borrowed parameters, what the E-step reads.
#[derive(Clone, Copy)]
struct ParamsRef<'a> {
    weights: &'a [f64],
    means: MatRef<'a, f64>,
    covariances: &'a MatStack,
}

/// The parameters EM iterates on.
#[derive(Clone)]
struct Params {
    weights: Vec<f64>,
    /// `D x K`, column `k` = mean of component `k`.
    means: Mat<f64>,
    covariances: MatStack,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            weights: Vec::new(),
            means: Mat::zeros(0, 0),
            covariances: MatStack::zeros(0, 0, 0),
        }
    }
}

impl Params {
    /// Give the parameters the shape of `k` components of dimension `d` (values unspecified;
    /// storage kept when the shape is already right).
    fn reshape(&mut self, d: usize, k: usize) {
        self.weights.resize(k, 0.0);
        if self.means.nrows() != d || self.means.ncols() != k {
            self.means = Mat::zeros(d, k);
        }
        let c = &self.covariances;
        if c.len() != k || c.rows() != d || c.cols() != d {
            self.covariances = MatStack::zeros(k, d, d);
        }
    }

    /// Copy the given parameters in (storage kept when the shape is already right).
    fn assign(&mut self, weights: &[f64], means: MatRef<'_, f64>, covariances: &MatStack) {
        self.reshape(means.nrows(), weights.len());
        self.weights.copy_from_slice(weights);
        self.means.copy_from(means);
        self.covariances
            .as_mut_slice()
            .copy_from_slice(covariances.as_slice());
    }

    fn view(&self) -> ParamsRef<'_> {
        ParamsRef {
            weights: &self.weights,
            means: self.means.as_ref(),
            covariances: &self.covariances,
        }
    }
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
            work: EmWork::default(),
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
        self.run(points, k, EmStart::Seeded(seed))?;
        Ok(self.last_report().clone())
    }

    /// Fit to `points` (`D x n`) starting from the components that hard `labels` imply: point
    /// `i` belongs to component `labels[i] < k`, and EM starts from those components'
    /// maximum-likelihood weights, means and covariances (plus the covariance floor), exactly
    /// as if an M-step had run on one-hot responsibilities (so a label no point carries starts
    /// from the moments of all points, as the M-step restarts a starved component). No seed is
    /// involved, so a fit from another implementation's initial clustering can be reproduced;
    /// the report says `initialised` (a fresh start, not a warm one).
    ///
    /// To warm-start from a saved or externally given mixture instead, build it with
    /// [`Gmm::from_components`] (or deserialise it) and call [`Gmm::update`].
    ///
    /// # Errors
    /// As [`Gmm::fit`], and [`DynamicsError::DimensionMismatch`] when there is not one label
    /// per point, [`DynamicsError::InvalidConfig`] when a label is `>= k`.
    pub fn fit_from_labels(
        &mut self,
        points: MatRef<'_, f64>,
        k: usize,
        labels: &[usize],
    ) -> Result<EmReport, DynamicsError> {
        self.run(points, k, EmStart::Labels(labels))?;
        Ok(self.last_report().clone())
    }

    /// Refit to `points`, warm-starting from the current parameters when the model is fitted
    /// with the same `k` and dimension; otherwise as [`Gmm::fit`] with `seed`.
    pub fn update(
        &mut self,
        points: MatRef<'_, f64>,
        k: usize,
        seed: u64,
    ) -> Result<EmReport, DynamicsError> {
        self.run(points, k, EmStart::Warm(seed))?;
        Ok(self.last_report().clone())
    }

    /// The current parameters, borrowed.
    fn params(&self) -> ParamsRef<'_> {
        ParamsRef {
            weights: &self.weights,
            means: self.means.as_ref(),
            covariances: &self.covariances,
        }
    }

    /// Responsibilities `r_ik` (point-major `n·K`) and the total log-likelihood.
    pub(crate) fn responsibilities_flat(
        &self,
        points: MatRef<'_, f64>,
    ) -> Result<(Vec<f64>, f64), DynamicsError> {
        if !self.is_fitted() {
            return Err(DynamicsError::NotFitted);
        }
        let owned;
        let points = if points.row_stride() == 1 {
            points
        } else {
            owned = points.to_owned();
            owned.as_ref()
        };
        let (d, n) = check_points(points, Some(self.dim))?;
        let k = self.num_components();
        let mut resp = vec![0.0; n * k];
        let ll = EStep::new(d, k, n).run(self.params(), points, &mut resp, None)?;
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
}

/// Column `i` of a matrix whose columns are contiguous (checked by [`check_points`]).
#[inline]
fn col<'a>(points: MatRef<'a, f64>, i: usize) -> &'a [f64] {
    points
        .col(i)
        .try_as_col_major()
        // Every entry point copies points with a non-unit row stride before use, and the
        // internal matrices (`Mat`) are column-major.
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
        if let Some(i) = points.col(j).iter().position(|v| !v.is_finite()) {
            return Err(DynamicsError::NonFinite {
                field: "mixture points",
                index: j * d + i,
            });
        }
    }
    Ok((d, n))
}
