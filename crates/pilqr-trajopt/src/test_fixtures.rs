//! Random linear systems, quadratic costs and controllers for the unit tests.

use faer::Mat;
use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// A random SPD matrix `M Mᵀ / n + delta I`.
pub(crate) fn spd(rng: &mut ChaCha8Rng, n: usize, delta: f64) -> Mat<f64> {
    let m = Mat::from_fn(n, n, |_, _| normal(rng));
    let mut a = &m * m.transpose() * (1.0 / n as f64);
    for i in 0..n {
        a[(i, i)] += delta;
    }
    a
}

/// `x' = (I + 0.1 R) x + 0.3 B u + c`, with noise covariance `noise·I` and `x_0 ~ N(μ0, 0.01 I)`.
pub(crate) fn linear_system(
    seed: u64,
    t: usize,
    dx: usize,
    du: usize,
    noise: f64,
) -> LinearDynamics {
    let mut r = rng(seed);
    let mut d = LinearDynamics::zeros(t, dx, du);
    for s in 0..t - 1 {
        let mut fm = d.fm.at_mut(s);
        for i in 0..dx {
            for j in 0..dx {
                fm[(i, j)] =
                    if i == j { 1.0 } else { 0.0 } + 0.1 * normal(&mut r) / (dx as f64).sqrt();
            }
            for j in 0..du {
                fm[(i, dx + j)] = 0.3 * normal(&mut r);
            }
        }
        for v in d.fv.at_mut(s) {
            *v = 0.05 * normal(&mut r);
        }
        let mut c = d.dyn_covar.at_mut(s);
        for i in 0..dx {
            c[(i, i)] = noise;
        }
    }
    for v in &mut d.x0mu {
        *v = normal(&mut r);
    }
    let mut s0 = d.x0sigma.at_mut(0);
    for i in 0..dx {
        for j in 0..dx {
            s0[(i, j)] = if i == j { 0.01 } else { 0.0 };
        }
    }
    d
}

/// A strictly convex quadratic cost with random linear terms.
pub(crate) fn quadratic_cost(seed: u64, t: usize, dx: usize, du: usize) -> CostModel {
    let mut r = rng(seed);
    let mut c = CostModel::zeros(t, dx, du);
    for s in 0..t {
        let m = spd(&mut r, dx + du, 0.1);
        c.cm.at_mut(s).copy_from(m.as_ref());
        for v in c.cv.at_mut(s) {
            *v = normal(&mut r);
        }
        c.cc[s] = normal(&mut r);
    }
    c
}

/// A random controller with covariance `var · (random SPD)`.
pub(crate) fn random_policy(
    seed: u64,
    t: usize,
    dx: usize,
    du: usize,
    var: f64,
) -> LinearGaussianPolicy {
    let mut r = rng(seed);
    let gain = MatStack::from_fn(t, du, dx, |_, mut m| {
        for j in 0..dx {
            for i in 0..du {
                m[(i, j)] = 0.3 * normal(&mut r);
            }
        }
    });
    let mut offset = VecStack::zeros(t, du);
    for v in offset.as_mut_slice() {
        *v = normal(&mut r);
    }
    let cov = MatStack::from_fn(t, du, du, |_, mut m| {
        let a = spd(&mut r, du, 0.5);
        for j in 0..du {
            for i in 0..du {
                m[(i, j)] = var * a[(i, j)];
            }
        }
    });
    LinearGaussianPolicy::new(gain, offset, cov).expect("random SPD covariance")
}
