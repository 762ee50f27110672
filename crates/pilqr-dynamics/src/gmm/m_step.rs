//! M-step: weights, means and covariances from the responsibilities.
//!
//! A point whose responsibility for a component is below [`RESP_CUTOFF`] is left out of that
//! component's mean and covariance (its contribution is below round-off), so the M-step costs
//! close to one pass over the data instead of `K`. Each covariance is one matrix product: the
//! lower triangle of `Y Yᵀ` with `Y` the gathered, centred points scaled by `√(r_i / Σr)`.
//! Every covariance gets `covariance_floor · I`. A component whose weight falls below
//! `1e-4 / K` is *rebooted* to the moments of all points.

use faer::Mat;
use faer::MatRef;
use faer::reborrow::ReborrowMut;

use super::{MIN_WEIGHT, Params, col};
use crate::conditional::scatter_lower;
use pilqr_linalg::mirror_lower;

/// Responsibilities below this are left out of a component's M-step.
pub(super) const RESP_CUTOFF: f64 = 1e-12;
/// Points per block of the scatter product.
const CHUNK: usize = 256;

/// Reusable M-step workspace (no allocation per iteration).
#[derive(Clone)]
pub(super) struct MStep {
    mass: Vec<f64>,
    /// `(point, responsibility)` of the points that enter the current component.
    active: Vec<(usize, f64)>,
    mean: Vec<f64>,
    /// `D x CHUNK`: a block of the scaled, centred points of the current component.
    work: Mat<f64>,
}

impl MStep {
    /// A workspace for `k` components of dimension `d` and `n` points.
    pub(super) fn new(d: usize, k: usize, n: usize) -> Self {
        MStep {
            mass: vec![0.0; k],
            active: Vec::with_capacity(n),
            mean: vec![0.0; d],
            work: Mat::zeros(d, CHUNK.min(n.max(1))),
        }
    }

    /// Replace `p` by the maximum-likelihood parameters for responsibilities `resp`
    /// (point-major `n·K`), with `floor` added to every covariance diagonal.
    pub(super) fn run(
        &mut self,
        p: &mut Params,
        points: MatRef<'_, f64>,
        resp: &[f64],
        floor: f64,
    ) {
        let k = p.weights.len();
        let (d, n) = (points.nrows(), points.ncols());
        self.mass.iter_mut().for_each(|m| *m = 0.0);
        for row in resp.chunks_exact(k) {
            for (m, r) in self.mass.iter_mut().zip(row) {
                *m += r;
            }
        }
        let total: f64 = self.mass.iter().sum();
        for (w, m) in p.weights.iter_mut().zip(&self.mass) {
            *w = (m / total).max(MIN_WEIGHT);
        }
        let reboot = 1e-4 / k as f64;
        for c in 0..k {
            self.active.clear();
            if p.weights[c] < reboot {
                self.active.extend((0..n).map(|i| (i, 1.0)));
            } else {
                self.active.extend((0..n).filter_map(|i| {
                    let r = resp[i * k + c];
                    (r >= RESP_CUTOFF).then_some((i, r))
                }));
            }
            let s: f64 = self.active.iter().map(|&(_, r)| r).sum();
            self.mean.iter_mut().for_each(|v| *v = 0.0);
            for &(i, r) in &self.active {
                let w = r / s;
                for (m, x) in self.mean.iter_mut().zip(col(points, i)) {
                    *m += w * x;
                }
            }
            p.means.col_as_slice_mut(c).copy_from_slice(&self.mean);
            let mut cov = p.covariances.at_mut(c);
            for (b, block) in self.active.chunks(self.work.ncols()).enumerate() {
                for (j, &(i, r)) in block.iter().enumerate() {
                    let sw = (r / s).sqrt();
                    let dst = self.work.col_as_slice_mut(j);
                    for ((w, x), m) in dst.iter_mut().zip(col(points, i)).zip(&self.mean) {
                        *w = sw * (x - m);
                    }
                }
                scatter_lower(
                    cov.rb_mut(),
                    self.work.as_ref().subcols(0, block.len()),
                    b > 0,
                );
            }
            if self.active.is_empty() {
                cov.fill(0.0);
            }
            mirror_lower(cov.rb_mut());
            for m in 0..d {
                cov[(m, m)] += floor;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pilqr_linalg::MatStack;

    #[test]
    fn hard_assignments_give_cluster_moments_and_floor() {
        // Two clusters on a line, responsibilities exactly 0/1.
        let pts = Mat::from_fn(1, 6, |_, j| [0.0, 1.0, 2.0, 10.0, 12.0, 14.0][j]);
        let resp: Vec<f64> = (0..6)
            .flat_map(|i| if i < 3 { [1.0, 0.0] } else { [0.0, 1.0] })
            .collect();
        let mut p = Params {
            weights: vec![0.5, 0.5],
            means: Mat::zeros(1, 2),
            covariances: MatStack::zeros(2, 1, 1),
        };
        MStep::new(1, 2, 6).run(&mut p, pts.as_ref(), &resp, 0.25);
        assert_eq!(p.weights, vec![0.5, 0.5]);
        assert!((p.means[(0, 0)] - 1.0).abs() < 1e-15 && (p.means[(0, 1)] - 12.0).abs() < 1e-14);
        assert!((p.covariances.at(0)[(0, 0)] - (2.0 / 3.0 + 0.25)).abs() < 1e-14);
        assert!((p.covariances.at(1)[(0, 0)] - (8.0 / 3.0 + 0.25)).abs() < 1e-13);
    }

    #[test]
    fn starved_component_is_rebooted_to_global_moments() {
        let pts = Mat::from_fn(1, 4, |_, j| j as f64);
        let resp: Vec<f64> = (0..4).flat_map(|_| [1.0, 0.0]).collect();
        let mut p = Params {
            weights: vec![0.5, 0.5],
            means: Mat::zeros(1, 2),
            covariances: MatStack::zeros(2, 1, 1),
        };
        MStep::new(1, 2, 4).run(&mut p, pts.as_ref(), &resp, 1e-6);
        assert_eq!(p.weights[1], MIN_WEIGHT);
        assert!((p.means[(0, 1)] - 1.5).abs() < 1e-15);
        assert!((p.covariances.at(1)[(0, 0)] - (1.25 + 1e-6)).abs() < 1e-14);
    }
}
