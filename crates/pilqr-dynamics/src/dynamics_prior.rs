//! The GMM dynamics prior: a buffer of recent trajectories and a mixture over their transitions.

use std::collections::VecDeque;

use faer::Mat;
use pilqr_core::SampleBatch;
use serde::{Deserialize, Serialize};

use crate::config::GmmPriorConfig;
use crate::error::{DynamicsError, check_finite};
use crate::gmm::{EmReport, EmStart, Gmm};
use crate::niw_prior::NiwPrior;

/// One buffered trajectory: states `T·dX` and actions `T·dU`, step-major.
///
/// ```
/// use pilqr_dynamics::BufferedTrajectory;
///
/// let t = BufferedTrajectory { x: vec![0.0, 1.0, 2.0], u: vec![0.5, 0.5, 0.0] };
/// assert_eq!(t.x.len(), 3); // T = 3, dX = 1
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BufferedTrajectory {
    /// States `x_0..x_{T−1}`.
    pub x: Vec<f64>,
    /// Actions `u_0..u_{T−1}`.
    pub u: Vec<f64>,
}

/// The GMM dynamics prior of DESIGN.md §4.2.
///
/// Keeps **exactly** the last `max_samples` trajectories seen (across iterations), fits a
/// [`Gmm`] over their transition points `[x_t; u_t; x_{t+1}]` (dimension `D = 2dX + dU`) with
/// `K = max(2, min(max_clusters, ⌊points / min_samples_per_cluster⌋))` components, warm-started
/// from the previous fit when `K` is unchanged, and gives:
/// - [`DynamicsPrior::eval`]: the NIW prior for a set of query points, scaled by `strength`
///   (`m = strength`, `n0 = strength·(N_g−2−D)/N_g`, `Φ = m·Σ_mix`);
/// - [`DynamicsPrior::initial_state`]: the prior on `x_0` (`μ00` = mean of buffered `x_0`,
///   `m0 = n00 = dX·strength`, `Φ0 = m0·diag(var of buffered x_0)`).
///
/// ```
/// use pilqr_core::{SampleBatch, SampleDims, Trajectory};
/// use pilqr_dynamics::{DynamicsPrior, GmmPriorConfig};
///
/// let dims = SampleDims { horizon: 5, dx: 1, du: 1, dobs: 0 };
/// let tr = |a: f64| Trajectory {
///     x: (0..5).map(|t| a * t as f64).collect(), u: vec![a; 5], obs: vec![],
///     noise: vec![0.0; 5], cost: vec![0.0; 5],
/// };
/// let batch = SampleBatch::from_trajectories(dims, (1..=3).map(|i| tr(i as f64)).collect()).unwrap();
/// let config = GmmPriorConfig { max_samples: 4, ..GmmPriorConfig::default() };
/// let mut prior = DynamicsPrior::new(config, 1, 1).unwrap();
/// prior.update(&batch, 7).unwrap();
/// prior.update(&batch, 8).unwrap();
/// assert_eq!(prior.buffer_len(), 4); // exactly max_samples
/// assert_eq!(prior.gmm().num_components(), 2);
/// let x0 = prior.initial_state().unwrap();
/// assert_eq!(x0.m, 1.0); // dX · strength
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPrior", into = "RawPrior")]
pub struct DynamicsPrior {
    config: GmmPriorConfig,
    dx: usize,
    du: usize,
    horizon: usize,
    buffer: VecDeque<BufferedTrajectory>,
    gmm: Gmm,
}

#[derive(Serialize, Deserialize)]
struct RawPrior {
    config: GmmPriorConfig,
    dx: usize,
    du: usize,
    horizon: usize,
    buffer: VecDeque<BufferedTrajectory>,
    gmm: Gmm,
}

impl From<DynamicsPrior> for RawPrior {
    fn from(p: DynamicsPrior) -> Self {
        RawPrior {
            config: p.config,
            dx: p.dx,
            du: p.du,
            horizon: p.horizon,
            buffer: p.buffer,
            gmm: p.gmm,
        }
    }
}

