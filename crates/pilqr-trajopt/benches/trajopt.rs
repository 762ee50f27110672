//! Update speed at the sizes: T = 100, N = 20, (dX, dU) = (36, 4) and (44, 6).
//!
//! Targets for (36, 4), single thread: backward + forward < 0.5 ms, LQR-FLM update with the
//! per-step η search < 5 ms, PI2 update < 0.5 ms, full PILQR update < 8 ms. The η-search pass
//! counts are printed once per size.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Mat;
use pilqr_core::{CostModel, LinearGaussianPolicy, SampleBatch, SampleDims, Trajectory};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack};
use pilqr_trajopt::lqr_flm::{BackwardParams, EtaMode};
use pilqr_trajopt::pilqr::{PilqrInputs, approximate_costs, pilqr_update};
use pilqr_trajopt::{LqrFlm, LqrFlmConfig, Pi2Config, pi2_update};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

struct Problem {
    dynamics: LinearDynamics,
    cost: CostModel,
    previous: LinearGaussianPolicy,
    batch: SampleBatch,
    targets: Vec<f64>,
}

fn n(r: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(r)
}

fn spd(r: &mut ChaCha8Rng, dim: usize, delta: f64) -> Mat<f64> {
    let m = Mat::from_fn(dim, dim, |_, _| n(r));
    let mut a = &m * m.transpose() * (1.0 / dim as f64);
    for i in 0..dim {
        a[(i, i)] += delta;
    }
    a
}

/// A random stable linear system, a convex quadratic cost, a random previous controller and
/// N rollouts of it in the system (with process noise).
fn problem(t: usize, dx: usize, du: usize, samples: usize) -> Problem {
    let mut r = ChaCha8Rng::seed_from_u64(7);
    let mut dynamics = LinearDynamics::zeros(t, dx, du);
    for s in 0..t - 1 {
        let mut fm = dynamics.fm.at_mut(s);
        for i in 0..dx {
            for j in 0..dx {
                fm[(i, j)] = if i == j { 1.0 } else { 0.0 } + 0.1 * n(&mut r) / (dx as f64).sqrt();
            }
            for j in 0..du {
                fm[(i, dx + j)] = 0.3 * n(&mut r);
            }
        }
        let mut c = dynamics.dyn_covar.at_mut(s);
        for i in 0..dx {
            c[(i, i)] = 1e-3;
        }
    }
    for v in &mut dynamics.x0mu {
        *v = n(&mut r);
    }
    for i in 0..dx {
        dynamics.x0sigma.at_mut(0)[(i, i)] = 1e-2;
    }
    let mut cost = CostModel::zeros(t, dx, du);
    for s in 0..t {
        cost.cm
            .at_mut(s)
            .copy_from(spd(&mut r, dx + du, 0.1).as_ref());
        for v in cost.cv.at_mut(s) {
            *v = n(&mut r);
        }
    }
    let gain = MatStack::from_fn(t, du, dx, |_, mut m| {
        for j in 0..dx {
            for i in 0..du {
                m[(i, j)] = 0.1 * n(&mut r);
            }
        }
    });
    let offset = VecStack::zeros(t, du);
    let cov = MatStack::repeat(t, Mat::<f64>::identity(du, du).as_ref());
    let previous = LinearGaussianPolicy::new(gain, offset, cov).unwrap();
    let trajs = (0..samples)
        .map(|_| {
            let noise: Vec<f64> = (0..t * du).map(|_| n(&mut r)).collect();
            let (mut xs, mut us, mut cs) = (vec![], vec![], vec![]);
            let mut x = dynamics.x0mu.clone();
            for s in 0..t {
                let mut u = vec![0.0; du];
                previous
                    .act_state(s, &x, &noise[s * du..(s + 1) * du], &mut u)
                    .unwrap();
                let y: Vec<f64> = x.iter().chain(&u).copied().collect();
                cs.push(cost.eval(s, &y) + 0.1 * n(&mut r));
                xs.extend_from_slice(&x);
                us.extend_from_slice(&u);
                if s + 1 < t {
                    let fm = dynamics.fm.at(s);
                    x = (0..dx)
                        .map(|i| {
                            (0..dx + du).map(|j| fm[(i, j)] * y[j]).sum::<f64>() + 0.03 * n(&mut r)
                        })
                        .collect();
                }
            }
            Trajectory {
                x: xs,
                u: us,
                obs: vec![],
                noise,
                cost: cs,
            }
        })
        .collect();
    let dims = SampleDims {
        horizon: t,
        dx,
        du,
        dobs: 0,
    };
    let batch = SampleBatch::from_trajectories(dims, trajs).unwrap();
    let targets = (0..t)
        .map(|s| 0.6 + (0.2 - 0.6) * s as f64 / (t - 1) as f64)
        .collect();
    Problem {
        dynamics,
        cost,
        previous,
        batch,
        targets,
    }
}

