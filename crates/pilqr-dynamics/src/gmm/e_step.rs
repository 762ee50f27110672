//! E-step: the log-density of every point under every component, and the responsibilities by
//! log-sum-exp (so far-away points never underflow to `0/0`).
//!
//! Per component, one Cholesky factor `Σ_k = L_k L_kᵀ` and its explicit triangular inverse
//! `W_k = L_k⁻¹`; the Mahalanobis distance is `‖W_k (x − μ_k)‖²`, evaluated for blocks of
//! points at once as matrix products (no per-point vector loops, no small triangular solves).
//!
//! **Staged evaluation** (exact up to round-off): `W_k` is lower triangular, so rows `0..r` of
//! `W_k (x − μ_k)` involve only the first `r` coordinates, and the squared norm of the rows
//! computed so far is a lower bound on the distance: `ln π_k − ½ ln|2πΣ_k| − ½ ‖rows 0..r‖²`
//! is an upper bound on `ln π_k N(x; μ_k, Σ_k)`. The rows are evaluated in stages of
//! [`STAGE_ROWS`]:
//! 1. the first stage for every (point, component) pair, as one product per block of points
//!    with all components' leading blocks side by side (on points centred on their mean);
//! 2. each point's *anchors* are evaluated to the end: the component the `hint` (the previous
//!    EM iteration's responsibilities) gives the most weight, or without a hint the two
//!    components with the largest first-stage bounds; the best anchor value is `v_i`;
//! 3. every other pair continues stage by stage while its bound stays at or above
//!    `v_i − PRUNE_NATS`; a pair that drops below has responsibility under `e^−40` (below f64
//!    round-off relative to the point's total) and is set to exactly 0.
//!
//! With well-separated components (the transitions of trajectories: components are mostly
//! stretches of time) most pairs stop after the first stage or two, so an E-step costs a few
//! full evaluations per point instead of `K`. When bounds do not prune, the staged evaluation
//! costs about as much as one full triangular evaluation of every pair. Which pairs are pruned
//! depends only on the inputs, so results are deterministic.
//!
//! Small problems (`D` < [`STAGED_MIN_DIM`] or `K` < 3) evaluate every pair in one stage.

use faer::linalg::matmul::matmul;
use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatRef, Par};
use pilqr_linalg::MatStack;

use super::{MIN_WEIGHT, ParamsRef, col};
use crate::error::DynamicsError;
use crate::llt::{LltWork, log_det};

/// Pairs more than this many nats below a point's anchor value are not evaluated further.
pub(super) const PRUNE_NATS: f64 = 40.0;
/// Rows of `W_k` per stage of the staged evaluation.
pub(super) const STAGE_ROWS: usize = 16;
/// Staged (pruned) evaluation from this dimension on.
pub(super) const STAGED_MIN_DIM: usize = 2 * STAGE_ROWS;
/// Points gathered per matrix product (keeps the gathered block in L1/L2).
const CHUNK: usize = 128;
/// Points per block of the stacked first-stage product.
const STACK_CHUNK: usize = 64;
/// Marks an unused second anchor.
const NO_ANCHOR: usize = usize::MAX;

/// Reusable E-step workspace for one dimension and component count.
#[derive(Clone)]
pub(super) struct EStep {
    /// `W_k = L_k⁻¹`, lower triangular (upper triangle zero).
    winv: MatStack,
    /// `ln π_k − ½ (D ln 2π + ln det Σ_k)`.
    log_norm: Vec<f64>,
    llt: LltWork,
    /// `D x D`: the Cholesky factor of the component being factored (upper triangle 0).
    l: Mat<f64>,
    /// Row boundaries of the stages; the last is `D`.
    stages: Vec<usize>,
    /// `r_1 x n`: the first stage's coordinates of every point, centred on their mean `g`.
    head: Mat<f64>,
    /// `g`: mean of the first stage's coordinates.
    centre: Vec<f64>,
    /// `r_1 x K·r_1`: the first stage's blocks `W_k[0..r_1, 0..r_1]ᵀ` side by side.
    stacked: Mat<f64>,
    /// `K·r_1`: `W_k[0..r_1, 0..r_1] (μ_k − g)[0..r_1]`.
    offsets: Vec<f64>,
    /// `STACK_CHUNK x K·r_1`: the first stage's product for a block of points.
    prod1: Mat<f64>,
    /// `D x CHUNK`: gathered `x − μ_k`.
    gather: Mat<f64>,
    /// `CHUNK x rows`: the product of a stage, one point per row (so that the matrix product
    /// runs along the points and the squared norms vectorise).
    prod: Mat<f64>,
    /// `CHUNK`: squared norms of the rows of `prod`.
    norms: Vec<f64>,
    /// `n·K` point-major: sum of squares of the rows evaluated so far.
    partial: Vec<f64>,
    /// Per point: the components evaluated first (the second is `usize::MAX` when unused).
    anchor: Vec<[usize; 2]>,
    /// Per point: best anchor value − [`PRUNE_NATS`].
    threshold: Vec<f64>,
    list: Vec<usize>,
    /// Pairs evaluated to the last row in the last call, not counting anchors (diagnostics).
    pub(super) completed_pairs: usize,
}