impl TryFrom<RawPrior> for DynamicsPrior {
    type Error = DynamicsError;
    fn try_from(r: RawPrior) -> Result<Self, DynamicsError> {
        let mut p = DynamicsPrior::new(r.config, r.dx, r.du)?;
        if r.buffer.len() > p.config.max_samples {
            return Err(DynamicsError::DimensionMismatch {
                field: "prior buffer length (at most max_samples)",
                expected: p.config.max_samples,
                got: r.buffer.len(),
            });
        }
        for tr in &r.buffer {
            expect("buffered states", r.horizon * r.dx, tr.x.len())?;
            expect("buffered actions", r.horizon * r.du, tr.u.len())?;
            check_finite("buffered states", &tr.x)?;
            check_finite("buffered actions", &tr.u)?;
        }
        if r.gmm.is_fitted() {
            expect("prior mixture dimension", 2 * r.dx + r.du, r.gmm.dim())?;
        }
        p.horizon = r.horizon;
        p.buffer = r.buffer;
        p.gmm = r.gmm;
        Ok(p)
    }
}

fn expect(field: &'static str, expected: usize, got: usize) -> Result<(), DynamicsError> {
    if expected != got {
        return Err(DynamicsError::DimensionMismatch {
            field,
            expected,
            got,
        });
    }
    Ok(())
}

impl DynamicsPrior {
    /// An empty prior for state dimension `dx` and action dimension `du`.
    pub fn new(config: GmmPriorConfig, dx: usize, du: usize) -> Result<Self, DynamicsError> {
        config.validate()?;
        if dx == 0 {
            return Err(DynamicsError::DimensionMismatch {
                field: "state dimension dX (must be > 0)",
                expected: 1,
                got: 0,
            });
        }
        let gmm = Gmm::new(config.gmm_config());
        Ok(DynamicsPrior {
            config,
            dx,
            du,
            horizon: 0,
            buffer: VecDeque::new(),
            gmm,
        })
    }

    /// Settings.
    pub fn config(&self) -> &GmmPriorConfig {
        &self.config
    }

    /// Number of buffered trajectories (at most `max_samples`).
    pub fn buffer_len(&self) -> usize {
        self.buffer.len()
    }

    /// The buffered trajectories, oldest first.
    pub fn buffer(&self) -> impl Iterator<Item = &BufferedTrajectory> {
        self.buffer.iter()
    }

    /// Horizon of the buffered trajectories (0 while empty).
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// The mixture over transition points.
    pub fn gmm(&self) -> &Gmm {
        &self.gmm
    }

    /// Joint dimension `D = 2dX + dU`.
    pub fn joint_dim(&self) -> usize {
        2 * self.dx + self.du
    }

    /// Check a batch against the prior's dimensions and buffered horizon.
    pub(crate) fn check_batch(&self, batch: &SampleBatch) -> Result<(), DynamicsError> {
        let d = batch.dims();
        expect("batch state dimension dX", self.dx, d.dx)?;
        expect("batch action dimension dU", self.du, d.du)?;
        if d.horizon < 2 {
            return Err(DynamicsError::HorizonTooShort { horizon: d.horizon });
        }
        if !self.buffer.is_empty() {
            expect(
                "batch horizon (must match the buffered trajectories)",
                self.horizon,
                d.horizon,
            )?;
        }
        Ok(())
    }

    /// Add the batch's trajectories to the buffer (dropping the oldest beyond `max_samples`)
    /// and refit the mixture (warm start when the component count is unchanged; `seed` seeds a
    /// fresh initialisation otherwise).
    ///
    /// On error the prior is unchanged.
    pub fn update(&mut self, batch: &SampleBatch, seed: u64) -> Result<EmReport, DynamicsError> {
        let mut next = self.clone();
        let (report, _) = next.update_inner(batch, EmStart::Warm(seed))?;
        *self = next;
        Ok(report)
    }

    /// As [`DynamicsPrior::update`], but EM starts from the components that `labels` imply
    /// (see [`Gmm::fit_from_labels`]) instead of the current mixture or a seeded
    /// initialisation. `labels` holds one label per transition point of the buffer *after*
    /// the batch is added, in the order of [`DynamicsPrior::points`], each below the component
    /// count [`GmmPriorConfig::cluster_count`] gives for that many points.
    ///
    /// On error the prior is unchanged.
    pub fn update_from_labels(
        &mut self,
        batch: &SampleBatch,
        labels: &[usize],
    ) -> Result<EmReport, DynamicsError> {
        let mut next = self.clone();
        let (report, _) = next.update_inner(batch, EmStart::Labels(labels))?;
        *self = next;
        Ok(report)
    }

