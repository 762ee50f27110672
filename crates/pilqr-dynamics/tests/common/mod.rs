//! Synthetic systems and rollouts shared by the tests and benchmarks.
#![allow(dead_code, clippy::needless_range_loop)]

use pilqr_core::{SampleBatch, SampleDims, Trajectory};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// `x' = A x + B u + c (+ nl · tanh(x) ⊙ g)`, row-major `A [dx x dx]`, `B [dx x du]`.
#[derive(Clone, Debug)]
pub struct System {
    pub dx: usize,
    pub du: usize,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
    pub nonlinear: f64,
    pub g: Vec<f64>,
}

impl System {
    /// A random stable system (spectral radius well below 1 by construction: `A = 0.9·Q`-ish).
    pub fn random(dx: usize, du: usize, nonlinear: f64, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let nrm = Normal::new(0.0, 1.0).unwrap();
        let s = 0.6 / (dx as f64).sqrt();
        let mut a: Vec<f64> = (0..dx * dx).map(|_| s * nrm.sample(&mut rng)).collect();
        for i in 0..dx {
            a[i * dx + i] += 0.3;
        }
        let b = (0..dx * du).map(|_| 0.5 * nrm.sample(&mut rng)).collect();
        let c = (0..dx).map(|_| 0.1 * nrm.sample(&mut rng)).collect();
        let g = (0..dx).map(|_| nrm.sample(&mut rng)).collect();
        System {
            dx,
            du,
            a,
            b,
            c,
            nonlinear,
            g,
        }
    }

    pub fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        for i in 0..self.dx {
            let mut s = self.c[i];
            for j in 0..self.dx {
                s += self.a[i * self.dx + j] * x[j];
            }
            for j in 0..self.du {
                s += self.b[i * self.du + j] * u[j];
            }
            if self.nonlinear != 0.0 {
                s += self.nonlinear * self.g[i] * x[(i + 1) % self.dx].tanh() * x[i].abs().min(3.0);
            }
            out[i] = s;
        }
    }
}

/// `n` rollouts of `T` steps under `u_t = k_t + gain·x_t[0..du] + action_std·ε`, with
/// `k_t = offset · sin(0.1 t + phase_j)`, initial states `x0_std`-spread, process noise
/// `process_std`.
pub struct Rollout {
    pub horizon: usize,
    pub n: usize,
    pub offset: f64,
    pub gain: f64,
    pub action_std: f64,
    pub x0_std: f64,
    pub process_std: f64,
}

impl Rollout {
    pub fn run(&self, sys: &System, seed: u64) -> SampleBatch {
        let (dx, du, t) = (sys.dx, sys.du, self.horizon);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let nrm = Normal::new(0.0, 1.0).unwrap();
        let mut trajs = Vec::with_capacity(self.n);
        for _ in 0..self.n {
            let mut x = vec![0.0; t * dx];
            let mut u = vec![0.0; t * du];
            let mut noise = vec![0.0; t * du];
            for v in &mut x[..dx] {
                *v = self.x0_std * nrm.sample(&mut rng);
            }
            for s in 0..t {
                for j in 0..du {
                    let e = nrm.sample(&mut rng);
                    noise[s * du + j] = e;
                    u[s * du + j] = self.offset * (0.1 * s as f64 + j as f64).sin()
                        + self.gain * x[s * dx + j % dx]
                        + self.action_std * e;
                }
                if s + 1 < t {
                    let (cur, next) = x.split_at_mut((s + 1) * dx);
                    sys.step(&cur[s * dx..], &u[s * du..(s + 1) * du], &mut next[..dx]);
                    if self.process_std > 0.0 {
                        for v in &mut next[..dx] {
                            *v += self.process_std * nrm.sample(&mut rng);
                        }
                    }
                }
            }
            trajs.push(Trajectory {
                x,
                u,
                obs: vec![],
                noise,
                cost: vec![0.0; t],
            });
        }
        let dims = SampleDims {
            horizon: t,
            dx,
            du,
            dobs: 0,
        };
        SampleBatch::from_trajectories(dims, trajs).unwrap()
    }
}

/// The benchmark scenario: pusher-like sizes, two consecutive batches of one condition (the
/// controller moved a little between them), mildly nonlinear dynamics.
pub fn iterative_batches(dx: usize, du: usize, t: usize, n: usize) -> (SampleBatch, SampleBatch) {
    let sys = System::random(dx, du, 0.05, 11);
    let r1 = Rollout {
        horizon: t,
        n,
        offset: 1.0,
        gain: -0.1,
        action_std: 0.3,
        x0_std: 0.05,
        process_std: 1e-3,
    };
    let r2 = Rollout {
        offset: 1.1,
        action_std: 0.25,
        ..r1
    };
    (r1.run(&sys, 1), r2.run(&sys, 2))
}