fn bench_size(c: &mut Criterion, dx: usize, du: usize) {
    let (t, samples) = (100, 20);
    let p = problem(t, dx, du, samples);
    let config = LqrFlmConfig::default();
    let mut solver = LqrFlm::new(t, dx, du);
    let tag = format!("T{t}_dX{dx}_dU{du}");

    // η-search pass counts (reported, not timed).
    for per_step in [true, false] {
        let cfg = LqrFlmConfig {
            per_step,
            ..config.clone()
        };
        let res = solver
            .update(&p.dynamics, &p.cost, &p.previous, &p.targets, &[1.0], &cfg)
            .unwrap();
        eprintln!(
            "{tag}: {} eta search, cold: {} backward + {} forward passes, converged {}",
            if per_step { "per-step" } else { "global" },
            res.iterations,
            res.forward_passes,
            res.converged
        );
    }

    solver.prepare(&p.dynamics, &p.cost, &p.previous).unwrap();
    let params = BackwardParams {
        omega: 0.0,
        min_eta: config.min_eta,
        max_eta: config.max_eta,
        mode: EtaMode::PerStep,
        value_function: config.value_function,
    };
    c.bench_function(&format!("backward_forward_{tag}"), |b| {
        b.iter(|| {
            solver.set_eta(&vec![1.0; t]).unwrap();
            black_box(solver.pass(params).unwrap())
        })
    });
    c.bench_function(&format!("lqr_flm_update_per_step_{tag}"), |b| {
        b.iter(|| {
            black_box(
                solver
                    .update(
                        &p.dynamics,
                        &p.cost,
                        &p.previous,
                        &p.targets,
                        &[1.0],
                        &config,
                    )
                    .unwrap(),
            )
        })
    });
    // Warm start as in the loop: the η of the previous iteration, whose steps were half as
    // large (as after a `res_percent` multiplier change).
    let half: Vec<f64> = p.targets.iter().map(|e| 0.5 * e).collect();
    let prev_eta = solver
        .update(&p.dynamics, &p.cost, &p.previous, &half, &[1.0], &config)
        .unwrap()
        .eta;
    let warm = solver
        .update(
            &p.dynamics,
            &p.cost,
            &p.previous,
            &p.targets,
            &prev_eta,
            &config,
        )
        .unwrap();
    eprintln!(
        "{tag}: per-step eta search, warm: {} backward + {} forward passes, converged {}",
        warm.iterations, warm.forward_passes, warm.converged
    );
    let cfg = LqrFlmConfig {
        per_step: false,
        ..config.clone()
    };
    let global_eta = solver
        .update(&p.dynamics, &p.cost, &p.previous, &half, &[1.0], &cfg)
        .unwrap()
        .eta;
    let warm = solver
        .update(
            &p.dynamics,
            &p.cost,
            &p.previous,
            &p.targets,
            &global_eta,
            &cfg,
        )
        .unwrap();
    eprintln!(
        "{tag}: global eta search, warm: {} passes, converged {}",
        warm.iterations, warm.converged
    );
    c.bench_function(&format!("lqr_flm_update_per_step_warm_{tag}"), |b| {
        b.iter(|| {
            black_box(
                solver
                    .update(
                        &p.dynamics,
                        &p.cost,
                        &p.previous,
                        &p.targets,
                        &prev_eta,
                        &config,
                    )
                    .unwrap(),
            )
        })
    });
    let pi2 = Pi2Config::default();
    c.bench_function(&format!("pi2_update_{tag}"), |b| {
        b.iter(|| black_box(pi2_update(&p.previous, &p.batch, &pi2).unwrap()))
    });
    c.bench_function(&format!("pilqr_update_{tag}"), |b| {
        b.iter(|| {
            let approx = approximate_costs(&p.previous, &p.dynamics, &p.cost, &p.batch).unwrap();
            black_box(
                pilqr_update(
                    &mut solver,
                    PilqrInputs {
                        previous: &p.previous,
                        kl_reference: None,
                        dynamics: &p.dynamics,
                        cost: &p.cost,
                        batch: &p.batch,
                        approximated: &approx,
                        kl_targets: &p.targets,
                        eta_init: &[1.0],
                    },
                    &config,
                    &pi2,
                )
                .unwrap(),
            )
        })
    });
}

fn benches(c: &mut Criterion) {
    bench_size(c, 36, 4);
    bench_size(c, 44, 6);
}

criterion_group! {
    name = trajopt;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(trajopt);
