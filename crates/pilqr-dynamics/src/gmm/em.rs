//! The EM loop: initial (warm or seeded) parameters, then M-step / E-step until the
//! log-likelihood settles, never keeping a worse iterate.

use faer::MatRef;

use super::e_step::EStep;
use super::init::initialise;
use super::m_step::MStep;
use super::{EmReport, EmStop, Gmm, Params, check_points};
use crate::error::DynamicsError;

/// Where EM starts.
#[derive(Clone, Copy)]
pub(crate) enum EmStart<'a> {
    /// From the seeded k-means++ initialisation.
    Seeded(u64),
    /// From the current parameters when they fit (same `k` and dimension), else seeded.
    Warm(u64),
    /// From the maximum-likelihood components of hard labels (one per point, each `< k`).
    Labels(&'a [usize]),
}

/// The reusable storage of EM runs (not part of a model's value: skipped by serde and by
/// equality). Sized on the first run and reused while the dimension, component count and point
/// count stay the same, so a warm refit allocates nothing.
#[derive(Clone, Default)]
pub(super) struct EmWork {
    /// E- and M-step workspaces for one `(D, K, n)`.
    steps: Option<Steps>,
    /// The accepted iterate; after a run, the parameters it replaced (the backup).
    cur: Params,
    /// The candidate iterate.
    next: Params,
    /// Responsibilities of `cur` (after a run: of the final fit), point-major `n·K`.
    resp: Vec<f64>,
    /// Responsibilities of `next`.
    next_resp: Vec<f64>,
    /// What the last run did.
    report: EmReport,
    /// `(dim, fitted_points)` of the parameters in `cur` after a successful run, which
    /// [`Gmm::rollback`] restores; `None` when there is nothing to restore.
    backup: Option<(usize, usize)>,
}

impl std::fmt::Debug for EmWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmWork").finish_non_exhaustive()
    }
}

/// The E- and M-step workspaces for one shape.
#[derive(Clone)]
struct Steps {
    shape: (usize, usize, usize),
    estep: EStep,
    mstep: MStep,
}

/// Log-likelihood entries reserved in the report up front (more iterations than this may
/// allocate).
const RESERVED_ITERATIONS: usize = 1024;

