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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BufferedTrajectory {
    /// States `x_0..x_{T−1}`.
    pub x: Vec<f64>,
    /// Actions `u_0..u_{T−1}`.
    pub u: Vec<f64>,
}

/// The GMM dynamics prior of docs/design.md §4.2.
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
/// **Storage.** The buffer is a ring of `2·max_samples` trajectory slots, written in place:
/// a batch goes into slots outside the current window and the window moves only once the
/// refit has succeeded, so an update that fails leaves the buffer as it was without copying
/// it. Together with the point matrix and the mixture's EM storage (all reused), a warm update
/// allocates nothing once the buffer is full. Equality and serialisation see the window (the
/// buffered trajectories, oldest first) and the mixture only; the serialised form is a plain
/// list of trajectories.
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
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "RawPrior", into = "RawPrior")]
pub struct DynamicsPrior {
    config: GmmPriorConfig,
    dx: usize,
    du: usize,
    horizon: usize,
    /// Ring of trajectory slots (at most `2·max_samples`, created as first needed).
    slots: Vec<BufferedTrajectory>,
    /// The buffer: `len` slots from `start` on (cyclically), oldest first.
    window: Window,
    gmm: Gmm,
    /// Storage reused from one update to the next.
    work: PriorWork,
}

/// Where the buffer lies in the ring, and the horizon of its trajectories.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    start: usize,
    len: usize,
    horizon: usize,
}

/// Storage of [`DynamicsPrior`] updates, not part of its value.
#[derive(Clone)]
struct PriorWork {
    /// `D x N_g`: the buffer's transition points.
    points: Mat<f64>,
    /// The window before the last staged update, while it can still be rolled back.
    backup: Option<Window>,
}

impl std::fmt::Debug for DynamicsPrior {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicsPrior")
            .field("config", &self.config)
            .field("dx", &self.dx)
            .field("du", &self.du)
            .field("horizon", &self.horizon)
            .field("buffer", &self.buffer().collect::<Vec<_>>())
            .field("gmm", &self.gmm)
            .finish()
    }
}

