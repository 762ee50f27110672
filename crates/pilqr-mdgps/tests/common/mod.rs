//! Synthetic supervision data shared by the integration tests and the benchmark: rollouts of a
//! known linear-Gaussian controller on a stable linear system, observed through `o = x`.
#![allow(dead_code)]

use pilqr_core::{LinearGaussianPolicy, RunSeed, SampleBatch, SampleDims, Trajectory};
use pilqr_linalg::{MatStack, VecStack};
use pilqr_mdgps::SStepCondition;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Sizes of a synthetic problem.
#[derive(Debug, Clone, Copy)]
pub struct Problem {
    pub horizon: usize,
    pub dx: usize,
    pub du: usize,
    pub samples: usize,
}

/// A time-invariant controller `u = K x + k + chol(Σ) ε` with random `K` (entries of size
/// `1/√dX`), random `k` and `Σ = diag(std²)`.
pub fn controller(p: Problem, std: f64, seed: RunSeed) -> LinearGaussianPolicy {
    let mut rng = seed.rng("test-controller", &[]);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let scale = 1.0 / (p.dx as f64).sqrt();
    let gain: Vec<f64> = (0..p.du * p.dx).map(|_| normal() * scale).collect();
    let offset: Vec<f64> = (0..p.du).map(|_| 0.5 * normal()).collect();
    LinearGaussianPolicy::new(
        MatStack::from_fn(p.horizon, p.du, p.dx, |_, mut k| {
            for i in 0..p.du {
                for j in 0..p.dx {
                    k[(i, j)] = gain[i * p.dx + j];
                }
            }
        }),
        VecStack::from_vec(p.horizon, p.du, offset.repeat(p.horizon)).unwrap(),
        MatStack::from_fn(p.horizon, p.du, p.du, |_, mut s| {
            for i in 0..p.du {
                s[(i, i)] = std * std;
            }
        }),
    )
    .unwrap()
}

/// `p.samples` rollouts of `policy` on `x_{t+1} = 0.9 x_t + 0.1 B u_t + 0.05 w_t` (a fixed
/// `B` coupling action `j` to state entries `j, j + dU, …`), from an initial state drawn
/// around a per-condition centre; observations equal states.
pub fn rollouts(
    p: Problem,
    policy: &LinearGaussianPolicy,
    seed: RunSeed,
    condition: usize,
) -> SampleBatch {
    let dims = SampleDims {
        horizon: p.horizon,
        dx: p.dx,
        du: p.du,
        dobs: p.dx,
    };
    let mut centre_rng = seed.rng("test-centre", &[condition as u64]);
    let centre: Vec<f64> = (0..p.dx)
        .map(|_| centre_rng.random_range(-1.0..1.0))
        .collect();
    let trajectories = (0..p.samples)
        .map(|i| {
            let mut rng = seed.sample_rng(0, condition, i);
            let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
            let mut x: Vec<f64> = centre.iter().map(|c| c + 0.3 * normal()).collect();
            let mut xs = Vec::with_capacity(p.horizon * p.dx);
            let mut us = Vec::with_capacity(p.horizon * p.du);
            let mut noise = Vec::with_capacity(p.horizon * p.du);
            for t in 0..p.horizon {
                let eps: Vec<f64> = (0..p.du).map(|_| normal()).collect();
                let mut u = vec![0.0; p.du];
                policy.act_state(t, &x, &eps, &mut u).unwrap();
                xs.extend_from_slice(&x);
                us.extend_from_slice(&u);
                noise.extend_from_slice(&eps);
                x = (0..p.dx)
                    .map(|j| 0.9 * x[j] + 0.1 * u[j % p.du] + 0.05 * normal())
                    .collect();
            }
            Trajectory {
                obs: xs.clone(),
                x: xs,
                u: us,
                noise,
                cost: vec![0.0; p.horizon],
            }
        })
        .collect();
    SampleBatch::from_trajectories(dims, trajectories).unwrap()
}

/// S-step supervision: every batch paired with the same local controller, unweighted.
pub fn conditions<'a>(
    batches: &'a [SampleBatch],
    local: &'a LinearGaussianPolicy,
) -> Vec<SStepCondition<'a>> {
    batches
        .iter()
        .map(|b| SStepCondition {
            samples: b,
            local,
            weights: None,
        })
        .collect()
}