impl EStep {
    /// A workspace for `k` components of dimension `d` and `n` points.
    pub(super) fn new(d: usize, k: usize, n: usize) -> Self {
        let stages = stage_bounds(d, k);
        let rows = if stages.len() > 1 { STAGE_ROWS } else { d };
        let chunk = CHUNK.min(n.max(1));
        EStep {
            winv: MatStack::zeros(k, d, d),
            log_norm: vec![0.0; k],
            llt: LltWork::new(d),
            l: Mat::zeros(d, d),
            stages,
            head: Mat::zeros(0, 0),
            centre: Vec::new(),
            stacked: Mat::zeros(0, 0),
            offsets: Vec::new(),
            prod1: Mat::zeros(0, 0),
            gather: Mat::zeros(d, chunk),
            prod: Mat::zeros(chunk, rows),
            norms: vec![0.0; chunk],
            partial: vec![0.0; n * k],
            anchor: vec![[0, 0]; n],
            threshold: vec![0.0; n],
            list: Vec::with_capacity(n),
            completed_pairs: 0,
        }
    }

    /// Fills `resp` (point-major `n·K`) with the responsibilities under `p` and returns the
    /// total log-likelihood. `points` (`D x n`, contiguous columns) must match the workspace;
    /// `hint` (point-major `n·K`, e.g. the previous EM iteration's responsibilities) only
    /// chooses which component of each point is evaluated first.
    pub(super) fn run(
        &mut self,
        p: ParamsRef<'_>,
        points: MatRef<'_, f64>,
        resp: &mut [f64],
        hint: Option<&[f64]>,
    ) -> Result<f64, DynamicsError> {
        self.factor(p)?;
        let k = p.weights.len();
        let n = points.ncols();
        debug_assert_eq!(resp.len(), n * k);
        self.partial.iter_mut().for_each(|v| *v = 0.0);
        self.completed_pairs = 0;
        let mut list = std::mem::take(&mut self.list);
        let r1 = self.stages[0];
        if self.stages.len() == 1 {
            for c in 0..k {
                list.clear();
                list.extend(0..n);
                self.eval_rows(p, points, c, 0, r1, &list);
            }
        } else {
            self.first_stage_stacked(p, points);
        }
        if self.stages.len() == 1 {
            for (i, row) in resp.chunks_exact_mut(k).enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = self.value(i, c, k);
                }
            }
        } else {
            self.choose_anchors(k, n, hint);
            self.finish_anchors(p, points, resp, &mut list);
            self.finish_others(p, points, resp, &mut list);
        }
        self.list = list;
        log_sum_exp_rows(resp, k)
    }

    /// Each point's anchors: the hint's largest weight, or without a hint the two largest
    /// first-stage bounds (ties: the lowest component index).
    fn choose_anchors(&mut self, k: usize, n: usize, hint: Option<&[f64]>) {
        for i in 0..n {
            let score = |c: usize| match hint {
                Some(h) => h[i * k + c],
                None => self.value(i, c, k),
            };
            let (mut best, mut second) = (0, NO_ANCHOR);
            let mut best_v = score(0);
            let mut second_v = f64::NEG_INFINITY;
            for c in 1..k {
                let v = score(c);
                if v > best_v {
                    (second, second_v) = (best, best_v);
                    (best, best_v) = (c, v);
                } else if v > second_v {
                    (second, second_v) = (c, v);
                }
            }
            self.anchor[i] = [best, if hint.is_some() { NO_ANCHOR } else { second }];
        }
    }

    /// Evaluates the anchors to the last row, writes their log-values into `resp` (every
    /// other entry `−∞`) and sets each point's pruning threshold.
    fn finish_anchors(
        &mut self,
        p: ParamsRef<'_>,
        points: MatRef<'_, f64>,
        resp: &mut [f64],
        list: &mut Vec<usize>,
    ) {
        let k = p.weights.len();
        let n = points.ncols();
        for c in 0..k {
            list.clear();
            list.extend((0..n).filter(|&i| self.anchor[i].contains(&c)));
            for s in 1..self.stages.len() {
                let (lo, hi) = (self.stages[s - 1], self.stages[s]);
                self.eval_rows(p, points, c, lo, hi, list);
            }
        }
        resp.iter_mut().for_each(|v| *v = f64::NEG_INFINITY);
        for i in 0..n {
            let mut best = f64::NEG_INFINITY;
            for a in self.anchor[i] {
                if a != NO_ANCHOR {
                    let v = self.value(i, a, k);
                    resp[i * k + a] = v;
                    best = best.max(v);
                }
            }
            self.threshold[i] = best - PRUNE_NATS;
        }
    }

    /// Every non-anchor pair, stage by stage while its bound reaches the point's threshold;
    /// the pairs that reach the last row get their exact log-value in `resp`.
    fn finish_others(
        &mut self,
        p: ParamsRef<'_>,
        points: MatRef<'_, f64>,
        resp: &mut [f64],
        list: &mut Vec<usize>,
    ) {
        let k = p.weights.len();
        let n = points.ncols();
        for c in 0..k {
            list.clear();
            list.extend((0..n).filter(|&i| {
                !self.anchor[i].contains(&c) && self.value(i, c, k) >= self.threshold[i]
            }));
            for s in 1..self.stages.len() {
                if list.is_empty() {
                    break;
                }
                let (lo, hi) = (self.stages[s - 1], self.stages[s]);
                self.eval_rows(p, points, c, lo, hi, list);
                list.retain(|&i| self.value(i, c, k) >= self.threshold[i]);
            }
            self.completed_pairs += list.len();
            for &i in list.iter() {
                resp[i * k + c] = self.value(i, c, k);
            }
        }
    }

    /// The first stage for every (point, component) pair as one product per block of points:
    /// `W_k (x − μ_k) = W_k (x − g) − W_k (μ_k − g)` on the first `r_1` coordinates, with the
    /// points centred on their mean `g` (so the subtraction loses no more than round-off of
    /// the data's spread) and all components' blocks side by side.
    fn first_stage_stacked(&mut self, p: ParamsRef<'_>, points: MatRef<'_, f64>) {
        let k = p.weights.len();
        let n = points.ncols();
        let r1 = self.stages[0];
        let kr = k * r1;
        if self.head.nrows() != r1 || self.head.ncols() != n {
            self.head = Mat::zeros(r1, n);
            self.centre = vec![0.0; r1];
            self.stacked = Mat::zeros(r1, kr);
            self.offsets = vec![0.0; kr];
            self.prod1 = Mat::zeros(STACK_CHUNK.min(n), kr);
        }
        self.centre.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            for (g, x) in self.centre.iter_mut().zip(col(points, i)) {
                *g += x;
            }
        }
        let inv_n = 1.0 / n as f64;
        self.centre.iter_mut().for_each(|v| *v *= inv_n);
        for i in 0..n {
            let dst = self.head.col_as_slice_mut(i);
            for ((h, x), g) in dst.iter_mut().zip(col(points, i)).zip(&self.centre) {
                *h = x - g;
            }
        }
        for c in 0..k {
            let w = self.winv.at(c).submatrix(0, 0, r1, r1);
            self.stacked
                .as_mut()
                .submatrix_mut(0, c * r1, r1, r1)
                .copy_from(w.transpose());
            let mu = col(p.means, c);
            for r in 0..r1 {
                let mut s = 0.0;
                for q in 0..=r {
                    s += w[(r, q)] * (mu[q] - self.centre[q]);
                }
                self.offsets[c * r1 + r] = s;
            }
        }
        let mut acc = [0.0f64; STACK_CHUNK];
        let mut start = 0;
        while start < n {
            let m = STACK_CHUNK.min(n - start);
            matmul(
                self.prod1.as_mut().subrows_mut(0, m),
                Accum::Replace,
                self.head.as_ref().subcols(start, m).transpose(),
                self.stacked.as_ref(),
                1.0,
                Par::Seq,
            );
            for c in 0..k {
                let acc = &mut acc[..m];
                acc.iter_mut().for_each(|v| *v = 0.0);
                for r in 0..r1 {
                    let o = self.offsets[c * r1 + r];
                    for (a, y) in acc
                        .iter_mut()
                        .zip(&self.prod1.col_as_slice(c * r1 + r)[..m])
                    {
                        let v = y - o;
                        *a += v * v;
                    }
                }
                for (j, a) in acc.iter().enumerate() {
                    self.partial[(start + j) * k + c] = *a;
                }
            }
            start += m;
        }
    }

    /// Upper bound (exact once all rows are in) on `ln π_c N(x_i; μ_c, Σ_c)`.
    #[inline]
    fn value(&self, i: usize, c: usize, k: usize) -> f64 {
        self.log_norm[c] - 0.5 * self.partial[i * k + c]
    }

    /// Factor every component: `W_k = L_k⁻¹` and the log normalisers.
    fn factor(&mut self, p: ParamsRef<'_>) -> Result<(), DynamicsError> {
        let d = p.means.nrows();
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        for c in 0..p.weights.len() {
            self.llt
                .factor(p.covariances.at(c), self.l.as_mut())
                .ok_or(DynamicsError::NotPositiveDefinite {
                    what: "mixture component covariance",
                })?;
            let mut w = self.winv.at_mut(c);
            invert_lower_triangular(w.as_mut(), self.l.as_ref(), Par::Seq);
            // faer writes the lower triangle only; the upper one must read as zero.
            for j in 1..d {
                w.rb_mut().col_mut(j).subrows_mut(0, j).fill(0.0);
            }
            self.log_norm[c] = p.weights[c].max(MIN_WEIGHT).ln()
                - 0.5 * (d as f64 * ln2pi + log_det(self.l.as_ref()));
        }
        Ok(())
    }

    /// Adds `‖W_c[lo..hi, 0..hi] (x_i − μ_c)[0..hi]‖²` to `partial[i·K + c]` for `i ∈ idx`.
    fn eval_rows(
        &mut self,
        p: ParamsRef<'_>,
        points: MatRef<'_, f64>,
        c: usize,
        lo: usize,
        hi: usize,
        idx: &[usize],
    ) {
        let k = p.weights.len();
        let rows = hi - lo;
        let mu = &col(p.means, c)[..hi];
        let w = self.winv.at(c).submatrix(lo, 0, rows, hi);
        for chunk in idx.chunks(self.gather.ncols()) {
            let m = chunk.len();
            for (j, &i) in chunk.iter().enumerate() {
                let src = &col(points, i)[..hi];
                let dst = &mut self.gather.col_as_slice_mut(j)[..hi];
                for ((g, x), mu) in dst.iter_mut().zip(src).zip(mu) {
                    *g = x - mu;
                }
            }
            matmul(
                self.prod.as_mut().submatrix_mut(0, 0, m, rows),
                Accum::Replace,
                self.gather.as_ref().submatrix(0, 0, hi, m).transpose(),
                w.transpose(),
                1.0,
                Par::Seq,
            );
            let norms = &mut self.norms[..m];
            norms.iter_mut().for_each(|v| *v = 0.0);
            for r in 0..rows {
                for (s, y) in norms.iter_mut().zip(&self.prod.col_as_slice(r)[..m]) {
                    *s += y * y;
                }
            }
            for (&i, s) in chunk.iter().zip(norms.iter()) {
                self.partial[i * k + c] += s;
            }
        }
    }
}