    /// Replace the mixture, e.g. by a saved one or one fitted elsewhere: the next update
    /// warm-starts EM from it when its component count equals the one the configuration
    /// gives for the buffer's points then (otherwise that update initialises afresh).
    ///
    /// # Errors
    /// [`DynamicsError::NotFitted`] for a mixture without components,
    /// [`DynamicsError::DimensionMismatch`] when its dimension is not `2dX + dU`.
    pub fn set_mixture(&mut self, gmm: Gmm) -> Result<(), DynamicsError> {
        if !gmm.is_fitted() {
            return Err(DynamicsError::NotFitted);
        }
        expect("mixture dimension 2dX + dU", self.joint_dim(), gmm.dim())?;
        self.gmm = gmm;
        Ok(())
    }

    /// As [`DynamicsPrior::update`], in place (callers that need atomicity work on a clone),
    /// returning the final responsibilities of the buffer's points (point-major `N_g·K`).
    pub(crate) fn update_inner(
        &mut self,
        batch: &SampleBatch,
        start: EmStart<'_>,
    ) -> Result<(EmReport, Vec<f64>), DynamicsError> {
        self.check_batch(batch)?;
        self.horizon = batch.horizon();
        let skip = batch.len().saturating_sub(self.config.max_samples);
        for i in skip..batch.len() {
            let tr = batch.trajectory(i);
            self.buffer.push_back(BufferedTrajectory {
                x: tr.x.to_vec(),
                u: tr.u.to_vec(),
            });
        }
        while self.buffer.len() > self.config.max_samples {
            self.buffer.pop_front();
        }
        let points = self.points();
        let k = self.config.cluster_count(points.ncols());
        self.gmm.run(points.as_ref(), k, start)
    }

    /// The buffer's transition points `[x_t; u_t; x_{t+1}]` as a `D x N_g` matrix, trajectory
    /// after trajectory (column `j·(T−1) + t`).
    pub fn points(&self) -> Mat<f64> {
        let (dx, du, t) = (self.dx, self.du, self.horizon);
        let steps = t.saturating_sub(1);
        let d = self.joint_dim();
        let mut m = Mat::zeros(d, self.buffer.len() * steps);
        for (j, tr) in self.buffer.iter().enumerate() {
            for s in 0..steps {
                let col = m.col_as_slice_mut(j * steps + s);
                col[..dx].copy_from_slice(&tr.x[s * dx..(s + 1) * dx]);
                col[dx..dx + du].copy_from_slice(&tr.u[s * du..(s + 1) * du]);
                col[dx + du..].copy_from_slice(&tr.x[(s + 1) * dx..(s + 2) * dx]);
            }
        }
        m
    }

    /// The NIW prior (scaled by `strength`) for query points (`D x n`, one `[x;u;x']` per
    /// column). Errors with [`DynamicsError::NotFitted`] before the first update.
    pub fn eval(&self, points: faer::MatRef<'_, f64>) -> Result<NiwPrior, DynamicsError> {
        Ok(self
            .gmm
            .inference(points)?
            .with_strength(self.config.strength))
    }

    /// The prior on the initial state from the buffered `x_0`, or `None` while the buffer is
    /// empty.
    pub fn initial_state(&self) -> Option<NiwPrior> {
        if self.buffer.is_empty() {
            return None;
        }
        let dx = self.dx;
        let n = self.buffer.len() as f64;
        let mut mu = vec![0.0; dx];
        for tr in &self.buffer {
            for (m, x) in mu.iter_mut().zip(&tr.x[..dx]) {
                *m += x;
            }
        }
        mu.iter_mut().for_each(|v| *v /= n);
        let m0 = dx as f64 * self.config.strength;
        let mut phi = Mat::zeros(dx, dx);
        for j in 0..dx {
            let var = self
                .buffer
                .iter()
                .map(|tr| (tr.x[j] - mu[j]).powi(2))
                .sum::<f64>()
                / n;
            phi[(j, j)] = m0 * var;
        }
        Some(NiwPrior {
            mu0: mu,
            phi,
            m: m0,
            n0: m0,
        })
    }
}