impl Gmm {
    /// EM; on success the fitted parameters replace the model's, the report is
    /// [`Gmm::last_report`], the final responsibilities (`n·K`, point-major)
    /// [`Gmm::last_responsibilities`], and the replaced parameters are kept for
    /// [`Gmm::rollback`]. On error the model is unchanged.
    ///
    /// Starts as `start` says: from the current parameters ([`EmStart::Warm`], when the model
    /// is fitted with the same `k` and dimension), from the components the given labels imply
    /// (one M-step on one-hot responsibilities), or from [`initialise`] seeded by `seed`. After each
    /// E-step, stops when `|Δℓ| ≤ tolerance · max(1, |ℓ|)`; a decrease of `ℓ` (possible only
    /// through the floor or a reboot) restores the previous parameters and stops.
    pub(crate) fn run(
        &mut self,
        points: MatRef<'_, f64>,
        k: usize,
        start: EmStart<'_>,
    ) -> Result<(), DynamicsError> {
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
        if let EmStart::Labels(labels) = start {
            if labels.len() != n {
                return Err(DynamicsError::DimensionMismatch {
                    field: "initial labels (one per point)",
                    expected: n,
                    got: labels.len(),
                });
            }
            if let Some(i) = labels.iter().position(|&l| l >= k) {
                return Err(DynamicsError::InvalidConfig {
                    field: "initial labels",
                    reason: format!("label {} of point {i} is not below k = {k}", labels[i]),
                });
            }
        }
        let floor = self.config.covariance_floor;
        let w = &mut self.work;
        w.backup = None;
        if w.steps.as_ref().is_some_and(|s| s.shape != (d, k, n)) {
            w.steps = None;
        }
        let steps = w.steps.get_or_insert_with(|| Steps {
            shape: (d, k, n),
            estep: EStep::new(d, k, n),
            mstep: MStep::new(d, k, n),
        });
        let (estep, mstep) = (&mut steps.estep, &mut steps.mstep);
        w.resp.clear();
        w.resp.resize(n * k, 0.0);
        w.next_resp.clear();
        w.next_resp.resize(n * k, 0.0);
        let fitted = !self.weights.is_empty();
        let (mut warm, seed) = match start {
            EmStart::Seeded(seed) => (false, seed),
            EmStart::Warm(seed) => (fitted && self.weights.len() == k && self.dim == d, seed),
            EmStart::Labels(_) => (false, 0),
        };
        if let EmStart::Labels(labels) = start {
            for (i, &l) in labels.iter().enumerate() {
                w.resp[i * k + l] = 1.0;
            }
            w.cur.reshape(d, k);
            mstep.run(&mut w.cur, points, &w.resp, floor);
        } else if warm {
            w.cur
                .assign(&self.weights, self.means.as_ref(), &self.covariances);
        } else {
            w.cur = initialise(points, k, seed, floor);
        }
        let mut ll = match estep.run(w.cur.view(), points, &mut w.resp, None) {
            Ok(ll) => ll,
            // The previous fit cannot even evaluate the new data (e.g. it lies so far away
            // that the log-likelihood overflows): start afresh instead of failing.
            Err(_) if warm => {
                warm = false;
                w.cur = initialise(points, k, seed, floor);
                estep.run(w.cur.view(), points, &mut w.resp, None)?
            }
            Err(e) => return Err(e),
        };
        let report = &mut w.report;
        report.initialised = !warm;
        report.iterations = 0;
        report.log_likelihoods.clear();
        report
            .log_likelihoods
            .reserve(self.config.max_iterations.min(RESERVED_ITERATIONS) + 1);
        report.log_likelihoods.push(ll);
        report.rejected = None;
        report.stop = EmStop::MaxIterations;
        report.components = k;
        report.points = n;
        // Double buffers: the M-step writes every parameter of `next` from `resp`, and an
        // accepted iterate is swapped in (no copies; a rejected one is simply left behind).
        w.next.reshape(d, k);
        let tol = self.config.tolerance;
        for _ in 0..self.config.max_iterations {
            mstep.run(&mut w.next, points, &w.resp, floor);
            let new_ll = estep.run(w.next.view(), points, &mut w.next_resp, Some(&w.resp))?;
            if new_ll.is_nan() || new_ll < ll {
                // Worse (or non-finite): keep the previous iterate and its responsibilities.
                // A decrease within the tolerance is round-off at convergence.
                report.rejected = Some(new_ll);
                report.stop = if (new_ll - ll).abs() <= tol * ll.abs().max(1.0) {
                    EmStop::Converged
                } else {
                    EmStop::LikelihoodDecreased
                };
                break;
            }
            std::mem::swap(&mut w.cur, &mut w.next);
            std::mem::swap(&mut w.resp, &mut w.next_resp);
            report.iterations += 1;
            report.log_likelihoods.push(new_ll);
            let converged = (new_ll - ll).abs() <= tol * new_ll.abs().max(1.0);
            ll = new_ll;
            if converged {
                report.stop = EmStop::Converged;
                break;
            }
        }
        // Commit by swapping storage: `cur` keeps the replaced parameters as the backup.
        std::mem::swap(&mut self.weights, &mut w.cur.weights);
        std::mem::swap(&mut self.means, &mut w.cur.means);
        std::mem::swap(&mut self.covariances, &mut w.cur.covariances);
        w.backup = Some((self.dim, self.fitted_points));
        self.dim = d;
        self.fitted_points = n;
        Ok(())
    }

    /// Undo the last successful [`Gmm::run`]: the parameters it replaced come back (no copy:
    /// the storage is swapped). Does nothing when there is nothing to restore.
    pub(crate) fn rollback(&mut self) {
        let w = &mut self.work;
        if let Some((dim, fitted_points)) = w.backup.take() {
            std::mem::swap(&mut self.weights, &mut w.cur.weights);
            std::mem::swap(&mut self.means, &mut w.cur.means);
            std::mem::swap(&mut self.covariances, &mut w.cur.covariances);
            self.dim = dim;
            self.fitted_points = fitted_points;
        }
    }

    /// The report of the last successful [`Gmm::run`].
    pub(crate) fn last_report(&self) -> &EmReport {
        &self.work.report
    }

    /// The final responsibilities of the last successful [`Gmm::run`] (point-major `n·K`).
    pub(crate) fn last_responsibilities(&self) -> &[f64] {
        &self.work.resp
    }
}