impl PartialEq for DynamicsPrior {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.dx == other.dx
            && self.du == other.du
            && self.horizon == other.horizon
            && self.buffer_len() == other.buffer_len()
            && self.buffer().eq(other.buffer())
            && self.gmm == other.gmm
    }
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
        let cap = p.capacity();
        let Window { start, len, .. } = p.window;
        let mut slots = p.slots;
        let buffer = (0..len)
            .map(|j| std::mem::take(&mut slots[(start + j) % cap]))
            .collect();
        RawPrior {
            config: p.config,
            dx: p.dx,
            du: p.du,
            horizon: p.horizon,
            buffer,
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
        p.window = Window {
            start: 0,
            len: r.buffer.len(),
            horizon: r.horizon,
        };
        p.slots = r.buffer.into();
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
            slots: Vec::new(),
            window: Window {
                start: 0,
                len: 0,
                horizon: 0,
            },
            gmm,
            work: PriorWork {
                points: Mat::zeros(0, 0),
                backup: None,
            },
        })
    }

    /// Settings.
    pub fn config(&self) -> &GmmPriorConfig {
        &self.config
    }

    /// Number of buffered trajectories (at most `max_samples`).
    pub fn buffer_len(&self) -> usize {
        self.window.len
    }

    /// The buffered trajectories, oldest first.
    pub fn buffer(&self) -> impl Iterator<Item = &BufferedTrajectory> {
        let (cap, start) = (self.capacity(), self.window.start);
        (0..self.window.len).map(move |j| &self.slots[(start + j) % cap])
    }

    /// Slots in the ring: room for a full buffer and a full batch beside it.
    fn capacity(&self) -> usize {
        2 * self.config.max_samples
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
        if self.window.len > 0 {
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
        self.stage(batch, EmStart::Warm(seed))?;
        self.commit();
        Ok(self.gmm.last_report().clone())
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
        self.stage(batch, EmStart::Labels(labels))?;
        self.commit();
        Ok(self.gmm.last_report().clone())
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
        self.work.backup = None;
        Ok(())
    }

    /// As [`DynamicsPrior::update`], but the update can still be undone by
    /// [`DynamicsPrior::rollback`] until [`DynamicsPrior::commit`] (or the next update). On
    /// error nothing changed. The report and the final responsibilities of the buffer's points
    /// (point-major `N_g·K`) are [`Gmm::last_report`] and [`Gmm::last_responsibilities`].
    pub(crate) fn stage(
        &mut self,
        batch: &SampleBatch,
        start: EmStart<'_>,
    ) -> Result<(), DynamicsError> {
        self.check_batch(batch)?;
        self.work.backup = None;
        let (cap, max) = (self.capacity(), self.config.max_samples);
        let old = self.window;
        // The batch (its last `max_samples` trajectories) goes into the slots after the
        // window: at most `max_samples` of them, outside a window of at most `max_samples`
        // in a ring of `2·max_samples`, so the current buffer is not touched.
        let skip = batch.len().saturating_sub(max);
        let added = batch.len() - skip;
        for (j, i) in (skip..batch.len()).enumerate() {
            let slot = (old.start + old.len + j) % cap;
            while self.slots.len() <= slot {
                self.slots.push(BufferedTrajectory::default());
            }
            let tr = batch.trajectory(i);
            let dst = &mut self.slots[slot];
            dst.x.clear();
            dst.x.extend_from_slice(tr.x);
            dst.u.clear();
            dst.u.extend_from_slice(tr.u);
        }
        let len = (old.len + added).min(max);
        let new = Window {
            start: (old.start + old.len + added - len) % cap,
            len,
            horizon: batch.horizon(),
        };
        self.fill_points(new);
        let k = self.config.cluster_count(self.work.points.ncols());
        self.gmm.run(self.work.points.as_ref(), k, start)?;
        self.window = new;
        self.horizon = new.horizon;
        self.work.backup = Some(old);
        Ok(())
    }

    /// Make the staged update final.
    pub(crate) fn commit(&mut self) {
        self.work.backup = None;
    }

    /// Undo the staged update: the window and the mixture before it come back.
    pub(crate) fn rollback(&mut self) {
        if let Some(old) = self.work.backup.take() {
            self.window = old;
            self.horizon = old.horizon;
            self.gmm.rollback();
        }
    }

    /// The buffer's transition points `[x_t; u_t; x_{t+1}]` as a `D x N_g` matrix, trajectory
    /// after trajectory (column `j·(T−1) + t`).
    pub fn points(&self) -> Mat<f64> {
        let mut m = Mat::zeros(0, 0);
        self.points_into(self.window, &mut m);
        m
    }

    /// The points of `window` into the reused point matrix.
    fn fill_points(&mut self, window: Window) {
        let mut m = std::mem::replace(&mut self.work.points, Mat::zeros(0, 0));
        self.points_into(window, &mut m);
        self.work.points = m;
    }

    /// The transition points of the trajectories in `window` into `m` (reshaped if needed).
    fn points_into(&self, window: Window, m: &mut Mat<f64>) {
        let (dx, du, t) = (self.dx, self.du, window.horizon);
        let steps = t.saturating_sub(1);
        let d = self.joint_dim();
        if m.nrows() != d || m.ncols() != window.len * steps {
            *m = Mat::zeros(d, window.len * steps);
        }
        let cap = self.capacity();
        for j in 0..window.len {
            let tr = &self.slots[(window.start + j) % cap];
            for s in 0..steps {
                let col = m.col_as_slice_mut(j * steps + s);
                col[..dx].copy_from_slice(&tr.x[s * dx..(s + 1) * dx]);
                col[dx..dx + du].copy_from_slice(&tr.u[s * du..(s + 1) * du]);
                col[dx + du..].copy_from_slice(&tr.x[(s + 1) * dx..(s + 2) * dx]);
            }
        }
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
        let mut p = NiwPrior {
            mu0: Vec::new(),
            phi: Mat::zeros(0, 0),
            m: 0.0,
            n0: 0.0,
        };
        self.initial_state_into(&mut p).then_some(p)
    }

    /// As [`DynamicsPrior::initial_state`], into `out` (its storage reused when the shape is
    /// right); returns `false` (and leaves `out` alone) while the buffer is empty.
    pub(crate) fn initial_state_into(&self, out: &mut NiwPrior) -> bool {
        if self.window.len == 0 {
            return false;
        }
        let dx = self.dx;
        let n = self.window.len as f64;
        let mu = &mut out.mu0;
        mu.clear();
        mu.resize(dx, 0.0);
        for tr in self.buffer() {
            for (m, x) in mu.iter_mut().zip(&tr.x[..dx]) {
                *m += x;
            }
        }
        mu.iter_mut().for_each(|v| *v /= n);
        let m0 = dx as f64 * self.config.strength;
        if out.phi.nrows() != dx || out.phi.ncols() != dx {
            out.phi = Mat::zeros(dx, dx);
        } else {
            out.phi.fill(0.0);
        }
        for j in 0..dx {
            let var = self
                .buffer()
                .map(|tr| (tr.x[j] - out.mu0[j]).powi(2))
                .sum::<f64>()
                / n;
            out.phi[(j, j)] = m0 * var;
        }
        out.m = m0;
        out.n0 = m0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pilqr_core::{SampleDims, Trajectory};

    fn batch(n: usize, shift: f64) -> SampleBatch {
        let dims = SampleDims {
            horizon: 6,
            dx: 1,
            du: 1,
            dobs: 0,
        };
        let tr = |i: usize| {
            let u: Vec<f64> = (0..6).map(|s| ((i * 7 + s * 3) % 5) as f64 * 0.1).collect();
            let mut x = vec![shift + 0.1 * i as f64];
            for s in 0..5 {
                x.push(0.9 * x[s] + u[s]);
            }
            Trajectory {
                x,
                u,
                obs: vec![],
                noise: vec![0.0; 6],
                cost: vec![0.0; 6],
            }
        };
        SampleBatch::from_trajectories(dims, (0..n).map(tr).collect()).unwrap()
    }

    #[test]
    fn a_rolled_back_update_leaves_the_prior_as_it_was() {
        let config = GmmPriorConfig {
            max_samples: 4,
            ..GmmPriorConfig::default()
        };
        let mut p = DynamicsPrior::new(config, 1, 1).unwrap();
        p.update(&batch(3, 0.0), 1).unwrap();
        p.update(&batch(3, 0.5), 2).unwrap();
        let before = p.clone();
        p.stage(&batch(3, 1.0), EmStart::Warm(3)).unwrap();
        assert!(
            p != before,
            "the staged update changed the buffer and the mixture"
        );
        p.rollback();
        assert!(p == before);
        // Rolled back, the prior continues as if the staged update never happened.
        let mut q = before.clone();
        let b = batch(2, -0.5);
        assert_eq!(p.update(&b, 4).unwrap(), q.update(&b, 4).unwrap());
        assert!(p == q);
        // A committed update is not undone by a later rollback.
        let after = p.clone();
        p.rollback();
        assert!(p == after);
    }
}