/// Stage row boundaries for dimension `d` with `k` components: one stage when pruning cannot
/// pay, otherwise every [`STAGE_ROWS`] rows (the last stage takes the remainder).
fn stage_bounds(d: usize, k: usize) -> Vec<usize> {
    if d < STAGED_MIN_DIM || k < 3 {
        return vec![d];
    }
    let mut b: Vec<usize> = (1..)
        .map(|s| s * STAGE_ROWS)
        .take_while(|&r| r < d)
        .collect();
    b.push(d);
    b
}

/// Turns each row of log-values (`resp`, point-major, `k` per point) into responsibilities by
/// log-sum-exp; returns `Σ_i ln Σ_k exp(row_ik)`. Entries at `−∞` become exactly 0.
pub(super) fn log_sum_exp_rows(resp: &mut [f64], k: usize) -> Result<f64, DynamicsError> {
    let mut ll = 0.0;
    for row in resp.chunks_exact_mut(k) {
        let mx = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut s = 0.0;
        for &v in row.iter() {
            if v != f64::NEG_INFINITY {
                s += (v - mx).exp();
            }
        }
        let lse = mx + s.ln();
        for v in row.iter_mut() {
            *v = if *v == f64::NEG_INFINITY {
                0.0
            } else {
                (*v - lse).exp()
            };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GmmConfig;
    use crate::gmm::{Gmm, Params};
    use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
    use pilqr_linalg::{Cholesky, Jitter};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    /// Clustered, anisotropic points in `d` dimensions.
    pub(crate) fn clustered(d: usize, n: usize, clusters: usize, seed: u64) -> Mat<f64> {
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

    /// Every pair by a triangular solve per point, then log-sum-exp: the reference.
    fn reference(p: ParamsRef<'_>, pts: MatRef<'_, f64>) -> (Vec<f64>, f64) {
        let (d, n, k) = (pts.nrows(), pts.ncols(), p.weights.len());
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let mut out = vec![0.0; n * k];
        for c in 0..k {
            let f = Cholesky::factor(p.covariances.at(c), Jitter::default()).unwrap();
            let ln = p.weights[c].ln() - 0.5 * (d as f64 * ln2pi + f.log_det());
            for i in 0..n {
                let mut y = Mat::from_fn(d, 1, |r, _| pts[(r, i)] - p.means[(r, c)]);
                solve_lower_triangular_in_place(f.l(), y.as_mut(), Par::Seq);
                out[i * k + c] = ln - 0.5 * y.col_as_slice(0).iter().map(|v| v * v).sum::<f64>();
            }
        }
        let ll = log_sum_exp_rows(&mut out, k).unwrap();
        (out, ll)
    }

    #[test]
    fn staged_e_step_matches_full_evaluation() {
        for (d, seed) in [(6usize, 4u64), (30, 1), (76, 2), (94, 3)] {
            let pts = clustered(d, 700, 9, seed);
            let mut gmm = Gmm::new(GmmConfig::default());
            gmm.fit(pts.as_ref(), 12, seed).unwrap();
            let p = gmm.params();
            let (n, k) = (pts.ncols(), 12);
            let mut e = EStep::new(d, k, n);
            let mut resp = vec![0.0; n * k];
            let ll = e.run(p, pts.as_ref(), &mut resp, None).unwrap();
            if d >= STAGED_MIN_DIM {
                assert!(
                    e.completed_pairs < n * (k - 1) / 2,
                    "d {d}: bounds should prune clustered data ({} pairs completed)",
                    e.completed_pairs
                );
            }
            let (full, ll_full) = reference(p, pts.as_ref());
            for (a, b) in resp.iter().zip(&full) {
                assert!((a - b).abs() < 1e-12, "d {d}: {a} vs {b}");
            }
            assert!(
                (ll - ll_full).abs() <= 1e-12 * ll_full.abs(),
                "{ll} vs {ll_full}"
            );
        }
    }

    #[test]
    fn hint_changes_only_the_order_of_evaluation() {
        let d = 76;
        let pts = clustered(d, 600, 8, 5);
        let mut gmm = Gmm::new(GmmConfig::default());
        gmm.fit(pts.as_ref(), 10, 5).unwrap();
        let (n, k) = (pts.ncols(), 10);
        let mut e = EStep::new(d, k, n);
        let mut cold = vec![0.0; n * k];
        let ll_cold = e.run(gmm.params(), pts.as_ref(), &mut cold, None).unwrap();
        // A deliberately poor hint (everything on component 0) and the exact one.
        let mut poor = vec![0.0; n * k];
        poor.iter_mut().step_by(k).for_each(|v| *v = 1.0);
        for hint in [&poor, &cold.clone()] {
            let mut warm = vec![0.0; n * k];
            let ll = e
                .run(gmm.params(), pts.as_ref(), &mut warm, Some(hint))
                .unwrap();
            assert!((ll - ll_cold).abs() <= 1e-12 * ll_cold.abs());
            for (a, b) in warm.iter().zip(&cold) {
                assert!((a - b).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn overlapping_components_are_all_evaluated() {
        // Every component equal: nothing can be pruned; responsibilities are the weights.
        let d = 40;
        let pts = clustered(d, 50, 1, 7);
        let k = 4;
        let p = Params {
            weights: vec![0.1, 0.2, 0.3, 0.4],
            means: Mat::zeros(d, k),
            covariances: MatStack::repeat(k, Mat::<f64>::identity(d, d).as_ref()),
        };
        let mut e = EStep::new(d, k, pts.ncols());
        let mut resp = vec![0.0; pts.ncols() * k];
        e.run(p.view(), pts.as_ref(), &mut resp, None).unwrap();
        // Without a hint each point's two best first-stage bounds are anchors.
        assert_eq!(e.completed_pairs, pts.ncols() * (k - 2));
        for row in resp.chunks_exact(k) {
            for (r, w) in row.iter().zip(&p.weights) {
                assert!((r - w).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn stage_bounds_cover_the_dimension() {
        assert_eq!(stage_bounds(76, 20), vec![16, 32, 48, 64, 76]);
        assert_eq!(stage_bounds(20, 20), vec![20]);
        assert_eq!(stage_bounds(76, 2), vec![76]);
        assert_eq!(stage_bounds(32, 5), vec![16, 32]);
    }
}
