//! Criterion benchmarks of the dynamics fit at the sizes of issue 17 (T=100, N=20, buffer
//! full): the pusher size dX=20/dU=3 and the gripper size dX=36/dU=4.
//!
//! - `plain_regression`: per-step ridge regression + initial state (no prior), returning a
//!   fresh `LinearDynamics`; `plain_regression_into`: the same into reused storage.
//! - `prior_update_and_regression`: the iterative use: a fitter that has seen one batch (buffer
//!   full: the last 20 trajectories, GMM fitted) receives the next batch of N = 20 trajectories
//!   of the same condition (the controller moved a little), which replace the buffer; the GMM
//!   refits warm-started from the previous one, EM to convergence, then the regression with
//!   the prior. Only `update` is timed (not cloning the fitter before, nor dropping it after).
//! - `prior_update_into`: a warm update into a reused result (`update_into`, which allocates
//!   nothing): the fitter has seen both batches and refits to the first again.
//! - `prior_refit_only`: the prior's share of that: buffer the batch and refit the GMM warm,
//!   without the per-step regression.
//! - `gmm_e_step`: one E-step without a hint (responsibilities of all buffer points under the
//!   fitted mixture), what the first E-step of every refit costs.
//!
//! Run: `cargo bench -p pilqr-dynamics --bench dynamics`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use pilqr_dynamics::{
    DynamicsConfig, DynamicsFitter, LinearDynamics, fit_linear_dynamics, fit_linear_dynamics_into,
};

const SIZES: [(usize, usize); 2] = [(20, 3), (36, 4)];

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("plain_regression");
    for (dx, du) in SIZES {
        let (_, b) = common::iterative_batches(dx, du, 100, 20);
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("dx{dx}_du{du}")),
            &b,
            |bch, b| bch.iter(|| fit_linear_dynamics(b, 1e-6, 1e-6).unwrap()),
        );
    }
    g.finish();

    // The same fit into reused storage, as an iterative caller would hold it.
    let mut g = c.benchmark_group("plain_regression_into");
    for (dx, du) in SIZES {
        let (_, b) = common::iterative_batches(dx, du, 100, 20);
        let mut out = LinearDynamics::zeros(100, dx, du);
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("dx{dx}_du{du}")),
            &b,
            |bch, b| bch.iter(|| fit_linear_dynamics_into(b, 1e-6, 1e-6, &mut out).unwrap()),
        );
    }
    g.finish();

    let mut g = c.benchmark_group("prior_update_and_regression");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for (dx, du) in SIZES {
        let (a, b) = common::iterative_batches(dx, du, 100, 20);
        let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
        fitter.update(&a, 1).unwrap();
        {
            let mut f = fitter.clone();
            f.update(&b, 2).unwrap();
            let r = f.last_em_report().unwrap();
            eprintln!(
                "dx{dx}_du{du}: warm EM iterations {} ({:?}), K={}, points={}",
                r.iterations, r.stop, r.components, r.points
            );
        }
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("dx{dx}_du{du}")),
            &(fitter, b),
            |bch, (fitter, b)| {
                // The fitter is returned so that dropping it (which iterative use never does)
                // is not timed; only `update` is.
                bch.iter_batched(
                    || fitter.clone(),
                    |mut f| {
                        let d = f.update(b, 2).unwrap();
                        (f, d)
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();

    // A warm update into a reused result (`update_into`: no allocation). The fitter has seen
    // both batches (so every slot of its ring and every workspace exists) and refits to the
    // first one again.
    let mut g = c.benchmark_group("prior_update_into");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for (dx, du) in SIZES {
        let (a, b) = common::iterative_batches(dx, du, 100, 20);
        let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
        fitter.update(&a, 1).unwrap();
        fitter.update(&b, 2).unwrap();
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("dx{dx}_du{du}")),
            &(fitter, a),
            |bch, (fitter, b)| {
                bch.iter_batched(
                    || (fitter.clone(), LinearDynamics::zeros(100, dx, du)),
                    |(mut f, mut out)| {
                        f.update_into(b, 3, &mut out).unwrap();
                        (f, out)
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();

    // The prior's part alone: buffer the batch and refit the GMM warm (no regression).
    let mut g = c.benchmark_group("prior_refit_only");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for (dx, du) in SIZES {
        let (a, b) = common::iterative_batches(dx, du, 100, 20);
        let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
        fitter.update(&a, 1).unwrap();
        let prior = fitter.prior().unwrap().clone();
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("dx{dx}_du{du}")),
            &(prior, b),
            |bch, (prior, b)| {
                bch.iter_batched(
                    || prior.clone(),
                    |mut p| {
                        let r = p.update(b, 2).unwrap();
                        (p, r)
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();

    let mut g = c.benchmark_group("gmm_e_step");
    g.sample_size(20);
    for (dx, du) in SIZES {
        let (a, _) = common::iterative_batches(dx, du, 100, 20);
        let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
        fitter.update(&a, 1).unwrap();
        let prior = fitter.prior().unwrap();
        let pts = prior.points();
        let gmm = prior.gmm().clone();
        g.bench_function(
            BenchmarkId::from_parameter(format!("dx{dx}_du{du}")),
            |bch| bch.iter(|| gmm.responsibilities(pts.as_ref()).unwrap()),
        );
    }
    g.finish();
}

criterion_group!(dynamics, benches);
criterion_main!(dynamics);
