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

impl Gmm {
    /// EM; returns the report and the final responsibilities (`n·K`, point-major).
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
        let floor = self.config.covariance_floor;
        let mut mstep = MStep::new(d, k, n);
        let mut resp = vec![0.0; n * k];
        let (mut warm, seed) = match start {
            EmStart::Seeded(seed) => (false, seed),
            EmStart::Warm(seed) => (
                self.is_fitted() && self.num_components() == k && self.dim == d,
                seed,
            ),
            EmStart::Labels(_) => (false, 0),
        };
        let mut cur = if let EmStart::Labels(labels) = start {
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
            for (i, &l) in labels.iter().enumerate() {
                resp[i * k + l] = 1.0;
            }
            let mut p = Params {
                weights: vec![0.0; k],
                means: faer::Mat::zeros(d, k),
                covariances: pilqr_linalg::MatStack::zeros(k, d, d),
            };
            mstep.run(&mut p, points, &resp, floor);
            p
        } else if warm {
            Params {
                weights: self.weights.clone(),
                means: self.means.clone(),
                covariances: self.covariances.clone(),
            }
        } else {
            initialise(points, k, seed, floor)
        };
        let mut estep = EStep::new(d, k, n);
        let mut next_resp = vec![0.0; n * k];
        let mut ll = match estep.run(cur.view(), points, &mut resp, None) {
            Ok(ll) => ll,
            // The previous fit cannot even evaluate the new data (e.g. it lies so far away
            // that the log-likelihood overflows): start afresh instead of failing.
            Err(_) if warm => {
                warm = false;
                cur = initialise(points, k, seed, floor);
                estep.run(cur.view(), points, &mut resp, None)?
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
        // Double buffers: the M-step writes every parameter of `next` from `resp`, and an
        // accepted iterate is swapped in (no copies; a rejected one is simply dropped).
        let mut next = cur.clone();
        let tol = self.config.tolerance;
        for _ in 0..self.config.max_iterations {
            mstep.run(&mut next, points, &resp, floor);
            let new_ll = estep.run(next.view(), points, &mut next_resp, Some(&resp))?;
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
            std::mem::swap(&mut cur, &mut next);
            std::mem::swap(&mut resp, &mut next_resp);
            report.iterations += 1;
            report.log_likelihoods.push(new_ll);
            let converged = (new_ll - ll).abs() <= tol * new_ll.abs().max(1.0);
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
}
